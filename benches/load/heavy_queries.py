"""Heavy queries from 48 clients for SECONDS against a running server:
`python3 benches/load/heavy_queries.py SECONDS [URL]`. Prints the answers
by status ('x': the connection failed). BENCHMARKS.md ("Bounds, memory and
the soak") samples the server's resident memory meanwhile."""
import threading, time, urllib.request, random, sys
base=sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:18080"
paths=["/api/hotspots?place=h3:12&min_count=1&limit=10000",
       "/api/hotspots?place=h3:11&min_count=1&limit=10000",
       "/api/stats?by=grid",
       "/api/stats?by=h3:10",
       "/api/features/events?bbox=118.8,25.2,119.4,25.7&limit=10000",
       "/api/features/units?area=350304&limit=10000",
       "/api/nearest/events?lon=119.0&lat=25.45&k=10000",
       "/api/areas/search?q=%E6%9D%91&limit=10000"]
stop=time.time()+float(sys.argv[1])
counts={}
def worker(i):
    r=random.Random(i)
    while time.time()<stop:
        p=r.choice(paths)
        try:
            with urllib.request.urlopen(base+p, timeout=60) as res:
                res.read(); st=res.status
        except urllib.error.HTTPError as e:
            e.read(); st=e.code
        except Exception as e:
            st="x"
        counts[st]=counts.get(st,0)+1
ts=[threading.Thread(target=worker,args=(i,)) for i in range(48)]
[t.start() for t in ts]; [t.join() for t in ts]
print(counts)
