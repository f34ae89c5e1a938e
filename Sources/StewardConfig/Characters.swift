extension UInt8 {
    /// A byte allowed in a bare (unquoted) TOML key: A-Z a-z 0-9 _ -.
    var isBareKeyByte: Bool {
        switch self {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}

extension Character {
    /// 0-9 only, unlike `isNumber`, which also takes other scripts' digits and fractions.
    var isDigit: Bool { ("0"..."9").contains(self) }
}
