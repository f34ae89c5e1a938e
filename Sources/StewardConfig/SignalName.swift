import Glibc

/// Signals written as names (`TERM`, `SIGTERM`, `term`) or numbers (`15`).
public enum SignalName {
    private static let names: [(name: String, number: Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP),
        ("ABRT", SIGABRT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("SEGV", SIGSEGV), ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM),
        ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP), ("TSTP", SIGTSTP), ("TTIN", SIGTTIN),
        ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ), ("VTALRM", SIGVTALRM),
        ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO), ("SYS", SIGSYS),
    ]
    /// Linux numbers signals 1 through SIGRTMAX (64); there is no signal 0 to send.
    private static let numbers: ClosedRange<Int32> = 1...64

    public static func parse(_ text: String) -> Int32? {
        if !text.isEmpty, text.allSatisfy(\.isDigit) {
            return Int32(text).flatMap { numbers.contains($0) ? $0 : nil }
        }
        let upper = text.uppercased()
        let name = upper.hasPrefix("SIG") ? upper.dropFirst(3) : Substring(upper)
        return names.first { $0.name == name }?.number
    }

    /// Why `signal` cannot ask a service to stop, or nil if it can.
    public static func stopSignalProblem(_ signal: Int32) -> String? {
        switch signal {
        case SIGKILL:
            "SIGKILL cannot be handled, so no stop would be graceful; Steward sends it to the whole cgroup anyway once stop_timeout passes (set a short stop_timeout instead)"
        case SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU:
            "\(name(signal)) suspends the service instead of stopping it"
        case SIGCHLD, SIGCONT:
            "\(name(signal)) does not ask a program to stop (its default action is to do nothing)"
        case 32, 33:
            "signals 32 and 33 are reserved by the C library for its threads"
        default:
            nil
        }
    }

    /// "SIGTERM" for a named signal, else the number ("42"); `parse` reads either back.
    public static func name(_ signal: Int32) -> String {
        names.first { $0.number == signal }.map { "SIG" + $0.name } ?? String(signal)
    }
}
