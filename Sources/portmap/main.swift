import IPTablesBackend
import PluginMain
import PortmapCore

let environment = PluginMain.currentEnvironment()
PluginMain.run(PortmapPlugin(backend: IPTablesBackend(environment: environment), about: PluginMain.about))
