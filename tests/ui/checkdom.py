"""checkdom.py DOM.html STATUS.json [LATER.json]: the operator page as
Chromium drew it shows what /status reports (a camera's state may be the one
of either look: the browser ran between them). Prints one line per check;
exits 1 on a failure."""
import datetime
import json
import os
import sys
import zoneinfo

import domtree

dom = domtree.parse(sys.argv[1])
status = json.load(open(sys.argv[2]))
later = json.load(open(sys.argv[3])) if len(sys.argv) > 3 else status
later_state = {c["name"]: c["state"] for c in later["cameras"]}
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1


def tag(t, **attrs):
    return lambda n: n.tag == t and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())


for cam in status["cameras"]:
    name = cam["name"]
    card = dom.find(tag("article", data_camera=name))
    check(card is not None, f"{name}: a camera card")
    if card is None:
        continue
    state = card.find(lambda n: "state" in n.attrs.get("class", "").split())
    states = {cam["state"], later_state.get(name)}
    shown = card.attrs.get("data-state")
    check(shown in states and state is not None and state.text().strip() == shown,
          f"{name}: state {shown} as /status reports ({' then '.join(sorted(s for s in states if s))})")
    img = card.find(tag("img"))
    loaded = img is not None and img.attrs.get("data-loaded") == "yes"
    check(loaded, f"{name}: its thumbnail loaded in the browser")
    if loaded:
        w, h = int(img.attrs.get("width", 0)), int(img.attrs.get("height", 0))
        ow, oh = cam["output_width"], cam["output_height"]
        check(w > 0 and abs(w * oh - h * ow) <= max(w, h) * oh * 0.01,
              f"{name}: thumbnail {w}x{h} has the output's {ow}:{oh} aspect")
        kind = "camera" if shown == "live" else "slate"
        check(img.attrs.get("data-kind") == kind and img.attrs.get("alt", "").strip() != "",
              f"{name}: shows a {kind} picture with alt text ({img.attrs.get('alt')!r})")
        check(img.attrs.get("src", "").startswith(f"snapshot/{name}.jpg?"),
              f"{name}: thumbnail comes from /ui/snapshot/{name}.jpg")
    fps = card.find(tag("dd", data_key="fps"))
    if shown == "live":
        check(fps is not None and fps.text().endswith(" fps") and float(fps.text().split()[0]) > 0,
              f"{name}: a frame rate from the history ({fps.text() if fps else None})")
        line = card.find(lambda n: n.tag == "polyline")
        check(line is not None and len(line.attrs.get("points", "").split()) >= 2,
              f"{name}: its plots have a line of samples")

site_zone = zoneinfo.ZoneInfo(os.environ["SITE_TZ"])


def local(iso):
    """An ISO 8601 UTC time from /status as the page must show it."""
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(site_zone)
    return t.isoformat(timespec="seconds")


attempts = dom.find(tag("table", id="attempts"))
check(attempts is not None and attempts.find(tag("th", scope="col")) is not None,
      "blocked-attempt table with column headers")
rows = []
for tr in attempts.find_all(tag("tr")) if attempts else []:
    th = tr.find(tag("th", scope="row"))
    if th is not None:
        rows.append([th.text().strip()] + [td.text().strip() for td in tr.find_all(tag("td"))])
for a in status["firewall"]["attempts"]:
    if not a["camera"]:
        continue
    hit = [r for r in rows if r[:5] == [a["camera"], a["protocol"], a["destination"], str(a["port"] or "—"),
                                        a["dns_name"] or "—"] and int(r[5]) >= 1 and r[6] == local(a["first_seen"])]
    check(bool(hit), f"{a['camera']}: blocked-attempt table lists {a['protocol']} {a['destination']}:{a['port']}"
          + (f" ({a['dns_name']})" if a["dns_name"] else "") + (f" -> {hit[0]}" if hit else f" (rows {rows})"))

rec_table = dom.find(tag("table", id="recorders"))
for rec in status["recorders"]:
    row = next((tr for tr in rec_table.find_all(tag("tr")) if (th := tr.find(tag("th", scope="row")))
                and th.children and th.children[0].strip() == rec["name"]), None) if rec_table else None
    cells = [td.text().strip() for td in row.find_all(tag("td"))] if row else []
    check(bool(cells) and cells[0] == str(rec["sessions"]) and rec["sessions"] >= 1,
          f"recorder {rec['name']}: {rec['sessions']} session(s) shown ({cells})")
fw = dom.find(tag("dd", data_key="applied"))
check(fw is not None and fw.text() == ("applied" if status["firewall"]["applied"] else "NOT applied"),
      "firewall state shown as /status reports")
plots = list(dom.find_all(lambda n: n.tag == "svg" and n.attrs.get("role") == "img"))
check(len(plots) == 3 * len(status["cameras"]), f"{len(plots)} plots, three per camera")
html_el = dom.find(tag("html"))
check(html_el is not None and html_el.attrs.get("lang") == "en", "the document says its language")
imgs = list(dom.find_all(tag("img")))
check(imgs and all(i.attrs.get("alt", "").strip() for i in imgs), f"all {len(imgs)} images have alt text")
check(dom.find(tag("h1")) is not None and len(list(dom.find_all(tag("h2")))) >= 4, "headings: one h1, a h2 per section")
summary = dom.find(tag("p", id="summary"))
check(summary is not None and local(status["started"]) in summary.text(),
      f"start time shown in the site's zone ({local(status['started'])})")
sys.exit(1 if failures else 0)
