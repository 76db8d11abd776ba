//! LOLWUT: computer art and the version. Strata draws Georg Nees's "Schotter" (1968) as
//! Redis 5's LOLWUT does: a grid of squares, rotated and shifted more and more at random
//! down the rows, drawn with Bresenham lines on a pixel canvas and printed two by four
//! pixels per character as Unicode braille. Redis 7 draws other art for `VERSION 6` and
//! by default; Strata answers those with this one (the art is random either way; the
//! last line names the version, which is what tools read).

import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The Schotter drawing.
struct Schotter {
    /// Console columns, squares per row, squares per column (Redis's defaults 66, 8, 12;
    /// each clamped as Redis clamps it).
    var columns = 66
    var squaresPerRow = 8
    var squaresPerColumn = 12

    /// The most pixels a drawing may have. Redis would draw `LOLWUT VERSION 5 1000 1 200`
    /// on an 800-million-pixel canvas (a 300 MB reply); rows past this bound are left out.
    static let maximumPixels = 4 * 1024 * 1024

    /// The art as braille text, one line per four pixel rows; `random` yields values in 0…1.
    func render(random: () -> Double) -> String {
        let width = columns * 2
        let padding = width > 4 ? 2 : 0
        let side = Double(width - padding * 2) / Double(squaresPerRow)
        let fitting = Int((Double(Self.maximumPixels / width - padding * 2) / side).rounded(.down))
        let squaresPerColumn = min(self.squaresPerColumn, max(1, fitting))
        let height = Int(side * Double(squaresPerColumn)) + padding * 2
        var pixels = [Bool](repeating: false, count: width * height)
        func plot(_ x: Int, _ y: Int) {
            if x >= 0 && y >= 0 && x < width && y < height { pixels[y * width + x] = true }
        }
        func line(_ from: (Int, Int), _ to: (Int, Int)) {
            var (x, y) = from
            let dx = abs(to.0 - x)
            let dy = abs(to.1 - y)
            let stepX = x < to.0 ? 1 : -1
            let stepY = y < to.1 ? 1 : -1
            var error = dx - dy
            while true {
                plot(x, y)
                if x == to.0 && y == to.1 { break }
                let doubled = error * 2
                if doubled > -dy {
                    error -= dy
                    x += stepX
                }
                if doubled < dx {
                    error += dx
                    y += stepY
                }
            }
        }
        for row in 0..<squaresPerColumn {
            for column in 0..<squaresPerRow {
                var centerX = Int(Double(column) * side + side / 2) + padding
                var centerY = Int(Double(row) * side + side / 2) + padding
                var angle = 0.0
                if row > 1 {
                    let scale = Double(row) / Double(squaresPerColumn)
                    var shifts = (0..<3).map { _ in random() * scale }
                    for index in shifts.indices where random() < 0.5 { shifts[index] = -shifts[index] }
                    angle = shifts[0]
                    centerX += Int(shifts[1] * side / 3)
                    centerY += Int(shifts[2] * side / 3)
                }
                let radius = (side / 1.4142135623).rounded()
                var corners: [(Int, Int)] = []
                var k = Double.pi / 4 + angle
                for _ in 0..<4 {
                    corners.append(
                        (Int((sin(k) * radius).rounded()) + centerX, Int((cos(k) * radius).rounded()) + centerY))
                    k += Double.pi / 2
                }
                for index in 0..<4 { line(corners[index], corners[(index + 1) % 4]) }
            }
        }
        // Braille dots: left column top to bottom are bits 0, 1, 2, 6; right column 3, 4, 5, 7.
        let bits = [(0, 0, 0), (0, 1, 1), (0, 2, 2), (1, 0, 3), (1, 1, 4), (1, 2, 5), (0, 3, 6), (1, 3, 7)]
        var text = ""
        for top in stride(from: 0, to: height, by: 4) {
            for left in stride(from: 0, to: width, by: 2) {
                var code = 0
                for (dx, dy, bit) in bits {
                    let x = left + dx
                    let y = top + dy
                    if x < width && y < height && pixels[y * width + x] { code |= 1 << bit }
                }
                text.unicodeScalars.append(UnicodeScalar(0x2800 + code) ?? " ")
            }
            text += "\n"
        }
        return text
    }
}

extension ServerCore {
    /// LOLWUT [VERSION v] [columns [squares-per-row [squares-per-column]]].
    func lolwut(_ args: [Bytes]) -> Reply {
        var index = 1
        if args.count > 2 && args[1].equalsIgnoringCase("version") {
            guard args[2].strictInteger != nil else { return Errors.notInteger }
            index = 3
        }
        var numbers: [Int] = []
        for argument in args.dropFirst(index).prefix(3) {
            guard let number = argument.strictInteger else { return Errors.notInteger }
            numbers.append(number)
        }
        var art = Schotter()
        if numbers.count > 0 { art.columns = min(max(numbers[0], 1), 1000) }
        if numbers.count > 1 { art.squaresPerRow = min(max(numbers[1], 1), 200) }
        if numbers.count > 2 { art.squaresPerColumn = min(max(numbers[2], 1), 200) }
        let drawing = art.render { Double.random(in: 0...1) }
        return .verbatim(
            drawing + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. \(ServerVersion.redisCompatible)\n")
    }
}
