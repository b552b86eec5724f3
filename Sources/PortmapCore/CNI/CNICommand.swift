/// The verbs of `CNI_COMMAND`.
public enum CNICommand: String, Sendable, CaseIterable {
    case add = "ADD"
    case check = "CHECK"
    case delete = "DEL"
    case gc = "GC"
    case status = "STATUS"
    case version = "VERSION"
}
