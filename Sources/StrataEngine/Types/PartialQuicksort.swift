//! The partial sort Redis applies to geo search results when COUNT keeps fewer than all
//! of them: Bentley and McIlroy's three-way quicksort (median of three, ninther above 40
//! elements, insertion sort below 7) that only descends into partitions overlapping the
//! wanted positions. It is not stable, so members at equal distances come out in an
//! order only this exact sequence of comparisons and swaps reproduces; Strata performs
//! the same sequence so that its replies match Redis's member for member.

/// A partial quicksort with Redis's order of swaps.
enum PartialQuicksort {
    /// Reorders `items` so that positions `first...last` hold the elements a full sort
    /// by `compare` (negative, zero or positive, as C's `qsort` comparators) would put
    /// there, moving elements exactly as Redis's `pqsort` does.
    static func sort<T>(_ items: inout [T], first: Int, last: Int, by compare: @escaping (T, T) -> Int) {
        guard items.count > 1, first <= last else { return }
        var sorter = Sorter(items: items, wanted: first...last, compare: compare)
        items = []  // keep one copy while sorting
        sorter.sortAll()
        items = sorter.items
    }

    private struct Sorter<T> {
        var items: [T]
        let wanted: ClosedRange<Int>
        let compare: (T, T) -> Int

        func order(_ i: Int, _ j: Int) -> Int { compare(items[i], items[j]) }

        func median(_ a: Int, _ b: Int, _ c: Int) -> Int {
            if order(a, b) < 0 {
                if order(b, c) < 0 { return b }
                return order(a, c) < 0 ? c : a
            }
            if order(b, c) > 0 { return b }
            return order(a, c) < 0 ? a : c
        }

        mutating func swapRuns(_ a: Int, _ b: Int, _ count: Int) {
            for k in 0..<Swift.max(count, 0) { items.swapAt(a + k, b + k) }
        }

        /// Whether the partition `start..<start + count` holds a wanted position.
        func overlapsWanted(start: Int, count: Int) -> Bool {
            !(wanted.upperBound < start || wanted.lowerBound >= start + count)
        }

        /// Sorts the partitions left to sort, kept on a list rather than the call stack (a
        /// crafted input could nest them as deep as there are elements). Partitions are
        /// disjoint, so the order they are sorted in does not change the result.
        mutating func sortAll() {
            var pending = [(start: 0, count: items.count)]
            while let next = pending.popLast() {
                partition(start: next.start, count: next.count, pending: &pending)
            }
        }

        /// Sorts `start..<start + count`: partitions it, adds the left part to `pending` and
        /// goes on with the right part, as Redis loops on it.
        mutating func partition(start: Int, count: Int, pending: inout [(start: Int, count: Int)]) {
            var a = start
            var n = count
            while true {
                if n < 7 {
                    for m in (a + 1)..<Swift.max(a + n, a + 1) {
                        var l = m
                        while l > a && order(l - 1, l) > 0 {
                            items.swapAt(l, l - 1)
                            l -= 1
                        }
                    }
                    return
                }
                var pivot = a + n / 2
                if n > 7 {
                    var low = a
                    var high = a + n - 1
                    if n > 40 {
                        let d = n / 8
                        low = median(low, low + d, low + 2 * d)
                        pivot = median(pivot - d, pivot, pivot + d)
                        high = median(high - 2 * d, high - d, high)
                    }
                    pivot = median(low, pivot, high)
                }
                items.swapAt(a, pivot)
                // Elements equal to the pivot gather at both ends ([a, pa) and (pd, end)),
                // smaller ones after the left group, larger ones before the right group.
                var pa = a + 1
                var pb = pa
                var pc = a + n - 1
                var pd = pc
                while true {
                    while pb <= pc {
                        let r = order(pb, a)
                        if r > 0 { break }
                        if r == 0 {
                            items.swapAt(pa, pb)
                            pa += 1
                        }
                        pb += 1
                    }
                    while pb <= pc {
                        let r = order(pc, a)
                        if r < 0 { break }
                        if r == 0 {
                            items.swapAt(pc, pd)
                            pd -= 1
                        }
                        pc -= 1
                    }
                    if pb > pc { break }
                    items.swapAt(pb, pc)
                    pb += 1
                    pc -= 1
                }
                let end = a + n
                var r = Swift.min(pa - a, pb - pa)
                swapRuns(a, pb - r, r)
                r = Swift.min(pd - pc, end - pd - 1)
                swapRuns(pb, end - r, r)
                r = pb - pa
                if r > 1 && overlapsWanted(start: a, count: r) { pending.append((a, r)) }
                r = pd - pc
                guard r > 1 else { return }
                a = end - r
                n = r
                guard overlapsWanted(start: a, count: n) else { return }
            }
        }
    }
}
