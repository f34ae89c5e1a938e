import Foundation
import SystemPackage
import Testing
@testable import CgroupFS

@Suite struct CgroupFileTests {
    /// Whole-file reads of a kept descriptor: sizes around the 4 KiB stack buffer, read twice from
    /// offset 0 as a scrape does. A regular file here; kernel files are read the same way by every
    /// cgroup test.
    @Test(arguments: [0, 1, 4095, 4096, 4097, 8192, 20_000])
    func readTextReadsTheWholeFileEveryTime(size: Int) throws {
        let path = NSTemporaryDirectory() + "steward-readtext-\(getpid())-\(size)"
        defer { unlink(path) }
        let text = String((0 ..< size).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let fd = try CgroupFile.open(path, .readOnly)
        defer { try? fd.close() }
        #expect(try CgroupFile.readText(fd, path: path) == text)
        #expect(try CgroupFile.readText(fd, path: path) == text)
    }

    @Test func aKernelFileLargerThanTheBuffer() throws {
        // /proc/self/maps of a Swift test binary runs to many KiB; its lines must come back whole.
        let maps = try CgroupFile.readText("/proc/self/maps")
        #expect(maps.utf8.count > 4096)
        #expect(maps.hasSuffix("\n") && maps.split(separator: "\n").allSatisfy { $0.contains("-") })
    }
}
