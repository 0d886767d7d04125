#!/usr/bin/env python3
"""Plain BM25 over the statement text alone, as a TREC run: the baseline of `skillmap eval-search`.

    skillmap export | python3 benches/relevance_bm25.py data/relevance/queries.tsv [--and] > bm25.run
    skillmap eval-search data/relevance/queries.tsv data/relevance/qrels.txt --run bm25.run

SQLite FTS5 (Python's sqlite3; porter stemmer over unicode61) indexes each exported statement's
text once, nothing else: no topic counted again, no title, no tiers. A query is the OR of its
words (plain BM25: every word adds its own score); with --and every word is required, FTS5's
default. Each query's best 100 statements are written as `query_id Q0 statement_id rank score
bm25`. Words are FTS5 barewords, so punctuation in a query is never syntax.
"""
import json, re, sqlite3, sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    conj = " AND " if "--and" in sys.argv else " OR "
    if len(args) != 1:
        sys.exit(__doc__)
    db = sqlite3.connect(":memory:")
    db.execute("create virtual table s using fts5(id unindexed, text, tokenize='porter unicode61')")
    rows = (json.loads(line) for line in sys.stdin if line.strip())
    db.executemany("insert into s(id, text) values (?, ?)", ((r["id"], r["text"]) for r in rows))
    for line in open(args[0], encoding="utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        qid, query = line.rstrip("\n").split("\t", 1)
        words = re.findall(r"\w+", query.lower())
        if not words:
            continue
        match = conj.join('"%s"' % w for w in words)
        hits = db.execute(
            "select id, bm25(s) from s where s match ? order by bm25(s), id limit 100", (match,)
        ).fetchall()
        for rank, (sid, score) in enumerate(hits, 1):
            print(f"{qid} Q0 {sid} {rank} {-score:.6f} bm25")


if __name__ == "__main__":
    main()
