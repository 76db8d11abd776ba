import StrataEngine
import StrataPersistence

/// The AOF loader over a directory whose manifest names one file holding the input: an
/// incremental file, or (first byte odd) a base file, which may start with a snapshot
/// preamble. Commands are replayed into an engine, so the loader's command checks and the
/// engine's commands see arbitrary arguments too.
enum AOFFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        guard let first = data.first else { return }
        let asBase = first & 1 == 1
        let name = asBase ? "appendonly.aof.1.base.aof" : "appendonly.aof.1.incr.aof"
        let path = FuzzScratch.write(UnsafeRawBufferPointer(rebasing: data.dropFirst()), to: name)
        let manifest = AOFManifest(
            base: asBase ? .init(name: name, sequence: 1, type: .base) : nil,
            incrementals: asBase ? [] : [.init(name: name, sequence: 1, type: .incremental)])
        for allowTruncatedTail in [false, true] {
            let engine = Engine(databaseCount: 16)
            engine.settings = .smallForFuzzing
            do {
                _ = try AOFLoader.load(
                    directory: FuzzScratch.directory, manifest: manifest, into: engine, now: 1_700_000_000_000,
                    allowTruncatedTail: allowTruncatedTail)
            } catch let error as FileDamageError {
                precondition(error.path == path, "the error names \(error.path)")
            } catch {
                preconditionFailure("unexpected error \(error)")
            }
        }
    }
}
