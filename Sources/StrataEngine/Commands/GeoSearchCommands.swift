//! The geo searches (Redis 7.0 `georadiusGeneric`): GEOSEARCH, GEOSEARCHSTORE, GEORADIUS,
//! GEORADIUSBYMEMBER and their `_RO` forms share one parser, with Redis's order of checks
//! and error texts, and one search: the nine geohash cells around the centre
//! (`Geohash.searchCells`) are each one score range of the sorted set, scanned in Redis's
//! cell order and filtered by the exact shape. Results keep that order unless sorted by
//! distance: a stable sort when all are returned (as glibc's `qsort`), Redis's partial
//! quicksort when COUNT keeps fewer, so equal distances come out as Redis orders them.

/// The geo search commands.
public enum GeoSearchCommands {
    /// The keys of a GEORADIUS-style invocation: the source, then the key after the first
    /// STORE and after the first STOREDIST found from `optionsStart` on (Redis's key
    /// specs).
    static func radiusKeys(optionsStart: Int) -> KeyFinder {
        { args in
            guard args.count > 1 else { return [] }
            var keys = [args[1]]
            let keywords: [StaticString] = ["store", "storedist"]
            for keyword in keywords where args.count > optionsStart + 1 {
                if let at = (optionsStart..<(args.count - 1)).first(where: { args[$0].equalsIgnoringCase(keyword) }) {
                    keys.append(args[at + 1])
                }
            }
            return keys
        }
    }

    static let radiusOptions = "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]"
    static let searchArea =
        "FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI"

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        GeoCommands.spec(
            "geosearch", -7, [.readonly], since: "6.2.0",
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
            "key \(searchArea) [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"
        ) { search(&$0, .search) },
        GeoCommands.spec(
            "geosearchstore", -8, [.write, .denyOOM], keys: (1, 2, 1), since: "6.2.0",
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
            "destination source \(searchArea) [ASC|DESC] [COUNT count [ANY]] [STOREDIST]"
        ) { search(&$0, .searchStore) },
        GeoCommands.spec(
            "georadius", -6, [.write, .denyOOM],
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
            "key longitude latitude radius M|KM|FT|MI \(radiusOptions) [STORE key] [STOREDIST key]"
        ) { search(&$0, .radius(readOnly: false)) }.findingKeys(radiusKeys(optionsStart: 6)),
        GeoCommands.spec(
            "georadius_ro", -6, [.readonly], since: "3.2.10", "A read-only variant for GEORADIUS",
            "key longitude latitude radius M|KM|FT|MI \(radiusOptions)"
        ) { search(&$0, .radius(readOnly: true)) },
        GeoCommands.spec(
            "georadiusbymember", -5, [.write, .denyOOM],
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
            "key member radius M|KM|FT|MI \(radiusOptions) [STORE key] [STOREDIST key]"
        ) { search(&$0, .radiusByMember(readOnly: false)) }.findingKeys(radiusKeys(optionsStart: 5)),
        GeoCommands.spec(
            "georadiusbymember_ro", -5, [.readonly], since: "3.2.10", "A read-only variant for GEORADIUSBYMEMBER",
            "key member radius M|KM|FT|MI \(radiusOptions)"
        ) { search(&$0, .radiusByMember(readOnly: true)) },
    ]

    /// Which command is searching.
    enum Variant: Equatable {
        /// GEORADIUS (STORE and STOREDIST allowed unless read-only).
        case radius(readOnly: Bool)
        /// GEORADIUSBYMEMBER.
        case radiusByMember(readOnly: Bool)
        /// GEOSEARCH.
        case search
        /// GEOSEARCHSTORE.
        case searchStore

        var sourceIndex: Int { self == .searchStore ? 2 : 1 }
        var isSearch: Bool { self == .search || self == .searchStore }
        var acceptsStoreKey: Bool {
            switch self {
            case .radius(let readOnly), .radiusByMember(let readOnly): return !readOnly
            case .search, .searchStore: return false
            }
        }
    }

    enum Order {
        case none
        case ascending
        case descending
    }

    /// A parsed request.
    struct Request {
        var longitude = 0.0
        var latitude = 0.0
        var kind: GeoShape.Kind?
        var metersPerUnit = 1.0
        var withDistance = false
        var withHash = false
        var withCoordinates = false
        var order = Order.none
        var any = false
        /// 0 for all.
        var count = 0
        var storeKey: Bytes?
        var storeDistance = false

        var shape: GeoShape {
            GeoShape(
                longitude: longitude, latitude: latitude, kind: kind ?? .radius(0), metersPerUnit: metersPerUnit)
        }
    }

    /// One result.
    struct Found {
        var member: Bytes
        var score: Double
        var longitude: Double
        var latitude: Double
        /// In meters.
        var distance: Double
    }

    // MARK: Parsing

    /// `radius unit`, as Redis's `extractDistanceOrReply`.
    static func parseRadius(_ args: ArraySlice<Bytes>, into request: inout Request) -> Reply? {
        let i = args.startIndex
        guard let radius = args[i].strictDouble else { return .error("ERR need numeric radius") }
        if radius < 0 { return .error("ERR radius cannot be negative") }
        switch GeoCommands.metersPerUnit(args[i + 1]) {
        case .failure(let error): return error
        case .success(let perUnit):
            request.kind = .radius(radius)
            request.metersPerUnit = perUnit
        }
        return nil
    }

    /// `width height unit`, as Redis's `extractBoxOrReply`.
    static func parseBox(_ args: ArraySlice<Bytes>, into request: inout Request) -> Reply? {
        let i = args.startIndex
        guard let width = args[i].strictDouble else { return .error("ERR need numeric width") }
        guard let height = args[i + 1].strictDouble else { return .error("ERR need numeric height") }
        if height < 0 || width < 0 { return .error("ERR height or width cannot be negative") }
        switch GeoCommands.metersPerUnit(args[i + 2]) {
        case .failure(let error): return error
        case .success(let perUnit):
            request.kind = .box(width: width, height: height)
            request.metersPerUnit = perUnit
        }
        return nil
    }

    static func parseCentre(_ longitude: Bytes, _ latitude: Bytes, into request: inout Request) -> Reply? {
        switch GeoCommands.coordinates(longitude, latitude) {
        case .failure(let error): return error
        case .success(let (x, y)): (request.longitude, request.latitude) = (x, y)
        }
        return nil
    }

    /// Puts the position of `member` in `request`; the error when it is not in the set.
    static func parseMember(_ member: Bytes, _ zset: SortedSetValue, into request: inout Request) -> Reply? {
        guard let score = zset.score(of: member) else { return .error("ERR could not decode requested zset member") }
        (request.longitude, request.latitude) = Geohash.position(ofScore: score)
        return nil
    }

    /// The fixed arguments, then the options, checked in Redis's order (`zset` is the
    /// source, already read).
    static func parse(_ c: CommandContext, _ variant: Variant, _ zset: SortedSetValue?) -> Result<Request, Reply> {
        let args = c.args
        var request = Request()
        let base: Int
        switch variant {
        case .radius:
            base = 6
            if let error = parseCentre(args[2], args[3], into: &request) { return .failure(error) }
            if let error = parseRadius(args[4...5], into: &request) { return .failure(error) }
        case .radiusByMember:
            base = 5
            // A missing source: the options are still parsed, to pick the reply.
            if let zset {
                if let error = parseMember(args[2], zset, into: &request) { return .failure(error) }
                if let error = parseRadius(args[3...4], into: &request) { return .failure(error) }
            }
        case .search:
            base = 2
        case .searchStore:
            base = 3
            request.storeKey = args[1]
        }
        var fromMember = false
        var fromCoordinates = false
        var byRadius = false
        var byBox = false
        var i = base
        while i < args.count {
            let word = args[i]
            let left = args.count - i - 1
            if word.equalsIgnoringCase("withdist") {
                request.withDistance = true
            } else if word.equalsIgnoringCase("withhash") {
                request.withHash = true
            } else if word.equalsIgnoringCase("withcoord") {
                request.withCoordinates = true
            } else if word.equalsIgnoringCase("any") {
                request.any = true
            } else if word.equalsIgnoringCase("asc") {
                request.order = .ascending
            } else if word.equalsIgnoringCase("desc") {
                request.order = .descending
            } else if word.equalsIgnoringCase("count") && left >= 1 {
                guard let count = args[i + 1].strictInteger else { return .failure(Errors.notInteger) }
                guard count > 0 else { return .failure(.error("ERR COUNT must be > 0")) }
                request.count = count
                i += 1
            } else if word.equalsIgnoringCase("store") && left >= 1 && variant.acceptsStoreKey {
                (request.storeKey, request.storeDistance) = (args[i + 1], false)
                i += 1
            } else if word.equalsIgnoringCase("storedist") && left >= 1 && variant.acceptsStoreKey {
                (request.storeKey, request.storeDistance) = (args[i + 1], true)
                i += 1
            } else if word.equalsIgnoringCase("storedist") && variant == .searchStore {
                request.storeDistance = true
            } else if word.equalsIgnoringCase("frommember") && left >= 1 && variant.isSearch && !fromCoordinates {
                if let zset, let error = parseMember(args[i + 1], zset, into: &request) { return .failure(error) }
                fromMember = true
                i += 1
            } else if word.equalsIgnoringCase("fromlonlat") && left >= 2 && variant.isSearch && !fromMember {
                if let error = parseCentre(args[i + 1], args[i + 2], into: &request) { return .failure(error) }
                fromCoordinates = true
                i += 2
            } else if word.equalsIgnoringCase("byradius") && left >= 2 && variant.isSearch && !byBox {
                if let error = parseRadius(args[(i + 1)...(i + 2)], into: &request) { return .failure(error) }
                byRadius = true
                i += 2
            } else if word.equalsIgnoringCase("bybox") && left >= 3 && variant.isSearch && !byRadius {
                if let error = parseBox(args[(i + 1)...(i + 3)], into: &request) { return .failure(error) }
                byBox = true
                i += 3
            } else {
                return .failure(Errors.syntax)
            }
            i += 1
        }
        if request.storeKey != nil && (request.withDistance || request.withHash || request.withCoordinates) {
            let what = variant == .searchStore ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"
            return .failure(.error("ERR \(what) is not compatible with WITHDIST, WITHHASH and WITHCOORD options"))
        }
        if variant.isSearch && !(fromMember || fromCoordinates) {
            return .failure(
                .error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for \(args[0].string)"))
        }
        if variant.isSearch && !(byRadius || byBox) {
            return .failure(.error("ERR exactly one of BYRADIUS and BYBOX can be specified for \(args[0].string)"))
        }
        if request.any && request.count == 0 { return .failure(.error("ERR the ANY argument requires COUNT argument")) }
        return .success(request)
    }

    // MARK: Searching

    /// The members inside `shape`, in Redis's cell order and score order within a cell;
    /// at most `limit` of them when it is positive (ANY).
    static func collect(_ zset: SortedSetValue, _ shape: GeoShape, limit: Int) -> [Found] {
        let cells = Geohash.searchCells(shape)
        var found: [Found] = []
        var lastScanned = 0
        for (index, cell) in cells.enumerated() {
            if cell.isExcluded { continue }
            // A huge area can give the same cell twice in a row: scan it once (Redis
            // compares with the last cell scanned after the centre's).
            if lastScanned != 0 && cell == cells[lastScanned] { continue }
            if limit > 0 && found.count >= limit { break }
            scan(zset, cell.scoreRange, shape, limit: limit, into: &found)
            lastScanned = index
        }
        return found
    }

    /// Adds the members with scores in `range` (upper bound excluded) that are inside the
    /// shape, stopping at `limit` results when it is positive.
    @inline(__always)
    static func scan(
        _ zset: SortedSetValue, _ range: (lowerBound: Double, upperBound: Double), _ shape: GeoShape, limit: Int,
        into found: inout [Found]
    ) {
        var rank = zset.countBelow { $0.score < range.lowerBound }
        let end = zset.countBelow { $0.score < range.upperBound }
        let chunk = 256
        while rank < end {
            let upper = Swift.min(end, rank + chunk)
            for item in zset.members(inRanks: rank..<upper) {
                let position = Geohash.position(ofScore: item.score)
                if let distance = Geohash.distanceIfInside(
                    shape, longitude: position.longitude, latitude: position.latitude)
                {
                    found.append(
                        Found(
                            member: item.member, score: item.score, longitude: position.longitude,
                            latitude: position.latitude, distance: distance))
                    if limit > 0 && found.count >= limit { return }
                }
            }
            rank = upper
        }
    }

    /// Orders the first `kept` results by distance as Redis does.
    static func order(_ found: inout [Found], _ order: Order, kept: Int) {
        let sign = order == .descending ? -1 : 1
        let compare = { (a: Found, b: Found) -> Int in
            sign * (a.distance > b.distance ? 1 : (a.distance == b.distance ? 0 : -1))
        }
        if kept == found.count {
            // glibc's qsort is a merge sort: stable.
            let sorted = found.indices.sorted { i, j in
                let r = compare(found[i], found[j])
                return r != 0 ? r < 0 : i < j
            }
            found = sorted.map { found[$0] }
        } else {
            PartialQuicksort.sort(&found, first: 0, last: kept - 1, by: compare)
        }
    }

    static func search(_ c: inout CommandContext, _ variant: Variant) -> Reply {
        let zset: SortedSetValue?
        switch c.readCollection(c.args[variant.sourceIndex], .sortedSet) {
        case .failure(let error): return error
        case .success(let z): zset = z
        }
        var request: Request
        switch parse(c, variant, zset) {
        case .failure(let error): return error
        case .success(let r): request = r
        }
        guard let zset else {
            guard let destination = request.storeKey else { return .array([]) }
            if c.delete(destination) {
                c.changed()
                c.notify(.generic, "del", destination)
            }
            return .integer(0)
        }
        if request.count != 0 && request.order == .none && !request.any { request.order = .ascending }
        let shape = request.shape
        var found = collect(zset, shape, limit: request.any ? request.count : 0)
        if found.isEmpty && request.storeKey == nil { return .array([]) }
        let kept = request.count == 0 || found.count < request.count ? found.count : request.count
        if request.order != .none { order(&found, request.order, kept: kept) }
        let results = found.prefix(kept)
        if let destination = request.storeKey {
            return store(&c, variant, destination, results, request, shape)
        }
        return .array(
            results.map { item in
                var fields: [Reply] = [.bulk(item.member)]
                if request.withDistance {
                    fields.append(GeoCommands.distanceReply(item.distance / shape.metersPerUnit))
                }
                if request.withHash { fields.append(.integer(truncated(item.score))) }
                if request.withCoordinates {
                    fields.append(
                        .array([
                            GeoCommands.coordinateReply(item.longitude), GeoCommands.coordinateReply(item.latitude),
                        ]))
                }
                return fields.count == 1 ? fields[0] : .array(fields)
            })
    }

    /// Replaces `destination` with the results (scores: their geohashes, or their
    /// distances in the unit with STOREDIST), or deletes it when there are none.
    static func store(
        _ c: inout CommandContext, _ variant: Variant, _ destination: Bytes, _ results: ArraySlice<Found>,
        _ request: Request, _ shape: GeoShape
    ) -> Reply {
        guard !results.isEmpty else {
            if c.delete(destination) {
                c.changed()
                c.notify(.generic, "del", destination)
            }
            return .integer(0)
        }
        let members = results.map {
            ScoredMember(score: request.storeDistance ? $0.distance / shape.metersPerUnit : $0.score, member: $0.member)
        }
        c.store(destination, .sortedSet(SortedSetValue(members, limits: c.engine.settings.sortedSetLimits)))
        c.changed(members.count)
        c.notify(.zset, variant.isSearch ? "geosearchstore" : "georadiusstore", destination)
        return .integer(members.count)
    }

    /// A score as C's conversion to `long long` gives it (the scores searched are
    /// non-negative and below 2^54).
    static func truncated(_ score: Double) -> Int {
        guard score.isFinite, score > -9.2e18, score < 9.2e18 else { return Int.min }
        return Int(score)
    }
}
