"""This process's cgroup directories, for the scripts that check what Steward leaves behind."""


def own_cgroup_directories():
    """This process's directory in every mounted hierarchy: the v2 tree and each v1 controller's
    (from /proc/self/cgroup and /proc/self/mountinfo; a hierarchy mounted at a subtree is mapped)."""
    own = {}
    with open("/proc/self/cgroup") as lines:
        for line in lines:
            hierarchy, controllers, path = line.rstrip("\n").split(":", 2)
            own["" if hierarchy == "0" else controllers] = path
    directories = []
    with open("/proc/self/mountinfo") as lines:
        for line in lines:
            fields = line.split()
            separator = fields.index("-")
            fstype, options = fields[separator + 1], fields[separator + 3].split(",")
            root, mountpoint = fields[3], fields[4]
            if fstype == "cgroup2":
                key = ""
            elif fstype == "cgroup":
                key = next((name for name in own if name and set(name.split(",")) <= set(options)), None)
            else:
                continue
            if key in own and own[key].startswith(root):
                directories.append(mountpoint + own[key][len(root.rstrip("/")):])
    return sorted(set(directories))
