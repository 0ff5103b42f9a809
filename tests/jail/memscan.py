#!/usr/bin/env python3
"""memscan.py PID TEXT: whether TEXT occurs anywhere in PID's readable memory.

Prints "present (REGION)" or "absent (N MiB in M regions read)"; needs root
(the process may be non-dumpable). Used by tests/jail/hostile.sh to show that
the worker launcher holds none of the daemon's memory.
"""
import sys

pid, text = sys.argv[1], sys.argv[2].encode()
total = regions = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]")):
            continue
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except OSError:
            continue
        total += len(data)
        regions += 1
        if text in data:
            print(f"present ({fields[0]} {fields[5] if len(fields) > 5 else 'anonymous'})")
            sys.exit(0)
print(f"absent ({total >> 20} MiB in {regions} regions read)")
