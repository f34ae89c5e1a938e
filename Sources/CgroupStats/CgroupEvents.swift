/// v2 cgroup.events: whether the cgroup (or a descendant) still has processes, and whether it is frozen.
public struct CgroupEvents: Sendable, Equatable {
    /// Every "key value" line, unknown keys included.
    public let fields: [String: UInt64]

    public init(parsing text: String, file: String) throws {
        fields = try flatKeyed(text, file: file)
    }

    /// Some process lives in this cgroup or below it; false once the last one has exited.
    public var populated: Bool? { fields["populated"].map { $0 != 0 } }
    /// The cgroup is frozen (cgroup.freeze); absent on kernels without the v2 freezer.
    public var frozen: Bool? { fields["frozen"].map { $0 != 0 } }
}
