#!/usr/bin/env python3
"""Query latency as `skillmap serve` reports it (`took_ms`), statements and occupations.

    python3 benches/serve_took.py SKILLMAP_BINARY INDEX [--port 7799] [--rounds 5]

Starts `skillmap serve` on the index, sends every query of benches/queries.txt as
`/api/search?q=Q&limit=10` and `&by=occupation`, one round to warm up and then `--rounds`
rounds, and prints p50 / p90 / p99 / max of the `took_ms` the service reports for each kind.
Alternate binaries in one run to compare them: the machine drifts over minutes.
"""
import argparse, json, os, statistics, subprocess, time, urllib.parse, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("index")
    ap.add_argument("--port", type=int, default=7799)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    p = subprocess.Popen([a.binary, "serve", "--index", a.index, "--addr", f"127.0.0.1:{a.port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz").read()
                break
            except OSError:
                time.sleep(0.1)
        queries = [l.strip() for l in open(os.path.join(ROOT, "benches", "queries.txt")) if l.strip()]
        took = {"statements": [], "occupations": []}
        for rnd in range(a.rounds + 1):
            for q in queries:
                for kind, extra in (("statements", ""), ("occupations", "&by=occupation")):
                    url = f"{base}/api/search?q={urllib.parse.quote(q)}&limit=10{extra}"
                    d = json.load(urllib.request.urlopen(url))
                    if rnd > 0:
                        took[kind].append(d["took_ms"])
        for kind, v in took.items():
            v.sort()
            n = len(v)
            print(f"{kind}: n={n} p50 {statistics.median(v):.2f} p90 {v[int(0.9 * n)]:.2f} "
                  f"p99 {v[min(n - 1, int(0.99 * n))]:.2f} max {v[-1]:.2f} ms")
    finally:
        p.terminate()
        p.wait()


if __name__ == "__main__":
    main()
