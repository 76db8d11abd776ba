import Foundation
import Testing

/// `convert`: to RESP and JSON lines on standard output, and to snapshot files.
@Suite("strata-dump convert")
struct ConvertTests {
    @Test func toRESPCommandsOnStandardOutput() throws {
        let scratch = ScratchDirectory()
        let source = scratch.file("dump.sdb")
        try writeSampleSnapshot(to: source)
        let run = strataDump("convert", source, "-", "--format", "resp")
        #expect(run.code == 0)
        #expect(run.error == "wrote - (resp): 5 keys, \(run.outputBytes.count) B\n")
        let commands = [
            respCommand("SELECT", "0"), respCommand("SET", "greeting", "hello"),
            respCommand("RPUSH", "queue", "a", "b", "c"),
            respCommand("HSET", "user:1", "name", "ann"), respCommand("SELECT", "3"), respCommand("SADD", "tags", "x"),
            respCommand("SET", "later", "soon") + respCommand("PEXPIREAT", "later", String(sampleDeadline)),
        ]
        for command in commands {
            #expect(run.outputBytes.contains(slice: command), "\(String(decoding: command, as: UTF8.self))")
        }
        // Those commands and nothing else.
        #expect(run.outputBytes.count == commands.reduce(0) { $0 + $1.count })
    }

    @Test func toJSONLinesOnStandardOutput() throws {
        let scratch = ScratchDirectory()
        let source = scratch.file("dump.sdb")
        try writeSampleSnapshot(to: source)
        let run = strataDump("convert", source, "-", "--format", "jsonl")
        #expect(run.code == 0)
        #expect(
            Set(run.output.split(separator: "\n")) == [
                #"{"db":0,"key":"greeting","type":"string","value":"hello"}"#,
                #"{"db":0,"key":"queue","type":"list","value":["a","b","c"]}"#,
                #"{"db":0,"key":"user:1","type":"hash","value":{"name":"ann"}}"#,
                #"{"db":3,"key":"tags","type":"set","value":["x"]}"#,
                #"{"db":3,"expiresAt":4102444800000,"key":"later","type":"string","value":"soon"}"#,
            ])
    }

    @Test(arguments: ["out.rdb", "out.sdb", "out.resp", "out.jsonl"])
    func toAFileNamedByItsExtension(name: String) throws {
        let scratch = ScratchDirectory()
        let out = scratch.file(name)
        let run = strataDump("convert", redisFixture, out)
        #expect(run.code == 0)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int)
        let format = name.split(separator: ".").last.map(String.init) ?? ""
        #expect(run.output.hasPrefix("wrote \(out) (\(format)): 21 keys, "))
        #expect(run.error.isEmpty)
        if format == "rdb" || format == "sdb" {
            #expect(strataDump("verify", out).output.hasPrefix("\(out): OK, 21 keys"))
        }
        #expect(size > 0)
    }

    @Test func anAppendOnlyFileIntoASnapshot() throws {
        let scratch = ScratchDirectory()
        let aof = scratch.file("appendonly.aof")
        try writeAppendOnlyFile(
            [["SELECT", "2"], ["SET", "a", "1"], ["RPUSH", "l", "x", "y"], ["DEL", "a"]], to: aof)
        let out = scratch.file("one.rdb")
        let run = strataDump("convert", aof, out)
        #expect(run.code == 0)
        #expect(run.output.hasPrefix("wrote \(out) (rdb): 1 keys, "))
        #expect(strataDump("inspect", out, "--keys", "--csv").output.hasSuffix("\n2,list,l,-1,,8,2\n"))
    }
}
