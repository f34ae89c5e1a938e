let mebibyte: UInt64 = 1 << 20
