import PluginMain
import PortmapCore
import PortmapFakeBackend

// The plugin with its kernel backend swapped for a state file ($PORTMAP_FAKE_STATE): lets tests run
// the real binary's protocol handling as a runtime would, without root. Not installed.
let environment = PluginMain.currentEnvironment()
PluginMain.run(
    PortmapPlugin(
        backend: FakeBackend(
            statePath: environment["PORTMAP_FAKE_STATE"] ?? "portmap-fake-state.json",
            failure: environment["PORTMAP_FAKE_FAIL"]),
        hostNetwork: nil,
        about: PluginMain.about + " (fake backend)"))
