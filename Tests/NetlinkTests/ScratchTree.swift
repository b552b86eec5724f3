import Foundation

/// A scratch directory tree, removed with everything in it on deinit. Paths are relative to `root`;
/// each is created with the directories above it.
struct ScratchTree: ~Copyable {
    let root: String

    init(files: [String: String] = [:]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("netlink-tree-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (path, content) in files {
            try createParent(of: path)
            try content.write(toFile: "\(root)/\(path)", atomically: false, encoding: .utf8)
        }
    }

    /// A symbolic link at `path` to `target` (relative to the link's directory, as sysfs's are).
    func link(_ path: String, to target: String) throws {
        try createParent(of: path)
        try FileManager.default.createSymbolicLink(atPath: "\(root)/\(path)", withDestinationPath: target)
    }

    /// A second name, `path`, for the file at `existing`: the same inode, as two namespace files
    /// of one namespace have.
    func hardLink(_ path: String, to existing: String) throws {
        try createParent(of: path)
        try FileManager.default.linkItem(atPath: "\(root)/\(existing)", toPath: "\(root)/\(path)")
    }

    private func createParent(of path: String) throws {
        let parent = URL(fileURLWithPath: "\(root)/\(path)").deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }
}
