import Testing
@testable import StewardEngine

@Suite("Watched: the engine's one way to wait for a state")
struct WatchedTests {
    @Test("a wait returns the first value that satisfies it, at once if the current one does")
    func waits() async throws {
        let value = Watched(1)
        #expect(try await value.wait { $0 == 1 } == 1)
        async let later = value.wait { $0 >= 3 }
        value.update { $0 = 2 }
        value.update { $0 = 3 }
        #expect(try await later == 3)
    }

    @Test("a cancelled wait ends with CancellationError, and a later update resumes nobody twice")
    func cancellation() async throws {
        let value = Watched(0)
        let waiter = Task { try await value.wait { $0 == 99 } }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        value.update { $0 = 99 }
        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await value.wait { $0 == 100 }
        }
        await #expect(throws: CancellationError.self) { try await cancelledFirst.value }
    }
}
