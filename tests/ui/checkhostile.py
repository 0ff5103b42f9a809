"""checkhostile.py DOM.html: the page drew hostile-status.json and
hostile-site.json as text only. Prints one line per check; exits 1 on a
failure."""
import sys

import domtree

dom = domtree.parse(sys.argv[1])
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1


def elements(n):
    for c in n.children:
        if isinstance(c, domtree.Node):
            yield c
            yield from elements(c)


every = list(elements(dom))
title = next((n for n in every if n.tag == "title"), None)
check(title is not None and title.text() == "cordon — operator page", "the document title is untouched")
injected = {"iframe", "object", "marquee", "blink", "b", "i", "u", "em", "hr", "br"}
found = sorted({n.tag for n in every} & injected)
check(not found, f"no element from the data ({found or 'none'})")
scripts = [n.attrs.get("src") for n in every if n.tag == "script"]
check(scripts == ["app.js"], f"the only script is app.js ({scripts})")
handlers = sorted({k for n in every for k in n.attrs if k.startswith("on")})
check(not handlers, f"no event handler attribute ({handlers or 'none'})")
imgs = [n for n in every if n.tag == "img"]
check(all(n.attrs.get("class") == "thumb" and n.attrs.get("src", "snapshot/").startswith("snapshot/") for n in imgs),
      f"the only images are the page's own thumbnails ({[n.attrs for n in imgs]})")
links = [n.attrs.get("href") for n in every if n.tag == "a"]
check(all(h in ("#cameras-heading", "#attempts-heading", "/status", "/status?format=table", "/metrics") for h in links),
      f"only the page's own links ({links})")

hostile_name = "<img src=x onerror=document.title='pwned'>"
card = next((n for n in every if n.tag == "article"), None)
check(card is not None and card.attrs.get("data-camera") == hostile_name, "the camera card is drawn, name kept as data")
h3 = card.find(lambda n: n.tag == "h3") if card else None
check(h3 is not None and h3.text() == hostile_name, "the camera's name is shown as text")
text = dom.text()
for s in ["<iframe src=/status></iframe>\"><svg onload=document.title='pwned'>", "<script>document.title='pwned'</script>",
          "<i>198.18.3.100</i>", "<a href=/status>nvr</a>", "<em>text only</em>", "<marquee>lobby</marquee>",
          "<b>cam</b>", "<blink>5</blink>", "<b>2026</b>", "<object data=/status>"]:
    check(s in text, f"shown as text: {s}")
check("x<i>field" not in text and "ignored key" not in text, "a field name that is not a plain key is left out")
sys.exit(1 if failures else 0)
