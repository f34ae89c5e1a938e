#!/usr/bin/env python3
"""Steward and supervisord side by side at 10, 100, 500 services: start, stop, idle CPU, memory, scrapes.

Each round runs every Steward binary (`--binary`, repeatable: an old and a new build are alternated in
the same run), then supervisord 4.2.5 (Debian's `supervisor`, installed with apt-get if
/usr/bin/supervisord is missing; its own service is kept from starting: the script runs its own
supervisord with its own config in the foreground), then, if superlance's `memmon` is on PATH,
supervisord + memmon as in memory_guard.py. Every service is `/bin/sleep <marker>`, the marker a
number unique to the run, so the services are found by scanning /proc, never by output lines. Each
supervisor runs in a cgroup of its own below this script's (as in metrics_scrape.py; Steward nests the
services below it), removed afterwards.

  start     launch of the supervisor until every service process exists
  stop      SIGTERM to the supervisor until every service process is gone and the supervisor has
            exited (Steward with status 0 and, checked afterwards, no service cgroup left in any
            hierarchy of its /proc/<pid>/cgroup); stop_timeout / stopwaitsecs 10 s, sleep dies on TERM
  idle CPU  the supervisor's CPU time (schedstat, summed over its threads) over --window seconds,
            after --settle; Steward has the memory guard on every service (anon_limit 512MiB,
            sample_interval 1s), so per service per second is per guard sample; supervisord + memmon
            counts supervisord, memmon and the `ps` runs memmon starts (memmon -a 512MB, TICK_5)
  memory    VmRSS and RssAnon: Steward's after --scrapes scrapes of /metrics over one keep-alive
            connection, supervisord's when idle
  scrape    Steward's own steward_scrape_duration_seconds (median over the scrapes) next to the floor
            of reading the same cgroup files in C (Benchmarks/cgroup-read-floor.c, as in
            metrics_scrape.py): pread on kept descriptors, as Steward does, and open/read/close

Prints a line per run and, at the end, markdown tables (medians over rounds, then min-max) for
BENCHMARKS.md; `--plot FILE.svg` draws start, stop, idle CPU and RSS against N (needs matplotlib:
`pip install matplotlib`). Run as root from the repository root after `swift build -c release`:

    python3 Benchmarks/scale.py [--services 10,100,500] [--rounds 3] [--binary .build/release/steward ...]
                                [--window 20] [--settle 5] [--scrapes 600] [--memmon auto|yes|no]
                                [--plot scale.svg]
    # a build before a change against the current one, alternated in every round:
    git worktree add /tmp/steward-base HEAD && (cd /tmp/steward-base && swift build -c release --product steward)
    python3 Benchmarks/scale.py --binary /tmp/steward-base/.build/release/steward --binary .build/release/steward
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_scrape import REPO, memory_mib, own_cgroup_directories, service_files  # noqa: E402

SUPERVISORD = "/usr/bin/supervisord"  # Debian's; a PyPI supervisor (superlance pulls one in) may shadow it on PATH
STOP_TIMEOUT_S = 10
SAMPLE_INTERVAL_S = 1
FLOOR_MAX_FILES = 4096  # MAX_FILES in cgroup-read-floor.c
TICKS = os.sysconf("SC_CLK_TCK")


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------------------------- tools

def ensure_supervisord():
    """Installs Debian's supervisor if missing, without letting its own service start."""
    if not os.path.exists(SUPERVISORD):
        print("installing Debian's supervisor with apt-get (its service kept from starting)", flush=True)
        policy = "/usr/sbin/policy-rc.d"  # exit 101: invoke-rc.d and deb-systemd-invoke start nothing
        made_policy = not os.path.exists(policy)
        if made_policy:
            with open(policy, "w") as file:
                file.write("#!/bin/sh\nexit 101\n")
            os.chmod(policy, 0o755)
        try:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "update"], env=env, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "supervisor"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        finally:
            if made_policy:
                os.unlink(policy)
        if os.path.isdir("/run/systemd/system"):
            subprocess.run(["systemctl", "disable", "--now", "supervisor"], stderr=subprocess.DEVNULL)
        elif shutil.which("update-rc.d"):
            subprocess.run(["update-rc.d", "supervisor", "disable"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    version = subprocess.run([SUPERVISORD, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if version != "4.2.5":
        print(f"note: {SUPERVISORD} is supervisor {version}, not 4.2.5", flush=True)
    return version


def find_memmon(mode):
    if mode == "no":
        return None
    path = shutil.which("memmon")
    if path and "/shims/" in path and shutil.which("pyenv"):  # skip pyenv's shell shim: memmon's pid runs python
        found = subprocess.run(["pyenv", "which", "memmon"], capture_output=True, text=True)
        path = found.stdout.strip() if found.returncode == 0 else path
    if mode == "yes" and not path:
        sys.exit("--memmon yes: no memmon on PATH (pip install superlance)")
    return path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ------------------------------------------------------------------------------------------- /proc

def cgroup_directories(pid):
    """Every hierarchy's directory of a process, keyed by its controllers ("" for v2)."""
    mounts = []
    with open(f"/proc/{pid}/mountinfo") as mountinfo:
        for line in mountinfo:
            fields, rest = line.split(" - ")
            fields, (fstype, _, options) = fields.split(), rest.split()[:3]
            if fstype in ("cgroup", "cgroup2"):
                mounts.append((fstype, set(options.split(",")), fields[3], fields[4]))
    directories = {}
    with open(f"/proc/{pid}/cgroup") as cgroup:
        for line in cgroup:
            hierarchy, controllers, path = line.rstrip("\n").split(":", 2)
            for fstype, options, root, mount_point in mounts:
                if (fstype == "cgroup2") if hierarchy == "0" else (fstype == "cgroup" and set(controllers.split(",")) <= options):
                    relative = path if root == "/" else path[len(root):]
                    directories[controllers] = (mount_point + relative).rstrip("/")
                    break
    return directories


def scan(target, found, ignore):
    """Adds to `found` the pids whose cmdline is `target`; pids in `ignore` (there before the launch)
    are not read. A pid not matching yet is read again next time (it may not have exec'd yet)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid in found or pid in ignore:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                if file.read() == target:
                    found.add(pid)
        except OSError:
            pass
    return found


def gone(pid):
    """Exited: no /proc entry, or a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def cpu_ns(pid):
    """CPU time of every thread of pid now (schedstat, ns) and the set of threads."""
    total, threads = 0, set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as file:
                total += int(file.read().split()[0])
            threads.add(tid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total, threads


def stat_ticks(pid, children=False):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)


class CpuMeter:
    """CPU seconds of a process over a window: schedstat summed over its threads (precise), falling
    back to utime + stime (clock ticks) if a thread exited meanwhile (its schedstat is lost);
    with children, the reaped children's cutime + cstime are added."""

    def __init__(self, pid, children=False):
        self.pid, self.children = pid, children
        self.ns, self.threads = cpu_ns(pid)
        self.ticks, self.child_ticks = stat_ticks(pid), stat_ticks(pid, True) - stat_ticks(pid)

    def seconds(self):
        ns, threads = cpu_ns(self.pid)
        ticks = stat_ticks(self.pid)
        child_ticks = stat_ticks(self.pid, True) - ticks
        used = (ns - self.ns) / 1e9 if self.threads <= threads else (ticks - self.ticks) / TICKS
        return used + ((child_ticks - self.child_ticks) / TICKS if self.children else 0)


def wait_for(condition, deadline, what, interval=0.002):
    while not condition():
        if time.monotonic() > deadline:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------------------------------------ cgroups

def make_cgroups(tag):
    """A cgroup of its own below this script's, in the v2 tree and the v1 hierarchies Steward uses."""
    directories = {key: f"{directory}/steward-scale-{os.getpid()}-{tag}" for key, directory in own_cgroup_directories().items()}
    made = []
    try:
        for directory in set(directories.values()):
            os.mkdir(directory)
            made.append(directory)
    except OSError:
        for directory in made:
            os.rmdir(directory)
        raise
    return directories


def cgroup_tree_pids(directories):
    pids = set()
    for top in set(directories.values()):
        for directory, _, _ in os.walk(top):
            try:
                with open(f"{directory}/cgroup.procs") as procs:
                    pids.update(int(line) for line in procs if line.strip())
            except FileNotFoundError:
                pass
    return pids


def remove_cgroups(directories):
    """Kills whatever is left in the cgroups made for a run (only this script's supervisors and
    their services are ever there), then removes them, deepest first."""
    deadline = time.monotonic() + 30
    while pids := cgroup_tree_pids(directories):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise Failure(f"processes {sorted(pids)} stay in {sorted(set(directories.values()))}")
        time.sleep(0.01)
    for top in set(directories.values()):
        for directory, _, _ in sorted(os.walk(top, topdown=False), key=lambda entry: -entry[0].count("/")):
            try:
                os.rmdir(directory)
            except FileNotFoundError:
                pass


# -------------------------------------------------------------------------------------------- a run

def steward_config(names, marker, port):
    text = f'[metrics]\nlisten = "127.0.0.1:{port}"\n\n'
    for name in names:
        text += (f'[services.{name}]\ncommand = ["/bin/sleep", "{marker}"]\nstop_timeout = "{STOP_TIMEOUT_S}s"\n\n'
                 f'[services.{name}.memory]\nanon_limit = "512MiB"\nsample_interval = "{SAMPLE_INTERVAL_S}s"\n\n')
    return text


def supervisord_config(work, names, marker, memmon):
    # Programs log to supervisord's default AUTO files in childlogdir, as out of the box; minfds so
    # that 3 pipes + 2 log files per program fit even where the soft limit is 1024.
    text = (f"[supervisord]\nnodaemon=true\nlogfile={work}/supervisord.log\npidfile={work}/supervisord.pid\n"
            f"childlogdir={work}/childlogs\nloglevel=warn\nminfds={max(1024, 8 * len(names) + 64)}\n\n"
            f"[unix_http_server]\nfile={work}/supervisor.sock\n\n"
            "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
            f"[supervisorctl]\nserverurl=unix://{work}/supervisor.sock\n\n")
    for name in names:
        text += f"[program:{name}]\ncommand=/bin/sleep {marker}\nstopwaitsecs={STOP_TIMEOUT_S}\n\n"
    if memmon:
        text += f"[eventlistener:memmon]\ncommand={memmon} -a 512MB\nevents=TICK_5\n\n"
    return text


def log_tail(path, lines=20):
    try:
        with open(path, errors="replace") as file:
            return "".join(file.readlines()[-lines:])
    except FileNotFoundError:
        return ""


def one_run(tool, count, run_id, args, work, floor):
    """Returns a dict of figures for one supervisor at one N; raises Failure on anything unexpected."""
    kind, binary = tool
    marker = str(9 * 10 ** 9 + (os.getpid() % 10 ** 5) * 10 ** 4 + run_id)
    target = f"/bin/sleep\0{marker}\0".encode()
    names = [f"s{i:03d}" for i in range(count)]
    run_dir = f"{work}/run{run_id}"
    os.mkdir(run_dir)
    os.mkdir(f"{run_dir}/childlogs")
    log = f"{run_dir}/{'steward' if kind == 'steward' else 'supervisord'}.out"
    port = free_port()
    if kind == "steward":
        config = f"{run_dir}/scale.toml"
        with open(config, "w") as file:
            file.write(steward_config(names, marker, port))
        checked = subprocess.run([binary, "check", "--config", config], capture_output=True, text=True)
        if checked.returncode != 0:
            raise Failure(f"steward check refused the config:\n{checked.stdout}{checked.stderr}")
        command = 'exec "$0" run --config "$1" --log-level warning'
        argv = [binary, config]
    else:
        config = f"{run_dir}/supervisord.conf"
        with open(config, "w") as file:
            file.write(supervisord_config(run_dir, names, marker, args.memmon_path if kind == "memmon" else None))
        command = 'exec "$0" -n -c "$1"'
        argv = [SUPERVISORD, config]

    cgroups = make_cgroups(run_id)
    join = "; ".join(f"echo $$ > {directory}/cgroup.procs" for directory in sorted(set(cgroups.values())))
    result = {}
    process = None
    try:
        before = {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}
        with open(log, "w") as output:
            began = time.monotonic()
            process = subprocess.Popen(["sh", "-c", f"{join}; {command}", *argv], stdout=output, stderr=output)

        # start: every service process exists
        services = set()
        deadline = began + 30 + 0.2 * count

        def all_started():
            if process.poll() is not None:
                raise Failure(f"{kind} exited with {process.returncode} while starting")
            return len(scan(target, services, before)) >= count
        wait_for(all_started, deadline, f"{count} services to start")
        result["start"] = time.monotonic() - began
        if len(services) != count:
            raise Failure(f"{len(services)} processes with the marker, expected {count}")
        supervisor_cgroups = cgroup_directories(process.pid)

        # idle CPU
        helper = None
        if kind == "memmon":
            def memmon_pid():
                nonlocal helper
                for pid in cgroup_tree_pids(cgroups):
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as file:
                            if b"memmon" in file.read():
                                helper = pid
                    except OSError:
                        pass
                return helper is not None
            wait_for(memmon_pid, time.monotonic() + 30, "memmon to start", interval=0.05)
        time.sleep(args.settle)
        meters = [CpuMeter(process.pid)] + ([CpuMeter(helper, children=True)] if helper else [])
        window_began = time.monotonic()
        time.sleep(args.window)
        shares = [meter.seconds() for meter in meters]
        used = sum(shares)
        window = time.monotonic() - window_began
        if helper and shares[1] / window > 0.9:  # memmon is one thread: past this it lags behind its ticks
            result["saturated"] = True
        result["cpu"] = used / window
        result["cpu_per_service_s"] = used / (count * window / SAMPLE_INTERVAL_S)
        restarted = [pid for pid in services if gone(pid)]
        if restarted:
            raise Failure(f"{len(restarted)} services exited while idle")
        result["rss"], result["anon"], _ = memory_mib(process.pid)
        if helper:
            result["helper_rss"], _, _ = memory_mib(helper)

        # scrapes (Steward)
        if kind == "steward":
            result["idle_rss"], result["idle_anon"] = result["rss"], result["anon"]
            result.update(scrape(port, count, args.scrapes))
            result["rss"], result["anon"], result["peak"] = memory_mib(process.pid)
            files = [path for name in names for path in service_files(cgroups, name)]
            if len(files) > FLOOR_MAX_FILES:
                raise Failure(f"{len(files)} cgroup files: cgroup-read-floor reads at most {FLOOR_MAX_FILES}")
            for mode in ("pread", "open"):
                out = subprocess.run([floor, mode, str(args.floor_rounds)], input="\n".join(files) + "\n",
                                     capture_output=True, text=True, check=True).stdout
                result[f"floor_{mode}"] = float(re.search(r"median (\d+)", out).group(1)) / 1e6
            result["files"] = len(files)

        # stop: every service gone and the supervisor exited
        pending = set(services)
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)

        def stopped():  # the supervisor exits after its services: wait for that first, it is cheaper to look at
            if process.poll() is None:
                return False
            for pid in [pid for pid in pending if gone(pid)]:
                pending.discard(pid)
            return not pending
        # supervisord stops one program at a time and may wait out its 1 s poll for each: a deadline
        # that only catches a hang
        wait_for(stopped, began + STOP_TIMEOUT_S + 60 + 1.5 * count, "the services to stop and the supervisor to exit",
                 interval=0.001)
        result["stop"] = time.monotonic() - began
        if process.returncode != 0:
            raise Failure(f"{kind} exited with {process.returncode}")
        left = scan(target, set(), set())
        if left:
            raise Failure(f"service processes {sorted(left)} outlived the supervisor")
        ours = set(cgroups.values())
        for controllers, directory in supervisor_cgroups.items():
            if directory in ours:
                leftovers = [entry.name for entry in os.scandir(directory) if entry.is_dir()]
            else:
                leftovers = [name for name in names if os.path.isdir(f"{directory}/{name}")]
            if leftovers:
                raise Failure(f"{kind} left cgroups {leftovers[:5]} in {directory} ({controllers or 'v2'})")
        return result
    except Failure as failure:
        raise Failure(f"{failure}\n--- {os.path.basename(log)}:\n{log_tail(log)}"
                      + (f"--- supervisord.log:\n{log_tail(f'{run_dir}/supervisord.log')}" if kind != "steward" else "")) from None
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S + 20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        remove_cgroups(cgroups)
        shutil.rmtree(run_dir, ignore_errors=True)


def scrape(port, count, scrapes):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            connection.request("GET", "/metrics")
            body = connection.getresponse().read()
            break
        except (ConnectionError, http.client.HTTPException):
            connection.close()
            if time.monotonic() > deadline:
                raise Failure(f"no answer on 127.0.0.1:{port}/metrics")
            time.sleep(0.05)
    up = len(re.findall(rb"^steward_service_up\{[^}]*\} 1$", body, re.M))
    if up != count:
        raise Failure(f"steward_service_up is 1 for {up} services, expected {count}")
    wall, collect = [], []
    for _ in range(scrapes):
        start = time.perf_counter()
        connection.request("GET", "/metrics")
        body = connection.getresponse().read()
        wall.append(time.perf_counter() - start)
        collect.append(float(re.search(rb"^steward_scrape_duration_seconds (\S+)$", body, re.M).group(1)))
    connection.close()
    errors = float(re.search(rb"^steward_scrape_errors (\S+)$", body, re.M).group(1))
    return {"collect": statistics.median(collect), "get": statistics.median(wall), "scrape_errors": errors,
            "kib": len(body) / 1024}


# ---------------------------------------------------------------------------------------- reporting

def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def describe(result):
    text = (f"start {ms(result['start'])}, stop {ms(result['stop'])}, idle CPU {result['cpu'] * 100:.3f}% "
            f"({result['cpu_per_service_s'] * 1e6:.1f} us/service/s), RSS {result['rss']:.1f} MiB (anon {result['anon']:.1f})")
    if "collect" in result:
        text += (f" after scrapes, {result['idle_rss']:.1f} ({result['idle_anon']:.1f}) before; collection "
                 f"{result['collect'] * 1e3:.2f} ms (pread floor {result['floor_pread'] * 1e3:.2f}, open floor "
                 f"{result['floor_open'] * 1e3:.2f}, {result['files']} files), GET {result['get'] * 1e3:.2f} ms "
                 f"({result['kib']:.0f} KiB), scrape errors {result['scrape_errors']:.0f}")
    if "helper_rss" in result:
        text += f"; memmon RSS {result['helper_rss']:.1f} MiB"
    if result.get("saturated"):
        text += " (memmon used a whole core: it cannot keep up with TICK_5, the CPU figure is a floor)"
    return text


COLUMNS = [  # header, figure, format
    ("start", lambda r: r["start"], lambda v: f"{v * 1000:.0f} ms"),
    ("stop", lambda r: r["stop"], lambda v: f"{v * 1000:.0f} ms"),
    ("idle CPU", lambda r: r["cpu"], lambda v: f"{v * 100:.2f}%"),
    ("CPU per service per second", lambda r: r["cpu_per_service_s"], lambda v: f"{v * 1e6:.1f} µs"),
    ("VmRSS", lambda r: r["rss"], lambda v: f"{v:.1f} MiB"),
    ("RssAnon", lambda r: r["anon"], lambda v: f"{v:.1f} MiB"),
    ("collection", lambda r: r.get("collect"), lambda v: f"{v * 1000:.2f} ms"),
    ("pread floor", lambda r: r.get("floor_pread"), lambda v: f"{v * 1000:.2f} ms"),
    ("open floor", lambda r: r.get("floor_open"), lambda v: f"{v * 1000:.2f} ms"),
    ("collection / pread floor", lambda r: r["collect"] / r["floor_pread"] if "collect" in r else None, lambda v: f"{v:.2f}×"),
]


def tables(labels, counts, results, rounds):
    header = "| N | supervisor | " + " | ".join(name for name, _, _ in COLUMNS) + " |"
    rule = "|---|---|" + "---|" * len(COLUMNS)
    kinds = [("median", lambda values, fmt: fmt(statistics.median(values)))]
    if rounds > 1:
        kinds.append(("min–max", lambda values, fmt: f"{fmt(min(values))} – {fmt(max(values))}"))
    for title, cell in kinds:
        print(f"\n{title} over rounds:\n\n{header}\n{rule}")
        for count in counts:
            for label in labels:
                runs = results.get((label, count), [])
                cells = []
                for _, figure, fmt in COLUMNS:
                    values = [v for v in (figure(r) for r in runs) if v is not None]
                    cells.append(cell(values, fmt) if values else "—")
                print(f"| {count} | {label} | " + " | ".join(cells) + " |")


def plot(path, labels, counts, results):
    try:
        import matplotlib
        matplotlib.use("Agg")  # no display; savefig writes SVG by the file name
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"\nno plot: matplotlib is missing (pip install matplotlib); {path} not written")
        return
    # Text as text, one font name, no grid: a small SVG.
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "scale", "font.size": 8, "font.sans-serif": ["DejaVu Sans"]})
    panels = [("start", lambda r: r["start"] * 1000, "ms", "linear"), ("stop", lambda r: r["stop"] * 1000, "ms", "linear"),
              ("idle CPU", lambda r: r["cpu"] * 100, "% of one core (log)", "log"), ("VmRSS", lambda r: r["rss"], "MiB", "linear")]
    figure, axes = plt.subplots(2, 2, figsize=(8, 5.5))
    for axis, (title, value, unit, yscale) in zip(axes.flat, panels):
        for label in labels:
            points = [(count, statistics.median(value(r) for r in results[(label, count)]))
                      for count in counts if results.get((label, count))]
            if points:
                axis.plot(*zip(*points), marker="o", markersize=3, linewidth=1, label=label)
        axis.set_xscale("log")
        axis.set_xticks(counts, [str(count) for count in counts])
        axis.minorticks_off()
        axis.set_title(title)
        axis.set_xlabel("services")
        axis.set_ylabel(unit)
        if yscale == "log":  # memmon's share is hundreds of times the others'
            axis.set_yscale("log")
        else:
            axis.set_ylim(bottom=0)
    axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, metadata={"Date": None, "Creator": None})
    if path.endswith(".svg"):
        with open(path) as file:
            text = re.sub(r"\n\s*", "\n", file.read())
        with open(path, "w") as file:
            file.write(text)
    print(f"\nplot: {path} ({os.path.getsize(path) // 1024} KiB)")


# --------------------------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", default="10,100,500", help="comma-separated service counts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--binary", action="append", help="a Steward binary (repeatable); default .build/release/steward")
    parser.add_argument("--window", type=float, default=20, help="idle CPU window, seconds")
    parser.add_argument("--settle", type=float, default=5, help="seconds after the start before the window")
    parser.add_argument("--scrapes", type=int, default=600)
    parser.add_argument("--floor-rounds", type=int, default=200)
    parser.add_argument("--memmon", choices=["auto", "yes", "no"], default="auto",
                        help="also run supervisord + superlance memmon (auto: if memmon is on PATH)")
    parser.add_argument("--plot", metavar="FILE.svg")
    args = parser.parse_args()
    counts = [int(count) for count in args.services.split(",")]
    if os.geteuid() != 0:
        sys.exit("run as root: the supervisors run in cgroups made for them")
    binaries = args.binary or [".build/release/steward"]
    for binary in binaries:
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary}: not an executable (swift build -c release --product steward)")
    version = ensure_supervisord()
    args.memmon_path = find_memmon(args.memmon)
    tools = [(binary if args.binary else "Steward", ("steward", os.path.abspath(binary))) for binary in binaries]
    tools.append((f"supervisord {version}", ("supervisord", None)))
    if args.memmon_path:
        tools.append((f"supervisord {version} + memmon", ("memmon", None)))
    labels = [label for label, _ in tools]

    # SIGTERM/SIGHUP end the script like Ctrl-C does, so every run's cleanup (finally) runs.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.default_int_handler)
    print(f"{' '.join(sys.argv)}\nkernel {os.uname().release}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; {', '.join(labels)}; "
          f"window {args.window:g} s after {args.settle:g} s, {args.scrapes} scrapes", flush=True)
    results, run_id = {}, 0
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="steward-scale-") as work:
        floor = f"{work}/cgroup-read-floor"
        subprocess.run(["cc", "-O2", "-o", floor, f"{REPO}/Benchmarks/cgroup-read-floor.c"], check=True)
        try:
            for round_number in range(1, args.rounds + 1):
                for count in counts:
                    for label, tool in tools:
                        run_id += 1
                        result = one_run(tool, count, run_id, args, work, floor)
                        results.setdefault((label, count), []).append(result)
                        print(f"round {round_number}, {count} services, {label}: {describe(result)}", flush=True)
        except Failure as failure:
            sys.exit(f"FAILED: {failure}")
        except KeyboardInterrupt:
            sys.exit("interrupted; cleaned up")
    elapsed = time.monotonic() - began
    print(f"\n{args.rounds} round(s) in {elapsed / 60:.1f} min; load average now "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    tables(labels, counts, results, args.rounds)
    if args.plot:
        plot(args.plot, labels, counts, results)


if __name__ == "__main__":
    main()
