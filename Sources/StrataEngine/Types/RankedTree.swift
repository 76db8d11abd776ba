//! An order-statistic B-tree of `ScoredMember`s: the ordered half of a large sorted set.
//! Every node records how many elements its subtree holds, so insert, delete, rank and
//! "element at rank" are all O(log n), and a rank range costs O(log n + k).
//!
//! Nodes are classes shared between copies of the tree. A mutation first makes every
//! node on its path uniquely referenced — copying a node that a snapshot (or any other
//! copy) still holds — so a copy of the tree is a value: it never sees later writes, and
//! copying costs O(1) up front and O(log n) per later write. Wide nodes (up to 63
//! elements) keep the per-element overhead to a few bytes.

/// An ordered multiset of scored members with rank queries. Elements must be distinct.
struct RankedTree: Sendable {
    /// One node: sorted elements and, unless it is a leaf, one more child than elements.
    final class Node: @unchecked Sendable {
        var items: [ScoredMember]
        var children: [Node]
        /// Elements in this subtree.
        var total: Int

        init(items: [ScoredMember], children: [Node], total: Int) {
            self.items = items
            self.children = children
            self.total = total
        }

        var isLeaf: Bool { children.isEmpty }

        func copy() -> Node { Node(items: items, children: children, total: total) }
    }

    /// Minimum degree: every node but the root holds between `t - 1` and `2t - 1` elements.
    static let minDegree = 32
    static let maxItems = 2 * minDegree - 1
    static let minItems = minDegree - 1

    private var root = Node(items: [], children: [], total: 0)

    /// An empty tree.
    init() {}

    /// Number of elements.
    var count: Int { root.total }

    // MARK: Mutation

    /// Inserts `x`, which must not be present.
    mutating func insert(_ x: ScoredMember) {
        if !isKnownUniquelyReferenced(&root) { root = root.copy() }
        if root.items.count == Self.maxItems {
            let old = root
            root = Node(items: [], children: [old], total: old.total)
            Self.splitChild(of: root, at: 0)
        }
        var node = root
        while true {
            node.total += 1
            var i = node.items.insertionIndex(of: x)
            if node.isLeaf {
                node.items.insert(x, at: i)
                return
            }
            Self.makeChildUnique(node, i)
            if node.children[i].items.count == Self.maxItems {
                Self.splitChild(of: node, at: i)
                if node.items[i].precedes(x) { i += 1 }
            }
            node = node.children[i]
        }
    }

    /// Removes `x`.
    ///
    /// - Returns: whether it was present.
    @discardableResult
    mutating func remove(_ x: ScoredMember) -> Bool {
        if !isKnownUniquelyReferenced(&root) { root = root.copy() }
        let removed = Self.remove(x, from: root)
        if root.items.isEmpty, let only = root.children.first { root = only }
        return removed
    }

    private static func makeChildUnique(_ node: Node, _ i: Int) {
        if !isKnownUniquelyReferenced(&node.children[i]) { node.children[i] = node.children[i].copy() }
    }

    /// Splits the full child `i` of `parent` around its median, which moves up.
    private static func splitChild(of parent: Node, at i: Int) {
        let child = parent.children[i]
        let t = minDegree
        let median = child.items[t - 1]
        let rightItems = Array(child.items[t...])
        var rightChildren: [Node] = []
        if !child.isLeaf {
            rightChildren = Array(child.children[t...])
            child.children.removeSubrange(t...)
        }
        child.items.removeSubrange((t - 1)...)
        let rightTotal = rightItems.count + rightChildren.reduce(0) { $0 + $1.total }
        child.total -= rightTotal + 1
        parent.items.insert(median, at: i)
        parent.children.insert(Node(items: rightItems, children: rightChildren, total: rightTotal), at: i + 1)
    }

    /// Removes `x` from the subtree of `node` (uniquely referenced), keeping every node it
    /// descends into above the minimum size first, so one pass suffices.
    private static func remove(_ x: ScoredMember, from node: Node) -> Bool {
        var i = node.items.insertionIndex(of: x)
        let found = i < node.items.count && node.items[i].matches(x)
        if node.isLeaf {
            guard found else { return false }
            node.items.remove(at: i)
            node.total -= 1
            return true
        }
        if found {
            makeChildUnique(node, i)
            makeChildUnique(node, i + 1)
            if node.children[i].items.count > minItems {
                let predecessor = last(of: node.children[i])
                node.items[i] = predecessor
                _ = remove(predecessor, from: node.children[i])
                node.total -= 1
                return true
            }
            if node.children[i + 1].items.count > minItems {
                let successor = first(of: node.children[i + 1])
                node.items[i] = successor
                _ = remove(successor, from: node.children[i + 1])
                node.total -= 1
                return true
            }
            merge(node, i)
            let removed = remove(x, from: node.children[i])
            if removed { node.total -= 1 }
            return removed
        }
        makeChildUnique(node, i)
        if node.children[i].items.count <= minItems {
            if i > 0, borrowable(node, i - 1) {
                rotateFromLeft(node, i)
            } else if i + 1 < node.children.count, borrowable(node, i + 1) {
                rotateFromRight(node, i)
            } else if i + 1 < node.children.count {
                merge(node, i)
            } else {
                makeChildUnique(node, i - 1)
                merge(node, i - 1)
                i -= 1
            }
        }
        let removed = remove(x, from: node.children[i])
        if removed { node.total -= 1 }
        return removed
    }

    /// Whether child `j` can lend an element; makes it unique when so.
    private static func borrowable(_ node: Node, _ j: Int) -> Bool {
        guard node.children[j].items.count > minItems else { return false }
        makeChildUnique(node, j)
        return true
    }

    /// Moves the last element of child `i - 1` up and the separator down into child `i`.
    private static func rotateFromLeft(_ node: Node, _ i: Int) {
        let left = node.children[i - 1]
        let child = node.children[i]
        child.items.insert(node.items[i - 1], at: 0)
        node.items[i - 1] = left.items.removeLast()
        var moved = 0
        if let grandchild = left.children.popLast() {
            moved = grandchild.total
            child.children.insert(grandchild, at: 0)
        }
        left.total -= 1 + moved
        child.total += 1 + moved
    }

    /// Moves the first element of child `i + 1` up and the separator down into child `i`.
    private static func rotateFromRight(_ node: Node, _ i: Int) {
        let right = node.children[i + 1]
        let child = node.children[i]
        child.items.append(node.items[i])
        node.items[i] = right.items.removeFirst()
        var moved = 0
        if !right.isLeaf {
            let grandchild = right.children.removeFirst()
            moved = grandchild.total
            child.children.append(grandchild)
        }
        right.total -= 1 + moved
        child.total += 1 + moved
    }

    /// Merges child `i + 1` and the separator between them into child `i` (unique).
    private static func merge(_ node: Node, _ i: Int) {
        let left = node.children[i]
        let right = node.children[i + 1]
        left.items.append(node.items.remove(at: i))
        left.items.append(contentsOf: right.items)
        left.children.append(contentsOf: right.children)
        left.total += 1 + right.total
        node.children.remove(at: i + 1)
    }

    private static func first(of node: Node) -> ScoredMember {
        var node = node
        while let child = node.children.first { node = child }
        return node.items[0]
    }

    private static func last(of node: Node) -> ScoredMember {
        var node = node
        while let child = node.children.last { node = child }
        return node.items[node.items.count - 1]
    }

    // MARK: Queries

    /// The number of elements for which `isBelow` holds; it must hold for a prefix of the
    /// order (e.g. "score below the range's minimum").
    func countBelow(_ isBelow: (ScoredMember) -> Bool) -> Int {
        var node = root
        var below = 0
        while true {
            let i = node.items.partitionIndex(isBelow)
            below += i
            if node.isLeaf { return below }
            for j in 0..<i { below += node.children[j].total }
            node = node.children[i]
        }
    }

    /// The 0-based ascending rank of `x`, or nil when absent.
    func rank(of x: ScoredMember) -> Int? {
        var node = root
        var below = 0
        while true {
            let i = node.items.insertionIndex(of: x)
            for j in 0..<Swift.min(i, node.children.count) { below += node.children[j].total }
            if i < node.items.count && node.items[i].matches(x) {
                return below + i + (node.isLeaf ? 0 : node.children[i].total)
            }
            below += i
            if node.isLeaf { return nil }
            node = node.children[i]
        }
    }

    /// The element at ascending rank `rank` (0 ..< count).
    func element(atRank rank: Int) -> ScoredMember? {
        guard rank >= 0, rank < count else { return nil }
        var node = root
        var k = rank
        while !node.isLeaf {
            var next: Node?
            for (j, child) in node.children.enumerated() {
                if k < child.total {
                    next = child
                    break
                }
                k -= child.total
                if k == 0, j < node.items.count { return node.items[j] }
                k -= 1
            }
            guard let next else { return nil }
            node = next
        }
        return node.items[k]
    }

    /// The elements with ascending ranks in `ranks`, in order.
    func elements(inRanks ranks: Range<Int>) -> [ScoredMember] {
        let clamped = ranks.clamped(to: 0..<count)
        var out: [ScoredMember] = []
        out.reserveCapacity(clamped.count)
        if !clamped.isEmpty { Self.collect(root, clamped.lowerBound, clamped.upperBound, into: &out) }
        return out
    }

    private static func collect(_ node: Node, _ low: Int, _ high: Int, into out: inout [ScoredMember]) {
        if node.isLeaf {
            out.append(contentsOf: node.items[Swift.max(low, 0)..<Swift.min(high, node.items.count)])
            return
        }
        var base = 0
        for (j, child) in node.children.enumerated() {
            if base + child.total > low && base < high { collect(child, low - base, high - base, into: &out) }
            base += child.total
            guard j < node.items.count, base < high else { return }
            if base >= low { out.append(node.items[j]) }
            base += 1
        }
    }

    /// Calls `body` on every element in ascending order.
    func forEach(_ body: (ScoredMember) -> Void) {
        Self.visit(root, body)
    }

    private static func visit(_ node: Node, _ body: (ScoredMember) -> Void) {
        if node.isLeaf {
            node.items.forEach(body)
            return
        }
        for (j, child) in node.children.enumerated() {
            visit(child, body)
            if j < node.items.count { body(node.items[j]) }
        }
    }

    /// Checks the B-tree invariants (sizes, order, subtree totals); for tests.
    func isValid() -> Bool {
        var previous: ScoredMember?
        var ordered = true
        forEach { x in
            if let p = previous, !p.precedes(x) { ordered = false }
            previous = x
        }
        return ordered && Self.check(root, isRoot: true).valid
    }

    private static func check(_ node: Node, isRoot: Bool) -> (valid: Bool, depth: Int) {
        var valid = node.items.count <= maxItems && (isRoot || node.items.count >= minItems)
        if node.isLeaf { return (valid && node.total == node.items.count, 0) }
        valid = valid && node.children.count == node.items.count + 1
        let results = node.children.map { check($0, isRoot: false) }
        let depths = Set(results.map { $0.depth })
        let sum = node.items.count + node.children.reduce(0) { $0 + $1.total }
        return (
            valid && depths.count == 1 && results.allSatisfy { $0.valid } && sum == node.total, 1 + (depths.first ?? 0)
        )
    }
}
