import ArgumentParser
import Foundation
import Shared

/// How every RobustVAE tool starts and fails.
///
/// A tool's `@main` command calls `ToolMain.run(Self.self)` from its `main()`. Parsing and
/// running go through here, so every failure, a bad option as much as a bad file, ends the
/// same way: one line on stderr, `TOOL [SUBCOMMAND]: error: …`, and a non-zero exit status:
///
/// | status | meaning |
/// |---|---|
/// | 0 | success (also for `--help`) |
/// | 1 | the command failed (a file, a shape, a divergence, …) |
/// | 2 | the command line is wrong: the parser's and `validate()`'s errors, and `ToolError.usage` |
/// | 130 | interrupted (Ctrl-C), after saving what can be resumed |
public enum ToolMain {
    public static func run<Root: ParsableCommand>(_ root: Root.Type, arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        Runtime.configure()
        // until parsing succeeds, the subcommand the arguments name (for the error prefix)
        var commandName = name(of: named(in: arguments, root: root) ?? root, root: root)
        do {
            var command = try root.parseAsRoot(arguments)
            // `vae-train OPTIONS` runs the default subcommand under the root's name
            if named(in: arguments, root: root) != nil || type(of: command) != root.configuration.defaultSubcommand {
                commandName = name(of: type(of: command), root: root)
            }
            try command.run()
            exit(0)
        } catch let e as ToolError {
            fail(commandName, e.message, status: e.exitCode, prefix: e.exitCode == 130 ? "" : "error: ")
        } catch {
            let status = root.exitCode(for: error)
            if status == .success {
                // --help, -h, help: the help screen on stdout
                print(helpText(root, arguments: arguments, error: error))
                exit(0)
            }
            let message = root.message(for: error)
            fail(commandName, message, status: isUsageError(status) ? ToolError.usageStatus : status.rawValue, prefix: "error: ")
        }
    }

    /// `vae-eval msssim` for a subcommand, `vae-eval` for the root.
    static func name(of command: ParsableCommand.Type, root: ParsableCommand.Type) -> String {
        let rootName = root.configuration.commandName ?? root._commandName
        return command == root ? rootName : "\(rootName) \(command.configuration.commandName ?? command._commandName)"
    }

    /// The subcommand the arguments name: the first argument, or the second after `help`.
    static func named(in arguments: [String], root: ParsableCommand.Type) -> ParsableCommand.Type? {
        let words = arguments.prefix(2).filter { !$0.hasPrefix("-") }
        guard let first = words.first.map({ $0 == "help" ? words.dropFirst().first : $0 }) ?? nil else { return nil }
        return root.configuration.subcommands.first { ($0.configuration.commandName ?? $0._commandName) == first }
    }

    /// ArgumentParser reports parse and validation failures with EX_USAGE (64).
    static func isUsageError(_ code: ExitCode) -> Bool { code.rawValue == 64 }

    /// One line: newlines and runs of spaces in a message collapse to single spaces.
    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func fail(_ command: String, _ message: String, status: Int32, prefix: String) -> Never {
        var text = oneLine(message)
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        FileHandle.standardError.write(Data("\(command): \(prefix)\(text)\n".utf8))
        exit(status == 0 ? 1 : status)
    }

    /// The help screen asked for. A tool whose root command has a default subcommand
    /// (`vae-train` trains) shows that subcommand's options when asked for the root's help,
    /// since that is what `TOOL --help` users want to see, followed by the other subcommands.
    static func helpText<Root: ParsableCommand>(_ root: Root.Type, arguments: [String], error: Error) -> String {
        let subs = root.configuration.subcommands
        guard let def = root.configuration.defaultSubcommand, named(in: arguments, root: root) == nil else { return root.fullMessage(for: error) }
        let rootName = root.configuration.commandName ?? root._commandName
        let others = subs.filter { $0 != def }.map { s -> String in
            let n = s.configuration.commandName ?? s._commandName
            return wrapped("\(n): \(s.configuration.abstract) Options: \(rootName) \(n) --help", indent: "  ", width: 80)
        }
        return root.helpMessage(for: def) + (others.isEmpty ? "" : "\nOTHER SUBCOMMANDS:\n" + others.joined(separator: "\n") + "\n")
    }

    /// `text` broken at spaces into lines of at most `width` columns, each after `indent`.
    static func wrapped(_ text: String, indent: String, width: Int) -> String {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && indent.count + line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map { indent + $0 }.joined(separator: "\n")
    }
}
