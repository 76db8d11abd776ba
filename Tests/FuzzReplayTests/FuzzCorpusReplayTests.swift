import Foundation
import StrataFuzzTargets
import XCTest

/// Replays every committed fuzz corpus (`Tests/FuzzCorpus/<target>/`, seeds, inputs the
/// fuzzer found interesting, and every input that ever crashed a target) through the fuzz
/// targets, so that `make test` keeps them all passing without fuzzing.
final class FuzzCorpusReplayTests: XCTestCase {
    static let corpusRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("FuzzCorpus")

    func replay(_ name: String, minimumInputs: Int) throws {
        let target = try XCTUnwrap(FuzzTarget.named(name))
        let folder = Self.corpusRoot.appendingPathComponent(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertGreaterThanOrEqual(files.count, minimumInputs, "corpus \(name) is missing")
        for file in files {
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            data.withUnsafeBytes { target.run($0) }
        }
    }

    func testRESPCorpus() throws { try replay("resp", minimumInputs: 10) }
    func testRESPReplyCorpus() throws { try replay("resp-reply", minimumInputs: 10) }
    func testSnapshotCorpus() throws { try replay("snapshot", minimumInputs: 3) }
    func testRDBCorpus() throws { try replay("rdb", minimumInputs: 3) }
    func testACLRulesCorpus() throws { try replay("acl-rules", minimumInputs: 10) }

    /// The Redis-written fixtures (larger than the fuzzer's inputs) through the same body.
    func testRedisFixtures() throws {
        let target = try XCTUnwrap(FuzzTarget.named("rdb"))
        let fixtures = Self.corpusRoot.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasSuffix(".rdb") }
        XCTAssertGreaterThanOrEqual(names.count, 3)
        for name in names {
            let data = try Data(contentsOf: fixtures.appendingPathComponent(name))
            data.withUnsafeBytes { target.run($0) }
        }
    }
    func testAOFCorpus() throws { try replay("aof", minimumInputs: 10) }
    func testManifestCorpus() throws { try replay("manifest", minimumInputs: 5) }
    func testClusterBusCorpus() throws { try replay("cluster-bus", minimumInputs: 4) }
    func testNodesConfCorpus() throws { try replay("nodes-conf", minimumInputs: 2) }
    func testMemcachedTextCorpus() throws { try replay("memcached-text", minimumInputs: 5) }
}
