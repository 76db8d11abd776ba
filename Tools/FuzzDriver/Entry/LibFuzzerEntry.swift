//! libFuzzer's driver for Strata's fuzz targets. Built only by `Tools/fuzz` (`STRATA_FUZZ=1`,
//! `-sanitize=fuzzer,address`). The target is chosen by the `STRATA_FUZZ_TARGET` environment
//! variable; every other argument is libFuzzer's.

import CLibFuzzer
import Foundation
import StrataFuzzTargets

private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["STRATA_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget.named(name) else {
        let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("STRATA_FUZZ_TARGET must be one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@main
enum StrataFuzz {
    static func main() {
        _ = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
    }
}

/// Runs one input through the chosen target (also the symbol libFuzzer's own archive needs).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    target.run(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
