"""Reads cordon's /status JSON for tests.

statusq.py [--url URL] camera NAME FIELD            print one camera field
statusq.py [--url URL] recorder NAME FIELD          print one recorder field
statusq.py [--url URL] wait NAME FIELD VALUE SECS   wait until camera FIELD == VALUE
statusq.py [--url URL] json                         print the whole document
"""
import json
import sys
import time
import urllib.request

args = sys.argv[1:]
url = "http://127.0.0.1:9554/status"
if args and args[0] == "--url":
    url, args = args[1], args[2:]


def fetch():
    with urllib.request.urlopen(url, timeout=3) as r:
        return json.load(r)


def find(doc, kind, name):
    for item in doc[kind]:
        if item["name"] == name:
            return item
    raise SystemExit(f"no {kind[:-1]} {name} in /status")


cmd = args[0]
if cmd == "json":
    print(json.dumps(fetch(), indent=1))
elif cmd == "camera":
    print(find(fetch(), "cameras", args[1])[args[2]])
elif cmd == "recorder":
    print(find(fetch(), "recorders", args[1])[args[2]])
elif cmd == "wait":
    name, field, value, secs = args[1], args[2], args[3], float(args[4])
    end = time.monotonic() + secs
    last = None
    while time.monotonic() < end:
        try:
            last = str(find(fetch(), "cameras", name)[field])
            if last == value:
                sys.exit(0)
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    sys.exit(f"camera {name}: {field} is {last}, not {value}, after {secs} s")
else:
    raise SystemExit(__doc__)
