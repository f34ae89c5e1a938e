#!/bin/sh
# A backup job in a loop: tar reads every file under $1 and writes the archive to $2 on disk. The
# only memory it leaves behind is page cache, and plenty of it: the archive it writes is charged to
# its cgroup. Reading the same data again moves it to the active list, which is why
# "usage - inactive_file" (working set) keeps counting it.
set -eu
data=${1:?usage: backup.sh DATA_DIR ARCHIVE}
archive=${2:?usage: backup.sh DATA_DIR ARCHIVE}
while :; do
    started=$(date +%s)
    tar cf "$archive.tmp" "$data"
    mv "$archive.tmp" "$archive"
    echo "backup pass done in $(( $(date +%s) - started ))s"
    sleep 5
done
