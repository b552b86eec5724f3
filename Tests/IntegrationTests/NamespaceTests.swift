import Testing

/// Every root-only network-namespace suite is nested here, so that they all run one after another:
/// namespaces, the xtables lock and the pods' background servers are node-wide state, and a
/// server started while another test's pipes are open would inherit them.
@Suite(.serialized, .enabled(if: Prerequisites.available, Prerequisites.reason))
enum NamespaceTests {}
