import IPTablesBackend
import Netlink
import NFTablesBackend
import PluginMain
import PortmapCore

let environment = PluginMain.currentEnvironment()
PluginMain.run(PortmapPlugin(backends: { kind -> any PortMapBackend in
    kind == .nftables ? NFTablesBackend(environment: environment) : IPTablesBackend(environment: environment)
}, hostNetwork: NetlinkHostNetwork(), about: PluginMain.about))
