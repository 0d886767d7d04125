//! Test helpers: a temp dir per test, fixture copies, and running the real binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A fixture path below `tests/fixtures`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The bundled collection.
pub fn bundled_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// One index of the bundled collection, shared by the tests that need all occupations.
pub fn bundled() -> &'static TestEnv {
    static ENV: std::sync::OnceLock<TestEnv> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let env = TestEnv::new();
        let data = bundled_data();
        let (code, report) = env.index_json(&[data.to_str().unwrap()]);
        assert_eq!(code, 0, "{report}");
        env
    })
}

/// A temporary working directory where the binary runs.
pub struct TestEnv {
    pub dir: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The index folder tests use: `<tmp>/idx`.
    pub fn index(&self) -> PathBuf {
        self.path("idx")
    }

    /// Copies a fixture file or folder into the temp dir under `to`.
    pub fn copy(&self, fixture_rel: &str, to: &str) -> PathBuf {
        let src = fixture(fixture_rel);
        let dst = self.path(to);
        copy_tree(&src, &dst);
        dst
    }

    /// Writes a file (creating folders).
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// A command for the binary, run in the temp dir with no index from the environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_skillmap"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("SKILLMAP_INDEX")
            .env_remove("RUST_BACKTRACE")
            .env("NO_COLOR", "1");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run skillmap")
    }

    /// Runs `skillmap index PATHS --index idx --format json` and returns (exit code, report).
    pub fn index_json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let idx = self.index();
        let mut all = vec![
            "index",
            "--index",
            idx.to_str().unwrap(),
            "--format",
            "json",
        ];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "index output is not JSON ({e}): stdout {} stderr {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), report)
    }

    /// Runs a read command against `idx` with `--format json`, returning (code, stdout lines as JSON).
    pub fn json_lines(&self, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
        let idx = self.index();
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--index", idx.to_str().unwrap(), "--format", "json"]);
        let out = self.run(&all);
        let lines = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        (out.status.code().unwrap_or(-1), lines)
    }
}

pub fn copy_tree(src: &Path, dst: &Path) {
    if src.is_dir() {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &dst.join(e.file_name()));
        }
    } else {
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(src, dst).unwrap();
    }
}

/// Every statement of the fixture frameworks: (id, soc, title, level, text).
pub fn fixture_statements() -> Vec<(String, String, String, String, String)> {
    let mut out = Vec::new();
    let dir = fixture("frameworks");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let soc = v["occupation"]["soc"].as_str().unwrap().to_string();
        let title = v["occupation"]["title"].as_str().unwrap().to_string();
        for (level, body) in v["framework"]["levels"].as_object().unwrap() {
            for (i, s) in body["statements"].as_array().unwrap().iter().enumerate() {
                out.push((
                    format!("{soc}:{level}:{i}"),
                    soc.clone(),
                    title.clone(),
                    level.clone(),
                    s.as_str().unwrap().to_string(),
                ));
            }
        }
    }
    out
}

/// A batch of three postings whose second line is not UTF-8.
pub fn batch_with_a_bad_utf8_line() -> Vec<u8> {
    let mut body = b"{\"id\": 1, \"text\": \"inspect cargo for contraband\"}\n".to_vec();
    body.extend_from_slice(b"{\"id\": 2, \"text\": \"caf\xe9\"}\n");
    body.extend_from_slice(b"{\"id\": 3, \"text\": \"inspect cargo for contraband\"}\n");
    body
}

/// Checks the answer to [`batch_with_a_bad_utf8_line`]: both good lines mapped, the bad one an
/// error line of its own.
pub fn check_bad_utf8_batch_answer(out: &[u8]) {
    let lines: Vec<serde_json::Value> = String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["id"], 1);
    assert!(lines[0]["matches"].is_array());
    assert_eq!(lines[1]["line"], 2);
    let error = lines[1]["error"].as_str().unwrap();
    assert!(error.contains("invalid UTF-8"), "{error}");
    assert_eq!(lines[2]["id"], 3);
    assert!(lines[2]["matches"].is_array());
}

/// Words that occur in titles, in statements, or in both.
pub const RANKING_WORDS: &[&str] = &[
    "customer",
    "service",
    "equipment",
    "maintain",
    "repair",
    "inspect",
    "cargo",
    "food",
    "teach",
    "students",
    "safety",
    "records",
    "financial",
    "nurse",
    "patient",
    "care",
    "sales",
    "supervise",
    "train",
    "staff",
    "data",
    "analysis",
    "reports",
    "operators",
    "machine",
    "clean",
    "install",
    "managers",
    "engineering",
    "design",
    "teachers",
    "systems",
    "workers",
    "electrical",
    "vehicles",
    "computer",
    "legal",
    "documents",
    "construction",
    "medical",
];

/// An index of `rel` (below the crate root) in a temporary folder, indexed `runs` times.
pub fn indexed(rel: &str, runs: usize) -> (tempfile::TempDir, skillmap::index::engine::Engine) {
    let dir = tempfile::tempdir().unwrap();
    let opts = skillmap::index::ingest::IngestConfig {
        index_dir: dir.path().join("idx"),
        paths: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)],
        threads: 2,
        memory_bytes: 50_000_000,
        max_file_bytes: 1 << 20,
        ..Default::default()
    };
    for _ in 0..runs {
        skillmap::index::ingest::ingest(&opts, &indicatif::ProgressBar::hidden()).unwrap();
    }
    let e = skillmap::index::engine::Engine::open(&dir.path().join("idx")).unwrap();
    (dir, e)
}
