//! Draws a `MemoryTree` as an icicle chart in SVG: the whole keyspace along the top, each
//! prefix below its parent, widths proportional to bytes, coloured by the type holding
//! most of a node's bytes, with a `<title>` on each box (prefix, bytes, share, keys) that
//! browsers show on hover. Plain SVG: no script, nothing fetched from the network. Boxes
//! narrower than a pixel are not drawn (their bytes still count in their parents).

import Foundation

enum MemorySVG {
    static let width = 1200.0
    static let rowHeight = 20.0
    static let top = 48.0

    /// Fill colours by type (the legend's order).
    static let colours: [(type: String, colour: String)] = [
        ("string", "#e8a33d"), ("hash", "#4e9a5a"), ("list", "#4a78b8"), ("set", "#9b59b6"),
        ("zset", "#c0504d"), ("stream", "#2aa198"),
    ]

    static func colour(of type: String) -> String {
        colours.first { $0.type == type }?.colour ?? "#888888"
    }

    /// The SVG document for `tree`, titled `title` (the dump's name).
    static func render(_ tree: MemoryTree, title: String) -> String {
        let nodes = tree.nodes
        let total = max(nodes[0].bytes, 1)
        var boxes: [String] = []
        var deepest = 0
        // Breadth first: (node, x, width, level, path).
        var queue: [(node: Int, x: Double, width: Double, level: Int, path: String)] = [(0, 0, width, 0, "")]
        var head = 0
        while head < queue.count {
            let (index, x, boxWidth, level, path) = queue[head]
            head += 1
            let node = nodes[index]
            deepest = max(deepest, level)
            let label = level == 0 ? node.name : path
            let share = Double(node.bytes) * 100 / Double(total)
            let y = top + Double(level) * rowHeight
            let hover =
                "\(label)\n\(humanBytes(node.bytes)) (\(node.bytes) bytes), \(String(format: "%.2f", share))%\n"
                + "\(node.keys) keys, mostly \(node.dominantType)"
            var box =
                "<g><title>\(escape(hover))</title>"
                + "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(max(boxWidth - 0.5, 0.5)))\" "
                + "height=\"\(format(rowHeight - 1))\" fill=\"\(colour(of: node.dominantType))\" rx=\"2\"/>"
            let characters = Int((boxWidth - 6) / 7)
            if characters >= 3 {
                let text = node.name.count > characters ? String(node.name.prefix(characters - 1)) + "…" : node.name
                box +=
                    "<text x=\"\(format(x + 3))\" y=\"\(format(y + rowHeight - 6))\">\(escape(text))</text>"
            }
            boxes.append(box + "</g>")
            // Children, largest first, left to right.
            var childX = x
            let children = node.children.values.sorted {
                nodes[$0].bytes > nodes[$1].bytes
                    || (nodes[$0].bytes == nodes[$1].bytes && nodes[$0].name < nodes[$1].name)
            }
            for child in children {
                let childWidth = boxWidth * Double(nodes[child].bytes) / Double(max(node.bytes, 1))
                if childWidth >= 1 {
                    queue.append((child, childX, childWidth, level + 1, path + nodes[child].name))
                }
                childX += childWidth
            }
        }
        let height = top + Double(deepest + 1) * rowHeight + 40
        var legend: [String] = []
        var legendX = 10.0
        for (type, colour) in colours {
            legend.append(
                "<rect x=\"\(format(legendX))\" y=\"\(format(height - 28))\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>"
                    + "<text x=\"\(format(legendX + 16))\" y=\"\(format(height - 18))\">\(type)</text>")
            legendX += 90
        }
        let heading =
            "Memory of \(escape(title)): \(humanBytes(nodes[0].bytes)) in \(nodes[0].keys) keys "
            + "(widths by bytes, colours by type; hover for details)"
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(format(width))" height="\(format(height))" \
            viewBox="0 0 \(format(width)) \(format(height))" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="10" y="24" font-size="16">\(heading)</text>
            \(boxes.joined(separator: "\n"))
            \(legend.joined(separator: "\n"))
            </svg>

            """
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Text safe inside SVG elements and attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            // XML 1.0 has no place for most control characters.
            case _ where scalar.value < 0x20 && scalar != "\n" && scalar != "\t": out += "?"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
