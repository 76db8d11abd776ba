//! A lock with a condition variable, for two threads handing work to each other (the
//! snapshot decoder and the thread inserting its keys, the snapshot writer and a replica's
//! connection). Built on the pthread primitives, so that the server does not need the full
//! Foundation library for its `NSCondition`.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A mutex and a condition variable used together: lock, wait while the state is not
/// what the thread needs, change the state and broadcast, unlock. The pthread objects
/// live in their own allocations, as they must not move once initialised.
public final class ThreadCondition: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// An unlocked condition nobody waits on.
    public init() {
        mutex = UnsafeMutablePointer.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = UnsafeMutablePointer.allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deinitialize(count: 1)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Takes the lock, waiting for another thread to release it.
    public func lock() {
        pthread_mutex_lock(mutex)
    }

    /// Releases the lock (held by the calling thread).
    public func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Releases the lock until another thread broadcasts, then takes it again. May also
    /// return without a broadcast (a spurious wake-up): wait in a loop checking the state.
    public func wait() {
        pthread_cond_wait(condition, mutex)
    }

    /// Wakes every thread waiting on the condition (called with the lock held).
    public func broadcast() {
        pthread_cond_broadcast(condition)
    }
}
