import Foundation
import StrataPersistence
import Testing

/// `inspect`: the summary, `--keys` and `--memory`, as a table, `--json` and `--csv`.
@Suite("strata-dump inspect")
struct InspectTests {
    @Test func summarizesARedisFileByReadingItThrough() {
        let run = strataDump("inspect", redisFixture)
        #expect(run.code == 0)
        #expect(run.error.isEmpty)
        #expect(
            run.output == """
                \(redisFixture): Redis RDB file, RDB version 10, 184.8 KB
                created 2026-11-27T22:50:33Z, written by redis 7.0.15, 184.8 KB of records, read through
                db     keys  with TTL  string  list  set  zset  hash  stream
                db0      18         1       7     3    3     3     2       0
                db5       2         0       1     0    0     0     1       0
                db15      1         0       0     1    0     0     0       0
                total    21         1       8     4    3     3     3       0

                """)
    }

    @Test func summarizesAsJSONAndCSV() {
        let json = strataDump("inspect", redisFixture, "--json")
        #expect(json.code == 0)
        #expect(
            json.output
                == "{\"codec\":\"none\",\"created\":1795819833000,\"databases\":{"
                + "\"0\":{\"expires\":1,\"keys\":18,\"types\":{\"hash\":2,\"list\":3,\"set\":3,\"string\":7,\"zset\":3}},"
                + "\"5\":{\"expires\":0,\"keys\":2,\"types\":{\"hash\":1,\"string\":1}},"
                + "\"15\":{\"expires\":0,\"keys\":1,\"types\":{\"list\":1}}},"
                + "\"expires\":1,\"file\":\"\(redisFixture)\",\"fileBytes\":189211,\"format\":\"rdb\",\"keys\":21,"
                + "\"layout\":\"plain\",\"rdbBytes\":189211,\"rdbVersion\":10,\"source\":\"scan\","
                + "\"writer\":\"redis 7.0.15\"}\n")
        let csv = strataDump("inspect", redisFixture, "--csv")
        #expect(csv.code == 0)
        #expect(
            csv.output == """
                db,keys,expires,string,list,set,zset,hash,stream
                0,18,1,7,3,3,3,2,0
                5,2,0,1,0,0,0,1,0
                15,1,0,0,1,0,0,0,0

                """)
    }

    @Test func summarizesASnapshotFromItsIndex() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("dump.sdb")
        let summary = try writeSampleSnapshot(to: path)
        let run = strataDump("inspect", path)
        #expect(run.code == 0)
        let lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first?.hasPrefix("\(path): Strata snapshot, lz4, layout ") == true)
        #expect(lines.count == 7)
        #expect(lines.dropFirst().first?.hasPrefix("created 2027-01-15T08:00:00Z, written by strata") == true)
        #expect(lines.dropFirst().first?.hasSuffix("read from the index") == true)
        #expect(
            Array(lines.suffix(5)) == [
                "db     keys  with TTL  string  list  set  zset  hash  stream",
                "db0       3         0       1     1    0     0     1       0",
                "db3       2         1       1     0    1     0     0       0",
                "total     5         1       2     1    1     0     1       0",
                "",
            ])
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(strataDump("inspect", path, "--json").output.utf8))
                as? [String: Any])
        #expect(json["source"] as? String == "index")
        #expect(json["keys"] as? Int == 5)
        #expect(json["expires"] as? Int == 1)
        #expect(json["codec"] as? String == "lz4")
        #expect(json["chunks"] as? Int == summary.chunks)
        #expect(json["fileBytes"] as? Int == summary.fileBytes)
        #expect(json["created"] as? Int == Int(sampleNow))
    }

    @Test func listsKeysAsATableJSONAndCSV() {
        let table = strataDump("inspect", redisFixture, "--keys", "--db", "5")
        #expect(table.code == 0)
        #expect(
            table.output == """
                db  type    key       ttl  size  elements
                 5  string  db5:key     -    26        16
                 5  hash    db5:hash    -    23         1

                """)
        let json = strataDump("inspect", redisFixture, "--keys", "--db", "5", "--json")
        #expect(
            json.output == """
                {"db":5,"elements":16,"encodedBytes":26,"key":"db5:key","type":"string"}
                {"db":5,"elements":1,"encodedBytes":23,"key":"db5:hash","type":"hash"}

                """)
        let csv = strataDump("inspect", redisFixture, "--keys", "--db", "5", "--csv", "--type", "hash")
        #expect(
            csv.output == """
                db,type,key,ttl_ms,expires_at_ms,encoded_bytes,elements
                5,hash,db5:hash,-1,,23,1

                """)
    }

    @Test func listsKeysWithTheirTTL() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("dump.sdb")
        try writeSampleSnapshot(to: path)
        let run = strataDump("inspect", path, "--keys", "--db", "3", "--match", "l*", "--json")
        #expect(run.code == 0)
        let line = try #require(
            try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect(line["key"] as? String == "later")
        #expect(line["expiresAt"] as? Int == Int(sampleDeadline))
        let ttl = try #require(line["ttlMs"] as? Int)
        #expect(ttl > 0 && ttl <= Int(sampleDeadline))
        #expect(strataDump("inspect", path, "--keys", "--expired").output == "")
        let live = strataDump("inspect", path, "--keys", "--no-expired", "--csv").output
        #expect(live.split(separator: "\n").count == 6)
    }

    @Test func reportsMemoryAsATableAndCSV() {
        let table = strataDump("inspect", redisFixture, "--memory", "--db", "5", "--top", "2")
        #expect(table.code == 0)
        #expect(
            table.output == """
                2 keys, 166 B in memory (Strata's estimate, as MEMORY USAGE), 49 B encoded

                type    keys  memory  % of memory  encoded
                hash       1    99 B        59.6%     23 B
                string     1    67 B        40.4%     26 B

                db   keys  memory  % of memory  encoded
                db5     2   166 B       100.0%     49 B

                prefix  keys  memory  % of memory  encoded
                db5:*      2   166 B       100.0%     49 B

                biggest keys  db    type  memory  encoded  elements
                db5:hash       5    hash    99 B     23 B         1
                db5:key        5  string    67 B     26 B        16

                """)
        let csv = strataDump("inspect", redisFixture, "--memory", "--db", "5", "--csv")
        #expect(
            csv.output == """
                section,name,keys,memory,encoded_bytes,db,type,elements
                total,all,2,166,49,,,
                type,hash,1,99,23,,,
                type,string,1,67,26,,,
                db,5,2,166,49,,,
                prefix,db5:*,2,166,49,,,
                key,db5:hash,1,99,23,5,hash,1
                key,db5:key,1,67,26,5,string,16

                """)
    }

    @Test func summarizesAnAppendOnlyFile() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("appendonly.aof")
        try writeAppendOnlyFile([["SELECT", "0"], ["SET", "a", "1"], ["RPUSH", "l", "x", "y"]], to: path)
        let run = strataDump("inspect", path)
        #expect(run.code == 0)
        let header = "file" + String(repeating: " ", count: path.count - 4) + "  size  commands  snapshot keys  state"
        let row = path + "  86 B         3              0     ok"
        #expect(run.output == "\(path): append-only file, 1 part\n\(header)\n\(row)\n")
        // --keys and --memory replay it as they read a snapshot.
        let keys = strataDump("inspect", path, "--keys", "--csv")
        #expect(keys.code == 0)
        #expect(
            keys.output.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[2] }.sorted() == ["a", "l"])
        let memory = strataDump("inspect", path, "--memory", "--csv")
        #expect(memory.code == 0)
        #expect(memory.output.contains("total,all,2,"))
    }

    @Test func aMissingFileFailsWithCode1() {
        let run = strataDump("inspect", "/nonexistent/dump.sdb")
        #expect(run.code == 1)
        #expect(run.error.hasPrefix("strata-dump: /nonexistent/dump.sdb at offset 0: cannot open"))
        #expect(run.output.isEmpty)
    }
}
