//! The generators are deterministic: the bundled collection, the dev set and benchmark corpora
//! are reproduced byte for byte from the tables copied into `data/source/`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn xtask(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "xtask {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    let names = |v: &[PathBuf]| -> Vec<_> {
        v.iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&fa), names(&fb), "{} vs {}", a.display(), b.display());
    for (pa, pb) in fa.iter().zip(&fb) {
        if pa.is_dir() {
            assert_same_tree(pa, pb);
        } else {
            assert!(
                std::fs::read(pa).unwrap() == std::fs::read(pb).unwrap(),
                "{} differs from the committed {}: rerun `cargo xtask gen-sample` / `gen-eval`",
                pa.display(),
                pb.display()
            );
        }
    }
}

#[test]
fn bundled_collection_and_dev_set_are_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("data");
    xtask(&["gen-sample", "--out", out.to_str().unwrap()]);
    assert_same_tree(&out.join("frameworks"), &repo_data().join("frameworks"));
    assert_same_tree(&out.join("tables"), &repo_data().join("tables"));
    let eval = tmp.path().join("eval");
    xtask(&["gen-eval", "--out", eval.to_str().unwrap()]);
    assert_same_tree(&eval, &repo_data().join("eval"));
}

#[test]
fn corpus_generator_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |d: &str| tmp.path().join(d);
    for (d, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
        let out = dir(d);
        xtask(&[
            "gen-corpus",
            "--exports",
            "300",
            "--seed",
            seed,
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    assert_same_tree(&dir("a"), &dir("b"));
    let a = std::fs::read_to_string(dir("a/exports.jsonl")).unwrap();
    let c = std::fs::read_to_string(dir("c/exports.jsonl")).unwrap();
    assert_ne!(a, c, "another seed gives another corpus");
    assert_eq!(a.lines().count(), 300);
    // Every generated export is valid, with 40 statements.
    for (i, line) in a.lines().enumerate() {
        let fw = skillmap::domain::framework::parse_export(line.as_bytes())
            .unwrap_or_else(|e| panic!("export {i} is invalid: {e}"));
        assert_eq!(fw.statements.len(), 40, "export {i}");
    }
}
