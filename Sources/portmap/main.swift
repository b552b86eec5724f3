import IPTablesBackend
import NFTablesBackend
import Netlink
import PluginMain
import PortmapCore

/// Every backend the config's `backend` may name; adding one is its module and a line here.
PluginMain.run(
    PortmapPlugin(
        backends: [IPTablesBackend.descriptor, NFTablesBackend.descriptor],
        hostNetwork: NetlinkHostNetwork(), about: PluginMain.about))
