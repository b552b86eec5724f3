/// Why DEL and GC expire elements instead of deleting them: after a batch that deletes anything,
/// the kernel frees what it deleted only after an RCU grace period, and the next release of a
/// netfilter socket in the namespace (the plugin's own, at exit) waits for that: 8-15 ms, most of
/// a DEL. An element's timeout update is freed at once. Giving each element an expiration of one
/// millisecond (the kernel rounds it up to one tick: 4 ms at HZ=250) stops it matching within a
/// tick, and the set's garbage collection frees it later, in the background.
///
/// Kernels before 6.12 accept such an update and ignore it; the verbs look the elements up
/// again after the commit and delete those still there without an expiration. An element that
/// is expiring is left out of every read (CHECK counts it as missing); an ADD whose key one holds
/// waits for it to go (the kernel still holds its key until then).
enum ElementExpiry {
    static let milliseconds: UInt64 = 1
}
