// strata-server [config-file] [--directive value ...]
//
// Reads redis.conf-syntax configuration, then `--name value` overrides, starts the server,
// and shuts down gracefully on SIGTERM/SIGINT (exit 0).

import Dispatch
import Logging
import StrataServer

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Writes `text` to standard error whole (any zero bytes in it too), unbuffered.
func writeToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = fwrite(bytes.baseAddress, 1, bytes.count, stderr) }
}

let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "--version" || arguments.first == "-v" {
    print("Strata server v=\(ServerVersion.strata) (Redis \(ServerVersion.redisCompatible) compatible)")
    exit(0)
}
if arguments.first == "--help" || arguments.first == "-h" {
    print(
        """
        Usage: strata-server [/path/to/strata.conf] [options]
               strata-server -v or --version
               strata-server -h or --help

        Options are configuration directives in redis.conf syntax, e.g.
               strata-server --port 7777
               strata-server /etc/strata/strata.conf --loglevel verbose --requirepass secret
        """)
    exit(0)
}

signal(SIGPIPE, SIG_IGN)

var config = ServerConfig()
let (file, options) = ConfigLoader.parseArguments(arguments)
do {
    if let file {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            writeToStandardError("Fatal error, can't open config file '\(file)': No such file or directory\n")
            exit(1)
        }
        try ConfigLoader.apply(text, source: file, to: &config)
        config.configFile = URL(fileURLWithPath: file).standardizedFileURL.path
    }
    try ConfigLoader.apply(options, source: "command line", to: &config)
} catch {
    writeToStandardError("\(error)\n")
    exit(1)
}

if chdir(config.dir) != 0 {
    writeToStandardError("Can't chdir to '\(config.dir)': \(String(cString: strerror(errno)))\n")
    exit(1)
}

let logFile = config.logFile
let level = config.loggerLevel
LoggingSystem.bootstrap { _ in
    var handler = RedisLogHandler(path: logFile)
    handler.logLevel = level
    return handler
}
var logger = Logger(label: "strata")
logger.logLevel = level

if !config.pidFile.isEmpty {
    _ = FileManager.default.createFile(
        atPath: config.pidFile, contents: Data("\(ProcessInfo.processInfo.processIdentifier)\n".utf8))
}

let server = StrataServer(config: config, logger: logger)
// Signals are handled before the port opens: a client that can connect can also stop the
// server with SIGTERM (before, a SIGTERM right after start-up killed it with the default action).
var signalSources: [DispatchSourceSignal] = []
for signalNumber in [SIGTERM, SIGINT] {
    signal(signalNumber, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
    source.setEventHandler {
        logger.notice("Received \(signalNumber == SIGTERM ? "SIGTERM" : "SIGINT") scheduling shutdown...")
        server.requestShutdown()
    }
    source.resume()
    signalSources.append(source)
}

do {
    try server.start()
} catch {
    logger.critical("Failed listening on port \(config.port) (tcp), aborting: \(error)")
    exit(1)
}

do {
    try server.waitUntilFinished()
} catch {
    logger.error("Shutdown error: \(error)")
}
if !config.pidFile.isEmpty { unlink(config.pidFile) }
exit(0)
