#!/usr/bin/env python3
"""Plain BM25 over the statement text alone, as a TREC run: the baseline of `skillmap eval-search`.

    skillmap export | python3 benches/relevance_bm25.py data/relevance/queries.tsv [--and] > bm25.run
    skillmap eval-search data/relevance/queries.tsv data/relevance/qrels.txt --run bm25.run

    skillmap export | python3 benches/relevance_bm25.py QUERIES --by-occupation [--rollup N] > occ.run
    skillmap eval-search QUERIES data/relevance/occupation-qrels.txt --by-occupation --run occ.run

SQLite FTS5 (Python's sqlite3; porter stemmer over unicode61) indexes each exported statement's
text once, nothing else: no topic counted again, no title, no tiers. A query is the OR of its
words (plain BM25: every word adds its own score); with --and every word is required, FTS5's
default. Each query's best 100 statements are written as `query_id Q0 statement_id rank score
bm25`. Words are FTS5 barewords, so punctuation in a query is never syntax.

With --by-occupation the run ranks occupations (O*NET-SOC codes) instead: the BM25 roll-up,
each occupation scored by the sum of its best N matching statements' scores (N = 3 unless
--rollup N says otherwise; 0 sums them all), over every match, ties to the lower code. With
--documents as well, each occupation is instead one FTS5 document holding all its statements'
texts, ranked by its own BM25.
"""
import json, re, sqlite3, sys


def main():
    argv = sys.argv[1:]
    rollup = None
    if "--by-occupation" in argv:
        rollup = 3
        if "--rollup" in argv:
            at = argv.index("--rollup")
            rollup = int(argv[at + 1])
            del argv[at : at + 2]
    args = [a for a in argv if not a.startswith("--")]
    conj = " AND " if "--and" in sys.argv else " OR "
    if len(args) != 1:
        sys.exit(__doc__)
    db = sqlite3.connect(":memory:")
    db.execute(
        "create virtual table s using fts5(id unindexed, soc unindexed, text, tokenize='porter unicode61')"
    )
    rows = (json.loads(line) for line in sys.stdin if line.strip())
    if "--documents" in argv:
        docs = {}
        for r in rows:
            docs.setdefault(r["soc"], []).append(r["text"])
        rows = ({"id": soc, "soc": soc, "text": "\n".join(t)} for soc, t in docs.items())
    db.executemany(
        "insert into s(id, soc, text) values (?, ?, ?)",
        ((r["id"], r["soc"], r["text"]) for r in rows),
    )
    for line in open(args[0], encoding="utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        qid, query = line.rstrip("\n").split("\t", 1)
        words = re.findall(r"\w+", query.lower())
        if not words:
            continue
        match = conj.join('"%s"' % w for w in words)
        if rollup is not None and "--documents" in argv:
            hits = db.execute(
                "select soc, bm25(s) from s where s match ? order by bm25(s), soc limit 100", (match,)
            ).fetchall()
            for rank, (soc, score) in enumerate(hits, 1):
                print(f"{qid} Q0 {soc} {rank} {-score:.6f} bm25-documents")
            continue
        if rollup is not None:
            by_soc = {}
            for soc, score in db.execute("select soc, -bm25(s) from s where s match ?", (match,)):
                by_soc.setdefault(soc, []).append(score)
            ranked = sorted(
                ((sum(sorted(v, reverse=True)[: rollup or None]), soc) for soc, v in by_soc.items()),
                key=lambda p: (-p[0], p[1]),
            )
            for rank, (score, soc) in enumerate(ranked[:100], 1):
                print(f"{qid} Q0 {soc} {rank} {score:.6f} bm25-best{rollup}")
            continue
        hits = db.execute(
            "select id, bm25(s) from s where s match ? order by bm25(s), id limit 100", (match,)
        ).fetchall()
        for rank, (sid, score) in enumerate(hits, 1):
            print(f"{qid} Q0 {sid} {rank} {-score:.6f} bm25")


if __name__ == "__main__":
    main()
