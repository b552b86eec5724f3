internal import CNftnl

/// The kernel's and nft's numbers the layouts are written in, named here so that no module but
/// this one imports the C headers.
package enum NftConstants {
    // Protocol families.
    package static let ipv4 = UInt32(NFPROTO_IPV4)
    package static let ipv6 = UInt32(NFPROTO_IPV6)

    // Hooks and the priorities of the standard tables.
    package static let hookPrerouting = UInt32(NF_INET_PRE_ROUTING.rawValue)
    package static let hookInput = UInt32(NF_INET_LOCAL_IN.rawValue)
    package static let hookOutput = UInt32(NF_INET_LOCAL_OUT.rawValue)
    package static let hookPostrouting = UInt32(NF_INET_POST_ROUTING.rawValue)
    package static let hookForward = UInt32(NF_INET_FORWARD.rawValue)
    package static let priorityRaw = NF_IP_PRI_RAW.rawValue
    package static let priorityNATDestination = NF_IP_PRI_NAT_DST.rawValue
    package static let priorityNATSource = NF_IP_PRI_NAT_SRC.rawValue

    // Expressions.
    package static let payloadNetworkHeader = UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue)
    package static let payloadTransportHeader = UInt32(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue)
    package static let metaL4Protocol = UInt32(NFT_META_L4PROTO.rawValue)
    package static let metaNFProtocol = UInt32(NFT_META_NFPROTO.rawValue)
    package static let metaInputInterfaceName = UInt32(NFT_META_IIFNAME.rawValue)
    package static let metaOutputInterfaceName = UInt32(NFT_META_OIFNAME.rawValue)
    package static let metaMark = UInt32(NFT_META_MARK.rawValue)
    package static let conntrackStatus = UInt32(NFT_CT_STATUS.rawValue)
    package static let conntrackStatusDestinationNAT = UInt32(IPS_DST_NAT.rawValue)
    package static let compareEqual = UInt32(NFT_CMP_EQ.rawValue)
    package static let compareNotEqual = UInt32(NFT_CMP_NEQ.rawValue)
    package static let fibDestinationAddress = UInt32(NFTA_FIB_F_DADDR.rawValue)
    package static let fibResultAddressType = UInt32(NFT_FIB_RESULT_ADDRTYPE.rawValue)
    package static let routeTypeLocal = UInt32(RTN_LOCAL)
    package static let natDestination = UInt32(NFT_NAT_DNAT.rawValue)

    // Verdicts.
    package static let verdictAccept = Int32(NF_ACCEPT)
    package static let verdictDrop = Int32(NF_DROP)
    package static let verdictJump = NFT_JUMP.rawValue
    package static let verdictGoto = NFT_GOTO.rawValue
    package static let verdictReturn = NFT_RETURN.rawValue
    /// NFT_REG_VERDICT: a lookup into it is a verdict map (`vmap`).
    package static let registerVerdict = UInt32(NFT_REG_VERDICT.rawValue)

    // Sets.
    package static let setMap = UInt32(NFT_SET_MAP.rawValue)
    package static let setInterval = UInt32(NFT_SET_INTERVAL.rawValue)
    package static let setConcatenation = UInt32(NFT_SET_CONCAT.rawValue)
    package static let setTimeout = UInt32(NFT_SET_TIMEOUT.rawValue)

    // nft's set userdata (libnftnl/udata.h).
    package static let udataKeyByteOrder = UInt8(NFTNL_UDATA_SET_KEYBYTEORDER.rawValue)
    package static let udataDataByteOrder = UInt8(NFTNL_UDATA_SET_DATABYTEORDER.rawValue)
    package static let udataKeyTypeof = UInt8(NFTNL_UDATA_SET_KEY_TYPEOF.rawValue)
    package static let udataDataTypeof = UInt8(NFTNL_UDATA_SET_DATA_TYPEOF.rawValue)
    package static let udataDataInterval = UInt8(NFTNL_UDATA_SET_DATA_INTERVAL.rawValue)
    package static let udataTypeofExpression = UInt8(NFTNL_UDATA_SET_TYPEOF_EXPR)
    package static let udataTypeofData = UInt8(NFTNL_UDATA_SET_TYPEOF_DATA)

    /// nft numbers registers in 32-bit slots and names a slot that starts a 128-bit register by
    /// that register (NFT_REG_1...), any other by its 32-bit name (NFT_REG32_01...).
    package static func register(_ slot: UInt32) -> UInt32 {
        slot % 4 == 0 ? UInt32(NFT_REG_1.rawValue) + slot / 4 : UInt32(NFT_REG32_00.rawValue) + slot
    }

    /// A 32-bit value as registers hold it for `cmp` and `bitwise`: in host order.
    package static func hostOrder(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }
}
