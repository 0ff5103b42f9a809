"""Fetches /metrics, parses it with prometheus_client's strict text parser and
prints 'NAME{labels} value' lines for the samples asked for.

metrics.py URL [METRIC ...]
"""
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

url, wanted = sys.argv[1], set(sys.argv[2:])
text = urllib.request.urlopen(url, timeout=5).read().decode()
families = list(text_string_to_metric_families(text))  # raises on malformed input
seen = set()
for fam in families:
    if not fam.documentation:
        raise SystemExit(f"{fam.name}: no HELP")
    for s in fam.samples:
        seen.add(s.name)
        if s.name in wanted:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            print(f"{s.name}{{{labels}}} {s.value}")
missing = wanted - seen
if missing:
    raise SystemExit(f"missing metrics: {sorted(missing)}")
