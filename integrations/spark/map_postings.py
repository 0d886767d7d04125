#!/usr/bin/env python3
"""Map job postings to occupations and levels on Apache Spark, with `skillmap map --batch`.

Each partition is piped through the skillmap binary (one process per partition, reading JSON
Lines on stdin and writing one answer per line, in order). The index and the binary are shipped
to the executors with Spark's own file distribution (`SparkContext.addArchive` / `addFile`), so a
cluster without a shared disk works. One row per posting comes out:

    id, soc, title, level, confidence, uncertain, matches (JSON text), error

A posting skillmap cannot map (empty text, malformed record) becomes a row with `error` set; a
partition whose skillmap process fails (a non-zero exit other than 2, or fewer answers than
postings) fails the job with skillmap's stderr. Input and output rows are counted, and the job
fails unless they are equal.

Local mode (the default master when not run by spark-submit is local[2]):

    python3 integrations/spark/map_postings.py --index index \\
        --input data/eval/dev.jsonl --output out/
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import uuid
from typing import Iterable, Iterator

# The archive name the index is shipped under (with a per-run tag, so that two runs in one
# Spark application never see each other's index); executors find it with SparkFiles.get.
INDEX_ARCHIVE = "skillmap-index-{tag}.tar.gz"
# The exit status skillmap gives when some lines were bad (they have error answers).
SOME_LINES_BAD = 2

OUTPUT_FIELDS = ["id", "soc", "title", "level", "confidence", "uncertain", "matches", "error"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", required=True, help="JSON Lines or Parquet (file or folder)")
    p.add_argument("--index", required=True, help="skillmap index folder")
    p.add_argument("--output", required=True, help="output folder")
    p.add_argument("--format", choices=["parquet", "jsonl"], default="parquet")
    p.add_argument("--input-format", choices=["auto", "jsonl", "parquet"], default="auto",
                   help="auto: Parquet when the path ends in .parquet or holds .parquet files")
    p.add_argument("--top", type=int, default=5, help="matches per posting (1-50)")
    p.add_argument("--skillmap", default=None,
                   help="skillmap binary (default: target/release/skillmap, then PATH)")
    p.add_argument("--id-col", default="id")
    p.add_argument("--text-col", default="text")
    p.add_argument("--title-col", default="title", help="optional column; absent is fine")
    p.add_argument("--partitions", type=int, default=None, help="repartition the input first")
    p.add_argument("--threads", type=int, default=1,
                   help="skillmap threads per partition (Spark's cores do the parallelism)")
    p.add_argument("--master", default=None,
                   help="Spark master when not given by spark-submit (default local[2])")
    args = p.parse_args(argv)
    if not 1 <= args.top <= 50:
        p.error("--top must be 1 to 50")
    if not os.path.isdir(args.index):
        p.error(f"--index {args.index}: not a folder (build one with `skillmap index`)")
    args.skillmap = find_binary(args.skillmap, p)
    return args


def find_binary(given: str | None, p: argparse.ArgumentParser) -> str:
    if given:
        if not os.path.isfile(given):
            p.error(f"--skillmap {given}: no such file")
        return os.path.abspath(given)
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "..", "target", "release", "skillmap")
    if os.path.isfile(built):
        return os.path.abspath(built)
    found = shutil.which("skillmap")
    if not found:
        p.error("no skillmap binary: build it (cargo build --release) or pass --skillmap")
    return found


def pack_index(index: str, into: str, name: str) -> str:
    """The index folder as a .tar.gz whose top level is the index's files."""
    path = os.path.join(into, name)
    with tarfile.open(path, "w:gz") as tar:
        for name in sorted(os.listdir(index)):
            tar.add(os.path.join(index, name), arcname=name)
    return path


def batch_line(row_id, text, title) -> str:
    line = {"id": row_id, "text": text if text is not None else ""}
    if title is not None:
        line["title"] = title
    return json.dumps(line)


def output_row(row_id, answer: dict | None, error: str | None) -> tuple:
    if error is not None or answer is None:
        return (none_or_str(row_id), None, None, None, None, None, None, error or "no answer")
    matches = answer.get("matches") or []
    top = matches[0] if matches else {}
    return (
        none_or_str(row_id),
        top.get("soc"),
        top.get("title"),
        top.get("level"),
        float(top["confidence"]) if "confidence" in top else None,
        bool(answer.get("uncertain", False)),
        json.dumps(matches),
        None,
    )


def none_or_str(v):
    return None if v is None else str(v)


def run_skillmap(binary: str, index: str, top: int, threads: int,
                 lines: list[str]) -> list[dict]:
    """Pipes `lines` through `skillmap map --batch -`; one parsed answer per line, in order.
    Raises RuntimeError with skillmap's stderr when it fails or answers short."""
    cmd = [binary, "map", "--batch", "-", "--index", index, "--top", str(top),
           "--threads", str(threads), "--quiet"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    err_chunks: list[bytes] = []
    # stdin is fed and stderr drained on threads, so neither pipe can fill up and deadlock.
    def feed():
        try:
            for line in lines:
                proc.stdin.write(line.encode("utf-8") + b"\n")
        except BrokenPipeError:
            pass
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass

    def drain():
        err_chunks.append(proc.stderr.read())

    threads_ = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for t in threads_:
        t.start()
    answers = [json.loads(l) for l in proc.stdout if l.strip()]
    for t in threads_:
        t.join()
    code = proc.wait()
    stderr = b"".join(err_chunks).decode("utf-8", "replace").strip()
    if code not in (0, SOME_LINES_BAD) or len(answers) != len(lines):
        raise RuntimeError(
            f"skillmap failed on a partition of {len(lines)} postings "
            f"(exit status {code}, {len(answers)} answers): {stderr or 'no message'}")
    return answers


def map_partition(rows: Iterable, binary_name: str, index_name: str, top: int, threads: int,
                  has_title: bool) -> Iterator[tuple]:
    from pyspark import SparkFiles

    binary = SparkFiles.get(binary_name)
    mode = os.stat(binary).st_mode
    if not mode & stat.S_IXUSR:
        os.chmod(binary, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    index = SparkFiles.get(index_name)
    sent, ids, out = [], [], []
    for r in rows:
        corrupt = r["_corrupt_record"] if "_corrupt_record" in r else None
        if corrupt is not None:
            out.append((len(ids), f"malformed input record: {corrupt[:200]}"))
            ids.append(None)
            continue
        ids.append(r["id"])
        sent.append((len(ids) - 1,
                     batch_line(r["id"], r["text"], r["title"] if has_title else None)))
    answers = run_skillmap(binary, index, top, threads, [l for _, l in sent]) if sent else []
    result: list[tuple | None] = [None] * len(ids)
    for (pos, _), answer in zip(sent, answers):
        if "error" in answer:
            result[pos] = output_row(ids[pos], None, answer["error"])
        else:
            result[pos] = output_row(ids[pos], answer, None)
    for pos, error in out:
        result[pos] = output_row(None, None, error)
    yield from result


def read_input(spark, args):
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    fmt = args.input_format
    if fmt == "auto":
        p = args.input.rstrip("/")
        is_parquet = p.endswith(".parquet") or (
            os.path.isdir(p) and any(n.endswith(".parquet") for n in os.listdir(p)))
        fmt = "parquet" if is_parquet else "jsonl"
    if fmt == "parquet":
        df = spark.read.parquet(args.input)
        df = df.withColumn("_corrupt_record", F.lit(None).cast(StringType()))
    else:
        cols = {args.id_col, args.text_col, args.title_col}
        schema = StructType([StructField(c, StringType()) for c in sorted(cols)]
                            + [StructField("_corrupt_record", StringType())])
        df = (spark.read.schema(schema)
              .option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", "_corrupt_record")
              .json(args.input))
    for col in (args.id_col, args.text_col):
        if col not in df.columns:
            raise SystemExit(f"map_postings: the input has no column {col!r} "
                             f"(columns: {', '.join(df.columns)}); see --id-col/--text-col")
    has_title = args.title_col in df.columns
    df = df.select(
        F.col(args.id_col).cast(StringType()).alias("id"),
        F.col(args.text_col).cast(StringType()).alias("text"),
        (F.col(args.title_col).cast(StringType()) if has_title
         else F.lit(None).cast(StringType())).alias("title"),
        F.col("_corrupt_record"),
    )
    return df, has_title


def run(spark, args) -> dict:
    """Maps the input and writes the output; returns the row counts."""
    from pyspark.sql.types import (BooleanType, DoubleType, StringType, StructField,
                                   StructType)

    sc = spark.sparkContext
    tmp = tempfile.mkdtemp(prefix="skillmap-spark-")
    try:
        index_name = INDEX_ARCHIVE.format(tag=uuid.uuid4().hex[:12])
        sc.addArchive(pack_index(args.index, tmp, index_name))
        sc.addFile(args.skillmap)
        df, has_title = read_input(spark, args)
        df = df.cache()
        n_in = df.count()
        # At least one partition per core, so that every core maps (a small file is one).
        partitions = args.partitions or max(df.rdd.getNumPartitions(), sc.defaultParallelism)
        if partitions != df.rdd.getNumPartitions():
            df = df.repartition(partitions)
        binary_name = os.path.basename(args.skillmap)
        top, threads = args.top, args.threads
        rdd = df.rdd.mapPartitions(
            lambda rows: map_partition(rows, binary_name, index_name, top, threads, has_title))
        schema = StructType([
            StructField("id", StringType()), StructField("soc", StringType()),
            StructField("title", StringType()), StructField("level", StringType()),
            StructField("confidence", DoubleType()), StructField("uncertain", BooleanType()),
            StructField("matches", StringType()), StructField("error", StringType()),
        ])
        out = spark.createDataFrame(rdd, schema).cache()
        n_out = out.count()
        if n_out != n_in:
            raise RuntimeError(f"{n_in} postings in but {n_out} rows out: refusing to write")
        writer = out.write.mode("overwrite")
        if args.format == "parquet":
            writer.parquet(args.output)
        else:
            writer.json(args.output)
        n_err = out.filter(out.error.isNotNull()).count()
        df.unpersist()
        out.unpersist()
        return {"input": n_in, "output": n_out, "errors": n_err}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def session(master: str | None):
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName("skillmap-map-postings")
    if master:
        b = b.master(master)
    elif "spark.master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", "") and \
            not os.environ.get("SPARK_ENV_LOADED"):
        b = b.master("local[2]")
    return b.getOrCreate()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spark = session(args.master)
    spark.sparkContext.setLogLevel("WARN")
    try:
        counts = run(spark, args)
    finally:
        spark.stop()
    print(f"mapped {counts['input']} postings into {args.output} "
          f"({counts['errors']} with an error)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
