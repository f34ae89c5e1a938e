#!/usr/bin/env python3
"""How `steward check` time grows with the size of a config: an inline table of N keys on one line
and N `[[a]]` headers (the two shapes that were quadratic), and N keys as a [table], up to the
1 MiB file cap.

usage: python3 Benchmarks/config_parse.py [--rounds 3] STEWARD [OLD_STEWARD]

With two binaries, runs them alternately in each round (same files, same moment) and prints the
median wall time of each per size.
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("binaries", nargs="+")
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()

LAYOUTS = {"inline": "inline table", "table": "[table]", "arrays": "[[array]] headers"}


def document(keys, layout):
    head = '[services.a]\ncommand = ["/bin/true"]\n'
    if layout == "inline":
        return head + "environment = { " + ", ".join(f'K{i} = "v"' for i in range(keys)) + " }\n"
    if layout == "arrays":
        # The same array of tables again and again (each header used to copy the whole array);
        # refused for its unknown key once parsed, which is the time measured.
        return head + "[[a]]\n" * keys
    return head + "[services.a.environment]\n" + "".join(f'K{i} = "v"\n' for i in range(keys))

with tempfile.TemporaryDirectory() as directory:
    cases = []
    for keys in [8000, 16000, 32000, 64000]:
        for layout in LAYOUTS:
            path = os.path.join(directory, f"{keys}-{layout}.toml")
            with open(path, "w") as file:
                file.write(document(keys, layout))
            cases.append((keys, layout, path))
    times = {(binary, path): [] for binary in args.binaries for _, _, path in cases}
    for _ in range(args.rounds):
        for _, _, path in cases:
            for binary in args.binaries:
                began = time.monotonic()
                result = subprocess.run([binary, "check", "--config", path], capture_output=True, text=True)
                times[(binary, path)].append(time.monotonic() - began)
                if result.returncode != (1 if "arrays" in path else 0):
                    raise SystemExit(f"{binary} check {path}: {result.stdout}{result.stderr}")
    print("| keys | layout | file size | " + " | ".join(f"`{b}` median" for b in args.binaries) + " |")
    print("|---|---|---|" + "---|" * len(args.binaries))
    for keys, layout, path in cases:
        size = os.path.getsize(path) / 1024
        cells = " | ".join(f"{statistics.median(times[(b, path)]):.3f} s" for b in args.binaries)
        print(f"| {keys} | {LAYOUTS[layout]} | {size:.0f} KiB | {cells} |")
