//! Validation of a parsed export into a [`Framework`]: every field checked, every problem
//! collected (the first is the error, the next five are named with it), nothing half-accepted.
//!
//! The checks run as stages over the raw export: the header (schema version, code, title,
//! timestamp, job zone), the length and control-character limits of every text, the levels and
//! their statements, then the alternate titles and tools.

use super::framework::{
    ExportError, Framework, Knowledge, MAX_NAME_CHARS, MAX_NAMES, MAX_PROSE_CHARS,
    MAX_STATEMENT_CHARS, MAX_STATEMENTS_PER_LEVEL, MAX_TAG_CHARS, RawExport, RawLevel,
    RawOccupation, Statement, Tool, check_name, check_text, control_char, parse_timestamp,
    push_title, topic_of, truncate,
};
use super::level::Level;
use super::{JOB_ZONES, soc};

/// Problems named beside the first in the error's message.
const NAMED_PROBLEMS: usize = 5;
/// Problems after which level names stop being read: a file with thousands of bad levels needs
/// only the first few named.
const MAX_LEVEL_PROBLEMS: usize = 20;

/// Validates a parsed export into a [`Framework`], collecting every problem it finds.
pub fn validate(raw: RawExport) -> Result<Framework, ExportError> {
    let mut problems: Vec<ExportError> = Vec::new();
    // The stages run in the order their problems are reported.
    check_identity(&raw, &mut problems);
    check_texts(&raw, &mut problems);
    let exported_at = exported_at(&raw, &mut problems);
    check_job_zone(&raw.occupation, &mut problems);
    let mut statements = Vec::new();
    for (level, raw_level) in levels_of(&raw, &mut problems) {
        statements_of(level, raw_level, &mut statements, &mut problems);
    }
    let knowledge = knowledge_of(&raw.occupation, &mut problems);
    if let Some(err) = combined(&problems) {
        return Err(err);
    }
    let occ = &raw.occupation;
    let trimmed = |v: &Option<String>| v.as_deref().unwrap_or_default().trim().to_string();
    Ok(Framework {
        knowledge,
        soc: occ.soc.trim().to_string(),
        title: occ.title.trim().to_string(),
        group: trimmed(&occ.group),
        job_zone: occ.job_zone,
        version: raw.framework.version.clone().unwrap_or_default(),
        exported_at: trimmed(&raw.exported_at),
        exported_at_nanos: exported_at,
        context: trimmed(&raw.framework.context_covered),
        statements,
    })
}

/// The schema version, the code and the title.
fn check_identity(raw: &RawExport, problems: &mut Vec<ExportError>) {
    let major = raw.schema_version.split('.').next().unwrap_or("");
    if major != "1" {
        problems.push(ExportError::field(
            "schemaVersion",
            format!(
                "unsupported schema version `{}`; expected 1.x",
                truncate(&raw.schema_version, 20)
            ),
        ));
    }
    let occ = &raw.occupation;
    if !soc::is_valid(occ.soc.trim()) {
        problems.push(ExportError::field(
            "occupation.soc",
            format!(
                "`{}` is not an O*NET-SOC code; expected NN-NNNN or NN-NNNN.NN",
                truncate(&occ.soc, 20)
            ),
        ));
    }
    if occ.title.trim().is_empty() {
        problems.push(ExportError::field(
            "occupation.title",
            "empty; expected the occupation's title",
        ));
    }
}

/// The job zone, when given.
fn check_job_zone(occ: &RawOccupation, problems: &mut Vec<ExportError>) {
    if let Some(z) = occ.job_zone
        && !JOB_ZONES.contains(&z)
    {
        problems.push(ExportError::field(
            "occupation.jobZone",
            format!(
                "{z} is out of range; expected {} to {}",
                JOB_ZONES.start(),
                JOB_ZONES.end()
            ),
        ));
    }
}

/// The export's timestamp, when given, as nanoseconds since the Unix epoch.
fn exported_at(raw: &RawExport, problems: &mut Vec<ExportError>) -> Option<i128> {
    match raw.exported_at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => parse_timestamp(t)
            .map_err(|e| problems.push(ExportError::field("exportedAt", e)))
            .ok(),
    }
}

/// Every text that is indexed, stored or shown has a length limit and no control characters: a
/// megabyte title would make a gigabyte index, and an escape sequence would reach terminals.
fn check_texts(raw: &RawExport, problems: &mut Vec<ExportError>) {
    let occ = &raw.occupation;
    let fw = &raw.framework;
    let one_line = true;
    let texts = [
        (
            "schemaVersion",
            Some(raw.schema_version.as_str()),
            MAX_TAG_CHARS,
            one_line,
        ),
        (
            "exportedAt",
            raw.exported_at.as_deref(),
            MAX_TAG_CHARS,
            one_line,
        ),
        (
            "occupation.title",
            Some(occ.title.as_str()),
            MAX_NAME_CHARS,
            one_line,
        ),
        (
            "occupation.group",
            occ.group.as_deref(),
            MAX_NAME_CHARS,
            one_line,
        ),
        (
            "occupation.sector",
            occ.sector.as_deref(),
            MAX_NAME_CHARS,
            one_line,
        ),
        (
            "framework.version",
            fw.version.as_deref(),
            MAX_TAG_CHARS,
            one_line,
        ),
        (
            "framework.description",
            fw.description.as_deref(),
            MAX_PROSE_CHARS,
            !one_line,
        ),
        (
            "framework.contextCovered",
            fw.context_covered.as_deref(),
            MAX_PROSE_CHARS,
            !one_line,
        ),
    ];
    for (field, value, max, one_line) in texts {
        if let Some(e) = value.and_then(|v| check_text(v, max, one_line).err()) {
            problems.push(ExportError::field(field, e));
        }
    }
}

/// The export's levels with known names, lowest first.
fn levels_of<'r>(
    raw: &'r RawExport,
    problems: &mut Vec<ExportError>,
) -> Vec<(Level, &'r RawLevel)> {
    if raw.framework.levels.is_empty() {
        problems.push(ExportError::field(
            "framework.levels",
            "no levels; expected emerging, developing, proficient and/or advanced",
        ));
    }
    let mut levels = Vec::new();
    for (name, level) in &raw.framework.levels {
        match name.parse::<Level>() {
            // Exactly the level's name: "Emerging" parses, but exports spell levels lower-case.
            Ok(l) if name == l.as_str() => levels.push((l, level)),
            _ => problems.push(ExportError::field(
                format!("framework.levels.{}", truncate(name, 40)),
                "unknown level name; expected one of emerging, developing, proficient, advanced",
            )),
        }
        if problems.len() > MAX_LEVEL_PROBLEMS {
            break;
        }
    }
    levels.sort_by_key(|(l, _)| *l);
    levels
}

/// One level's label and statements; the good statements are added to `statements`.
fn statements_of(
    level: Level,
    raw_level: &RawLevel,
    statements: &mut Vec<Statement>,
    problems: &mut Vec<ExportError>,
) {
    if let Some(e) = raw_level
        .label
        .as_deref()
        .and_then(|l| check_text(l, MAX_NAME_CHARS, true).err())
    {
        problems.push(ExportError::field(
            format!("framework.levels.{level}.label"),
            e,
        ));
    }
    let path = format!("framework.levels.{level}.statements");
    let n = raw_level.statements.len();
    if n == 0 {
        problems.push(ExportError::field(
            &path,
            "no statements; expected at least one",
        ));
    }
    if n > MAX_STATEMENTS_PER_LEVEL {
        problems.push(ExportError::field(
            &path,
            format!("{n} statements; at most {MAX_STATEMENTS_PER_LEVEL} are accepted"),
        ));
        return;
    }
    for (i, s) in raw_level.statements.iter().enumerate() {
        match statement(level, i, s) {
            Ok(st) => statements.push(st),
            Err(e) => problems.push(ExportError::field(format!("{path}[{i}]"), e)),
        }
    }
}

/// One statement, trimmed and checked: not empty, no control characters, within the length
/// limits of the statement and of its topic.
fn statement(level: Level, position: usize, raw: &str) -> Result<Statement, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("empty statement".into());
    }
    if let Some(c) = control_char(text) {
        return Err(format!(
            "control character U+{:04X} in a statement; expected text",
            c as u32
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_STATEMENT_CHARS {
        return Err(format!(
            "statement of {chars} characters; at most {MAX_STATEMENT_CHARS} are accepted"
        ));
    }
    let topic = topic_of(text);
    let topic_chars = topic.chars().count();
    if topic_chars > MAX_NAME_CHARS {
        return Err(format!(
            "topic (the text before ` — `) of {topic_chars} characters; at most {MAX_NAME_CHARS} are accepted"
        ));
    }
    Ok(Statement {
        level,
        position: position as u32,
        topic: topic.to_string(),
        text: text.to_string(),
    })
}

/// The first problem, with the next few named in its message and the rest counted.
fn combined(problems: &[ExportError]) -> Option<ExportError> {
    let mut err = problems.first()?.clone();
    if problems.len() > 1 {
        let rest: Vec<String> = problems[1..]
            .iter()
            .take(NAMED_PROBLEMS)
            .map(|p| p.to_string())
            .collect();
        let more = problems.len() - 1 - rest.len();
        let tail = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        err.message = format!("{}; also: {}{tail}", err.message, rest.join("; "));
    }
    Some(err)
}

/// The export's alternate titles and tools, validated; problems are added to `problems`.
fn knowledge_of(occ: &RawOccupation, problems: &mut Vec<ExportError>) -> Knowledge {
    let mut k = Knowledge::default();
    for (field, n) in [
        ("occupation.alternateTitles", occ.alternate_titles.len()),
        ("occupation.technology", occ.technology.len()),
    ] {
        if n > MAX_NAMES {
            problems.push(ExportError::field(
                field,
                format!("{n} entries; at most {MAX_NAMES} are accepted"),
            ));
            return k;
        }
    }
    for (i, t) in occ.alternate_titles.iter().enumerate() {
        match check_name(t) {
            Ok(t) => push_title(&mut k.titles, t),
            Err(e) => problems.push(ExportError::field(
                format!("occupation.alternateTitles[{i}]"),
                e,
            )),
        }
    }
    for (i, t) in occ.technology.iter().enumerate() {
        let category = t.category.as_deref().unwrap_or("");
        match (check_name(&t.name), category.trim().is_empty()) {
            (Err(e), _) => problems.push(ExportError::field(
                format!("occupation.technology[{i}].name"),
                e,
            )),
            (Ok(name), true) => k.tools.push(Tool {
                name: name.to_string(),
                category: String::new(),
            }),
            (Ok(name), false) => match check_name(category) {
                Ok(category) => k.tools.push(Tool {
                    name: name.to_string(),
                    category: category.to_string(),
                }),
                Err(e) => problems.push(ExportError::field(
                    format!("occupation.technology[{i}].category"),
                    e,
                )),
            },
        }
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::framework::RawTechnology;

    const REAL: &str = include_str!("../../tests/fixtures/frameworks/33-3051.04.json");

    #[test]
    fn exports_carry_titles_and_tools_validated_by_field() {
        let mut raw: RawExport = serde_json::from_str(REAL).unwrap();
        raw.occupation.alternate_titles = vec!["CBP Officer".into(), " cbp officer ".into()];
        raw.occupation.technology = vec![RawTechnology {
            name: "Microsoft Excel".into(),
            category: Some("Spreadsheet software".into()),
            hot: true,
        }];
        let f = validate(raw.clone()).unwrap();
        assert_eq!(f.knowledge.titles, ["CBP Officer"]);
        assert_eq!(f.knowledge.tools[0].category, "Spreadsheet software");
        raw.occupation
            .alternate_titles
            .push("x".repeat(MAX_NAME_CHARS + 1));
        raw.occupation.technology[0].name = "bad\u{1b}[31m".into();
        let e = validate(raw).unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("occupation.alternateTitles[2]"),
            "{e}"
        );
        assert!(
            e.to_string().contains("occupation.technology[0].name"),
            "{e}"
        );
    }
}
