import IPTablesBackend
import Netlink
import PluginMain
import PortmapCore

let environment = PluginMain.currentEnvironment()
PluginMain.run(PortmapPlugin(backend: IPTablesBackend(environment: environment), hostNetwork: NetlinkHostNetwork(),
                             about: PluginMain.about))
