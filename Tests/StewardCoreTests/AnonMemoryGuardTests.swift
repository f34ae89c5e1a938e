import Testing
@testable import StewardCore

@Suite("Anonymous memory guard")
struct AnonMemoryGuardTests {
    let t0 = ContinuousClock.now
    let mib: UInt64 = 1 << 20

    /// Feeds one sample per 100 ms and returns the decisions.
    func run(_ samplesMiB: [UInt64], window: Duration = .milliseconds(300)) -> [AnonMemoryGuard.Decision] {
        var guardian = AnonMemoryGuard(limitBytes: 100 * mib, window: window)
        return samplesMiB.enumerated().map { index, value in
            guardian.observe(value * mib, at: t0 + .milliseconds(100 * index))
        }
    }

    @Test("acts once the value stayed above the limit for the whole window")
    func sustained() {
        let decisions = run([50, 120, 130, 140, 150])
        #expect(decisions[0] == .withinLimit)
        #expect(decisions[1] == .above(since: t0 + .milliseconds(100)))
        #expect(decisions[3] == .above(since: t0 + .milliseconds(100)))
        #expect(decisions[4] == .exceeded(for: .milliseconds(300)))
    }

    @Test("a spike shorter than the window, or equal to the limit, does nothing")
    func spikes() {
        let decisions = run([120, 130, 90, 120, 130, 100, 100, 100])
        #expect(!decisions.contains { if case .exceeded = $0 { true } else { false } })
        #expect(decisions[2] == .withinLimit, "dropping below restarts the count")
        #expect(decisions[5] == .withinLimit, "exactly the limit is not above it")
    }

    @Test("after acting it counts afresh, so a still-high value needs a whole new window")
    func countsAfresh() {
        let decisions = run([200, 200, 200, 200, 200, 200, 200, 200])
        let acted = decisions.indices.filter { if case .exceeded = decisions[$0] { true } else { false } }
        #expect(acted == [3, 7])
    }
}
