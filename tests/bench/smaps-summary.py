#!/usr/bin/python3
# Sums /proc/PID/smaps dumps (run.sh memory phase: results/<run>/smaps-*.txt)
# by kind of mapping (anon, heap, file, memfd, stack) and by Pss / Private / Shared.
# Usage: tests/bench/smaps-summary.py FILE...
import sys,re,collections
for f in sys.argv[1:]:
    lines=open(f).read().split('\n')
    cur=None; agg=collections.Counter()
    for l in lines[1:]:
        m=re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$',l)
        if m:
            n=m.group(4)
            cur='anon' if not n else ('heap' if n=='[heap]' else ('stack' if n.startswith('[') else ('memfd' if 'memfd' in n else 'file')))
            continue
        m=re.match(r'^(Private_Dirty|Private_Clean|Shared_Clean|Shared_Dirty|Pss):\s+(\d+) kB',l)
        if m and cur: agg[(cur,m.group(1))]+=int(m.group(2))
    print(f.split('/')[-1], lines[0][:40])
    for k in sorted(agg): print('   %-6s %-14s %7.1f MiB'%(k[0],k[1],agg[k]/1024))
