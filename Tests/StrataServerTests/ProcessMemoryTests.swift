import Dispatch
import Testing

@testable import StrataServer

/// Freed pages go back to the system off the caller's thread, one purge at a time.
@Suite("Process memory")
struct ProcessMemoryTests {
    @Test func trimRunsOnItsQueueAndCoalesces() {
        let before = ProcessMemory.trimState.withLockedValue { $0.completed }
        ProcessMemory.trimQueue.suspend()
        ProcessMemory.trimInBackground()
        ProcessMemory.trimInBackground()
        // Nothing ran on this thread; the second request is covered by the first.
        #expect(ProcessMemory.trimState.withLockedValue { $0.completed } == before)
        #expect(ProcessMemory.trimState.withLockedValue { $0.pending })
        ProcessMemory.trimQueue.resume()
        ProcessMemory.trimQueue.sync {}  // a serial queue: the purge asked for has run
        #expect(ProcessMemory.trimState.withLockedValue { $0.completed } == before + 1)
        #expect(!ProcessMemory.trimState.withLockedValue { $0.pending })
    }
}
