/// A rule of upstream's nftables layout (`UpstreamNFTablesLayout`) that a DEL takes over: where it
/// is, its handle, and the comment (the container ID) it was found by.
struct ForeignRule: Equatable {
    var table: String
    var chain: String
    var handle: UInt64
    var comment: String
}
