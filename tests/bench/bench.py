"""Small helpers for tests/bench/run.sh (figures only; no pass/fail on speed).

bench.py frames URL                  per camera: name state frames_in frames_out frames_dropped
bench.py waitlive URL COUNT SECS     wait until COUNT cameras are live
bench.py stats X...                  "median min max" of the numbers
bench.py latency FILE                "pictures unreadable median p95" (ms) of latency-probe output
bench.py ssim A B                    SSIM (All, YUV 4:2:0) of two pictures via ffmpeg
bench.py history FILE NPROC CPU      median (min-max) of each figure over the runs of history.tsv
bench.py shares CPU DSOFILE          "x264 libavcodec kernel libc gstreamer other" CPU-s/s: CPU split
                                     by the shares of a `perf report --sort dso` listing
"""
import json
import statistics
import subprocess
import sys
import time
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url, timeout=3) as r:
        return json.load(r)


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def main(args):
    cmd = args[0]
    if cmd == "frames":
        for c in fetch(args[1])["cameras"]:
            print(c["name"], c["state"], c["frames_in"], c["frames_out"], c["frames_dropped"])
    elif cmd == "waitlive":
        url, count, secs = args[1], int(args[2]), float(args[3])
        end = time.monotonic() + secs
        live = 0
        while time.monotonic() < end:
            try:
                live = sum(1 for c in fetch(url)["cameras"] if c["state"] == "live")
                if live >= count:
                    return 0
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        print(f"only {live} of {count} cameras live after {secs} s", file=sys.stderr)
        return 1
    elif cmd == "stats":
        xs = [float(x) for x in args[1:]]
        if not xs:
            print("nan nan nan")
        else:
            print(f"{statistics.median(xs):.4g} {min(xs):.4g} {max(xs):.4g}")
    elif cmd == "latency":
        vals, bad = [], 0
        with open(args[1]) as f:
            for line in f:
                line = line.strip()
                if line == "-":
                    bad += 1
                elif line:
                    vals.append(int(line))
        if not vals:
            print(f"0 {bad} nan nan")
        else:
            print(f"{len(vals)} {bad} {statistics.median(vals):g} {pct(vals, 95):g}")
    elif cmd == "ssim":
        out = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "info", "-i", args[1], "-i", args[2], "-lavfi",
             "[0]format=yuv420p[a];[1]format=yuv420p[b];[a][b]ssim", "-f", "null", "-"],
            capture_output=True, text=True).stderr
        for line in out.splitlines():
            if "All:" in line:
                print(line.split("All:")[1].split()[0])
                return 0
        print("nan")
        return 1
    elif cmd == "history":
        figs, runs = {}, 0
        with open(args[1]) as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) < 4 or cols[1] != args[2] or cols[2] != args[3]:
                    continue
                runs += 1
                for item in cols[3].split(";"):
                    if "=" in item:
                        k, v = item.split("=", 1)
                        try:
                            x = float(v)
                        except ValueError:
                            continue
                        figs.setdefault(k, []).append(x)
        print(f"{runs} run(s) with nproc {args[2]}, {args[3]}.")
        print()
        print("| figure | runs | median | min | max |")
        print("| --- | --- | --- | --- | --- |")
        for k in sorted(figs):
            xs = figs[k]
            print(f"| {k} | {len(xs)} | {statistics.median(xs):g} | {min(xs):g} | {max(xs):g} |")
    elif cmd == "shares":
        # Libraries grouped by what they do: the two codecs, the kernel,
        # libc (memcpy, malloc), the GStreamer/GLib plumbing, the rest.
        cpu, groups = float(args[1]), {}
        order = ["x264", "libavcodec", "kernel", "libc", "gstreamer", "other"]
        with open(args[2]) as f:
            for line in f:
                cols = line.split()
                if len(cols) < 2 or not cols[0].endswith("%"):
                    continue
                share, dso = float(cols[0][:-1]) / 100, cols[1]
                if "libx264" in dso:
                    g = "x264"
                elif "libavcodec" in dso or "libavutil" in dso:
                    g = "libavcodec"
                elif "kernel" in dso:
                    g = "kernel"
                elif dso.startswith("libc.so") or dso.startswith("libm.so"):
                    g = "libc"
                elif dso.startswith(("libgst", "libglib", "libgobject", "libgio", "libgmodule", "libsoup")):
                    g = "gstreamer"
                else:
                    g = "other"
                groups[g] = groups.get(g, 0.0) + share
        total = sum(groups.values()) or 1.0
        print(" ".join(f"{cpu * groups.get(g, 0.0) / total:.4f}" for g in order))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
