#!/usr/bin/env python3
"""peak_rss.py: runs a command and reports the memory of the LlamaRally processes it starts.

Every 0.3 s it reads VmRSS and VmHWM (peak resident set) from /proc of each descendant of the command whose
name starts with "rally-" (or is "anvil"), and when the command ends prints, per process name, the RSS first
seen, the peak and the last RSS, in MiB. The resource requests and limits in k8s/ were chosen from these
numbers (k8s/README.md, "Resources"):

    k8s/tools/peak_rss.py bench/run_scoring_bench.sh --duration=5
    k8s/tools/peak_rss.py bench/run_arena_bench.sh --duration 8s
    k8s/tools/peak_rss.py bench/run_critique_bench.sh --requests 200 --concurrency 20

The command's own output goes to stderr; the table to stdout. Exit status: the command's.
"""
import os
import subprocess
import sys
import time


def children_by_parent():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        parent = int(text[text.rfind(")") + 2:].split()[1])
        children.setdefault(parent, []).append(int(entry))
    return children


def descendants(root):
    children = children_by_parent()
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def memory_mib(pid):
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(value.split()[0]) / 1024
    return values


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command = subprocess.Popen(sys.argv[1:], stdout=sys.stderr)
    seen = {}
    while command.poll() is None:
        for pid in descendants(command.pid):
            try:
                with open(f"/proc/{pid}/comm") as comm:
                    name = comm.read().strip()
                if not (name.startswith("rally-") or name == "anvil"):
                    continue
                values = memory_mib(pid)
            except OSError:
                continue  # the process ended meanwhile
            entry = seen.setdefault(name, {"first": values.get("VmRSS", 0.0), "peak": 0.0, "last": 0.0})
            entry["peak"] = max(entry["peak"], values.get("VmHWM", 0.0))
            entry["last"] = values.get("VmRSS", 0.0)
        time.sleep(0.3)
    print("| process | RSS first seen (MiB) | peak RSS, VmHWM (MiB) | last RSS (MiB) |")
    print("|---|---:|---:|---:|")
    for name, entry in sorted(seen.items()):
        print(f"| {name} | {entry['first']:.1f} | {entry['peak']:.1f} | {entry['last']:.1f} |")
    sys.exit(command.returncode)


if __name__ == "__main__":
    main()
