// strata-dump: offline work on dumps (Strata snapshots, Redis RDB files and AOF
// directories) without a running server. The subcommands live in StrataDumpKit; this is
// only the process around them.
//
// Exit codes: 0 good, 1 damaged or failed, 2 usage error.

import Foundation
import StrataDumpKit

let output = StandardDumpOutput()
let code = StrataDump.run(Array(CommandLine.arguments.dropFirst()), output: output)
output.flush()
exit(code)
