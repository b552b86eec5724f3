/// What a netfilter socket needs beyond requests and replies, to send nf_tables batches: whether
/// more replies are queued (a batch is answered while it is sent, so none will come later), and
/// room for a batch larger than the default send buffer.
protocol NetfilterTransport: NetlinkTransport {
    func hasQueuedDatagram() -> Bool
    func reserveSendBuffer(for size: Int) throws(NetlinkError)
}

extension MnlSocket: NetfilterTransport {}
