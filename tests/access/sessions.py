"""Sessions that belong to their recorder, and the brake, on raw sockets
(for tests/access/sessions.sh). Uses tests/reliability/rtspclient.py's
client.

sessions.py HOST CASE ARGS...; prints "<case> ok|BAD <detail>" lines and
exits 0 when every check held.

  hijack VICTIM_SRC USER PASS CAMERA ATTACKER_SRC OTHER_USER OTHER_PASS
      the victim plays; from another connection, TEARDOWN, PAUSE and
      GET_PARAMETER with its session id, first without credentials, then as
      another recorder; a connection that only names the session id in an
      OPTIONS and closes; the victim must keep receiving RTP throughout
  brake SRC USER PASS CAMERA
      one connection that keeps guessing is closed after 3 failures; after
      10 failures the address is blocked: an already authenticated
      connection from it gets no answer any more
  tls-first SRC USER CAMERA
      a tls = required recorder on the plain listener is refused (403)
      before its password is looked at: a wrong one gets 403 too, not 401
  udp SRC USER PASS CAMERA
      SETUP with an RTP/UDP transport is refused (461) by default
  tunnel SRC
      an RTSP-over-HTTP tunnel GET gets no HTTP answer
  mtls SRC USER PASS CAMERA CERT KEY OTHER_CERT OTHER_KEY PLAIN_USER PLAIN_PASS
      over RTSPS a recorder with client-certificate gets in only with that
      certificate (another or none: 403); a recorder without one is not
      affected by a certificate it presents
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reliability"))
import rtspclient  # noqa: E402  (reads HOST from sys.argv[1])
from rtspclient import Rtsp, connect, first_reply  # noqa: E402

OK = True


def check(name, good, detail=""):
    global OK
    print("%s %s %s" % (name, "ok" if good else "BAD", detail))
    OK = OK and good


def raw(s, text):
    s.sendall(text.encode())
    return first_reply(s, 5)


def flowing(victim, secs=2.0):
    return victim.rtp_bytes(secs)


def cmd_hijack(vsrc, user, password, camera, asrc, ouser, opass):
    victim = Rtsp(vsrc, user, password, camera)
    code, _ = victim.setup()
    code, _ = victim.send("PLAY")
    check("victim-plays", code == 200 and flowing(victim) > 1000, "PLAY %s" % code)
    sid = victim.session
    url = victim.url
    for method in ("PAUSE", "GET_PARAMETER", "TEARDOWN"):
        s = connect(asrc)
        reply = raw(s, "%s %s RTSP/1.0\r\nCSeq: 1\r\nSession: %s\r\n\r\n" % (method, url, sid))
        s.close()
        check("no-credentials-" + method.lower(), not reply.startswith("RTSP/1.0 200"), reply)
        n = flowing(victim)
        check("victim-still-receives-after-" + method.lower(), n > 1000, "%d bytes" % n)
    other = Rtsp(asrc, ouser, opass, camera)
    other.send("OPTIONS")
    other.session = sid
    for method in ("PAUSE", "TEARDOWN"):
        code, _ = other.send(method)
        check("other-recorder-" + method.lower(), code != 200, "answered %s" % code)
        n = flowing(victim)
        check("victim-still-receives-after-other-" + method.lower(), n > 1000, "%d bytes" % n)
    # A connection that merely names the session, then goes: gst-rtsp-server
    # used to adopt the session into that connection and stop its media when
    # the connection closed.
    s = connect(asrc)
    reply = raw(s, "OPTIONS %s RTSP/1.0\r\nCSeq: 1\r\nSession: %s\r\n\r\n" % (url, sid))
    rtspclient.abort(s)
    time.sleep(0.5)
    n = flowing(victim)
    check("victim-survives-session-named-elsewhere", n > 1000, "%s; %d bytes" % (reply, n))
    code, _ = victim.send("TEARDOWN")
    check("owner-can-teardown", code == 200, "TEARDOWN %s" % code)


def guess(src, user, camera, label):
    """Guesses passwords on one connection (6 at most) until it is closed:
    (guesses made, replies)."""
    g = Rtsp(src, user, "wrong-" + label, camera)
    replies = []
    try:
        for _ in range(6):
            code, _ = g.send("DESCRIBE", headers=["Accept: application/sdp"])
            replies.append(code)
    except (ConnectionError, OSError, socket.timeout) as e:
        replies.append(type(e).__name__)
    g.s.close()
    return len(replies), replies


def cmd_brake(src, user, password, camera):
    keep = Rtsp(src, user, password, camera)
    code, _ = keep.send("DESCRIBE", headers=["Accept: application/sdp"])
    check("kept-connection-authenticated", code == 200, "DESCRIBE %s" % code)
    made, replies = guess(src, user, camera, "a")
    # Each send learns the challenge first (not a failure), then guesses.
    check("guessing-connection-closed-after-3", replies.count(401) <= 2 and not isinstance(replies[-1], int),
          "replies %s" % replies)
    total, n = made, 0
    while total < 10 and n < 10:
        made, _ = guess(src, user, camera, str(n))
        total += made
        n += 1
    try:
        keep.s.settimeout(5)
        keep.cseq += 1
        keep.s.sendall(("OPTIONS %s RTSP/1.0\r\nCSeq: %d\r\n\r\n" % (keep.url, keep.cseq)).encode())
        head, _ = keep._read_reply()
        answer = head.split("\r\n", 1)[0]
    except (ConnectionError, OSError, socket.timeout) as e:
        answer = type(e).__name__
    check("blocked-address-unanswered-on-open-connection", not answer.startswith("RTSP/"),
          "%s after %d guesses" % (answer, total))
    try:
        s = connect(src)
        reply = raw(s, "OPTIONS %s RTSP/1.0\r\nCSeq: 1\r\n\r\n" % keep.url)
    except OSError as e:
        reply = type(e).__name__
    check("blocked-address-new-connection-refused", not reply.startswith("RTSP/"), reply)


def cmd_tls_first(src, user, camera):
    for name, password in (("right", os.environ.get("TLS_PASS", "")), ("wrong", "not-the-password")):
        r = Rtsp(src, user, password, camera)
        code, _ = r.send("DESCRIBE", headers=["Accept: application/sdp"])
        check("tls-required-%s-password-403" % name, code == 403, "answered %s" % code)
        r.s.close()


def tls_rtsp(src, user, password, camera, cert=None, key=None):
    """An Rtsp client over TLS to port 322, presenting CERT if given."""
    import ssl
    r = Rtsp(src, user, password, camera)
    r.s.close()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.bind((src, 0))
    raw.settimeout(5)
    raw.connect((rtspclient.HOST, 322))
    r.s = ctx.wrap_socket(raw)
    r.url = "rtsps://%s:322/%s" % (rtspclient.HOST, camera)
    return r


def cmd_mtls(src, user, password, camera, cert, key, other_cert, other_key, plain_user, plain_pass):
    for name, c, k, want in (("own", cert, key, 200), ("another", other_cert, other_key, 403),
                             ("no", None, None, 403)):
        r = tls_rtsp(src, user, password, camera, c, k)
        try:
            code, _ = r.send("DESCRIBE", headers=["Accept: application/sdp"])
        except (ConnectionError, OSError) as e:
            code = type(e).__name__
        check("client-certificate-%s-%s" % (name, want), code == want, "answered %s" % code)
        r.s.close()
    r = tls_rtsp(src, plain_user, plain_pass, camera, other_cert, other_key)
    code, _ = r.send("DESCRIBE", headers=["Accept: application/sdp"])
    check("recorder-without-certificate-unaffected", code == 200, "answered %s" % code)


def cmd_udp(src, user, password, camera):
    r = Rtsp(src, user, password, camera)
    url = r.setup_url()
    code, _ = r.send("SETUP", url, ["Transport: RTP/AVP;unicast;client_port=40000-40001"])
    check("udp-setup-refused", code == 461, "SETUP answered %s" % code)


def cmd_tunnel(src):
    s = connect(src)
    reply = raw(s, "GET /lobby HTTP/1.0\r\nx-sessioncookie: abcdefgh\r\n"
                   "Accept: application/x-rtsp-tunnelled\r\n\r\n")
    check("tunnel-get-unanswered", not reply.startswith("HTTP/"), reply)


def main():
    case = sys.argv[2]
    args = sys.argv[3:]
    {"hijack": cmd_hijack, "brake": cmd_brake, "tls-first": cmd_tls_first, "udp": cmd_udp,
     "tunnel": cmd_tunnel, "mtls": cmd_mtls}[case](*args)
    sys.exit(0 if OK else 1)


if __name__ == "__main__":
    main()
