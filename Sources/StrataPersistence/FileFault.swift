//! Injectable file-system faults: a ``FaultPlan`` holds the armed faults, and the file
//! systems that inject them (``FaultInjectingFileSystem`` around the disk or memory) ask it
//! before each operation. The server holds one plan, armed with `DEBUG FAULT` (only with
//! `enable-debug-command`); unit tests arm their own. Asking costs an uncontended lock,
//! next to nothing beside the system call itself.

import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file operation that a fault can target.
public enum FileOperation: String, Sendable, CaseIterable {
    /// Opening a file for writing (creating or appending).
    case open
    case write
    case fsync
    case rename
    /// Reading an open file.
    case read
}

/// What an armed fault does to the operation it meets.
public enum FaultAction: Sendable, Equatable {
    /// The operation fails with this errno.
    case fail(Int32)
    /// A write or read moves at most half of the bytes asked (at least one).
    case short
    /// A torn write: at most `keeping` bytes of the write reach the disk (they are synced),
    /// then the file system is gone as after a power cut: the write and every later
    /// operation fail with `EIO`.
    case tear(keeping: Int)
}

/// One armed fault: `operation` on paths containing `pathContains` meets `action`, after
/// `skip` matching operations have passed, `remaining` more times (nil: until cleared).
public struct FileFault: Sendable, Equatable, CustomStringConvertible {
    public var operation: FileOperation
    public var action: FaultAction
    public var pathContains: String
    public var remaining: Int?
    public var skip: Int

    /// A fault.
    public init(
        operation: FileOperation, action: FaultAction, pathContains: String = "", remaining: Int? = nil,
        skip: Int = 0
    ) {
        self.operation = operation
        self.action = action
        self.pathContains = pathContains
        self.remaining = remaining
        self.skip = skip
    }

    /// A fault failing with errno `code`, or making a short write when `code` is 0 (as
    /// `DEBUG FAULT SET` names them).
    public init(
        operation: FileOperation, code: Int32, pathContains: String = "", remaining: Int? = nil, skip: Int = 0
    ) {
        self.init(
            operation: operation, action: code == 0 ? .short : .fail(code), pathContains: pathContains,
            remaining: remaining, skip: skip)
    }

    /// The errno names `DEBUG FAULT` accepts (and `SHORT` for a short write).
    public static let codes: [String: Int32] = [
        "ENOSPC": ENOSPC, "EIO": EIO, "EROFS": EROFS, "EACCES": EACCES, "EDQUOT": EDQUOT, "SHORT": 0,
    ]

    public var description: String {
        let name: String
        switch action {
        case .fail(let code): name = FileFault.codes.first { $0.value == code }?.key ?? String(code)
        case .short: name = "SHORT"
        case .tear(let keeping): name = "TEAR(\(keeping))"
        }
        let times = remaining.map(String.init) ?? "always"
        return "\(operation.rawValue) \(name) path=\"\(pathContains)\" skip=\(skip) times=\(times)"
    }
}

/// The faults armed on one file system, shared by every thread that uses it.
public final class FaultPlan: @unchecked Sendable {
    private let lock = NIOLock()
    private var faults: [FileFault] = []
    private var poweredOff = false

    /// An empty plan.
    public init() {}

    /// Arms `fault` (after those already armed).
    public func arm(_ fault: FileFault) {
        lock.lock()
        defer { lock.unlock() }
        faults.append(fault)
    }

    /// Clears every fault (and restores the power a torn write cut).
    public func clear() {
        lock.lock()
        defer { lock.unlock() }
        faults = []
        poweredOff = false
    }

    /// Cuts the power: every operation fails with `EIO` until ``clear()``.
    public func cutPower() {
        lock.lock()
        defer { lock.unlock() }
        poweredOff = true
    }

    /// Whether a torn write has cut the power.
    public var isPoweredOff: Bool {
        lock.lock()
        defer { lock.unlock() }
        return poweredOff
    }

    /// The faults armed now.
    public var current: [FileFault] {
        lock.lock()
        defer { lock.unlock() }
        return faults
    }

    /// What `operation` on `path` meets now (the first matching fault, or `EIO` once the
    /// power is cut), consuming one of its times; nil when it is to run normally.
    public func take(_ operation: FileOperation, path: String) -> FaultAction? {
        lock.lock()
        defer { lock.unlock() }
        if poweredOff { return .fail(EIO) }
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
        return fault.action
    }
}
