"""A hostile RTSP recorder on raw sockets, for tests/reliability/recorders.sh.

rtspclient.py HOST COMMAND [ARGS]; every command prints one line per case,
"<case> <outcome> <figures>", and exits 0 when every case ended as a bounded
server must end it (a 4xx/5xx answer, or the connection closed).

  malformed SRC PROBE_SRC        garbage, bad request line, no CSeq, absurd
                                 Content-Length, a huge header block (16 MiB)
                                 while PROBE_SRC checks that other clients
                                 are still answered
  slow SRC LIMIT                 a request dribbled one byte per second, and
                                 headers never finished: seconds until closed
                                 (each must close within LIMIT s)
  flood SRC[,SRC...] COUNT HOLD  COUNT connections from each SRC at once, an
                                 OPTIONS on each; prints how many were served
                                 per address; holds them HOLD s
  midsetup SRC USER PASS CAMERA  close right after SETUP; SETUP then TEARDOWN
                                 without PLAY; PLAY then an abrupt close (RST);
                                 PLAY then never read (a stalled reader)
  play SRC USER PASS CAMERA SECS PLAY, count interleaved RTP bytes for SECS
  handover SRC USER PASS CAMERA STALL SECS
                                 recorder A plays and stops reading for STALL
                                 s; B sets up; A vanishes (RST); B plays and
                                 counts RTP bytes for SECS (B must get some)
"""
import hashlib
import os
import re
import select
import socket
import struct
import sys
import threading
import time

HOST = sys.argv[1]
PORT = 554


def connect(src, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((HOST, PORT))
    return s


def abort(s):
    """Close with RST, as a crashed or unplugged recorder would."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def until_closed(s, limit):
    """Seconds until the server closes s (reading and discarding whatever it
    sends), or None after limit seconds."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            try:
                if not s.recv(65536):
                    return time.monotonic() - start
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - start
    return None


def first_reply(s, limit=5):
    """The status line the server sends first, "closed", or "silent"."""
    s.settimeout(limit)
    try:
        data = s.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    except socket.timeout:
        return "silent"
    if not data:
        return "closed"
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def bad(reply):
    return reply == "closed" or re.match(r"RTSP/\d\.\d [45]\d\d", reply) is not None


class Rtsp:
    """Just enough of an RTSP client for SETUP/PLAY/TEARDOWN with digest."""

    def __init__(self, src, user, password, camera):
        self.s = connect(src)
        self.user, self.password = user, password
        self.url = "rtsp://%s:%d/%s" % (HOST, PORT, camera)
        self.cseq = 0
        self.auth = None
        self.session = None
        self.buf = b""

    def _read_reply(self):
        while True:
            while len(self.buf) >= 4 and self.buf[:1] == b"$":
                n = struct.unpack(">H", self.buf[2:4])[0]
                if len(self.buf) < 4 + n:
                    break
                self.buf = self.buf[4 + n:]
            end = self.buf.find(b"\r\n\r\n")
            if self.buf[:1] != b"$" and end >= 0:
                head = self.buf[:end].decode("latin-1")
                m = re.search(r"(?im)^content-length:\s*(\d+)", head)
                n = int(m.group(1)) if m else 0
                if len(self.buf) >= end + 4 + n:
                    body = self.buf[end + 4:end + 4 + n]
                    self.buf = self.buf[end + 4 + n:]
                    return head, body
            data = self.s.recv(65536)
            if not data:
                raise ConnectionError("closed by server")
            self.buf += data

    def _digest(self, method, uri):
        realm, nonce = self.auth
        ha1 = hashlib.md5(("%s:%s:%s" % (self.user, realm, self.password)).encode()).hexdigest()
        ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
        resp = hashlib.md5(("%s:%s:%s" % (ha1, nonce, ha2)).encode()).hexdigest()
        return 'Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"' % (
            self.user, realm, nonce, uri, resp)

    def send(self, method, uri=None, headers=(), wait=True):
        uri = uri or self.url
        for _ in range(2):
            self.cseq += 1
            lines = ["%s %s RTSP/1.0" % (method, uri), "CSeq: %d" % self.cseq]
            if self.auth:
                lines.append("Authorization: " + self._digest(method, uri))
            if self.session:
                lines.append("Session: " + self.session)
            lines += list(headers)
            self.s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            if not wait:
                return None, None
            head, body = self._read_reply()
            code = int(head.split()[1])
            m = re.search(r'(?im)^www-authenticate:\s*digest\s.*realm="([^"]*)".*nonce="([^"]*)"', head)
            if code == 401 and m and not self.auth:
                self.auth = (m.group(1), m.group(2))
                continue
            break
        m = re.search(r"(?im)^session:\s*([^;\r\n]+)", head)
        if m:
            self.session = m.group(1).strip()
        return code, body

    def setup_url(self):
        code, sdp = self.send("DESCRIBE", headers=["Accept: application/sdp"])
        if code != 200:
            raise ConnectionError("DESCRIBE answered %d" % code)
        ctl = re.findall(rb"(?m)^a=control:(\S+)", sdp)
        track = ctl[-1].decode() if ctl else "stream=0"
        return track if track.startswith("rtsp://") else self.url + "/" + track

    def setup(self, wait=True):
        return self.send("SETUP", self.setup_url(),
                         ["Transport: RTP/AVP/TCP;unicast;interleaved=0-1"], wait)

    def play_for(self, secs):
        """PLAY, count interleaved RTP bytes for secs, TEARDOWN and close:
        (PLAY's status, bytes)."""
        code, _ = self.send("PLAY")
        n = self.rtp_bytes(float(secs))
        self.send("TEARDOWN", wait=False)
        self.s.close()
        return code, n

    def rtp_bytes(self, secs):
        end = time.monotonic() + secs
        total = len(self.buf)
        self.s.settimeout(1)
        while time.monotonic() < end:
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            total += len(data)
        return total


def probe_loop(src, stop, out):
    """OPTIONS from another address every 0.5 s while stop is unset: are
    other clients still answered? Appends (answered, latency) to out."""
    while not stop.is_set():
        start = time.monotonic()
        try:
            s = connect(src, 5)
            s.sendall(b"OPTIONS rtsp://%s/lobby RTSP/1.0\r\nCSeq: 1\r\n\r\n" % HOST.encode())
            ok = s.recv(100).startswith(b"RTSP/1.0 200")
            s.close()
        except OSError:
            ok = False
        out.append((ok, time.monotonic() - start))
        stop.wait(0.5)


def cmd_malformed(src, probe_src):
    host = HOST.encode()
    url = b"rtsp://%s/lobby" % host
    cases = [
        ("garbage", os.urandom(8192)),
        ("bad-request-line", b"GIMME " + url + b" RTSP/9.9 extra words\r\nCSeq: 1\r\n\r\n"),
        ("no-request-line", b"\r\n\r\n\r\n: :\r\n\r\n"),
        ("missing-cseq", b"OPTIONS " + url + b" RTSP/1.0\r\nUser-Agent: x\r\n\r\n"),
        ("absurd-content-length", b"ANNOUNCE " + url + b" RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999999999\r\n\r\n"
         + b"v=0\r\n" * 100),
        ("negative-content-length", b"ANNOUNCE " + url + b" RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -5\r\n\r\nabc"),
        ("body-over-limit", b"SET_PARAMETER " + url + b" RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 1048576\r\n\r\n"
         + b"x" * 1048576),
    ]
    results = {}

    def run(name, data):
        s = connect(src)
        try:
            s.sendall(data)
            reply = first_reply(s)
        except (ConnectionResetError, BrokenPipeError):
            reply = "closed"
        # After an error answer the connection must not linger either.
        closed = until_closed(s, 40) if reply != "closed" else 0.0
        s.close()
        results[name] = (reply, closed)

    threads = [threading.Thread(target=run, args=case) for case in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = True
    for name, _ in cases:
        reply, closed = results.get(name, ("error", None))
        good = bad(reply) and closed is not None
        ok = ok and good
        print("%s %s reply=%r closed_after=%s" % (name, "ok" if good else "BAD", reply,
                                                  "never" if closed is None else "%.1f" % closed))
    # A header block with no end: 16 MiB of header lines sent as fast as the
    # server takes them; a bounded server closes the connection long before.
    stop = threading.Event()
    probes = []
    prober = threading.Thread(target=probe_loop, args=(probe_src, stop, probes))
    prober.start()
    s = connect(src)
    s.settimeout(30)
    sent = 0
    line = b"X-Filler: " + b"a" * 100 + b"\r\n"
    block = b"DESCRIBE " + url + b" RTSP/1.0\r\nCSeq: 1\r\n" + line * 10000
    start = time.monotonic()
    outcome = "accepted"
    try:
        while sent < 16 * 1024 * 1024:
            s.sendall(block)
            sent += len(block)
            block = line * 10000
    except (ConnectionResetError, BrokenPipeError):
        outcome = "closed"
    except socket.timeout:
        outcome = "stalled"
    if outcome == "accepted":
        s.sendall(b"\r\n")
        reply = first_reply(s, 10)
        outcome = "closed" if reply == "closed" else "answered:" + reply
    s.close()
    secs = time.monotonic() - start
    time.sleep(1)
    stop.set()
    prober.join()
    good = outcome == "closed"
    ok = ok and good
    print("huge-header-block %s outcome=%s sent_kib=%d secs=%.1f" % ("ok" if good else "BAD", outcome, sent // 1024,
                                                                     secs))
    answered = sum(1 for a, _ in probes if a)
    good = probes and answered == len(probes)
    ok = ok and good
    print("others-answered-during-header-block %s answered=%d/%d max_latency=%.2f" % (
        "ok" if good else "BAD", answered, len(probes), max([lat for _, lat in probes] or [0])))
    return ok


def cmd_slow(src, limit):
    limit = float(limit)
    results = {}

    def dribble():
        # One byte per second of a request that would be valid.
        s = connect(src)
        req = b"OPTIONS rtsp://%s/lobby RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: " % HOST.encode() + b"s" * 200
        start = time.monotonic()
        closed = None
        sent = 0
        for i in range(len(req)):
            try:
                s.sendall(req[i:i + 1])
                sent += 1
            except (ConnectionResetError, BrokenPipeError):
                closed = time.monotonic() - start
                break
            r, _, _ = select.select([s], [], [], 1.0)
            if r:
                try:
                    data = s.recv(4096)
                except ConnectionResetError:
                    data = b""
                if not data:
                    closed = time.monotonic() - start
                    break
            if time.monotonic() - start > limit + 5:
                break
        s.close()
        results["dribble-1-byte-per-s"] = (closed, "bytes_sent=%d" % sent)

    def unfinished():
        # Request line and a header, then nothing: headers never finished.
        s = connect(src)
        s.sendall(b"DESCRIBE rtsp://%s/lobby RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n" % HOST.encode())
        results["unfinished-headers"] = (until_closed(s, limit + 5), "")
        s.close()

    def silent():
        # Connect and say nothing at all.
        s = connect(src)
        results["silent-connection"] = (until_closed(s, limit + 5), "")
        s.close()

    threads = [threading.Thread(target=f) for f in (dribble, unfinished, silent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = True
    for name in ("dribble-1-byte-per-s", "unfinished-headers", "silent-connection"):
        closed, extra = results.get(name, (None, "error"))
        good = closed is not None and closed <= limit
        ok = ok and good
        print("%s %s closed_after=%s %s" % (name, "ok" if good else "BAD",
                                            "never" if closed is None else "%.1f" % closed, extra))
    return ok


def cmd_flood(srcs, count, hold):
    count, hold = int(count), float(hold)
    socks = []
    for src in srcs.split(","):
        for _ in range(count):
            s = socket.socket()
            s.setblocking(False)
            s.bind((src, 0))
            s.connect_ex((HOST, PORT))
            socks.append((src, s))
    # Wait for the connects, then ask each for OPTIONS.
    deadline = time.monotonic() + 10
    pending = {s for _, s in socks}
    while pending and time.monotonic() < deadline:
        _, w, _ = select.select([], list(pending), [], 0.5)
        for s in w:
            pending.discard(s)
    for src, s in socks:
        try:
            s.send(b"OPTIONS rtsp://%s/lobby RTSP/1.0\r\nCSeq: 1\r\n\r\n" % HOST.encode())
        except OSError:
            pass
    served = {src: 0 for src in srcs.split(",")}
    refused = {src: 0 for src in srcs.split(",")}
    answered = set()
    deadline = time.monotonic() + 10
    left = {s: src for src, s in socks}
    while left and time.monotonic() < deadline:
        r, _, _ = select.select(list(left), [], [], 0.5)
        for s in r:
            src = left.pop(s)
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data.startswith(b"RTSP/1.0 "):
                served[src] += 1
                answered.add(s)
            else:
                refused[src] += 1
    for src, s in socks:
        if s in left:
            refused[src] += 0  # silent: counted separately below
    silent = len(left)
    for src in srcs.split(","):
        print("%s served=%d refused=%d" % (src, served[src], refused[src]))
    print("silent=%d" % silent)
    sys.stdout.flush()
    time.sleep(hold)
    # The served ones must still be open (held, not dropped) until we close.
    still = 0
    for s in answered:
        try:
            s.send(b"OPTIONS rtsp://%s/lobby RTSP/1.0\r\nCSeq: 2\r\n\r\n" % HOST.encode())
            s.setblocking(True)
            s.settimeout(5)
            if s.recv(4096).startswith(b"RTSP/1.0 "):
                still += 1
        except OSError:
            pass
    print("held_open_after=%d" % still)
    for _, s in socks:
        abort(s)
    return True


def cmd_midsetup(src, user, password, camera):
    ok = True
    # 1. SETUP sent, socket closed before the answer.
    c = Rtsp(src, user, password, camera)
    c.setup(wait=False)
    c.s.close()
    print("close-right-after-SETUP done")
    # 2. SETUP, then TEARDOWN, no PLAY.
    c = Rtsp(src, user, password, camera)
    code, _ = c.setup()
    tcode, _ = c.send("TEARDOWN")
    c.s.close()
    good = code == 200 and tcode == 200
    ok = ok and good
    print("SETUP-then-TEARDOWN %s setup=%d teardown=%d" % ("ok" if good else "BAD", code, tcode))
    # 3. SETUP and PLAY, a little media, then RST.
    c = Rtsp(src, user, password, camera)
    code, _ = c.setup()
    pcode, _ = c.send("PLAY")
    n = c.rtp_bytes(2)
    abort(c.s)
    good = code == 200 and pcode == 200 and n > 0
    ok = ok and good
    print("PLAY-then-RST %s setup=%d play=%d bytes=%d" % ("ok" if good else "BAD", code, pcode, n))
    # 4. Several SETUPs on one connection, then an abrupt close.
    c = Rtsp(src, user, password, camera)
    codes = []
    for _ in range(3):
        code, _ = c.setup()
        codes.append(code)
    abort(c.s)
    print("repeated-SETUP-then-RST done codes=%s" % codes)
    # 5. PLAY, then never read: the server's send queue to us fills.
    c = Rtsp(src, user, password, camera)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    code, _ = c.setup()
    pcode, _ = c.send("PLAY")
    time.sleep(float(os.environ.get("STALL_SECS", "20")))
    abort(c.s)
    good = code == 200 and pcode == 200
    ok = ok and good
    print("PLAY-then-never-read %s setup=%d play=%d" % ("ok" if good else "BAD", code, pcode))
    return ok


def cmd_play(src, user, password, camera, secs):
    c = Rtsp(src, user, password, camera)
    code, _ = c.setup()
    pcode, n = c.play_for(secs)
    print("play setup=%d play=%d bytes=%d" % (code, pcode, n))
    return code == 200 and pcode == 200 and n > 0


def cmd_handover(src, user, password, camera, stall, secs):
    # A: the only viewer, then a stalled reader: the server's data message to
    # A stays queued, so the camera's stream waits for A before sending more.
    a = Rtsp(src, user, password, camera)
    a.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    code_a, _ = a.setup()
    play_a, _ = a.send("PLAY")
    time.sleep(float(stall))
    # B joins the same (shared) media before A goes, so the media stays up.
    b = Rtsp(src, user, password, camera)
    code_b, _ = b.setup()
    abort(a.s)
    time.sleep(1)
    play_b, n = b.play_for(secs)
    print("handover setup_a=%d play_a=%d setup_b=%d play_b=%d bytes_b=%d" % (code_a, play_a, code_b, play_b, n))
    return code_a == 200 and play_a == 200 and code_b == 200 and play_b == 200 and n > 0


def main():
    cmd, args = sys.argv[2], sys.argv[3:]
    fn = {"malformed": cmd_malformed, "slow": cmd_slow, "flood": cmd_flood, "midsetup": cmd_midsetup,
          "play": cmd_play, "handover": cmd_handover}.get(cmd)
    if not fn:
        raise SystemExit(__doc__)
    sys.exit(0 if fn(*args) else 1)


if __name__ == "__main__":
    main()
