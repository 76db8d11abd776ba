//! Injectable file-system faults, for tests of what the server does when the disk fails.
//! Every write path of the persistence layer (snapshot and AOF base writers, the AOF append
//! file, the manifest, renames) asks ``FileFaults`` before each system call (an uncontended
//! lock, next to nothing beside the system call itself). The server arms faults with `DEBUG FAULT`
//! (only with `enable-debug-command`), unit tests directly.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file operation that a fault can target.
public enum FileOperation: String, Sendable, CaseIterable {
    case open, write, fsync, rename
}

/// One armed fault: `operation` on paths containing `pathContains` fails with `errno`
/// (or, for a short write, writes at most half of what is asked), after `skip` matching
/// operations have passed, `remaining` more times (nil: until cleared).
public struct FileFault: Sendable, Equatable, CustomStringConvertible {
    public var operation: FileOperation
    /// The errno to fail with; 0 for a short write.
    public var code: Int32
    public var pathContains: String
    public var remaining: Int?
    public var skip: Int

    /// A fault.
    public init(
        operation: FileOperation, code: Int32, pathContains: String = "", remaining: Int? = nil, skip: Int = 0
    ) {
        self.operation = operation
        self.code = code
        self.pathContains = pathContains
        self.remaining = remaining
        self.skip = skip
    }

    /// The errno names `DEBUG FAULT` accepts (and `SHORT` for a short write).
    public static let codes: [String: Int32] = [
        "ENOSPC": ENOSPC, "EIO": EIO, "EROFS": EROFS, "EACCES": EACCES, "EDQUOT": EDQUOT, "SHORT": 0,
    ]

    public var description: String {
        let name = FileFault.codes.first { $0.value == code }?.key ?? String(code)
        let times = remaining.map(String.init) ?? "always"
        return "\(operation.rawValue) \(name) path=\"\(pathContains)\" skip=\(skip) times=\(times)"
    }
}

/// The armed faults, shared by every thread.
public enum FileFaults {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var faults: [FileFault] = []

    /// Arms `fault` (after those already armed).
    public static func arm(_ fault: FileFault) {
        lock.lock()
        defer { lock.unlock() }
        faults.append(fault)
    }

    /// Clears every fault.
    public static func clear() {
        lock.lock()
        defer { lock.unlock() }
        faults = []
    }

    /// The faults armed now.
    public static var current: [FileFault] {
        lock.lock()
        defer { lock.unlock() }
        return faults
    }

    /// The fault that `operation` on `path` meets now, consuming one of its times.
    public static func take(_ operation: FileOperation, path: String) -> FileFault? {
        lock.lock()
        defer { lock.unlock() }
        guard
            let index = faults.firstIndex(where: {
                $0.operation == operation && ($0.pathContains.isEmpty || path.contains($0.pathContains))
            })
        else { return nil }
        if faults[index].skip > 0 {
            faults[index].skip -= 1
            return nil
        }
        let fault = faults[index]
        if let remaining = fault.remaining {
            if remaining <= 1 { faults.remove(at: index) } else { faults[index].remaining = remaining - 1 }
        }
        return fault
    }
}

/// The system calls of the persistence layer's write paths, with faults applied.
public enum FaultableIO {
    /// `open(2)`.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
        if let fault = FileFaults.take(.open, path: path), fault.code != 0 {
            errno = fault.code
            return -1
        }
        #if canImport(Glibc)
            return Glibc.open(path, flags, mode)
        #else
            return Darwin.open(path, flags, mode)
        #endif
    }

    /// `write(2)`; a short-write fault writes at most half of `count` (at least one byte).
    public static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, path: String) -> Int {
        var count = count
        if let fault = FileFaults.take(.write, path: path) {
            if fault.code != 0 {
                errno = fault.code
                return -1
            }
            count = max(1, count / 2)
        }
        #if canImport(Glibc)
            return Glibc.write(fd, buffer, count)
        #else
            return Darwin.write(fd, buffer, count)
        #endif
    }

    /// `fsync(2)` (`fdatasync` when `dataOnly` on Linux).
    public static func fsync(_ fd: Int32, path: String, dataOnly: Bool = false) -> Int32 {
        if let fault = FileFaults.take(.fsync, path: path), fault.code != 0 {
            errno = fault.code
            return -1
        }
        #if canImport(Glibc)
            return dataOnly ? fdatasync(fd) : Glibc.fsync(fd)
        #else
            return Darwin.fsync(fd)
        #endif
    }

    /// `rename(2)`.
    public static func rename(_ from: String, _ to: String) -> Int32 {
        if let fault = FileFaults.take(.rename, path: to), fault.code != 0 {
            errno = fault.code
            return -1
        }
        #if canImport(Glibc)
            return Glibc.rename(from, to)
        #else
            return Darwin.rename(from, to)
        #endif
    }
}
