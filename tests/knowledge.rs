//! Titles and tools: carried by exports or indexed from tables beside them, validated and
//! upserted like exports, listed by `show`.

use crate::util::TestEnv;

const TITLES: &str = "soc\ttitle\tshort_title\n\
33-3051.04\tCustoms Inspector\t\n\
29-1141.00\tStaff Nurse\tRN\n";
const TOOLS: &str = "soc\ttechnology\tcategory\n53-6051.00\tForklifts\tIndustrial trucks\n";

fn show(env: &TestEnv, soc: &str) -> serde_json::Value {
    let (code, lines) = env.json_lines(&["show", soc]);
    assert_eq!(code, 0, "{lines:?}");
    lines.into_iter().next().unwrap()
}

/// The fixture exports with the nurse export carrying its own titles and tools.
fn env_with_knowledge() -> TestEnv {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let path = env.path("in/29-1141.00.json");
    let mut nurse: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    nurse["occupation"]["alternateTitles"] = serde_json::json!(["Charge Nurse", "RN"]);
    nurse["occupation"]["technology"] =
        serde_json::json!([{"name": "Epic Systems", "category": "Medical software", "hot": true}]);
    std::fs::write(&path, serde_json::to_vec_pretty(&nurse).unwrap()).unwrap();
    env.write("in/tables/titles.tsv", TITLES);
    env.write("in/tables/technology.tsv", TOOLS);
    env
}

#[test]
fn exports_and_tables_add_titles_and_tools_without_changing_statements() {
    let env = env_with_knowledge();
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["tables"], 2);
    assert_eq!(report["table_titles"], 3);
    assert_eq!(report["table_tools"], 1);
    let statements = crate::util::fixture_statements().len();
    assert_eq!(report["statements_added"], statements);
    let (_, stats) = env.json_lines(&["stats"]);
    assert_eq!(
        stats[0]["statements"], statements,
        "knowledge documents are not statements"
    );
    // Nor does `export` write them as (empty) statements.
    let out = env.run(&["export", "--index", env.index().to_str().unwrap()]);
    let flat: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(flat.len(), statements);
    assert!(flat.iter().all(|s| !s["id"].as_str().unwrap().is_empty()));
    let nurse = show(&env, "29-1141.00");
    // The export's titles, then the table's, without the repeated RN.
    assert_eq!(
        nurse["titles"],
        serde_json::json!(["Charge Nurse", "RN", "Staff Nurse"])
    );
    assert_eq!(nurse["tools"][0]["name"], "Epic Systems");
    assert_eq!(show(&env, "33-3051.04")["titles"][0], "Customs Inspector");
    assert_eq!(
        show(&env, "53-6051.00")["tools"][0]["category"],
        "Industrial trucks"
    );
    // Human output lists them.
    let out = env.run(&[
        "show",
        "29-1141.00",
        "--index",
        env.index().to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("also called (3)") && text.contains("Staff Nurse"),
        "{text}"
    );
    assert!(text.contains("Epic Systems  (Medical software)"), "{text}");
}

#[test]
fn tables_and_exports_are_upserted() {
    let env = env_with_knowledge();
    env.index_json(&["in"]);
    // The table again with one row fewer: the dropped row's title is gone.
    env.write(
        "in/tables/titles.tsv",
        "soc\ttitle\n29-1141.00\tStaff Nurse\n",
    );
    // The nurse export again without titles or tools: what it carried is gone.
    let fixture = crate::util::fixture("frameworks/29-1141.00.json");
    std::fs::copy(fixture, env.path("in/29-1141.00.json")).unwrap();
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 0, "{report}");
    assert!(
        show(&env, "33-3051.04")["titles"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let nurse = show(&env, "29-1141.00");
    assert_eq!(nurse["titles"], serde_json::json!(["Staff Nurse"]));
    assert!(nurse["tools"].as_array().unwrap().is_empty());
}

#[test]
fn bad_rows_and_fields_are_reported_and_the_rest_is_kept() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.write(
        "in/titles.tsv",
        "soc\ttitle\n29-1141.00\tStaff Nurse\n29-11\tNurse\n29-1141.00\t\n",
    );
    env.write("in/notes.tsv", "name,value\n");
    let path = env.path("in/53-6051.00.json");
    let mut export: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    export["occupation"]["alternateTitles"] = serde_json::json!(["Inspector", ""]);
    std::fs::write(&path, serde_json::to_vec(&export).unwrap()).unwrap();
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 2, "{report}");
    let rejected = report["rejected"].as_array().unwrap();
    let find = |file: &str, needle: &str| {
        rejected
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(file) && r.to_string().contains(needle))
            .unwrap_or_else(|| panic!("no rejection mentions {needle}: {rejected:?}"))
    };
    assert_eq!(find("titles.tsv", "not an O*NET-SOC code")["line"], 3);
    assert_eq!(find("titles.tsv", "empty; expected a name")["line"], 4);
    assert_eq!(
        find("notes.tsv", "is not a table skillmap knows")["line"],
        1
    );
    assert_eq!(
        find("53-6051.00.json", "empty; expected a name")["field"],
        "occupation.alternateTitles[1]"
    );
    // The good row of the table still counts.
    assert_eq!(report["table_titles"], 1);
    assert_eq!(show(&env, "29-1141.00")["titles"][0], "Staff Nurse");
}

/// Tools of the same kind as a named one strengthen the naming: Python among three development
/// tools names the work more than Python alone. Counted the same whether the kin sit in the
/// document that names the tool or in another table's document that does not match the query.
#[test]
fn kin_of_a_named_tool_count_wherever_they_are_indexed() {
    const KIND: &str = "Development environment software";
    let named = |split: bool| -> Vec<(String, f64)> {
        let env = TestEnv::new();
        env.copy("frameworks", "in");
        let row = |soc: &str, tool: &str| format!("{soc}\t{tool}\t{KIND}\n");
        let head = "soc\ttechnology\tcategory\n";
        let python = format!(
            "{head}{}{}",
            row("33-3051.04", "Python"),
            row("53-6051.00", "Python")
        );
        let kin = row("33-3051.04", "Eclipse IDE") + &row("33-3051.04", "Git");
        if split {
            env.write("in/tables/python.tsv", python);
            env.write("in/tables/kin.tsv", format!("{head}{kin}"));
        } else {
            env.write("in/tables/technology.tsv", python + &kin);
        }
        let (code, report) = env.index_json(&["in"]);
        assert_eq!(code, 0, "{report}");
        let (code, lines) = env.json_lines(&["search", "python", "--by-occupation", "--explain"]);
        assert_eq!(code, 0, "{lines:?}");
        // One line per occupation.
        lines
            .iter()
            .map(|o| {
                (
                    o["soc"].as_str().unwrap().to_string(),
                    o["explain"]["named"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    for split in [false, true] {
        let got = named(split);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, "33-3051.04", "{got:?}");
        // Strength ln(1 + 3 kin) against ln(1 + 1): the second is named half as strongly.
        let ratio = got[1].1 / got[0].1;
        assert!((ratio - 0.5).abs() < 1e-4, "split {split}: {got:?}");
    }
}
