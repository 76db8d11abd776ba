//! `--json` and `--csv`: the output formats of `inspect` (a table for people otherwise).

import ArgumentParser

/// The output format chosen with `--json` or `--csv` (else a table for people).
enum OutputFormat {
    case table, json, csv
}

/// The `--json` and `--csv` flags.
struct OutputFormatOptions: ParsableArguments {
    @Flag(help: "Write JSON: one object, or one line per key.")
    var json = false

    @Flag(help: "Write CSV with a header line.")
    var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv exclude each other") }
    }

    /// The format chosen.
    var format: OutputFormat { json ? .json : csv ? .csv : .table }
}
