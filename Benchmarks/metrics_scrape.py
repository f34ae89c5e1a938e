#!/usr/bin/env python3
"""Cost of a metrics scrape with many services, next to the floor of reading the same cgroup files.

Builds Benchmarks/cgroup-read-floor.c, runs `steward run` with N idle services (`sleep infinity`) in a
cgroup of its own below this script's cgroups, scrapes /metrics over one keep-alive connection (as
Prometheus does), and prints:
  - the C floor: open/read/close of the same files per round (and, for reference, pread on kept fds,
    in a tight loop and with the CPU idle for 10 ms between rounds, as before a scrape);
  - Steward's collection time per scrape (its own steward_scrape_duration_seconds: reading and parsing
    every service's files), and the full GET /metrics time seen by the client;
  - Steward's RSS with N services, before and after the scrapes.

Run as root from the repository root after `swift build -c release`:

    python3 Benchmarks/metrics_scrape.py [--services 100] [--scrapes 500] [--port 19464] [--binary .build/release/steward]
"""
import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def own_cgroup_directories():
    """This process's directory in the v2 tree and in the v1 hierarchies Steward uses."""
    mounts = {}
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            fields, rest = line.split(" - ")
            fields, (fstype, _, options) = fields.split(), rest.split()[:3]
            if fstype == "cgroup2":
                mounts[""] = (fields[3], fields[4])
            elif fstype == "cgroup":
                for option in options.split(","):
                    mounts[option] = (fields[3], fields[4])
    directories = {}
    with open("/proc/self/cgroup") as cgroup:
        for line in cgroup:
            hierarchy, controllers, path = line.rstrip("\n").split(":", 2)
            for key in ([""] if hierarchy == "0" else controllers.split(",")):
                if key in mounts and key in ("", "memory", "cpu", "cpuacct", "pids"):
                    root, mount_point = mounts[key]
                    relative = path if root == "/" else path[len(root):]
                    directories[key] = (mount_point + relative).rstrip("/")
    return directories


def service_files(directories, name):
    """The files CgroupReader.sample() reads for one service (keep in step with CgroupFilePass.swift)."""
    def existing(*paths):
        return [path for path in paths if os.path.exists(path)]
    v2 = directories.get("")
    if "memory" not in directories:
        d = f"{v2}/{name}"
        return existing(*(f"{d}/{f}" for f in ["memory.stat", "memory.current", "memory.swap.current", "memory.events",
                                               "cpu.stat", "pids.current", "memory.pressure"]))
    memory = f"{directories['memory']}/{name}"
    files = existing(f"{memory}/memory.stat", f"{memory}/memory.usage_in_bytes", f"{memory}/memory.kmem.usage_in_bytes",
                     f"{memory}/memory.oom_control")
    if v2:
        files += existing(f"{v2}/{name}/cpu.stat", f"{v2}/{name}/memory.pressure")
    elif "cpuacct" in directories:
        files += existing(f"{directories['cpuacct']}/{name}/cpuacct.stat")
    if "pids" in directories:
        files += existing(f"{directories['pids']}/{name}/pids.current")
    return files


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def memory_mib(pid):
    """VmRSS, its anonymous part (the rest is mapped library and binary pages), and peak VmRSS."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return [int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "RssAnon", "VmHWM")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--scrapes", type=int, default=500)
    parser.add_argument("--port", type=int, default=19464)
    parser.add_argument("--binary", default=".build/release/steward")
    args = parser.parse_args()

    binary = os.path.abspath(args.binary)
    with tempfile.TemporaryDirectory(prefix="steward-bench-") as work:
        measure(args, binary, work)


def measure(args, binary, work):
    floor = f"{work}/cgroup-read-floor"
    subprocess.run(["cc", "-O2", "-o", floor, f"{REPO}/Benchmarks/cgroup-read-floor.c"], check=True)

    names = [f"s{i:03d}" for i in range(args.services)]
    config = f'[metrics]\nlisten = "127.0.0.1:{args.port}"\n\n'
    config += "".join(f'[services.{name}]\ncommand = ["sleep", "infinity"]\n\n' for name in names)
    with open(f"{work}/bench.toml", "w") as file:
        file.write(config)

    # Steward runs in a cgroup of its own, as under systemd, and nests the services below it.
    bench = {key: f"{directory}/steward-bench-{os.getpid()}" for key, directory in own_cgroup_directories().items()}
    for directory in set(bench.values()):
        os.mkdir(directory)
    join = "; ".join(f"echo $$ > {directory}/cgroup.procs" for directory in sorted(set(bench.values())))
    with open(f"{work}/steward.log", "w") as log:
        steward = subprocess.Popen(["sh", "-c", f'{join}; exec "$0" run -c "$1"', binary, f"{work}/bench.toml"],
                                   stdout=log, stderr=log)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
        deadline = time.monotonic() + 120
        while True:
            try:
                connection.request("GET", "/metrics")
                body = connection.getresponse().read()
                if len(re.findall(rb"^steward_service_up\{[^}]*\} 1$", body, re.M)) == args.services:
                    break
            except (ConnectionError, http.client.HTTPException):
                connection.close()
            if time.monotonic() > deadline or steward.poll() is not None:
                with open(f"{work}/steward.log") as output:
                    sys.exit(f"steward did not come up:\n{output.read()}")
            time.sleep(0.2)
        idle_rss, idle_anon, _ = memory_mib(steward.pid)

        wall, collect, size = [], [], 0
        for _ in range(args.scrapes):
            start = time.perf_counter()
            connection.request("GET", "/metrics")
            body = connection.getresponse().read()
            wall.append(time.perf_counter() - start)
            collect.append(float(re.search(rb"^steward_scrape_duration_seconds (\S+)$", body, re.M).group(1)))
            size = len(body)
        errors = re.search(rb"^steward_scrape_errors (\S+)$", body, re.M).group(1).decode()
        rss, anon, peak = memory_mib(steward.pid)

        files = [path for name in names for path in service_files(bench, name)]
        paths = "\n".join(files) + "\n"
        def floor_run(*arguments):
            return subprocess.run([floor, *arguments], input=paths, capture_output=True, text=True, check=True).stdout.strip()
        floors = {"open": floor_run("open", str(args.scrapes)), "pread": floor_run("pread", str(args.scrapes)),
                  # Rounds 10 ms apart, as scrapes come after idle (fewer rounds: they take longer).
                  "pread idle": floor_run("pread", str(min(args.scrapes, 200)), "10")}
    finally:
        steward.terminate()
        steward.wait(timeout=60)
        for directory in set(bench.values()):
            os.rmdir(directory)

    def us(seconds):
        return f"{seconds * 1e6:.0f} us"

    floor_median = float(re.search(r"median (\d+)", floors["open"]).group(1)) / 1e6
    print(f"{args.services} services, {len(files)} cgroup files ({len(files) // args.services} per service), {args.scrapes} scrapes, "
          f"kernel {os.uname().release}")
    print(f"  C floor, open/read/close: {floors['open']}")
    print(f"  C, kept fds + pread:      {floors['pread']}")
    print(f"  same, 10 ms idle between: {floors['pread idle']}")
    print(f"  Steward collection:       median {us(statistics.median(collect))}, p99 {us(percentile(collect, 0.99))} "
          f"per scrape = {statistics.median(collect) / floor_median:.2f}x the open/read/close floor")
    print(f"  Steward GET /metrics:     median {us(statistics.median(wall))}, p99 {us(percentile(wall, 0.99))} "
          f"({size // 1024} KiB of text, scrape errors {errors})")
    print(f"  Steward RSS:              {idle_rss:.1f} MiB ({idle_anon:.1f} MiB anon) with {args.services} services before scraping, "
          f"{rss:.1f} MiB ({anon:.1f} MiB anon) after; peak {peak:.1f} MiB")


if __name__ == "__main__":
    main()
