//! Faults an unlucky operator meets: oversized and odd fields, files that are not files, flags
//! out of range, a full disk, a read-only index, damaged index files. Each gets a clear error
//! and loses nothing else.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{TestEnv, fixture};

/// A real export with some fields replaced, written under `rel`.
fn export_with(env: &TestEnv, rel: &str, soc: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let real = std::fs::read_to_string(fixture("frameworks/33-3051.04.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&real).unwrap();
    v["occupation"]["soc"] = soc.into();
    edit(&mut v);
    env.write(rel, serde_json::to_vec(&v).unwrap());
}

fn rejection<'a>(report: &'a serde_json::Value, file: &str) -> &'a serde_json::Value {
    report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("{file} was not rejected: {report}"))
}

#[test]
fn every_text_field_has_a_length_limit_and_no_control_characters() {
    let env = TestEnv::new();
    env.copy("frameworks", "in/good");
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "title_huge",
            "/occupation/title",
            "occupation.title",
            "at most 200",
        ),
        (
            "title_escape",
            "/occupation/title",
            "occupation.title",
            "U+001B",
        ),
        (
            "group_huge",
            "/occupation/group",
            "occupation.group",
            "at most 200",
        ),
        (
            "sector_tab",
            "/occupation/sector",
            "occupation.sector",
            "U+0009",
        ),
        (
            "version_huge",
            "/framework/version",
            "framework.version",
            "at most 64",
        ),
        (
            "context_huge",
            "/framework/contextCovered",
            "framework.contextCovered",
            "at most 5000",
        ),
        (
            "label_escape",
            "/framework/levels/emerging/label",
            "framework.levels.emerging.label",
            "U+001B",
        ),
        (
            "topic_huge",
            "/framework/levels/advanced/statements/0",
            "framework.levels.advanced.statements[0]",
            "topic",
        ),
        (
            "schema_huge",
            "/schemaVersion",
            "schemaVersion",
            "at most 64",
        ),
    ];
    for (i, (name, pointer, _, _)) in cases.iter().enumerate() {
        let soc = format!("47-20{:02}.00", 10 + i);
        export_with(&env, &format!("in/bad/{name}.json"), &soc, |v| {
            let value = match *name {
                "title_huge" => "T".repeat(1_000_000),
                "title_escape" => "Officer \u{1b}[2J\u{1b}]0;owned\u{7}".to_string(),
                "group_huge" => "G".repeat(201),
                "sector_tab" => "Public\tSector".to_string(),
                "version_huge" => "1".repeat(65),
                "context_huge" => "c".repeat(5_001),
                "label_escape" => "Level \u{1b}[31m".to_string(),
                "topic_huge" => format!("{} — act on it", "t".repeat(300)),
                "schema_huge" => format!("1.{}", "0".repeat(100)),
                _ => unreachable!(),
            };
            *v.pointer_mut(pointer)
                .unwrap_or_else(|| panic!("{pointer} missing in the fixture")) = value.into();
        });
    }
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["occupations"], 3, "only the good files: {report}");
    for (name, _, field, needle) in cases {
        let r = rejection(&report, &format!("{name}.json"));
        assert_eq!(r["field"], field, "{name}: {r}");
        assert!(
            r["message"].as_str().unwrap().contains(needle),
            "{name}: {r}"
        );
        // Messages quote at most a short piece of the offending value.
        assert!(
            r.to_string().len() < 600,
            "{name}: {} bytes",
            r.to_string().len()
        );
    }
    // The megabyte title made no megabyte index.
    let size: u64 = std::fs::read_dir(env.index())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(size < 200_000, "index of {size} bytes");
}

#[test]
fn exported_at_is_compared_as_a_point_in_time_and_must_parse() {
    let env = TestEnv::new();
    // 23:00 at -05:00 is 04:00Z on 1 January: later than 01:00Z, though it sorts first as text.
    export_with(&env, "in/a_later.json", "33-3051.04", |v| {
        v["exportedAt"] = "2025-12-31T23:00:00-05:00".into();
        v["occupation"]["title"] = "Later Export".into();
    });
    export_with(&env, "in/b_earlier.json", "33-3051.04", |v| {
        v["exportedAt"] = "2026-01-01T01:00:00Z".into();
        v["occupation"]["title"] = "Earlier Export".into();
    });
    export_with(&env, "in/c_not_a_date.json", "33-3051.05", |v| {
        v["exportedAt"] = "zzz not a date".into();
    });
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 2, "{report}");
    let r = rejection(&report, "c_not_a_date.json");
    assert_eq!(r["field"], "exportedAt", "{r}");
    assert!(r["message"].as_str().unwrap().contains("RFC 3339"), "{r}");
    let warning = report["warnings"][0].as_str().unwrap();
    assert!(warning.contains("kept in/a_later.json"), "{warning}");
    let (_, shown) = env.json_lines(&["show", "33-3051.04"]);
    assert_eq!(shown[0]["title"], "Later Export");
}

#[cfg(unix)]
#[test]
fn non_regular_files_are_listed_never_opened_and_a_link_loop_is_a_skip() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let fifo = env.path("in/pipe.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    symlink("/dev/zero", env.path("in/zero.json")).unwrap();
    symlink(env.path("in"), env.path("in/loop")).unwrap();
    // Every good file is indexed, so the run succeeds; the odd entries are listed with why.
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["occupations"], 3);
    let skipped = report["skipped"].as_array().unwrap();
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|s| s["path"].as_str().unwrap().ends_with(name))
            .map(|s| s["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{name} not listed: {report}"))
    };
    assert!(reason("pipe.json").contains("FIFO"));
    assert!(reason("zero.json").contains("character device"));
    assert!(reason("in/loop").contains("loop"));
    // The human summary says so too.
    let out = env.run(&["index", "in", "--index", "idx2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a regular file (a FIFO)"), "{err}");
    // Named on the command line, they are errors: the user asked for them.
    for (path, needle) in [
        ("in/pipe.json", "FIFO"),
        ("in/zero.json", "character device"),
    ] {
        let (code, report) = env.index_json(&[path]);
        assert_eq!(code, 2, "{report}");
        assert!(
            rejection(&report, path)["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{report}"
        );
    }
}

#[test]
fn flags_out_of_range_are_refused_without_a_panic() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    for args in [
        &["index", "in", "--threads", "10000"][..],
        &["index", "in", "--threads", "0"],
        &["index", "in", "--max-file-size", "18446744073709551615"],
        &["index", "in", "--max-file-size", "0"],
        &["index", "in", "--memory", "0"],
        &["map", "x", "--threads", "100000"],
        &["serve", "--max-connections", "0"],
        &["serve", "--timeout", "0"],
        &["serve", "--max-batch-lines", "0"],
    ] {
        let out = env.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("invalid value"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // The largest values accepted work: 256 threads, a 1 TiB file limit.
    let (code, report) = env.index_json(&["in", "--threads", "256", "--max-file-size", "1048576"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["occupations"], 3);
}

#[test]
fn index_naming_a_file_says_so() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.write("afile", "not a folder");
    for args in [
        &["index", "in", "--index", "afile"][..],
        &["search", "x", "--index", "afile"],
    ] {
        let out = env.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            err.contains("--index afile is a file, not a folder"),
            "{err}"
        );
    }
}

#[test]
fn a_batch_goes_on_past_a_line_that_is_not_utf8() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    env.write("batch.jsonl", crate::util::batch_with_a_bad_utf8_line());
    let out = env.run(&["map", "--batch", "batch.jsonl", "--index", "idx", "-q"]);
    assert_eq!(out.status.code(), Some(2), "some lines failed");
    crate::util::check_bad_utf8_batch_answer(&out.stdout);
}

#[test]
fn eval_writes_its_line_errors_on_stderr() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    env.write(
        "labelled.jsonl",
        "{\"id\": \"a\", \"text\": \"inspect cargo\", \"soc\": \"33-3051.04\"}\nnot json\n",
    );
    let out = env.run(&["eval", "labelled.jsonl", "--index", "idx"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stdout.contains("error"), "{stdout}");
    assert!(
        stdout.contains("postings"),
        "the report is on stdout: {stdout}"
    );
    assert!(stderr.contains("line 2"), "{stderr}");
}

/// Whether this process may mount file systems (root with the capability, as in CI).
fn can_mount() -> bool {
    let probe = tempfile::tempdir().unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(probe.path())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        let _ = Command::new("umount").arg(probe.path()).status();
    }
    ok
}

/// A mount that is undone when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(at).unwrap();
        let s = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap();
        assert!(s.success());
        Mount(at.to_path_buf())
    }

    /// `from` seen read-only at `at`.
    fn read_only_view(from: &Path, at: &Path) -> Mount {
        std::fs::create_dir_all(at).unwrap();
        let bind = Command::new("mount")
            .arg("--bind")
            .arg(from)
            .arg(at)
            .status()
            .unwrap();
        assert!(bind.success());
        let m = Mount(at.to_path_buf());
        let ro = Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(at)
            .status()
            .unwrap();
        assert!(ro.success());
        m
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// The files of a folder that the committed `meta.json` does not account for.
fn unaccounted_files(index: &Path) -> Vec<String> {
    let meta = std::fs::read_to_string(index.join("meta.json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let segments: Vec<String> = meta["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["segment_id"].as_str().unwrap().replace('-', ""))
        .collect();
    std::fs::read_dir(index)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| !name.starts_with('.') && name != "meta.json")
        // The vector file that the commit names is accounted for.
        .filter(|name| {
            !name.ends_with(".skv") || !meta["payload"].as_str().unwrap().contains(&name[8..40])
        })
        // So are the mapper's tables and the titles-and-tools table of that commit.
        .filter(|name| {
            let token = name
                .strip_prefix("map-tables-")
                .or_else(|| name.strip_prefix("names-"))
                .and_then(|rest| rest.strip_suffix(".bin"));
            !token.is_some_and(|t| meta["payload"].as_str().unwrap().contains(t))
        })
        .filter(|name| !segments.iter().any(|s| name.starts_with(s.as_str())))
        .collect()
}

#[test]
fn a_full_disk_is_named_rolled_back_and_the_next_run_works() {
    if !can_mount() {
        eprintln!("SKIPPED: this test mounts a 2 MB tmpfs and needs root with CAP_SYS_ADMIN");
        return;
    }
    let env = TestEnv::new();
    env.copy("frameworks", "small");
    let disk = env.path("disk");
    let _mount = Mount::tmpfs(&disk, "2m");
    let index = disk.join("idx");
    let index_s = index.to_str().unwrap();
    let run = |paths: &[&str], extra: &[&str]| {
        let mut args = vec!["index", "--index", index_s, "-q"];
        args.extend_from_slice(extra);
        args.extend_from_slice(paths);
        env.run(&args)
    };
    assert!(run(&["small"], &[]).status.success());
    // The bundled collection needs about 5 MB: the disk fills up mid-run.
    let data = crate::util::bundled_data();
    let out = run(&[data.to_str().unwrap()], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("nothing was committed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The old index is intact, and what the run wrote is gone.
    let stats = env.run(&["stats", "--index", index_s, "--format", "json"]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["occupations"], 3, "{stats}");
    assert_eq!(unaccounted_files(&index), Vec::<String>::new());
    // The next run works, and so does --rebuild.
    let out = run(&["small"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["small"], &["--rebuild"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_read_only_index_is_searched_and_served_and_refuses_writes_clearly() {
    if !can_mount() {
        eprintln!(
            "SKIPPED: this test bind-mounts a read-only view and needs root with CAP_SYS_ADMIN"
        );
        return;
    }
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    // A read-only view of the index: writes fail with "Read-only file system", as on a
    // read-only volume, whoever the user is.
    let view = env.path("ro");
    let _mount = Mount::read_only_view(&env.index(), &view);
    assert!(std::fs::write(view.join("probe"), "x").is_err());
    let ro = view.to_str().unwrap();
    let out = env.run(&["search", "inspect cargo", "--index", ro]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1. "));
    for args in [
        &["stats", "--index", ro][..],
        &["show", "33-3051.04", "--index", ro],
        &["map", "--text", "inspect cargo", "--index", ro],
    ] {
        let out = env.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = env.run(&["index", "in", "--index", ro]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("cannot be written") && err.contains("Read-only file system"),
        "{err}"
    );
    assert!(!err.contains("locked by another process"), "{err}");
    // Served, too.
    let server = crate::serve::Server::start_on(&env, &view, &[]);
    let (status, body) = server.get("/api/search?q=inspect%20cargo");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"hits\""));
    assert!(server.stop().success());
}

/// Flips bytes of one file of a copy of an index, by a seeded generator.
fn damage(index: &Path, seed: u64) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(index)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with('.') && name != "meta.json"
        })
        .collect();
    // By extension first: segment and vector file names are random, and the seeds should pick
    // the same kinds of file in every run.
    files.sort_by_key(|p| (p.extension().map(|e| e.to_owned()), p.clone()));
    let file = &files[next() as usize % files.len()];
    let mut bytes = std::fs::read(file).unwrap();
    let flips = [1, 1, 2, 8][next() as usize % 4];
    for _ in 0..flips {
        let at = next() as usize % bytes.len();
        bytes[at] = next() as u8;
    }
    std::fs::write(file, bytes).unwrap();
    file.file_name().unwrap().to_string_lossy().to_string()
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn damaged_index_files_give_an_error_naming_the_way_out_never_a_panic() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let mut errors = 0;
    for seed in 0..40 {
        let copy = env.path(&format!("damaged{seed}"));
        crate::util::copy_tree(&env.index(), &copy);
        let before = snapshot(&copy);
        let file = damage(&copy, seed);
        let changed = snapshot(&copy) != before;
        let c = copy.to_str().unwrap();
        // Whatever reading makes of it, the checksums find it.
        let out = env.run(&["stats", "--verify", "--index", c]);
        let err = String::from_utf8_lossy(&out.stderr);
        if changed {
            assert_eq!(out.status.code(), Some(2), "seed {seed} ({file}): {err}");
            assert!(err.contains("--rebuild"), "seed {seed} ({file}): {err}");
        }
        for args in [
            &["stats", "--index", c][..],
            &["search", "inspect cargo", "--index", c],
            &["search", "cargo", "--by-occupation", "--index", c],
            &["show", "33-3051.04", "--index", c],
            &["map", "--text", "inspect cargo and baggage", "--index", c],
            &["export", "--index", c],
        ] {
            let out = env.run(args);
            let err = String::from_utf8_lossy(&out.stderr);
            let code = out.status.code();
            assert!(
                matches!(code, Some(0..=2)),
                "seed {seed} ({file}), {args:?}: exit {code:?}: {err}"
            );
            assert!(
                !err.contains("panicked"),
                "seed {seed} ({file}), {args:?}: {err}"
            );
            if code == Some(2) {
                errors += 1;
                assert!(
                    err.contains("could not be read") && err.contains("--rebuild"),
                    "seed {seed} ({file}), {args:?}: {err}"
                );
            }
        }
        std::fs::remove_dir_all(&copy).unwrap();
    }
    assert!(errors > 20, "the damage was seen as damage {errors} times");
    // The undamaged index verifies.
    let out = env.run(&["stats", "--verify", "--index", "idx"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("match their checksums"));
}
