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

    /// While commands run, freed pages stay up to a sixteenth of the allocated memory;
    /// a sample period without a command gives back everything over the floor.
    @Test func dirtyPagesGoBackWhenManyOrWhenIdle() {
        let floor = ServerCore.dirtyPagesFloor
        let allocated = 160 * floor
        // Under the floor: never, idle or not.
        #expect(!ServerCore.shouldReleaseDirtyPages(dirty: floor - 1, allocated: allocated, idle: true))
        // Busy: only past a sixteenth of the allocated memory.
        #expect(!ServerCore.shouldReleaseDirtyPages(dirty: 9 * floor, allocated: allocated, idle: false))
        #expect(ServerCore.shouldReleaseDirtyPages(dirty: 10 * floor, allocated: allocated, idle: false))
        // Idle: anything over the floor.
        #expect(ServerCore.shouldReleaseDirtyPages(dirty: floor, allocated: allocated, idle: true))
    }
}
