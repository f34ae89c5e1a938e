"""A service with a leak: keeps a reference to every buffer it allocates."""
import sys
import time

mib_per_second = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
kept = []
while True:
    chunk = bytearray(int(mib_per_second * (1 << 20)))
    chunk[::4096] = b"x" * len(chunk[::4096])  # touch every page so it is really resident
    kept.append(chunk)
    if len(kept) % 10 == 0:
        print(f"holding {len(kept) * mib_per_second:.0f} MiB", flush=True)
    time.sleep(1)
