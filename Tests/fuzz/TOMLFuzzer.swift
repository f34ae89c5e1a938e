// libFuzzer harness for the TOML reader (Sources/StewardTOML), the config layer on top of it
// (Sources/StewardConfig), and the counter checkpoint's reader (StewardCore.CounterCheckpoint, whose
// text must read back as itself). Built and run by Tests/fuzz/run.
//
// Input: the bytes, decoded as UTF-8 (invalid sequences become U+FFFD). A thrown TOMLSyntaxError or
// ConfigError is a correct answer; a trap, sanitizer report or hang is a finding.
import StewardConfig
import StewardCore
import StewardTOML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)

    do {
        let table = try TOMLTable(parsing: text)
        // Equality walks every value; positions exercise the key index.
        precondition(table == table, "a parsed table is not equal to itself")
        walk(table)
    } catch {
        blackHole(error.description)
    }

    do {
        let configuration = try StewardConfiguration.parse(text, file: "fuzz.toml")
        blackHole(configuration)
    } catch {
        blackHole("\(error)")
    }

    if let checkpoint = try? CounterCheckpoint(parsing: text, file: "fuzz.counters") {
        precondition((try? CounterCheckpoint(parsing: checkpoint.text, file: "again")) == checkpoint, "a checkpoint's text does not read back as itself")
    }
    return 0
}

private func walk(_ table: TOMLTable, depth: Int = 0) {
    guard depth < 64 else { return }
    blackHole(table.position)
    for key in table.keys {
        blackHole(table.position(of: key))
        if let value = table[key] { walk(value, depth: depth + 1) }
    }
}

private func walk(_ value: TOMLValue, depth: Int) {
    switch value {
    case let .table(table): walk(table, depth: depth)
    case let .array(elements): for element in elements { walk(element, depth: depth + 1) }
    case let .dateTime(dateTime): blackHole(dateTime.description)
    default: blackHole(value.typeName)
    }
}

@inline(never)
private func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
