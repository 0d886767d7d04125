//! `skillmap completions` and `skillmap man`: generated from the clap definition, checked in the
//! shells and tools that read them where those are installed.

use std::process::Command;

use crate::util::TestEnv;

fn generate(env: &TestEnv, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_are_generated_for_every_shell_and_load_in_bash() {
    let env = TestEnv::new();
    for (shell, marker) in [
        ("bash", "complete -F _skillmap"),
        ("zsh", "#compdef skillmap"),
        ("fish", "complete -c skillmap"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[skillmap]"),
    ] {
        let script = generate(&env, &["completions", shell]);
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(300)]
        );
        // Every subcommand and a flag of each kind are offered.
        for word in [
            "index",
            "search",
            "serve",
            "eval-search",
            "by-occupation",
            "max-connections",
        ] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    // Bash loads the script and then completes subcommands.
    let script = env.write("skillmap.bash", generate(&env, &["completions", "bash"]));
    let check = format!(
        "source {} && COMP_WORDS=(skillmap se) COMP_CWORD=1 && _skillmap skillmap se skillmap && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = Command::new("bash").args(["-c", &check]).output().unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(offered.lines().any(|l| l == "search"), "{offered}");
    assert!(offered.lines().any(|l| l == "serve"), "{offered}");
    // An unknown shell is clap's error.
    let out = env.run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_manual_page_is_roff_with_every_subcommand() {
    let env = TestEnv::new();
    let page = generate(&env, &["man"]);
    assert!(page.contains(".TH skillmap 1"), "{}", &page[..200]);
    assert!(page.contains(".SH NAME"));
    assert!(page.contains(".SH SUBCOMMANDS"));
    for sub in [
        "index",
        "search",
        "map",
        "eval",
        "eval\\-search",
        "serve",
        "show",
        "stats",
        "export",
        "completions",
        "man",
    ] {
        assert!(page.contains(&format!("skillmap\\-{sub}(1)")), "{sub}");
    }
    // man itself renders it, where man is installed.
    let file = env.write("skillmap.1", &page);
    if let Ok(out) = Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .output()
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Full-text search over competency framework statements"),
            "{text}"
        );
    }
}
