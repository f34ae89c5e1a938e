#!/usr/bin/env python3
"""Start and stop time of `steward run` with N services (default 50).

Start: from launching steward until every service has printed its first line (so each one was
spawned into its cgroups and exec'd). Stop: from SIGTERM until steward has exited, which it does
only after every service's cgroup is empty and removed. Run as root from the repository root
after `swift build -c release`:

    python3 Benchmarks/supervision.py [--services 50] [--runs 5] [--binary .build/release/steward]
"""
import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time


def one_run(binary, count):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        for i in range(count):
            config.write(f'[services.s{i:03}]\ncommand = ["/bin/sh", "-c", "echo up; exec sleep 1000"]\n'
                         f'stop_timeout = "5s"\n\n')
    try:
        began = time.monotonic()
        steward = subprocess.Popen([binary, "run", "--config", config.name, "--log-level", "warning"],
                                   stdout=subprocess.PIPE, text=True)
        up = set()
        for line in steward.stdout:
            name, _, text = line.partition(" | ")
            if text.strip() == "up":
                up.add(name)
                if len(up) == count:
                    break
        started = time.monotonic() - began
        began = time.monotonic()
        steward.send_signal(signal.SIGTERM)
        steward.wait()
        stopped = time.monotonic() - began
        assert steward.returncode == 0, steward.returncode
        return started, stopped
    finally:
        os.unlink(config.name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--binary", default=".build/release/steward")
    args = parser.parse_args()
    results = [one_run(args.binary, args.services) for _ in range(args.runs)]
    for label, values in (("start", [r[0] for r in results]), ("stop", [r[1] for r in results])):
        print(f"{label} {args.services} services: median {statistics.median(values) * 1000:.0f} ms, "
              f"min {min(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
