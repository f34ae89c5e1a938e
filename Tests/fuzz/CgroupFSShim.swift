// Fuzz build only: HostLayout.swift's `current()` reads files through CgroupFile, which needs
// swift-system. The fuzzer only calls the pure `HostLayout.detect`, so this stand-in lets
// Sources/CgroupFS/{Mountinfo,HostLayout}.swift compile without the rest of CgroupFS.
enum CgroupFile {
    struct Unavailable: Error {}

    static func readText(_ path: String) throws -> String {
        throw Unavailable()
    }
}
