import Foundation
import StrataEngine
import Testing

@testable import StrataDumpKit

/// The prefix tree behind `inspect --memory --svg` and its drawing.
@Suite("memory picture")
struct MemoryPictureTests {
    @Test func keysSplitIntoPrefixesUpToTheDepth() {
        let tree = MemoryTree(separator: ":", depth: 2)
        #expect(tree.segments(of: Bytes("user:42:cart")) == ["user:", "42:", "cart"])
        #expect(tree.segments(of: Bytes("a:b:c:d")) == ["a:", "b:", "c:d"])
        #expect(tree.segments(of: Bytes("plain")) == ["plain"])
        #expect(tree.segments(of: Bytes("ends:")) == ["ends:"])
        #expect(MemoryTree(separator: "", depth: 3).segments(of: Bytes("a:b")) == ["a:b"])
    }

    @Test func bytesAddUpAtEveryLevelByType() {
        var tree = MemoryTree(separator: ":", depth: 1)
        tree.add(key: Bytes("user:1"), type: "string", bytes: 100)
        tree.add(key: Bytes("user:2"), type: "hash", bytes: 300)
        tree.add(key: Bytes("other"), type: "string", bytes: 50)
        let root = tree.nodes[0]
        #expect(root.bytes == 450 && root.keys == 3)
        let user = tree.nodes[root.children["user:"] ?? 0]
        #expect(user.bytes == 400 && user.keys == 2 && user.dominantType == "hash")
        #expect(user.children.count == 2)
    }

    @Test func theDrawingScalesWidthsAndEscapesText() {
        var tree = MemoryTree(separator: ":", depth: 1)
        tree.add(key: Bytes("big:1"), type: "string", bytes: 3000)
        tree.add(key: Bytes("small<&>:1"), type: "zset", bytes: 1000)
        let svg = MemorySVG.render(tree, title: "dump \"1\".sdb")
        // The boxes' widths, in drawing order (each box is a <g> with a title and a rect).
        let widths = svg.components(separatedBy: "<g>").dropFirst().compactMap { box -> Double? in
            guard let start = box.range(of: "width=\"")?.upperBound,
                let end = box[start...].firstIndex(of: "\"")
            else { return nil }
            return Double(box[start..<end])
        }
        // The whole, then big: (three quarters), then small<&>: (a quarter), then the keys.
        #expect(widths.count == 5)
        #expect(abs(widths[1] / widths[0] - 0.75) < 0.01 && abs(widths[2] / widths[0] - 0.25) < 0.01)
        #expect(svg.contains("small&lt;&amp;&gt;:") && svg.contains("dump &quot;1&quot;.sdb"))
        #expect(svg.contains(MemorySVG.colour(of: "zset")) && !svg.contains("<script"))
    }
}
