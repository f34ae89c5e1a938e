import Synchronization

/// A value that changes over time and that tasks can wait on: the engine's one way to wait for a
/// state. A wait ends when the value satisfies the predicate or when the waiting task is cancelled
/// (then it throws `CancellationError`), so nobody has to abandon a wait that may never end.
public final class Watched<Value: Sendable>: Sendable {
    private let state: Mutex<State>

    private struct State {
        var value: Value
        var nextID: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
    }

    private struct Waiter {
        var predicate: @Sendable (Value) -> Bool
        var continuation: CheckedContinuation<Value, any Error>
    }

    public init(_ value: Value) {
        state = Mutex(State(value: value))
    }

    public var value: Value { state.withLock { $0.value } }

    /// Changes the value, then wakes (outside the lock) the waiters whose predicate now holds.
    func update(_ change: (inout Value) -> Void) {
        let woken = state.withLock { state -> [(CheckedContinuation<Value, any Error>, Value)] in
            change(&state.value)
            let value = state.value
            var woken: [(CheckedContinuation<Value, any Error>, Value)] = []
            for (id, waiter) in state.waiters where waiter.predicate(value) {
                woken.append((waiter.continuation, value))
                state.waiters[id] = nil
            }
            return woken
        }
        for (continuation, value) in woken { continuation.resume(returning: value) }
    }

    /// Returns the first value that satisfies `predicate`: the current one if it does.
    public func wait(until predicate: @escaping @Sendable (Value) -> Bool) async throws -> Value {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate = state.withLock { state -> Result<Value, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if predicate(state.value) { return .success(state.value) }
                    state.waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }
}
