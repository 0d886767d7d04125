#!/usr/bin/env python3
"""Indexing the bundled collection with two or more skillmap binaries, alternated.

    python3 benches/index_ab.py --rounds 100 old=/path/to/skillmap-old new=target/release/skillmap

Each round runs every binary once (`skillmap index data --index DIR -q` into an empty folder on
/dev/shm when there is one) under `/usr/bin/time`, in the order given. Prints, per binary, the
median and the sum of wall and CPU (user + system) seconds over the rounds and each sum as a
ratio to the first binary's, and the median peak RSS. The machine drifts over minutes, so only
ratios from one run of this script mean anything; a single pair can swing by 15%.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--data", default="data")
    ap.add_argument("binaries", nargs="+", help="NAME=PATH")
    args = ap.parse_args()
    bins = []
    for b in args.binaries:
        name, sep, path = b.partition("=")
        if not sep or not os.access(path, os.X_OK):
            sys.exit(f"expected NAME=PATH to an executable, got {b!r}")
        bins.append((name, path))
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    runs = {name: [] for name, _ in bins}
    for _ in range(args.rounds):
        for name, path in bins:
            work = tempfile.mkdtemp(dir=base)
            try:
                out = subprocess.run(
                    ["/usr/bin/time", "-f", "TIME %e %U %S %M", path, "index", args.data,
                     "--index", os.path.join(work, "i"), "-q"],
                    capture_output=True, text=True, check=True).stderr
            finally:
                shutil.rmtree(work, ignore_errors=True)
            line = [l for l in out.splitlines() if l.startswith("TIME ")][-1]
            wall, user, system, rss = line.split()[1:]
            runs[name].append((float(wall), float(user) + float(system), int(rss)))
    first = None
    for name, v in runs.items():
        wall = sum(x[0] for x in v)
        cpu = sum(x[1] for x in v)
        first = first or (wall, cpu)
        print(f"{name:<10} n={len(v)} wall median {statistics.median(x[0] for x in v):.3f} s, "
              f"sum {wall:.2f} s ({wall / first[0]:.2f}x); CPU median "
              f"{statistics.median(x[1] for x in v):.3f} s, sum {cpu:.2f} s ({cpu / first[1]:.2f}x); "
              f"peak RSS median {statistics.median(x[2] for x in v) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
