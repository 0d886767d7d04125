#!/usr/bin/env python3
"""Pools the top statements of several TREC runs for judging, blind to which run found them.

    skillmap export > flat.jsonl
    python3 benches/relevance_pool.py flat.jsonl DEPTH RUN... > pool.tsv

Writes `query_id<TAB>statement_id<TAB>statement` for every statement that any run ranks in its
top DEPTH for a query, each once, sorted by query and statement id (never by run or rank), so the
assessor cannot tell which ranking returned it. Statements already graded in
data/relevance/qrels.txt are left out, so that a new ranker's pool adds only what is unjudged.
"""
import json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    flat, depth, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    text = {}
    for line in open(flat, encoding="utf-8"):
        r = json.loads(line)
        text[r["id"]] = r["text"]
    judged = set()
    qrels = os.path.join(ROOT, "data", "relevance", "qrels.txt")
    if os.path.exists(qrels):
        for line in open(qrels):
            q, _, sid, _ = line.split()
            judged.add((q, sid))
    pool = set()
    for run in runs:
        for line in open(run):
            q, _, sid, rank = line.split()[:4]
            if int(rank) <= depth and (q, sid) not in judged:
                pool.add((q, sid))
    for q, sid in sorted(pool):
        print(f"{q}\t{sid}\t{text[sid]}")


if __name__ == "__main__":
    main()
