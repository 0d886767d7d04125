"""How much of the transformer the static table keeps, measured on map's held-out splits.

Run by `cargo xtask semantic-reference` (after `cargo xtask dump-candidates` has written each
split's top-50 candidates under map's lexical features alone). For each line:

    semantic(occ) = 1/2 x mean of the 3 best cosines (posting, occupation's statements)
                  + 1/2 x best cosine (posting title, or the posting when it has none,
                                       occupation's titles but the hidden ones)
    score(occ)    = a x lexical score scaled to 0..1 over the 50 + (1 - a) x semantic(occ)

once with the full transformer (all-MiniLM-L6-v2, numpy forward pass) and once with the static
table (models/), `a` chosen on the dev split by top-1, reported on the test split. The same
re-ranking for both, so the difference is the distillation's loss alone.
"""

import argparse
import glob
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from distill import Transformer  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def identity(title):
    out, word = [], []
    for c in title:
        if c.isalnum():
            word.append(c.lower())
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return " ".join(out)


class Static:
    def __init__(self, models):
        b = open(os.path.join(models, "minilm-static.bin"), "rb").read()
        body = b[40:]
        n, d = struct.unpack("<II", body[:8])
        scales = np.frombuffer(body[8 : 8 + 4 * n], "<f4")
        q = np.frombuffer(body[8 + 4 * n :], np.int8).reshape(n, d)
        self.rows = q.astype(np.float32) * scales[:, None]
        self.tok = Tokenizer.from_file(os.path.join(models, "tokenizer.json"))

    def encode(self, texts):
        out = np.zeros((len(texts), self.rows.shape[1]), np.float32)
        for i, enc in enumerate(self.tok.encode_batch(texts, add_special_tokens=False)):
            if enc.ids:
                v = self.rows[enc.ids].sum(0)
                n = np.linalg.norm(v)
                out[i] = v / n if n > 0 else v
        return out


def occupations(frameworks):
    occ = {}
    for path in sorted(glob.glob(os.path.join(frameworks, "*.json"))):
        doc = json.load(open(path, encoding="utf-8"))
        o = doc["occupation"]
        stmts = [s for lv in doc["framework"]["levels"].values() for s in lv["statements"]]
        occ[o["soc"]] = {"title": o["title"], "titles": [o["title"]] + o.get("alternateTitles", []), "statements": stmts}
    return occ


def load(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--frameworks", required=True)
    ap.add_argument("--candidates", required=True, help="folder with dev.jsonl, test.jsonl, dev-titles.jsonl, test-titles.jsonl")
    args = ap.parse_args()

    occ = occupations(args.frameworks)
    splits = {name: load(os.path.join(args.candidates, name + ".jsonl")) for name in ("dev", "test", "dev-titles", "test-titles")}
    stmt_texts = sorted({s for o in occ.values() for s in o["statements"]})
    title_texts = sorted({t for o in occ.values() for t in o["titles"]})
    query_texts = sorted({(l.get("title") or "") + "\n" + l["text"] for ls in splits.values() for l in ls} | {l["title"] for ls in splits.values() for l in ls if l.get("title")})

    encoders = {"static": Static(args.models), "transformer": Transformer(args.model)}
    results = {}
    for name, enc in encoders.items():
        print(f"embedding with the {name}: {len(stmt_texts)} statements, {len(title_texts)} titles, {len(query_texts)} lines", file=sys.stderr)
        sv = dict(zip(stmt_texts, enc.encode(stmt_texts)))
        tv = dict(zip(title_texts, enc.encode(title_texts)))
        qv = dict(zip(query_texts, enc.encode(query_texts)))
        occ_s = {soc: np.stack([sv[s] for s in o["statements"]]) for soc, o in occ.items()}
        for split, lines in splits.items():
            hidden = {identity(l["unseen_title"]) for l in lines if l.get("unseen_title")}
            occ_t = {}
            for soc, o in occ.items():
                kept = [t for t in o["titles"] if identity(t) not in hidden]
                occ_t[soc] = np.stack([tv[t] for t in kept]) if kept else np.zeros((1, next(iter(tv.values())).shape[0]), np.float32)
            rows = []
            for l in lines:
                p = qv[(l.get("title") or "") + "\n" + l["text"]]
                t = qv[l["title"]] if l.get("title") else p
                socs = [c[0] for c in l["candidates"]]
                lex = np.array([c[1] for c in l["candidates"]], np.float64)
                lex = (lex - lex.min()) / max(lex.max() - lex.min(), 1e-9)
                sem = []
                for soc in socs:
                    s = np.sort(occ_s[soc] @ p)[::-1][:3].mean()
                    sem.append(0.5 * s + 0.5 * float((occ_t[soc] @ t).max()))
                rows.append((l["kind"], l["soc"], socs, lex, np.array(sem)))
            results[(name, split)] = rows

    def measure(rows, a):
        by = {}
        for kind, truth, socs, lex, sem in rows:
            order = np.argsort(-(a * lex + (1 - a) * sem), kind="stable")
            ranked = [socs[i] for i in order]
            k = by.setdefault(kind, [0, 0, 0])
            k[0] += ranked[0] == truth
            k[1] += truth in ranked[:5]
            k[2] += 1
        return by

    grid = [round(x, 2) for x in np.arange(0, 1.01, 0.1)]
    print("\n| split | kind | lines | map's lexical features alone | + static table | + transformer |")
    print("|---|---|---|---|---|---|")
    for dev, test in (("dev", "test"), ("dev-titles", "test-titles")):
        chosen = {}
        for name in encoders:
            best = max(grid, key=lambda a: (sum(v[0] for v in measure(results[(name, dev)], a).values()), a))
            chosen[name] = best
        base = measure(results[("static", test)], 1.0)
        s = measure(results[("static", test)], chosen["static"])
        f = measure(results[("transformer", test)], chosen["transformer"])
        for kind in sorted(base):
            n = base[kind][2]
            cell = lambda m: f"{100 * m[kind][0] / n:.1f} / {100 * m[kind][1] / n:.1f}"
            print(f"| {test} | {kind} | {n} | {cell(base)} | {cell(s)} | {cell(f)} |")
        print(f"(a chosen on {dev}: static {chosen['static']}, transformer {chosen['transformer']}; top-1 / top-5, O*NET-SOC)")


if __name__ == "__main__":
    main()
