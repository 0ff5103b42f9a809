"""checkjpeg.py FILE WIDTH HEIGHT: FILE is a JPEG whose picture has the aspect
ratio WIDTH:HEIGHT and is not blank (its luma varies). Prints what it found."""
import statistics
import subprocess
import sys

path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
if data[:3] != b"\xff\xd8\xff":
    sys.exit(f"not a JPEG (starts {data[:8]!r})")
probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "stream=codec_name,width,height", "-of", "csv=p=0", path],
                       capture_output=True, text=True, check=True).stdout.strip().split(",")
codec, w, h = probe[0], int(probe[1]), int(probe[2])
if codec != "mjpeg":
    sys.exit(f"decodes as {codec}, not JPEG")
if abs(w * want_h - h * want_w) > max(w, h) * want_h * 0.01:
    sys.exit(f"{w}x{h} is not {want_w}:{want_h}")
luma = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                      capture_output=True, check=True).stdout
if len(luma) != w * h:
    sys.exit(f"decoded {len(luma)} luma bytes, expected {w * h}")
sd = statistics.pstdev(luma[:: max(1, len(luma) // 20000)])
if sd < 8:
    sys.exit(f"{w}x{h} looks blank (luma standard deviation {sd:.1f})")
print(f"{w}x{h}, {len(data)} bytes, luma sd {sd:.1f}")
