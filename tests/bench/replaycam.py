#!/usr/bin/python3
"""A camera that costs almost nothing: an RTSP server (gst-rtsp-server) that
replays a pre-encoded H.264 or H.265 elementary stream at its frame rate,
without decoding or re-encoding it, so the benchmark's CPU is spent on what
it measures (cordon, ffmpeg, gst-launch), not on the test camera. The clip
plays once from the start whenever the media is prepared (its first client);
run.sh makes clips longer than any window it measures. (A looping source
restarts its time stamps, which a recorder or cordon's rate normaliser takes
for a camera clock jumping back.)

  replaycam.py --listen ADDR:PORT --file CLIP.h264 [--codec h264|h265] [--fps 25]

Serves one shared media at /Streaming/Channels/101 and /cam/realmonitor
(any query string): every client gets the same packets. Pacing: the parser
stamps each access unit from the frame rate given in the caps, and the
RTSP server's sinks play them against the clock.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:8554")
    ap.add_argument("--file", required=True)
    ap.add_argument("--codec", choices=["h264", "h265"], default="h264")
    ap.add_argument("--fps", type=int, default=25)
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address(host.strip("[]"))
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    # The parser stamps access units from the frame rate in the caps.
    factory.set_launch(
        f"( filesrc location={a.file} "
        f"! video/x-{a.codec},stream-format=byte-stream,framerate={a.fps}/1 "
        f"! {a.codec}parse ! rtp{a.codec}pay name=pay0 pt=96 config-interval=-1 )")
    factory.set_shared(True)
    mounts = server.get_mount_points()
    for path in ("/Streaming/Channels/101", "/cam/realmonitor", "/test"):
        mounts.add_factory(path, factory)
    if server.attach(None) == 0:
        print(f"replaycam: cannot listen on {a.listen}", file=sys.stderr)
        return 1
    print(f"replaycam: {a.file} ({a.codec}, {a.fps} fps) on rtsp://{a.listen}/Streaming/Channels/101",
          file=sys.stderr)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
