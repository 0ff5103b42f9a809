"""Runs cordon under a systemd-style notify socket and checks, at the moment
READY=1 arrives, that the firewall table exists and the RTSP port listens.

notify.py CORDON CONFIG PORT
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

cordon, config, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
tmp = tempfile.mkdtemp(prefix="cordon-notify-")
path = os.path.join(tmp, "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
# cordon drops to an unprivileged user before READY=1; like systemd's
# /run/systemd/notify, the socket must be writable by it.
os.chmod(tmp, 0o755)
os.chmod(path, 0o777)
sock.settimeout(1)
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="2000000")
proc = subprocess.Popen([cordon, "run", "--config", config], env=env,
                        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
env.pop("WATCHDOG_PID", None)


def listening(p):
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in list(f)[1:]:
                fields = line.split()
                if int(fields[1].split(":")[1], 16) == p and fields[3] == "0A":
                    return True
    return False


ok = True
messages = []
end = time.monotonic() + 30
ready_at = None
while time.monotonic() < end:
    try:
        data = sock.recv(4096).decode()
    except socket.timeout:
        if proc.poll() is not None:
            break
        continue
    messages.append(data)
    if "READY=1" in data and ready_at is None:
        ready_at = time.monotonic()
        table = subprocess.run(["nft", "list", "table", "inet", "cordon"], capture_output=True).returncode == 0
        port_open = listening(port)
        print(f"READY=1 received: table present={table}, port {port} listening={port_open}")
        ok = ok and table and port_open
    if ready_at and any("WATCHDOG=1" in m for m in messages):
        break
if ready_at is None:
    print("no READY=1 received; log:", open(os.path.join(tmp, "log")).read()[-2000:])
    ok = False
elif not any("WATCHDOG=1" in m for m in messages):
    print("no WATCHDOG=1 received within the watchdog interval")
    ok = False
else:
    print("WATCHDOG=1 received")
proc.terminate()
try:
    proc.wait(10)
except subprocess.TimeoutExpired:
    proc.kill()
if not any("STOPPING=1" in m for m in messages):
    try:
        sock.settimeout(2)
        messages.append(sock.recv(4096).decode())
    except socket.timeout:
        pass
print("messages:", [m.replace("\n", " ") for m in messages])
sys.exit(0 if ok else 1)
