import StrataEngine
import StrataPersistence

/// The snapshot reader over one file holding the input: it detects the layout (LZ4 frames,
/// gzip members, plain RDB) itself, so the `snapshot` corpus (Strata files) and the `rdb`
/// corpus (Redis files) share this body. Read strictly, then with salvage; every failure
/// must be a ``FileDamageError`` naming the file.
enum SnapshotFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        let path = FuzzScratch.write(data, to: "dump.sdb")
        let settings = EngineSettings.smallForFuzzing
        for salvage in [false, true] {
            var keys = 0
            do {
                let report = try SnapshotReader.records(path: path, settings: settings, salvage: salvage) { record in
                    precondition(record.db >= 0, "negative database index")
                    _ = record.value.memoryUsage(keyBytes: record.key.count, hasDeadline: record.deadline != nil)
                    keys += 1
                }
                precondition(report.keys == keys, "report counts \(report.keys) keys, \(keys) were delivered")
            } catch let error as FileDamageError {
                precondition(error.path == path, "the error names \(error.path)")
            } catch {
                preconditionFailure("unexpected error \(error)")
            }
        }
    }
}
