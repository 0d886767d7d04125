"""Tests of the Spark job in local mode, against the real skillmap binary and a real index of
the bundled collection. Run by integrations/spark/run-tests.sh (which sets up pyspark and
Java), or directly with `python -m unittest` from this folder once they are there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import map_postings  # noqa: E402

BINARY = os.environ.get("SKILLMAP_BIN", os.path.join(REPO, "target", "release", "skillmap"))
DEV = os.path.join(REPO, "data", "eval", "dev.jsonl")


def read_rows(spark, path: str, fmt: str) -> dict:
    df = spark.read.parquet(path) if fmt == "parquet" else spark.read.json(path)
    return {r["id"]: r.asDict() for r in df.collect()}


class SparkJob(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.index = os.path.join(cls.tmp.name, "index")
        subprocess.run([BINARY, "index", os.path.join(REPO, "data"), "--index", cls.index,
                        "--quiet"], check=True, capture_output=True)
        cls.spark = map_postings.session("local[2]")
        cls.spark.sparkContext.setLogLevel("ERROR")

    @classmethod
    def tearDownClass(cls):
        cls.spark.stop()
        cls.tmp.cleanup()

    def path(self, name: str) -> str:
        return os.path.join(self.tmp.name, name)

    def job(self, *extra: str) -> dict:
        args = map_postings.parse_args(["--index", self.index, "--skillmap", BINARY, *extra])
        return map_postings.run(self.spark, args)

    def test_every_id_comes_back_with_the_top_soc_of_a_direct_batch(self):
        counts = self.job("--input", DEV, "--output", self.path("dev-out"))
        with open(DEV) as f:
            ids = [json.loads(l)["id"] for l in f if l.strip()]
        self.assertEqual(counts, {"input": len(ids), "output": len(ids), "errors": 0})
        rows = read_rows(self.spark, self.path("dev-out"), "parquet")
        self.assertEqual(sorted(rows), sorted(ids))
        direct = subprocess.run(
            [BINARY, "map", "--batch", DEV, "--index", self.index, "--quiet"],
            check=True, capture_output=True, text=True).stdout
        expected = {}
        for line in direct.splitlines():
            a = json.loads(line)
            expected[a["id"]] = a["matches"][0]["soc"]
        self.assertEqual({i: r["soc"] for i, r in rows.items()}, expected)
        some = rows[ids[0]]
        self.assertIsNone(some["error"])
        self.assertTrue(0.0 <= some["confidence"] <= 1.0)
        self.assertEqual(json.loads(some["matches"])[0]["soc"], some["soc"])
        self.assertIn(some["level"], ["emerging", "developing", "proficient", "advanced"])

    def test_bad_postings_become_error_rows_and_the_rest_are_mapped(self):
        src = self.path("bad.jsonl")
        with open(src, "w") as f:
            f.write(json.dumps({"id": "good", "text": "Weld steel beams; read blueprints."}) + "\n")
            f.write(json.dumps({"id": "empty", "text": "   "}) + "\n")
            f.write(json.dumps({"id": "no-text"}) + "\n")
            f.write('{"id": "broken", "text": \n')
            f.write(json.dumps({"id": 7, "text": "", "title": "Registered Nurse"}) + "\n")
        counts = self.job("--input", src, "--output", self.path("bad-out"), "--format", "jsonl")
        self.assertEqual(counts, {"input": 5, "output": 5, "errors": 3})
        rows = read_rows(self.spark, self.path("bad-out"), "jsonl")
        self.assertIsNone(rows["good"].get("error"))
        self.assertTrue(rows["good"]["soc"])
        self.assertIn("nothing to map", rows["empty"]["error"])
        self.assertIn("nothing to map", rows["no-text"]["error"])
        self.assertIn("malformed input record", rows[None]["error"])
        self.assertEqual(rows["7"]["soc"], "29-1141.00", "a title alone, a numeric id")

    def test_parquet_input_with_other_column_names(self):
        src = self.path("in.parquet")
        self.spark.createDataFrame(
            [("p1", "Registered Nurse", "Assess patients and give medication."),
             ("p2", "Welder", "Weld steel parts.")],
            ["posting_id", "job_title", "body"]).write.mode("overwrite").parquet(src)
        counts = self.job("--input", src, "--output", self.path("pq-out"), "--id-col",
                          "posting_id", "--text-col", "body", "--title-col", "job_title",
                          "--top", "2")
        self.assertEqual(counts["output"], 2)
        rows = read_rows(self.spark, self.path("pq-out"), "parquet")
        self.assertEqual(rows["p1"]["soc"], "29-1141.00")
        self.assertEqual(len(json.loads(rows["p2"]["matches"])), 2)
        with self.assertRaises(SystemExit):
            self.job("--input", src, "--output", self.path("x"), "--id-col", "nope")

    def failure_of(self, name: str, script: str) -> str:
        """Runs the job over the dev postings with a fake skillmap binary (a shell script) and
        returns the error it fails with."""
        fake = self.path(name)
        with open(fake, "w") as f:
            f.write("#!/bin/sh\n" + script)
        os.chmod(fake, 0o755)
        out = self.path(name + "-out")
        args = map_postings.parse_args(["--index", self.index, "--skillmap", fake,
                                        "--input", DEV, "--output", out])
        with self.assertRaises(Exception) as caught:
            map_postings.run(self.spark, args)
        self.assertFalse(os.path.exists(os.path.join(out, "_SUCCESS")), "nothing written")
        return str(caught.exception)

    def test_a_failing_binary_fails_the_job_with_its_stderr(self):
        error = self.failure_of(
            "failing", "cat > /dev/null\necho 'index is corrupt: boom' >&2\nexit 3\n")
        self.assertIn("index is corrupt: boom", error)
        self.assertIn("exit status 3", error)

    def test_short_answers_fail_the_job(self):
        error = self.failure_of(
            "short", "head -n 1 > /dev/null\necho '{\"id\":\"x\",\"matches\":[]}'\n")
        self.assertIn("1 answers", error)


if __name__ == "__main__":
    unittest.main()
