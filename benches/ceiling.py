#!/usr/bin/env python3
"""How far bag-of-words classifiers get on the mapping dev set, next to `skillmap map`.

Trains tf-idf classifiers (nearest centroid, logistic regression, linear SVM) on the bundled
collection's statements and descriptions (data/frameworks/, one label per occupation), maps the
postings of a labelled file with them and with `skillmap map --batch`, and prints top-1, top-5
and major-group top-1 for postings with a title line and for those made only of task statements.

    pip install scikit-learn
    cargo build --release && python3 benches/ceiling.py data/eval/dev.jsonl
"""
import glob
import json
import re
import subprocess
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

SUFFIXES = ["ations", "ation", "ings", "ing", "ies", "ers", "er", "es", "s", "ed"]


def stem(w):
    for suf in SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            return w[: -len(suf)]
    return w


def analyse(text):
    return [stem(w) for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2]


def titled(text):
    first = text.split("\n")[0]
    return "\n\n" in text and not first.endswith((".", ":")) and "Responsibilities" not in first


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "data/eval/dev.jsonl"
    docs, labels = [], []
    for p in sorted(glob.glob("data/frameworks/*.json")):
        d = json.load(open(p))
        soc = d["occupation"]["soc"]
        for level in d["framework"]["levels"].values():
            for s in level["statements"]:
                docs.append(s)
                labels.append(soc)
        docs.append(d["framework"].get("contextCovered", ""))
        labels.append(soc)
    rows = [json.loads(l) for l in open(path)]
    gold = [r["soc"] for r in rows]
    has_title = [titled(r["text"]) for r in rows]

    vec = TfidfVectorizer(analyzer=analyse, sublinear_tf=True)
    x = vec.fit_transform(docs)
    q = vec.transform([r["text"] for r in rows])

    def ranked_from_scores(scores, classes):
        return [[classes[j] for j in np.argsort(-scores[i])[:5]] for i in range(scores.shape[0])]

    results = {}
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    member = sp.csr_matrix(
        (np.ones(len(labels)), ([index[l] for l in labels], range(len(labels)))),
        shape=(len(classes), len(labels)),
    )
    centroids = normalize(member @ x)
    results["tf-idf centroid"] = ranked_from_scores((normalize(q) @ centroids.T).toarray(), classes)
    lr = LogisticRegression(C=20, max_iter=300).fit(x, labels)
    results["logistic regression"] = ranked_from_scores(lr.predict_log_proba(q), list(lr.classes_))
    svm = LinearSVC(C=0.1).fit(x, labels)
    results["linear SVM"] = ranked_from_scores(svm.decision_function(q), list(svm.classes_))

    out = subprocess.run(
        ["target/release/skillmap", "map", "--batch", path, "--top", "5", "--quiet"],
        check=True, capture_output=True, text=True,
    ).stdout
    results["skillmap map"] = [[m["soc"] for m in json.loads(l)["matches"]] for l in out.splitlines()]

    print(f"{path}: {len(rows)} postings, {sum(has_title)} with a title line")
    print(f"{'':22} {'content only (top-1 / top-5 / major)':>38} {'all (top-1 / top-5 / major)':>32}")
    for name, ranked in results.items():
        cells = []
        for subset in (lambda i: not has_title[i], lambda i: True):
            idx = [i for i in range(len(rows)) if subset(i)]
            top1 = np.mean([ranked[i][:1] == [gold[i]] for i in idx]) * 100
            top5 = np.mean([gold[i] in ranked[i][:5] for i in idx]) * 100
            major = np.mean([bool(ranked[i]) and ranked[i][0][:2] == gold[i][:2] for i in idx]) * 100
            cells.append(f"{top1:5.1f}% / {top5:5.1f}% / {major:5.1f}%")
        print(f"{name:22} {cells[0]:>38} {cells[1]:>32}")


if __name__ == "__main__":
    main()
