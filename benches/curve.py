#!/usr/bin/env python3
"""How skillmap's costs grow with the collection, beside tantivy-cli, from 40k to 10M statements.

    python3 benches/curve.py [--sizes 1000,10000,50000,250000] [--rounds R] [--work DIR] [--out DIR]

For each size (in exports of 40 statements: 40k, 400k, 2M and 10M statements by default) it
generates the corpus with `cargo xtask gen-corpus --no-files` (one JSON Lines file), and then:

- indexes it with skillmap (`--threads 2`) and, from `skillmap export`, with tantivy-cli 0.24
  (2 threads; installed once, as benches/compare.py does), timing wall and CPU and sampling the
  indexer's peak anonymous and file-backed memory (`RssAnon`, `RssFile` in /proc/PID/status,
  every 20 ms: `ru_maxrss` would count the mmapped index pages the kernel can drop);
- measures each index's size;
- times benches/queries.txt: statements (top 10 + count) for both engines, occupations
  (`search --by-occupation`) for skillmap, which tantivy-cli has no counterpart of;
- times a cold `skillmap map` process (open the index, map one posting), wall and peak memory;
- deletes the corpus and both indexes before the next size, so 10M fits on a small disk.

Writes `curve.json` (every figure), `curve.md` (the table, with each cost's growth from the
smallest to the largest size as a power of the size: ~1 is linear, ~0 flat) and `curve.svg`
(log-log plot) into --out (default: the work folder). A run that stopped part way is resumed
from the sizes already in `curve.json`.
"""
import argparse, json, math, os, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (same folder: tantivy-cli install, schema, helpers)

ROOT = compare.ROOT
SKILLMAP, XTASK, QUERYBENCH = compare.SKILLMAP, compare.XTASK, compare.QUERYBENCH
POSTING = ("Forklift operator, warehouse, day shift. Load and unload trucks, move pallets with a "
           "forklift and a pallet jack, keep inventory records, inspect equipment before use.")


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def measured(cmd, stdin=None, stdout=subprocess.DEVNULL):
    """Runs a command: wall s, CPU s, peak RssAnon MB, peak RssFile MB (sampled every 20 ms)."""
    peak = {"RssAnon": 0, "RssFile": 0}
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample():
        while not done.is_set():
            for k in peak:
                peak[k] = max(peak[k], status_kb(p.pid, k))
            time.sleep(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    err_chunks = []
    reader = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()), daemon=True)
    reader.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    done.set()
    th.join()
    reader.join()
    if os.waitstatus_to_exitcode(status) != 0:
        err = b"".join(err_chunks).decode(errors="replace")
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
            "anon_mb": peak["RssAnon"] / 1024, "file_mb": peak["RssFile"] / 1024}


def querybench(index, queries, rounds, occupations=False):
    cmd = [QUERYBENCH, index, queries, str(rounds)]
    if occupations:
        cmd += ["0", "occupations"]
    out = subprocess.run(cmd, capture_output=True, check=True)
    r = json.loads(out.stdout)
    return r["p50_ms"], r["p99_ms"]


def one_size(exports, a, tcli, plain, n_queries, work):
    queries = os.path.join(ROOT, "benches", "queries.txt")
    corpus = os.path.join(work, f"corpus-{exports}")
    shutil.rmtree(corpus, ignore_errors=True)
    subprocess.run([XTASK, "gen-corpus", "--exports", str(exports), "--out", corpus, "--no-files"],
                   check=True, stderr=subprocess.DEVNULL)
    row = {"exports": exports, "statements": exports * 40}
    sm = os.path.join(work, "skillmap-index")
    shutil.rmtree(sm, ignore_errors=True)
    row["skillmap_index"] = measured([SKILLMAP, "index", os.path.join(corpus, "exports.jsonl"),
                                      "--index", sm, "--threads", "2", "--quiet",
                                      "--max-file-size", "4096"])
    row["skillmap_mb"] = compare.du(sm)
    row["skillmap_statements_ms"] = querybench(sm, queries, a.rounds)
    row["skillmap_occupations_ms"] = querybench(sm, queries, max(1, a.rounds // 5), True)
    if row["statements"] <= a.map_up_to:
        row["map_cold"] = measured([SKILLMAP, "map", "--index", sm, "--text", POSTING,
                                    "--format", "json"])
    shutil.rmtree(corpus, ignore_errors=True)
    flat = os.path.join(work, "statements.ndjson")
    with open(flat, "w") as f:
        subprocess.run([SKILLMAP, "export", "--index", sm], stdout=f, stderr=subprocess.DEVNULL,
                       check=True)
    shutil.rmtree(sm, ignore_errors=True)
    tc = os.path.join(work, "tantivy-cli-index")
    shutil.rmtree(tc, ignore_errors=True)
    compare.tantivy_meta(tc)
    with open(flat) as f:
        row["tantivy_index"] = measured([tcli, "index", "-i", tc, "-t", "2"], stdin=f)
    os.remove(flat)
    row["tantivy_mb"] = compare.du(tc)
    row["tantivy_statements_ms"] = compare.tantivy_bench(tcli, tc, plain, n_queries, a.rounds)
    shutil.rmtree(tc, ignore_errors=True)
    return row


def growth(rows, get):
    """The exponent k of cost ~ statements^k between the smallest and the largest size."""
    (n0, c0), (n1, c1) = (rows[0]["statements"], get(rows[0])), (rows[-1]["statements"], get(rows[-1]))
    if n1 == n0:
        return float("nan")
    if not (c0 > 0 and c1 > 0):
        # Not measured at one end: the growth over the sizes that were.
        measured_rows = [r for r in rows if get(r) > 0]
        if len(measured_rows) >= 2 and len(measured_rows) < len(rows):
            return growth(measured_rows, get)
        return float("nan")
    return math.log(c1 / c0) / math.log(n1 / n0)


SERIES = [
    ("index wall s", lambda r: r["skillmap_index"]["wall_s"], lambda r: r["tantivy_index"]["wall_s"]),
    ("index CPU s", lambda r: r["skillmap_index"]["cpu_s"], lambda r: r["tantivy_index"]["cpu_s"]),
    ("index peak anon MB", lambda r: r["skillmap_index"]["anon_mb"], lambda r: r["tantivy_index"]["anon_mb"]),
    ("index peak file MB", lambda r: r["skillmap_index"]["file_mb"], lambda r: r["tantivy_index"]["file_mb"]),
    ("index size MB", lambda r: r["skillmap_mb"], lambda r: r["tantivy_mb"]),
    ("statements p50 ms", lambda r: r["skillmap_statements_ms"][0], lambda r: r["tantivy_statements_ms"][0]),
    ("statements p99 ms", lambda r: r["skillmap_statements_ms"][1], lambda r: r["tantivy_statements_ms"][1]),
    ("occupations p50 ms", lambda r: r["skillmap_occupations_ms"][0], None),
    ("occupations p99 ms", lambda r: r["skillmap_occupations_ms"][1], None),
    ("cold map s", lambda r: r["map_cold"]["wall_s"] if "map_cold" in r else float("nan"), None),
    ("cold map anon MB", lambda r: r["map_cold"]["anon_mb"] if "map_cold" in r else float("nan"), None),
]


def table(rows):
    sizes = [f"{r['statements']:,}" for r in rows]
    out = ["| cost | engine | " + " | ".join(sizes) + " | growth (k in n^k) |",
           "|---|---|" + "---|" * len(rows) + "---|"]
    for name, sm, tc in SERIES:
        for engine, get in (("skillmap", sm), ("tantivy-cli", tc)):
            if get is None:
                continue
            cells = " | ".join(f"{get(r):.3g}" if get(r) > 0 else "not run" for r in rows)
            out.append(f"| {name} | {engine} | {cells} | {growth(rows, get):.2f} |")
    return "\n".join(out)


def svg(rows):
    """Log-log panels, one per cost, skillmap solid and tantivy-cli dashed."""
    w, h, cols = 260, 190, 4
    panels = [(n, sm, tc) for n, sm, tc in SERIES]
    nrows = math.ceil(len(panels) / cols)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * cols}" height="{h * nrows + 30}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="10" y="18" font-size="13">skillmap (solid) and tantivy-cli (dashed) against '
             f'statements, log-log</text>']
    xs = [r["statements"] for r in rows]
    lx0, lx1 = math.log10(min(xs)), math.log10(max(xs))
    if lx1 - lx0 < 1e-9:
        lx0, lx1 = lx0 - 0.5, lx1 + 0.5
    for i, (name, sm, tc) in enumerate(panels):
        ox, oy = (i % cols) * w + 40, (i // cols) * h + 40
        pw, ph = w - 60, h - 60
        vals = [g(r) for g in (sm, tc) if g for r in rows]
        vals = [v for v in vals if v > 0]
        if not vals:
            continue
        ly0, ly1 = math.log10(min(vals)), math.log10(max(vals))
        if ly1 - ly0 < 1e-9:
            ly0, ly1 = ly0 - 0.5, ly1 + 0.5
        px = lambda x: ox + (math.log10(x) - lx0) / (lx1 - lx0) * pw
        py = lambda y: oy + ph - (math.log10(y) - ly0) / (ly1 - ly0) * ph
        parts.append(f'<rect x="{ox}" y="{oy}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
        parts.append(f'<text x="{ox}" y="{oy - 6}">{name}</text>')
        parts.append(f'<text x="{ox - 4}" y="{oy + 10}" text-anchor="end">{10 ** ly1:.3g}</text>')
        parts.append(f'<text x="{ox - 4}" y="{oy + ph}" text-anchor="end">{10 ** ly0:.3g}</text>')
        parts.append(f'<text x="{ox}" y="{oy + ph + 14}">{min(xs):,}</text>')
        parts.append(f'<text x="{ox + pw}" y="{oy + ph + 14}" text-anchor="end">{max(xs):,}</text>')
        for g, dash, colour in ((sm, "", "#1f5fbf"), (tc, ' stroke-dasharray="5,3"', "#c0392b")):
            if g is None:
                continue
            pts = [(px(r["statements"]), py(g(r))) for r in rows if g(r) > 0]
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
    parts.append("</svg>")
    return "\n".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,50000,250000")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--work", default=None)
    ap.add_argument("--out", default=None)
    # The cold map reads the tables `skillmap index` writes beside its commit, at every size;
    # when it built them at start (before 2026-12-06) that took 60 s and 9 GB at 2M statements,
    # and 10M was left out. A smaller limit leaves the larger sizes out.
    ap.add_argument("--map-up-to", type=int, default=100_000_000,
                    help="time the cold map process only up to this many statements")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="skillmap-curve-")
    out = a.out or work
    os.makedirs(work, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "skillmap", "--example",
                    "querybench"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--package", "xtask"], cwd=ROOT,
                   check=True)
    tcli = compare.tantivy_cli()
    queries = [q for q in open(os.path.join(ROOT, "benches", "queries.txt")).read().splitlines()
               if q.strip()]
    plain = os.path.join(work, "queries-plain.txt")
    with open(plain, "w") as f:
        for q in queries:
            f.write(" ".join(compare.words(q)) + "\n")
    # A run that stopped part way is resumed: sizes already in curve.json are kept.
    saved = os.path.join(out, "curve.json")
    rows = json.load(open(saved)) if os.path.exists(saved) else []
    for exports in (int(s) for s in a.sizes.split(",")):
        if any(r["exports"] == exports for r in rows):
            continue
        print(f"{exports * 40:,} statements ...", file=sys.stderr)
        rows.append(one_size(exports, a, tcli, plain, len(queries), work))
        rows.sort(key=lambda r: r["exports"])
        with open(os.path.join(out, "curve.json"), "w") as f:
            json.dump(rows, f, indent=1)
    head = (f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, indexing with 2 threads; "
            f"statement latency over {a.rounds} rounds of {len(queries)} queries (top 10 + count), "
            f"occupations over {max(1, a.rounds // 5)} rounds\n\n")
    with open(os.path.join(out, "curve.md"), "w") as f:
        f.write(head + table(rows) + "\n")
    with open(os.path.join(out, "curve.svg"), "w") as f:
        f.write(svg(rows))
    print(head + table(rows))


if __name__ == "__main__":
    main()
