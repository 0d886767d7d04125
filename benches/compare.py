#!/usr/bin/env python3
"""Side-by-side: skillmap vs tantivy-cli vs SQLite FTS5 on the same statements, in one run.

    python3 benches/compare.py [--exports N] [--threads T] [--rounds R] [--work DIR]

Generates N exports (40 statements each) with `cargo xtask gen-corpus` from data/source/,
indexes the nested exports with skillmap, exports them flat (`skillmap export`) and indexes the
flat JSON Lines with tantivy-cli (installed once with `cargo install tantivy-cli --root`, cached
under ~/.cache/skillmap-bench) and with SQLite FTS5 (porter tokenizer, Python's sqlite3), runs
benches/queries.txt against each (top 10 plus the count of matches), and prints one table: wall
and CPU time and peak RSS of indexing, p50/p99 query latency, index size, each with its ratio to
skillmap. Peak RSS and CPU come from wait4() on each child process.
"""
import argparse, json, os, re, shutil, sqlite3, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TCLI_ROOT = os.path.expanduser("~/.cache/skillmap-bench/tantivy-cli-0.24.0")
SKILLMAP = os.path.join(ROOT, "target", "release", "skillmap")
XTASK = os.path.join(ROOT, "target", "release", "xtask")
QUERYBENCH = os.path.join(ROOT, "target", "release", "examples", "querybench")


def run(cmd, stdin=None, stdout=subprocess.DEVNULL):
    """Runs a command; returns (wall s, cpu s, peak RSS MB)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def du(path):
    if os.path.isfile(path):
        return os.path.getsize(path) / 1e6
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(d, f))
    return total / 1e6


def words(q):
    """A query as plain terms (phrases kept), for engines whose syntax rejects punctuation."""
    parts = re.findall(r'"[^"]+"|[A-Za-z0-9]+', q)
    return [p.lower() for p in parts]


def percentiles(samples):
    s = sorted(samples)
    at = lambda p: s[min(int(len(s) * p), len(s) - 1)]
    return at(0.5), at(0.99)


def tantivy_cli():
    exe = os.path.join(TCLI_ROOT, "bin", "tantivy")
    if not os.path.exists(exe):
        print("installing tantivy-cli 0.24.0 (once) ...", file=sys.stderr)
        subprocess.run(["cargo", "install", "--quiet", "tantivy-cli", "--version", "0.24.0",
                        "--root", TCLI_ROOT], check=True)
    return exe


def tantivy_bench(tcli, index, plain, n_queries, rounds):
    """tantivy-cli's p50 and p99 (ms) over `rounds` rounds of the plain queries, after one more
    that warms up. It times the search (top 10 + count) and the fetch of the 10 stored documents
    apart; skillmap's figure includes fetching and highlighting, so the two are added."""
    out = subprocess.run([tcli, "bench", "-i", index, "-q", plain, "-n", str(rounds + 1)],
                         capture_output=True, text=True, check=True)
    search_part, fetch_part = out.stdout.split("SEARCH", 1)[1].split("FETCH STORE", 1)
    search_t = [int(l.rsplit("\t", 1)[1]) / 1000 for l in search_part.splitlines()
                if l.count("\t") == 2 and l.rsplit("\t", 1)[1].isdigit()]
    fetch_t = [int(l.rsplit("\t", 1)[1]) / 1000 for l in fetch_part.splitlines()
               if l.count("\t") == 1 and l.rsplit("\t", 1)[1].isdigit()]
    return percentiles([s + f for s, f in zip(search_t, fetch_t)][n_queries:])


def tantivy_meta(path):
    raw = lambda n: {"name": n, "type": "text", "options": {"indexing": {"record": "basic",
                     "fieldnorms": False, "tokenizer": "raw"}, "stored": True, "fast": False}}
    prose = lambda n: {"name": n, "type": "text", "options": {"indexing": {"record": "position",
                       "fieldnorms": True, "tokenizer": "en_stem"}, "stored": True, "fast": False}}
    meta = {"index_settings": {"docstore_compression": "lz4", "docstore_blocksize": 16384},
            "segments": [], "opstamp": 0,
            "schema": [raw("id"), raw("soc"), prose("title"), raw("level"),
                       {"name": "level_ord", "type": "u64", "options": {"indexed": False,
                        "fieldnorms": False, "fast": True, "stored": True}},
                       prose("topic"), prose("text")]}
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "meta.json"), "w") as f:
        json.dump(meta, f)


FTS_LOAD = r'''
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE VIRTUAL TABLE s USING fts5(id UNINDEXED, soc UNINDEXED, title, level UNINDEXED, topic, text, tokenize='porter')")
with open(sys.argv[2]) as f:
    rows = ((d["id"], d["soc"], d["title"], d["level"], d["topic"], d["text"]) for d in map(json.loads, f))
    db.executemany("INSERT INTO s VALUES (?,?,?,?,?,?)", rows)
db.commit()
db.execute("INSERT INTO s(s) VALUES('optimize')")
db.commit()
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exports", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="skillmap-compare-")
    os.makedirs(work, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "skillmap", "--example", "querybench"],
                   cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--package", "xtask"], cwd=ROOT, check=True)
    tcli = tantivy_cli()
    queries_file = os.path.join(ROOT, "benches", "queries.txt")
    queries = [q for q in open(queries_file).read().splitlines() if q.strip()]
    plain = os.path.join(work, "queries-plain.txt")
    with open(plain, "w") as f:
        for q in queries:
            f.write(" ".join(words(q)) + "\n")

    corpus = os.path.join(work, "corpus")
    if not os.path.exists(os.path.join(corpus, "exports.jsonl")):
        subprocess.run([XTASK, "gen-corpus", "--exports", str(a.exports),
                        "--out", corpus, "--no-jsonl"], check=True, stderr=subprocess.DEVNULL)
    statements = a.exports * 40
    rows = {}

    # skillmap: nested exports, one file each.
    sm = os.path.join(work, "skillmap-index")
    shutil.rmtree(sm, ignore_errors=True)
    idx = run([SKILLMAP, "index", os.path.join(corpus, "exports"), "--index", sm,
               "--threads", str(a.threads), "--quiet", "--max-file-size", "64"])
    out = subprocess.run([QUERYBENCH, sm, queries_file, str(a.rounds)], capture_output=True, check=True)
    qb = json.loads(out.stdout)
    rows["skillmap"] = idx + (qb["p50_ms"], qb["p99_ms"], du(sm))

    flat = os.path.join(work, "statements.ndjson")
    with open(flat, "w") as f:
        subprocess.run([SKILLMAP, "export", "--index", sm], stdout=f, stderr=subprocess.DEVNULL, check=True)

    # tantivy-cli: flat JSON Lines, same threads.
    tc = os.path.join(work, "tantivy-cli-index")
    shutil.rmtree(tc, ignore_errors=True)
    tantivy_meta(tc)
    with open(flat) as f:
        idx = run([tcli, "index", "-i", tc, "-t", str(a.threads)], stdin=f)
    rows["tantivy-cli"] = idx + tantivy_bench(tcli, tc, plain, len(queries), a.rounds) + (du(tc),)

    # SQLite FTS5 (porter).
    db = os.path.join(work, "fts5.sqlite")
    if os.path.exists(db):
        os.remove(db)
    idx = run([sys.executable, "-c", FTS_LOAD, db, flat])
    con = sqlite3.connect(db)
    samples = []
    for r in range(a.rounds + 1):
        for q in queries:
            expr = " OR ".join(w if w.startswith('"') else f'"{w}"' for w in words(q))
            t = time.perf_counter()
            con.execute("SELECT id, text FROM s WHERE s MATCH ? ORDER BY rank LIMIT 10", (expr,)).fetchall()
            con.execute("SELECT count(*) FROM s WHERE s MATCH ?", (expr,)).fetchone()
            if r > 0:
                samples.append((time.perf_counter() - t) * 1e3)
    rows["SQLite FTS5"] = idx + percentiles(samples) + (du(db),)

    print(f"\n{statements:,} statements ({a.exports:,} exports), {a.threads} threads, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; query latency over "
          f"{a.rounds} rounds of {len(queries)} queries, top 10 + count\n")
    head = ["engine", "index wall s", "index CPU s", "peak RSS MB", "query p50 ms", "query p99 ms", "index MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    base = rows["skillmap"]
    for name, r in rows.items():
        cells = [name] + [f"{v:.3f} ({v / b:.2f}x)" if b else f"{v:.3f}" for v, b in zip(r, base)]
        print("| " + " | ".join(cells) + " |")
    print(f"\nwork dir: {work}")


if __name__ == "__main__":
    main()
