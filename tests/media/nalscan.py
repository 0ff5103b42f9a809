#!/usr/bin/python3
"""Reads an H.264 Annex B elementary stream (what `ffmpeg -c copy -f h264`
writes) for tests/media/media.sh.

  nalscan.py types FILE     NAL unit types and counts, "1:290 5:5 ..."
  nalscan.py find HEX FILE  exit 0 if the bytes HEX occur anywhere in FILE
  nalscan.py after-skips FILE
                            for each access unit (split at the delimiters,
                            type 9) of 100 bytes or more that follows one
                            smaller (cordon's skip frames), IDR or non-IDR,
                            counted: "IDR:17 non-IDR:0"
"""
import re
import sys


def nal_types(data):
    counts = {}
    # Every 00 00 01 starts a NAL unit; its first byte holds the type.
    for m in re.finditer(b"\x00\x00\x01", data):
        at = m.end()
        if at < len(data):
            t = data[at] & 0x1F
            counts[t] = counts.get(t, 0) + 1
    return counts


def access_units(data):
    """(size, NAL types) of each access unit, split at every delimiter."""
    units = []
    starts = [m.end() for m in re.finditer(b"\x00\x00\x01", data)]
    begin, types = None, []
    for at in starts:
        if at >= len(data):
            continue
        t = data[at] & 0x1F
        if t == 9:
            if begin is not None:
                units.append((at - begin, types))
            begin, types = at, []
        types.append(t)
    if begin is not None:
        units.append((len(data) - begin, types))
    return units


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "types":
        counts = nal_types(open(sys.argv[2], "rb").read())
        print(" ".join("%d:%d" % (t, n) for t, n in sorted(counts.items())))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "after-skips":
        counts = {"IDR": 0, "non-IDR": 0}
        prev_skip = False
        for size, types in access_units(open(sys.argv[2], "rb").read()):
            if prev_skip and size >= 100:
                counts["IDR" if 5 in types else "non-IDR"] += 1
            prev_skip = size < 100
        print("IDR:%d non-IDR:%d" % (counts["IDR"], counts["non-IDR"]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "find":
        needle = bytes.fromhex(sys.argv[2])
        return 0 if needle and needle in open(sys.argv[3], "rb").read() else 1
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main())
