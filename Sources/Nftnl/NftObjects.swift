import PortmapCore

/// nf_tables objects as Swift values, the vocabulary both nf_tables layouts (the nftables backend's
/// table and the iptables-nft tables) are described in. `NftMessages` lays them out as messages
/// through libnftnl; `NftReplies` reads them back.

/// A chain; a base chain has a hook.
package struct NftChain: Sendable, Equatable {
    package var table: String
    package var name: String
    package var hook: NftHook?

    package init(table: String, name: String, hook: NftHook? = nil) {
        self.table = table
        self.name = name
        self.hook = hook
    }
}

package struct NftHook: Sendable, Equatable {
    /// `nat` or `filter`.
    package var type: String
    /// NF_INET_PRE_ROUTING...
    package var number: UInt32
    package var priority: Int32

    package init(type: String, number: UInt32, priority: Int32) {
        self.type = type
        self.number = number
        self.priority = priority
    }
}

/// A set or map, as NEWSET declares it.
package struct NftSet: Sendable, Equatable {
    package var table: String
    package var name: String
    /// NFT_SET_MAP, NFT_SET_INTERVAL | NFT_SET_CONCAT...
    package var flags: UInt32
    /// nft's data type numbers, six bits per field of a concatenation.
    package var keyType: UInt32
    package var keyLength: UInt32
    package var dataType: UInt32?
    package var dataLength: UInt32?
    /// NFTA_SET_DESC_CONCAT: the length of each key field (an interval set of concatenations).
    package var fieldLengths: [UInt8]
    package var userdata: [NftUserdata]

    package init(
        table: String, name: String, flags: UInt32, keyType: UInt32, keyLength: UInt32, dataType: UInt32?, dataLength: UInt32?,
        fieldLengths: [UInt8], userdata: [NftUserdata]
    ) {
        self.table = table
        self.name = name
        self.flags = flags
        self.keyType = keyType
        self.keyLength = keyLength
        self.dataType = dataType
        self.dataLength = dataLength
        self.fieldLengths = fieldLengths
        self.userdata = userdata
    }
}

/// nft's own bookkeeping in a set's NFTA_SET_USERDATA (byte orders, `typeof` nests).
package indirect enum NftUserdata: Sendable, Equatable {
    case u32(UInt8, UInt32)
    case nest(UInt8, [NftUserdata])
}

/// One element's bytes: its key, the end of an interval's range, a map's value.
package struct ElementBytes: Sendable, Equatable {
    package var key: [UInt8]
    /// The last key of an interval set's range; nil elsewhere.
    package var keyEnd: [UInt8]?
    /// A map's value; nil for a set.
    package var data: [UInt8]?
    /// Milliseconds until the kernel expires the element: read back, set on one that is being
    /// expired (nil: it never expires); sent, it makes the kernel expire an element that is there
    /// (with a timeout of a second, as nft sends `timeout 1s expires 1ms`).
    package var expiration: UInt64?

    package init(key: [UInt8], keyEnd: [UInt8]? = nil, data: [UInt8]? = nil, expiration: UInt64? = nil) {
        self.key = key
        self.keyEnd = keyEnd
        self.data = data
        self.expiration = expiration
    }
}

/// A rule: where it is, what it does, and (read back) its handle.
package struct NftRule: Sendable, Equatable {
    package var table: String
    package var chain: String
    package var expressions: [NftExpression]
    /// NFTA_RULE_COMPAT as iptables-nft sends it: the `-p` protocol number and whether it is
    /// inverted (NFT_RULE_COMPAT_F_INV). nil: none, as nft sends rules.
    package var compat: Compat?
    /// The kernel's handle; set on rules read back.
    package var handle: UInt64?
    /// The comment nft keeps in the rule's userdata (upstream's nftables backend names the
    /// container there); read back only, never written.
    package var comment: String?

    package struct Compat: Sendable, Equatable {
        package var proto: UInt32
        package var inverted: Bool

        package init(proto: UInt32, inverted: Bool) {
            self.proto = proto
            self.inverted = inverted
        }
    }

    package init(table: String, chain: String, expressions: [NftExpression], compat: Compat? = nil, handle: UInt64? = nil) {
        self.table = table
        self.chain = chain
        self.expressions = expressions
        self.compat = compat
        self.handle = handle
    }
}

/// The expressions the layouts write or read, with the attributes their writers (nft 1.0.6,
/// iptables-nft 1.8.9) set for each. Registers are nft's numbers (`NftConstants.register`).
package enum NftExpression: Sendable, Equatable {
    case payload(base: UInt32, offset: UInt32, length: UInt32, into: UInt32)
    case meta(key: UInt32, into: UInt32)
    case conntrack(key: UInt32, into: UInt32)
    case bitwise(register: UInt32, length: UInt32, mask: [UInt8], xor: [UInt8])
    case compare(register: UInt32, operation: UInt32, data: [UInt8])
    case fib(flags: UInt32, result: UInt32, into: UInt32)
    /// A set lookup by name (`setID` when the set is created in the same batch); with `into`, a
    /// map's value lands there.
    case lookup(set: String, setID: UInt32?, from: UInt32, into: UInt32?)
    case dnat(family: UInt32, address: UInt32, port: UInt32)
    case masquerade
    /// A counter starting at the given values (iptables-nft adds one to every rule).
    case counter(bytes: UInt64, packets: UInt64)
    /// An immediate verdict: NF_ACCEPT, NF_DROP, NFT_RETURN, or a jump/goto to `chain`.
    case verdict(code: Int32, chain: String?)
    /// An immediate value loaded into a register (read back from upstream's rules: the DNAT
    /// address and port); never written.
    case immediate(data: [UInt8], into: UInt32)
    /// An xtables match or target carried whole (iptables-nft's compat expressions).
    case match(name: String, revision: UInt32, info: [UInt8])
    case target(name: String, revision: UInt32, info: [UInt8])
    /// Read back, an expression this vocabulary has no case for (its name).
    case unknown(String)

    package static func jump(_ chain: String) -> NftExpression { .verdict(code: NftConstants.verdictJump, chain: chain) }
    package static let drop = NftExpression.verdict(code: NftConstants.verdictDrop, chain: nil)
}
