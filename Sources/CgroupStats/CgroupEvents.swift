/// v2 cgroup.events: whether the cgroup (or a descendant) still has processes, and whether it is frozen.
public struct CgroupEvents: Sendable, Equatable {
    /// Every "key value" line, unknown keys included.
    public let fields: FlatKeyedFields

    /// "populated" and "frozen", where present, must be 0 or 1: the kernel writes nothing else.
    public init(parsing text: String, file: String) throws(CgroupParseError) {
        fields = try flatKeyed(text, file: file)
        for key in ["populated", "frozen"] {
            if let value = fields[key], value > 1 {
                throw CgroupParseError(file: file, line: nil, message: "'\(key)' is \(value), not 0 or 1")
            }
        }
    }

    /// Some process lives in this cgroup or below it; false once the last one has exited.
    public var populated: Bool? { fields["populated"].map { $0 != 0 } }
    /// The cgroup is frozen (cgroup.freeze); absent on kernels without the v2 freezer.
    public var frozen: Bool? { fields["frozen"].map { $0 != 0 } }
}
