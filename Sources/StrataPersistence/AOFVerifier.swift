//! Offline checks of an AOF directory (or one AOF file): every file the manifest lists is
//! read in full, snapshots with their checksums and commands against the command table,
//! and the first damage is reported with the offset up to which the file is valid. The
//! repair cuts the damaged last file at that offset after keeping a `.broken` copy, which
//! is what `redis-check-aof --fix` does.

import StrataEngine

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What checking one AOF file found.
public struct AOFFileCheck: Sendable {
    /// The file's path.
    public var path: String
    /// Commands read.
    public var commands = 0
    /// Keys of its snapshot part.
    public var snapshotKeys = 0
    /// The file's size.
    public var bytes = 0
    /// Where the valid part ends (the file's size when it is whole).
    public var validBytes = 0
    /// Whether the file only ends mid-command (a crash while appending).
    public var truncated = false
    /// What is wrong, nil when the file is whole.
    public var problem: String?
}

/// Checks and repairs AOF files.
public enum AOFVerifier {
    /// Checks one file on `fileSystem`: a snapshot part if it starts with one, then its commands.
    public static func check(path: String, fileSystem: any FileSystem = POSIXFileSystem.shared) -> AOFFileCheck {
        var check = AOFFileCheck(path: path)
        check.bytes = AOFLoader.fileSize(path, fileSystem: fileSystem)
        var start = 0
        if AOFLoader.startsWithSnapshot(path, fileSystem: fileSystem) {
            do {
                let report = try SnapshotReader.read(
                    path: path, fileSystem: fileSystem, settings: EngineSettings(), now: .min
                ) { _, _, _, _ in }
                check.snapshotKeys = report.keys
                guard report.layout == .plain else {
                    check.validBytes = check.bytes
                    return check
                }
                start = report.rdbBytes
            } catch let error as FileDamageError {
                check.problem = error.reason
                check.validBytes = error.offset
                return check
            } catch {
                check.problem = "\(error)"
                return check
            }
        }
        let table = CommandTable.standard
        do {
            let result = try AOFCommandReader.read(path: path, fileSystem: fileSystem, from: start) { args in
                if case .failure(let error) = table.resolveLogged(args) {
                    if case .error(let text) = error { throw AOFCommandRejected(text) }
                    throw AOFCommandRejected("unknown command")
                }
            }
            check.commands = result.commands
            check.validBytes = result.validBytes
            if let reason = result.truncation {
                check.truncated = true
                check.problem = reason
            }
        } catch let error as FileDamageError {
            check.problem = error.reason
            check.validBytes = error.offset
        } catch {
            check.problem = "\(error)"
        }
        return check
    }

    /// The manifest in `directory` (the one file named `*.manifest`), or nil.
    public static func manifestPath(in directory: String) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".manifest") }.sorted().first.map { directory + "/" + $0 }
    }

    /// Checks every file `manifestPath` lists on `fileSystem`, in replay order.
    public static func checkDirectory(manifestPath: String, fileSystem: any FileSystem = POSIXFileSystem.shared) throws
        -> [AOFFileCheck]
    {
        let manifest = try AOFManifest.read(path: manifestPath, fileSystem: fileSystem)
        let directory = DurableFileWriter.directory(of: manifestPath)
        return manifest.replayOrder.map { check(path: directory + "/" + $0.name, fileSystem: fileSystem) }
    }

    /// Keeps `path.broken` and cuts `path` at `offset`.
    public static func cut(path: String, at offset: Int) throws {
        let broken = path + ".broken"
        try? FileManager.default.removeItem(atPath: broken)
        try FileManager.default.copyItem(atPath: path, toPath: broken)
        guard truncate(path, off_t(offset)) == 0 else {
            throw DurableFileError(path: path, operation: "truncate", code: errno)
        }
    }
}
