import Testing

@testable import StrataEngine

/// Expected values were read from Redis 7.0.15.
@Suite("Geohash")
struct GeohashTests {
    @Test func encodesScoresAsRedis() {
        #expect(Geohash.score(longitude: 13.361389, latitude: 38.115556) == 3_479_099_956_230_698)
        #expect(Geohash.score(longitude: 15.087269, latitude: 37.502669) == 3_479_447_370_796_909)
        #expect(Geohash.score(longitude: -180, latitude: -85.05112878) == 0)
        #expect(Geohash.score(longitude: 180.000001, latitude: 0) == nil)
        #expect(Geohash.score(longitude: 0, latitude: 85.06) == nil)
        #expect(Geohash.score(longitude: .nan, latitude: 0) == nil)
    }

    @Test func decodesToTheCellCentre() {
        let palermo = Geohash.position(ofScore: 3_479_099_956_230_698)
        #expect(NumberFormat.humanFloat(Float80(palermo.longitude)).string == "13.36138933897018433")
        #expect(NumberFormat.humanFloat(Float80(palermo.latitude)).string == "38.11555639549629859")
        #expect(Geohash.standardHash(ofScore: 3_479_099_956_230_698) == Bytes("sqc8b49rny0"))
    }

    @Test func decodesAnyScoreAsRedisOnX86() {
        #expect(Geohash.x86UInt64(-1) == UInt64.max)
        #expect(Geohash.x86UInt64(1.5) == 1)
        #expect(Geohash.x86UInt64(.infinity) == 0)
        #expect(Geohash.x86UInt64(-.infinity) == 1 << 63)
        #expect(Geohash.x86UInt64(1e30) == 0)
        #expect(Geohash.x86UInt64(9.223372036854775808e18) == 1 << 63)
        let wrapped = Geohash.position(ofScore: -1)
        #expect(wrapped.longitude == 180 && wrapped.latitude == 85.05112878)
        let minusInfinity = Geohash.position(ofScore: -.infinity)
        #expect(minusInfinity.longitude == 180)
        #expect(NumberFormat.humanFloat(Float80(minusInfinity.latitude)).string == "-85.05112751263942528")
        #expect(Geohash.standardHash(ofScore: -.infinity) == Bytes("00bh0hbj200"))
        #expect(Geohash.standardHash(ofScore: -1) == Bytes("bp05b5048p0"))
    }

    @Test func neighboursAdjoinTheCellAndWrapAroundLongitudes() {
        for (longitude, latitude) in [(13.36, 38.11), (-179.9, 10.0), (179.9, -80.0), (0.0, 0.0)] {
            for step in [UInt8(3), 12, 26] {
                guard let cell = Geohash.encode(longitude: longitude, latitude: latitude, step: step),
                    let area = Geohash.decode(cell)
                else {
                    Issue.record("cannot encode \(longitude),\(latitude)")
                    continue
                }
                let around = Geohash.Neighbours(of: cell)
                let north = Geohash.decode(around.north)
                let south = Geohash.decode(around.south)
                let east = Geohash.decode(around.east)
                let west = Geohash.decode(around.west)
                // Rows wrap around too, from the southern edge to the northern one.
                #expect(north?.latitude.min == (area.latitude.max < 85.05112878 ? area.latitude.max : -85.05112878))
                #expect(south?.latitude.max == (area.latitude.min > -85.05112878 ? area.latitude.min : 85.05112878))
                #expect(north?.longitude == area.longitude && south?.longitude == area.longitude)
                #expect(east?.latitude == area.latitude && west?.latitude == area.latitude)
                if area.longitude.max < 180 {
                    #expect(east?.longitude.min == area.longitude.max)
                } else {
                    #expect(east?.longitude.min == -180)
                }
                if area.longitude.min > -180 {
                    #expect(west?.longitude.max == area.longitude.min)
                } else {
                    #expect(west?.longitude.max == 180)
                }
                let corner = Geohash.decode(around.northEast)
                #expect(corner?.latitude == north?.latitude && corner?.longitude == east?.longitude)
            }
        }
    }

    @Test func distancesUseRedisHaversine() {
        let palermo = Geohash.position(ofScore: 3_479_099_956_230_698)
        let catania = Geohash.position(ofScore: 3_479_447_370_796_909)
        let meters = Geohash.distance(
            longitude1: palermo.longitude, latitude1: palermo.latitude, longitude2: catania.longitude,
            latitude2: catania.latitude)
        #expect(GeoCommands.printf("%.4f", meters) == "166274.1516")
        #expect(Geohash.distance(longitude1: 0, latitude1: 0, longitude2: 0, latitude2: 0) == 0)
        let box = GeoShape(longitude: 0, latitude: 0, kind: .box(width: 2, height: 2), metersPerUnit: 1000)
        #expect(Geohash.distanceIfInside(box, longitude: 0.005, latitude: 0.005) != nil)
        #expect(Geohash.distanceIfInside(box, longitude: 0.01, latitude: 0) == nil)
        let circle = GeoShape(longitude: 0, latitude: 0, kind: .radius(1), metersPerUnit: 1000)
        #expect(Geohash.distanceIfInside(circle, longitude: 0.0085, latitude: 0) != nil)
        #expect(Geohash.distanceIfInside(circle, longitude: 0.0095, latitude: 0) == nil)
    }

    @Test func searchCellsCoverTheShape() {
        // Away from the poles, every point inside a radius lies in one of the nine cells.
        var random = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let longitude = Double.random(in: -180...180, using: &random)
            let latitude = Double.random(in: -60...60, using: &random)
            let radius = Double.random(in: 1...500_000, using: &random)
            let shape = GeoShape(longitude: longitude, latitude: latitude, kind: .radius(radius), metersPerUnit: 1)
            let cells = Geohash.searchCells(shape).filter { !$0.isExcluded }
            for _ in 0..<20 {
                let pLongitude = Double.random(in: -180...180, using: &random)
                let pLatitude = Double.random(in: -85...85, using: &random)
                guard let score = Geohash.score(longitude: pLongitude, latitude: pLatitude) else { continue }
                let position = Geohash.position(ofScore: Double(score))
                guard
                    Geohash.distanceIfInside(shape, longitude: position.longitude, latitude: position.latitude)
                        != nil
                else { continue }
                let covered = cells.contains { cell in
                    let range = cell.scoreRange
                    return Double(score) >= range.lowerBound && Double(score) < range.upperBound
                }
                #expect(covered, "\(pLongitude),\(pLatitude) within \(radius) m of \(longitude),\(latitude)")
            }
        }
    }

    @Test func partialQuicksortPlacesTheWantedPositions() {
        var random = SystemRandomNumberGenerator()
        for n in [1, 2, 6, 7, 8, 40, 41, 100, 1000] {
            for _ in 0..<20 {
                let values = (0..<n).map { _ in Int.random(in: 0..<(n / 3 + 2), using: &random) }
                let last = Int.random(in: 0..<n, using: &random)
                var items = values
                PartialQuicksort.sort(&items, first: 0, last: last) { $0 > $1 ? 1 : ($0 == $1 ? 0 : -1) }
                #expect(Array(items[0...last]) == Array(values.sorted()[0...last]))
                #expect(items.sorted() == values.sorted())
            }
        }
    }
}
