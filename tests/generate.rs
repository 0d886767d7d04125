//! The generators are deterministic: the bundled collection, the dev set and benchmark corpora
//! are reproduced byte for byte from `../shared/data`.

use std::path::{Path, PathBuf};

use crate::util::TestEnv;

fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

fn assert_same_tree(a: &Path, b: &Path) {
    let mut names: Vec<_> = std::fs::read_dir(a)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    let mut other: Vec<_> = std::fs::read_dir(b)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    other.sort();
    assert_eq!(names, other, "{} vs {}", a.display(), b.display());
    for n in names {
        let (pa, pb) = (a.join(&n), b.join(&n));
        if pa.is_dir() {
            assert_same_tree(&pa, &pb);
        } else {
            assert!(
                std::fs::read(&pa).unwrap() == std::fs::read(&pb).unwrap(),
                "{} differs",
                pa.display()
            );
        }
    }
}

#[test]
fn bundled_collection_and_dev_set_are_reproducible() {
    let env = TestEnv::new();
    let src = shared_data();
    assert!(
        src.is_dir(),
        "the shared data is expected beside the repository"
    );
    let out = env.run(&[
        "gen-sample",
        "--source",
        src.to_str().unwrap(),
        "--out",
        env.path("data").to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo_data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    assert_same_tree(&env.path("data/frameworks"), &repo_data.join("frameworks"));
    let out = env.run(&[
        "gen-eval",
        "--source",
        src.to_str().unwrap(),
        "--out",
        env.path("eval").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_same_tree(&env.path("eval"), &repo_data.join("eval"));
}

#[test]
fn corpus_generator_is_deterministic() {
    let env = TestEnv::new();
    let src = shared_data();
    for (dir, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
        let out = env.run(&[
            "gen-corpus",
            "--source",
            src.to_str().unwrap(),
            "--exports",
            "300",
            "--seed",
            seed,
            "--out",
            env.path(dir).to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_same_tree(&env.path("a"), &env.path("b"));
    let a = std::fs::read(env.path("a/exports.jsonl")).unwrap();
    let c = std::fs::read(env.path("c/exports.jsonl")).unwrap();
    assert_ne!(a, c, "another seed gives another corpus");
    assert_eq!(String::from_utf8(a).unwrap().lines().count(), 300);
    // Every generated export is valid and indexes.
    let (code, report) = env.index_json(&["a/exports"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["statements_added"], 300 * 40);
}
