/// One segment of a bare, quoted or dotted key, with where it was written.
struct KeySegment {
    var name: String
    var position: TOMLPosition
}

/// A table under construction. TOML's rules for adding to a table depend on how the
/// table came to be, so each one remembers its origin until the document is complete.
final class TableNode {
    enum Origin {
        /// The document root or an inline table: never looked up as a child while open.
        case standalone
        /// Created on the way to a deeper header (`[a.b]` creates `a`); its own header may still define it.
        case implicit
        /// Defined by a `[header]` at that position, or an element of an array of tables.
        case header(TOMLPosition)
        /// Defined by the dotted key at that position (`a.b = 1` defines `a`); headers may add
        /// sub-tables but not define it again.
        case dotted(TOMLPosition)
    }

    enum Entry {
        /// Written after `=`. Inline tables and static arrays are complete once written.
        case value(TOMLValue)
        case table(TableNode)
        case arrayOfTables([TableNode])
    }

    /// Parsing and freezing recurse once per level; a bound keeps hostile input from exhausting the stack.
    static let maximumDepth = 256

    var origin: Origin
    let position: TOMLPosition?
    /// Nesting level below the root (0), counting tables and arrays, to bound recursion.
    let depth: Int
    // Stored as TOMLTable stores them, so that freezing needs no rehashing.
    private var keys: [String] = []
    private var entries: [Entry] = []
    private var keyPositions: [TOMLPosition?] = []
    private var slots: [String: Int] = [:]

    init(origin: Origin, position: TOMLPosition?, depth: Int) {
        self.origin = origin
        self.position = position
        self.depth = depth
    }

    /// The finished, immutable table.
    func frozen() -> TOMLTable {
        let values = entries.map { entry -> TOMLValue in
            switch entry {
            case .value(let value): value
            case .table(let node): .table(node.frozen())
            case .arrayOfTables(let nodes): .array(nodes.map { .table($0.frozen()) })
            }
        }
        return TOMLTable(keys: keys, values: values, keyPositions: keyPositions, slots: slots, position: position)
    }

    private func entry(_ key: String) -> Entry? { slots[key].map { entries[$0] } }

    /// Appends in place: the array's only reference must be the one taken out here (copying it for
    /// every `[[header]]` made 65,536 of them take 33 s).
    func appendToArrayOfTables(_ element: TableNode, named key: String) {
        guard let slot = slots[key], case .arrayOfTables(var elements) = entries[slot] else { return }
        entries[slot] = .arrayOfTables([])
        elements.append(element)
        entries[slot] = .arrayOfTables(elements)
    }

    private func add(_ entry: Entry, for segment: KeySegment) {
        slots[segment.name] = keys.count
        keys.append(segment.name)
        entries.append(entry)
        keyPositions.append(segment.position)
    }

    private func addTable(_ segment: KeySegment, origin: Origin) throws(TOMLSyntaxError) -> TableNode {
        let table = try child(at: segment, origin: origin)
        add(.table(table), for: segment)
        return table
    }

    private func child(at segment: KeySegment, origin: Origin) throws(TOMLSyntaxError) -> TableNode {
        guard depth < Self.maximumDepth else {
            throw error(at: segment, "tables are nested more than \(Self.maximumDepth) deep")
        }
        return TableNode(origin: origin, position: segment.position, depth: depth + 1)
    }

    private func line(of key: String) -> Int { keyPositions[slots[key]!]!.line }
}

// MARK: The table rules

extension TableNode {
    /// `key = value` (also dotted): returns the table that will receive the value, creating
    /// the tables of a dotted key. Called before the value is parsed, so that errors come
    /// out in document order.
    func tableForKeyValue(_ key: [KeySegment]) throws(TOMLSyntaxError) -> TableNode {
        var table = self
        for segment in key.dropLast() {
            switch table.entry(segment.name) {
            case nil:
                table = try table.addTable(segment, origin: .dotted(segment.position))
            case .table(let child):
                switch child.origin {
                case .header(let defined):
                    throw error(at: segment, "cannot add to table \(segment.name.quotedForMessage) with dotted keys: "
                        + "it is defined by a header on line \(defined.line)")
                case .implicit:
                    // A deeper header only created it; this dotted key defines it, so no header may now.
                    child.origin = .dotted(segment.position)
                case .dotted, .standalone:
                    break
                }
                table = child
            case .arrayOfTables:
                throw error(at: segment, "cannot add to array of tables \(segment.name.quotedForMessage) with dotted keys "
                    + "(defined on line \(table.line(of: segment.name)))")
            case .value(let value):
                throw table.cannotExtend(segment, value)
            }
        }
        let last = key[key.count - 1]
        guard table.slots[last.name] == nil else {
            throw error(at: last, "duplicate key \(last.name.quotedForMessage) (first defined on line \(table.line(of: last.name)))")
        }
        return table
    }

    /// Adds the value of a `key = value` pair; `tableForKeyValue` has checked the key is new.
    func addValue(_ value: TOMLValue, for segment: KeySegment) {
        add(.value(value), for: segment)
    }

    /// `[a.b.c]`: returns the table that the following key/value pairs go into.
    func defineTable(_ path: [KeySegment]) throws(TOMLSyntaxError) -> TableNode {
        let parent = try descend(path.dropLast())
        let last = path[path.count - 1]
        switch parent.entry(last.name) {
        case nil:
            return try parent.addTable(last, origin: .header(last.position))
        case .table(let table):
            switch table.origin {
            case .implicit:
                table.origin = .header(last.position)
                return table
            case .header(let defined):
                throw error(at: last, "table [\(display(path))] is already defined on line \(defined.line)")
            case .dotted(let defined):
                throw error(at: last, "table [\(display(path))] cannot be defined by a header: "
                    + "it was defined by dotted keys on line \(defined.line)")
            case .standalone:
                preconditionFailure("the root and inline tables are never children of an open table")
            }
        case .arrayOfTables:
            throw error(at: last, "table [\(display(path))] conflicts with the array of tables defined on line "
                + "\(parent.line(of: last.name))")
        case .value(let value):
            throw parent.cannotExtend(last, value)
        }
    }

    /// `[[a.b.c]]`: appends a new table to the array and returns it.
    func appendArrayElement(_ path: [KeySegment]) throws(TOMLSyntaxError) -> TableNode {
        let parent = try descend(path.dropLast())
        let last = path[path.count - 1]
        let element = try parent.child(at: last, origin: .header(last.position))
        var appends = false
        switch parent.entry(last.name) {
        case nil:
            parent.add(.arrayOfTables([element]), for: last)
        case .arrayOfTables:
            appends = true  // after the switch, which holds a second reference to the array
        case .table:
            throw error(at: last, "array of tables [[\(display(path))]] conflicts with the table defined on line "
                + "\(parent.line(of: last.name))")
        case .value(.array):
            throw error(at: last, "cannot append to static array \(last.name.quotedForMessage) "
                + "(defined on line \(parent.line(of: last.name)))")
        case .value(let value):
            throw parent.cannotExtend(last, value)
        }
        if appends { parent.appendToArrayOfTables(element, named: last.name) }
        return element
    }

    /// Walks a header's leading segments, creating implicit tables; an array of tables
    /// leads into its most recent element.
    private func descend(_ path: ArraySlice<KeySegment>) throws(TOMLSyntaxError) -> TableNode {
        var table = self
        for segment in path {
            switch table.entry(segment.name) {
            case nil: table = try table.addTable(segment, origin: .implicit)
            case .table(let child): table = child
            case .arrayOfTables(let elements): table = elements[elements.count - 1]
            case .value(let value): throw table.cannotExtend(segment, value)
            }
        }
        return table
    }

    /// The error for putting something inside `segment`, which already holds a value.
    private func cannotExtend(_ segment: KeySegment, _ value: TOMLValue) -> TOMLSyntaxError {
        let line = line(of: segment.name)
        if case .table = value {
            return error(at: segment, "inline table \(segment.name.quotedForMessage) cannot be extended (defined on line \(line))")
        }
        let article = "aeiou".contains(value.typeName.first!) ? "an" : "a"
        return error(at: segment, "key \(segment.name.quotedForMessage) is already defined as \(article) \(value.typeName) on line \(line)")
    }
}

private func error(at segment: KeySegment, _ message: String) -> TOMLSyntaxError {
    TOMLSyntaxError(position: segment.position, message: message)
}


/// A header path as written in messages: `a.b."c d"`.
private func display(_ path: [KeySegment]) -> String {
    path.map { segment in
        let isBare = !segment.name.isEmpty && segment.name.utf8.allSatisfy(\.isBareKeyCharacter)
        return isBare && segment.name.count <= String.quotedCharacters ? segment.name : segment.name.quotedForMessage
    }.joined(separator: ".")
}
