/// The layout of upstream's Go portmap with `"backend": "nftables"` (containernetworking/plugins
/// v1.6 and later), which this plugin never writes but takes over: DEL removes a container's rules
/// from it, `hostports` reads it. Per family a table `cni_hostport`:
///
/// ```
/// table ip cni_hostport {
///     comment "CNI portmap plugin"
///     chain hostports { tcp dport 8080 dnat to 10.88.0.5:80 comment "<containerID>"
///         ip daddr 192.0.2.1 tcp dport 8443 dnat to 10.88.0.5:443 comment "<containerID>" }
///     chain hostip_hostports { }
///     chain hostports_all { jump hostip_hostports; jump hostports }
///     chain prerouting { type nat hook prerouting priority dstnat; fib daddr type local jump hostports_all }
///     chain output { type nat hook output priority -100; fib daddr type local jump hostports_all }
///     chain masquerading { type nat hook postrouting priority srcnat;
///         ip saddr 10.88.0.5 ip daddr 10.88.0.5 masquerade comment "<containerID>" }
/// }
/// ```
/// (3d27709f writes hostIP-bound mappings into `hostports` too and leaves `hostip_hostports`
/// empty; both are read.) A rule's only tie to its container is the comment, the bare container
/// ID: it names no network.
public enum UpstreamNFTablesLayout {
    public static let table = "cni_hostport"

    /// The chains holding one rule per mapping or masquerade pair, each commented with its
    /// container's ID (upstream's DEL removes exactly those).
    public static let containerChains = ["hostports", "hostip_hostports", "masquerading"]
}
