#!/usr/bin/env python3
"""Pools the top statements of several TREC runs for judging, blind to which run found them.

    skillmap export > flat.jsonl
    python3 benches/relevance_pool.py flat.jsonl DEPTH RUN... > pool.tsv

Writes `query_id<TAB>statement_id<TAB>statement` for every statement that any run ranks in its
top DEPTH for a query, each once, sorted by query and statement id (never by run or rank), so the
assessor cannot tell which ranking returned it. Statements already graded in
data/relevance/qrels.txt are left out, so that a new ranker's pool adds only what is unjudged.

    python3 benches/relevance_pool.py flat.jsonl DEPTH --by-occupation RUN... > pool.tsv

pools occupation runs (`eval-search --by-occupation --write-run`, `relevance_bm25.py
--by-occupation`) instead: `query_id<TAB>soc<TAB>title: O*NET description`, leaving out what
data/relevance/occupation-qrels.txt grades.
"""
import json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    flat, depth, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    occupations = "--by-occupation" in runs
    runs = [r for r in runs if r != "--by-occupation"]
    text = {}
    for line in open(flat, encoding="utf-8"):
        r = json.loads(line)
        if occupations:
            text[r["soc"]] = r["title"]
        else:
            text[r["id"]] = r["text"]
    if occupations:
        described = os.path.join(ROOT, "data", "source", "onet", "occupations.tsv")
        for line in open(described, encoding="utf-8"):
            soc, title, description = line.rstrip("\n").split("\t", 2)
            if soc in text:
                text[soc] = f"{text[soc]}: {description}"
    judged = set()
    name = "occupation-qrels.txt" if occupations else "qrels.txt"
    qrels = os.path.join(ROOT, "data", "relevance", name)
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
