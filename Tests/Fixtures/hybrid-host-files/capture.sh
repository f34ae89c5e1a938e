#!/bin/bash
# Captures real cgroup interface files on a hybrid host (v1 controllers under /sys/fs/cgroup/<ctrl>,
# a controller-less v2 tree at /sys/fs/cgroup/unified). Usage: capture.sh OUTDIR
# Cgroups are created only below this shell's own cgroup in each hierarchy and are removed on exit.
set -euo pipefail
out=$(realpath "${1:?usage: capture.sh OUTDIR}")
name=capture-$$
scratch=$(mktemp -d /tmp/capture-io.XXXXXX)

# Own path in a hierarchy: the v2 line is "0::<path>", v1 lines list comma-separated controllers.
own() { awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }
                          $1 == "0" && c == "" { print $3 }' /proc/self/cgroup; }
below() { local p; p=$(own "$2"); echo "/sys/fs/cgroup/$1${p%/}/$name"; }
unified=$(below unified "")
memory=$(below memory memory)
cpuacct=$(below cpuacct cpuacct)
pids=$(below pids pids)
dirs=("$unified" "$memory" "$cpuacct" "$pids")

workers=()
cleanup() {
    for p in "${workers[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for d in "${dirs[@]}"; do
        [ -d "$d" ] || continue
        # Kill anything still inside (children of the workers), then wait for the cgroup to empty.
        for _ in $(seq 50); do
            procs=$(cat "$d/cgroup.procs" 2>/dev/null || true)
            [ -z "$procs" ] && break
            kill -KILL $procs 2>/dev/null || true
            sleep 0.1
        done
        rmdir "$d" || echo "WARNING: could not remove $d" >&2
    done
    rm -rf "$scratch"
}
trap cleanup EXIT

for d in "${dirs[@]}"; do mkdir "$d"; done
cat "$memory/memory.limit_in_bytes" > "$out/memory.limit_in_bytes.unlimited"
echo $((96 << 20)) > "$memory/memory.limit_in_bytes"

# The workload joins every capture cgroup before exec, so all its descendants are accounted there:
# a 48 MiB anon holder, two CPU burners for 4 s, and a 200 MiB buffered write that must reclaim its
# own page cache under the 96 MiB limit (memory and io pressure).
sh -c 'for d in "$@"; do echo $$ > "$d/cgroup.procs"; done
       perl -e "\$n = 48 << 20; \$x = q(a) x \$n; sleep 120" &
       echo $! > '"$scratch"'/holder
       timeout 4 sh -c "while :; do :; done" & b1=$!
       timeout 4 sh -c "while :; do :; done" & b2=$!
       dd if=/dev/zero of='"$scratch"'/file200 bs=1M count=200 conv=fsync status=none
       wait $b1 $b2
       sleep 120' sh "${dirs[@]}" &
workers+=($!)
sleep 6
holder=$(cat "$scratch/holder")

cp "/proc/$holder/cgroup" "$out/proc-pid-cgroup"
for f in cpuacct.stat cpuacct.usage; do cat "$cpuacct/$f" > "$out/$f"; done
for f in memory.stat memory.usage_in_bytes memory.kmem.usage_in_bytes memory.limit_in_bytes memory.oom_control; do
    cat "$memory/$f" > "$out/$f"
done
for f in pids.current pids.max; do cat "$pids/$f" > "$out/$f"; done
for f in cpu.stat memory.pressure cpu.pressure io.pressure cgroup.events; do cat "$unified/$f" > "$out/$f"; done

# Force a memcg OOM kill inside the capture cgroup only (the victim is chosen within this memcg).
sh -c 'echo $$ > "$1/cgroup.procs"; exec perl -e "\$n = 200 << 20; \$x = q(a) x \$n"' sh "$memory" || true
cat "$memory/memory.oom_control" > "$out/memory.oom_control.after-oom"

for p in "${workers[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
kill -KILL "$holder" $(cat "$unified/cgroup.procs") 2>/dev/null || true
sleep 1
cat "$unified/cgroup.events" > "$out/cgroup.events.empty"
cd "$out" && chmod a-w proc-pid-cgroup cpuacct.* memory.* pids.* cpu.* io.* cgroup.events*
