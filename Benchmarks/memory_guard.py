#!/usr/bin/env python3
"""Memory guard reaction time: Steward vs supervisord + superlance memmon, same leak, same limit.

A leaker grows its heap by 10 MiB/s and prints, every step, the time, its anonymous memory
(RssAnon) and its resident set (VmRSS); on SIGTERM it prints the same and exits. Each watcher is
judged on the quantity it compares with the limit: Steward on anonymous memory (the cgroup's anon,
which for this one process is RssAnon), memmon on RSS. Reaction = SIGTERM time - first time that
quantity passed the limit; overshoot = the quantity at SIGTERM - limit. Each supervisor restarts it CYCLES times.
Also reports the CPU time the watcher used (Steward's process; supervisord + memmon).

Run as root from the repository root after `swift build -c release` and `pip install superlance`:

    python3 Benchmarks/memory_guard.py [--cycles 10] [--limit-mib 100] [--window 1s]
"""
import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import textwrap
import time

LEAKER = textwrap.dedent("""
    import signal, sys, time
    def memory():
        fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
        return " ".join(str(int(fields[k].split()[0]) * 1024) for k in ("RssAnon", "VmRSS"))
    def term(*_):
        print("term", time.time(), memory(), flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, term)
    kept = []
    while True:
        b = bytearray(1 << 20)
        b[::4096] = b"x" * len(b[::4096])
        kept.append(b)
        print("step", time.time(), memory(), flush=True)
        time.sleep(0.1)
    """)


def cpu_seconds(pid, children=False):
    """utime + stime of pid, plus its reaped children's (cutime + cstime) if asked: memmon's `ps`
    runs count, the supervised leaker (reaped by the supervisor) does not."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return used / ticks


ANON, RSS = 2, 3


def measure(lines, limit, cycles, field):
    """Reads leaker output lines until `cycles` SIGTERMs; returns (reactions, overshoots)."""
    reactions, overshoots, crossing = [], [], None
    for line in lines:
        parts = line.split()
        if len(parts) != 4 or parts[0] not in ("step", "term"):
            continue
        kind, at, anon = parts[0], float(parts[1]), int(parts[field])
        if kind == "step" and anon > limit and crossing is None:
            crossing = at
        elif kind == "term" and crossing is not None:
            reactions.append(at - crossing)
            overshoots.append((anon - limit) / (1 << 20))
            crossing = None
            if len(reactions) == cycles:
                break
    return reactions, overshoots


def run_steward(binary, leaker, limit_mib, window, cycles):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(textwrap.dedent(f"""
            [services.leaker]
            command = ["python3", "{leaker}"]
            restart = "always"
            restart_reset_after = "2s"
            [services.leaker.memory]
            anon_limit = "{limit_mib}MiB"
            anon_limit_for = "{window}"
            sample_interval = "100ms"
            """))
    steward = subprocess.Popen([binary, "run", "--config", config.name, "--log-level", "warning"],
                               stdout=subprocess.PIPE, text=True)
    try:
        started = cpu_seconds(steward.pid)
        began = time.monotonic()
        result = measure((line.partition(" | ")[2] for line in steward.stdout), limit_mib << 20, cycles, ANON)
        used = cpu_seconds(steward.pid) - started
        return result + (used / (time.monotonic() - began),)
    finally:
        steward.send_signal(signal.SIGTERM)
        steward.wait()
        os.unlink(config.name)


def run_memmon(leaker, limit_mib, cycles):
    directory = tempfile.mkdtemp(prefix="memmon-bench-")
    log = os.path.join(directory, "leaker.log")
    conf = os.path.join(directory, "supervisord.conf")
    with open(conf, "w") as f:
        f.write(textwrap.dedent(f"""
            [supervisord]
            nodaemon=true
            logfile={directory}/supervisord.log
            pidfile={directory}/supervisord.pid
            [unix_http_server]
            file={directory}/supervisor.sock
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            [supervisorctl]
            serverurl=unix://{directory}/supervisor.sock
            [program:leaker]
            command=python3 {leaker}
            autorestart=true
            startsecs=0
            stdout_logfile={log}
            stdout_logfile_maxbytes=0
            [eventlistener:memmon]
            command=memmon -p leaker={limit_mib}MB
            events=TICK_5
            """))
    supervisord = subprocess.Popen(["supervisord", "-c", conf], stdout=subprocess.DEVNULL)
    try:
        while not os.path.exists(log):
            time.sleep(0.1)
        began = time.monotonic()
        with subprocess.Popen(["tail", "-F", "-n", "+1", log], stdout=subprocess.PIPE, text=True) as tail:
            result = measure(tail.stdout, limit_mib << 20, cycles, RSS)
            tail.kill()
        elapsed = time.monotonic() - began
        memmons = [int(p) for p in subprocess.run(["pgrep", "-f", "memmon -p"], capture_output=True, text=True).stdout.split()]
        used = cpu_seconds(supervisord.pid) + sum(cpu_seconds(p, children=True) for p in memmons)
        return result + (used / elapsed,)
    finally:
        supervisord.send_signal(signal.SIGTERM)
        supervisord.wait()


def report(name, reactions, overshoots, cpu_share):
    print(f"{name}: reaction median {statistics.median(reactions):.2f} s, max {max(reactions):.2f} s; "
          f"overshoot median {statistics.median(overshoots):.0f} MiB, max {max(overshoots):.0f} MiB; "
          f"watcher CPU {cpu_share * 100:.2f}% of a core ({len(reactions)} cycles)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--limit-mib", type=int, default=100)
    parser.add_argument("--window", default="1s")
    parser.add_argument("--binary", default=".build/release/steward")
    parser.add_argument("--only", choices=["steward", "memmon"])
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as leaker:
        leaker.write(LEAKER)
    try:
        if args.only != "memmon":
            report(f"steward (anon, window {args.window}, sampling 100 ms)",
                   *run_steward(os.path.abspath(args.binary), leaker.name, args.limit_mib, args.window, args.cycles))
        if args.only != "steward":
            report("supervisord + memmon (TICK_5, RSS)", *run_memmon(leaker.name, args.limit_mib, args.cycles))
    finally:
        os.unlink(leaker.name)


if __name__ == "__main__":
    main()
