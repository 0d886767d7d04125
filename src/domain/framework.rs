//! Serde types of the domain: competency framework exports, their validation, and proficiency levels.

use indexmap::IndexMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::level::Level;

/// Longest statement accepted, in characters: real statements are one sentence.
pub const MAX_STATEMENT_CHARS: usize = 10_000;
/// Most statements accepted in one level: real exports have about ten.
pub const MAX_STATEMENTS_PER_LEVEL: usize = 1_000;
/// Longest alternate title or tool name accepted, in characters: real ones are a few words.
pub const MAX_NAME_CHARS: usize = 200;
/// Most alternate titles or tools accepted for one occupation (O*NET's largest has a few hundred).
pub const MAX_NAMES: usize = 5_000;
/// Longest `framework.version`, `schemaVersion` or `exportedAt`, in characters: real ones are
/// `1.0` or a timestamp.
pub const MAX_TAG_CHARS: usize = 64;
/// Longest `framework.description` or `framework.contextCovered`, in characters: a paragraph.
pub const MAX_PROSE_CHARS: usize = 5_000;
/// The separator between a statement's topic and its action (`Topic — action in context`).
pub const TOPIC_SEPARATOR: &str = " — ";

/// An export exactly as it is written on disk (schemaVersion 1.x). Unknown fields are accepted
/// so that newer generators' additions do not reject a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawExport {
    #[serde(rename = "schemaVersion")]
    pub schema_version: String,
    #[serde(
        rename = "exportedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub exported_at: Option<String>,
    pub occupation: RawOccupation,
    pub framework: RawFramework,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
}

/// The `occupation` block of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawOccupation {
    pub soc: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    #[serde(rename = "jobZone", default, skip_serializing_if = "Option::is_none")]
    pub job_zone: Option<u8>,
    #[serde(
        rename = "jobZoneInferred",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub job_zone_inferred: Option<bool>,
    /// Other names of the occupation as job boards and workers use them (`RN`, `Staff Nurse`).
    #[serde(
        rename = "alternateTitles",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alternate_titles: Vec<String>,
    /// Software and equipment used in the occupation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub technology: Vec<RawTechnology>,
}

/// One tool or technology of an occupation (`occupation.technology[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawTechnology {
    /// The product or tool as named (`Microsoft Excel`, `Forklifts`).
    pub name: String,
    /// Its kind (`Spreadsheet software`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Frequently asked for in job postings (O*NET's "hot technology").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hot: bool,
}

/// The `framework` block of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawFramework {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        rename = "contextCovered",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub context_covered: Option<String>,
    pub levels: IndexMap<String, RawLevel>,
}

/// One level of a framework as written on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawLevel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub statements: Vec<String>,
}

/// A validated framework: what gets indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct Framework {
    pub soc: String,
    pub title: String,
    pub group: String,
    pub job_zone: Option<u8>,
    pub version: String,
    /// `exportedAt` as written (trimmed), or empty.
    pub exported_at: String,
    /// `exportedAt` as nanoseconds since the Unix epoch, for comparing exports: offsets are
    /// taken into account, so `2025-12-31T23:00:00-05:00` is later than `2026-01-01T01:00:00Z`.
    pub exported_at_nanos: Option<i128>,
    /// What the framework covers (`framework.contextCovered`), or empty.
    pub context: String,
    /// Statements ordered by level, then by position within the level.
    pub statements: Vec<Statement>,
    /// The occupation's other titles and its tools, from the export.
    pub knowledge: Knowledge,
}

/// What is known about an occupation beyond its framework: the titles it goes by and the tools
/// it uses. An export may carry it (`occupation.alternateTitles`, `occupation.technology`), and
/// title and technology tables indexed beside the exports add to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Knowledge {
    /// Alternate titles, trimmed, without case-insensitive repeats.
    pub titles: Vec<String>,
    pub tools: Vec<Tool>,
}

impl Knowledge {
    /// Nothing known.
    pub fn is_empty(&self) -> bool {
        self.titles.is_empty() && self.tools.is_empty()
    }
}

/// A tool or technology of an occupation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tool {
    pub name: String,
    /// Its kind (`Spreadsheet software`), or empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub category: String,
}

/// One statement of a validated framework.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub level: Level,
    /// 0-based position within its level.
    pub position: u32,
    pub text: String,
    /// The part before ` — `, or empty when the statement has no topic.
    pub topic: String,
}

/// Why an export was rejected, with where in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportError {
    /// 1-based line (in the file, also for JSON Lines), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Dotted path of the offending field, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl ExportError {
    /// An error about the whole input (no line, column or field).
    pub(crate) fn msg(message: impl Into<String>) -> Self {
        ExportError {
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }

    /// An error about one field, named by its JSON path (`occupation.soc`).
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ExportError {
            field: Some(field.into()),
            ..ExportError::msg(message)
        }
    }

    /// Shifts the error's line by `offset` lines (for a record that starts mid-file).
    pub fn at_line_offset(mut self, first_line: usize) -> Self {
        self.line = Some(self.line.unwrap_or(1) + first_line - 1);
        self
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l} column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            _ => {}
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Parses and validates one export from bytes (UTF-8, optionally with a BOM).
pub fn parse_export(bytes: &[u8]) -> Result<Framework, ExportError> {
    let text = decode_utf8(bytes)?;
    if text.trim().is_empty() {
        return Err(ExportError::msg(
            "empty input; expected a JSON object with schemaVersion, occupation and framework",
        ));
    }
    let raw = parse_json(text)?;
    super::validate::validate(raw)
}

/// Checks the bytes are UTF-8 and strips a UTF-8 byte-order mark.
pub fn decode_utf8(bytes: &[u8]) -> Result<&str, ExportError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ExportError::msg(
            "the file is UTF-16 (byte-order mark found); expected UTF-8",
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        ExportError {
            line: Some(line),
            column: Some(valid.len() - line_start + 1),
            field: None,
            message: format!(
                "invalid UTF-8 at byte offset {}; expected UTF-8 text",
                e.valid_up_to()
            ),
        }
    })
}

fn parse_json(text: &str) -> Result<RawExport, ExportError> {
    if text.contains('\0') {
        // serde_json would report a control character; say what it is.
        let offset = text.find('\0').unwrap_or(0);
        let (line, column) = line_col(text, offset);
        return Err(ExportError {
            line: Some(line),
            column: Some(column),
            field: None,
            message: "NUL byte in the input; expected JSON text".into(),
        });
    }
    // serde would also take a struct written as an array; an export is an object.
    let start = text.len() - text.trim_start().len();
    if !text[start..].starts_with('{') {
        let (line, column) = line_col(text, start);
        return Err(ExportError {
            line: Some(line),
            column: Some(column),
            field: None,
            message: "expected a JSON object (one export)".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    // Deep nesting is bounded by serde_json's recursion limit (128), which errors cleanly.
    let raw: RawExport = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        json_error(&inner, (path != ".").then_some(path))
    })?;
    de.end().map_err(|e| json_error(&e, None))?;
    Ok(raw)
}

fn json_error(e: &serde_json::Error, field: Option<String>) -> ExportError {
    let full = e.to_string();
    // serde_json appends " at line L column C"; we report those as fields of our own.
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    let message = if e.is_eof() {
        format!("{message} (the JSON is truncated)")
    } else {
        message
    };
    ExportError {
        line: (e.line() > 0).then_some(e.line()),
        column: (e.line() > 0).then_some(e.column()),
        field,
        message,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |p| p + 1) + 1;
    (line, col)
}

/// Checks a text field: at most `max` characters and no control characters (`one_line` also
/// refuses tabs and line breaks). Returns what is wrong.
pub(crate) fn check_text(text: &str, max: usize, one_line: bool) -> Result<(), String> {
    let bad = if one_line {
        text.chars().find(|c| c.is_control())
    } else {
        control_char(text)
    };
    if let Some(c) = bad {
        return Err(format!(
            "control character U+{:04X}; expected {}",
            c as u32,
            if one_line { "one line of text" } else { "text" }
        ));
    }
    // Counting stops just past the limit, so a huge field costs no more than a small one.
    let chars = text.chars().take(max + 1).count();
    if chars > max {
        return Err(format!(
            "{} characters; at most {max} are accepted",
            text.chars().count()
        ));
    }
    Ok(())
}

/// Parses an RFC 3339 timestamp (`2026-01-01T01:00:00Z`, `2025-12-31T23:00:00-05:00`) into
/// nanoseconds since the Unix epoch.
pub fn parse_timestamp(text: &str) -> Result<i128, String> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| t.unix_timestamp_nanos())
        .map_err(|e| {
            format!(
                "`{}` is not a timestamp ({e}); expected RFC 3339, e.g. 2026-01-01T00:00:00Z",
                truncate(text, 40)
            )
        })
}

/// Checks one name (an alternate title, a tool or its category): trimmed, not empty, one line of
/// text of at most [`MAX_NAME_CHARS`] characters. Returns the trimmed name or what is wrong.
pub fn check_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("empty; expected a name".into());
    }
    // Only a name with a control byte is decoded (nearly none).
    if let Some(c) = has_control_byte(name)
        .then(|| control_char(name).or_else(|| name.chars().find(|c| c.is_control())))
        .flatten()
    {
        return Err(format!(
            "control character U+{:04X}; expected one line of text",
            c as u32
        ));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "{chars} characters; at most {MAX_NAME_CHARS} are accepted"
        ));
    }
    Ok(name)
}

/// Adds a title unless it is already there in another case.
pub fn push_title(titles: &mut Vec<String>, title: &str) {
    if !titles.iter().any(|t| t.eq_ignore_ascii_case(title)) {
        titles.push(title.to_string());
    }
}

/// The first control character (other than white space) of a text. Control characters are
/// C0 (bytes below 0x20 and 0x7F) or C1 (U+0080-U+009F, encoded 0xC2 0x80-0x9F), so a byte scan
/// finds whether there is one before any character is decoded.
pub(crate) fn control_char(text: &str) -> Option<char> {
    if !has_control_byte(text) {
        return None;
    }
    text.chars().find(|c| c.is_control() && !c.is_whitespace())
}

/// Does `text` hold a control character, white space included (C0, DEL or C1), by its bytes?
fn has_control_byte(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &x)| {
        x < 0x20
            || x == 0x7F
            || (x == 0xC2 && b.get(i + 1).is_some_and(|&y| (0x80..=0x9F).contains(&y)))
    })
}

/// The topic of a statement: the text before ` — `, or empty.
pub fn topic_of(text: &str) -> &str {
    text.split_once(TOPIC_SEPARATOR)
        .map_or("", |(t, _)| t.trim())
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../tests/fixtures/frameworks/33-3051.04.json");

    #[test]
    fn a_name_with_any_control_character_is_refused_by_it() {
        for (name, code) in [
            ("Nurse\tManager", "U+0009"),
            ("Nurse\u{7f}", "U+007F"),
            ("a\0b", "U+0000"),
            ("Caf\u{e9} \u{85}Manager", "U+0085"),
            // A control that is not white space is named before one that is.
            ("a\tb\u{1}", "U+0001"),
        ] {
            let e = check_name(name).unwrap_err();
            assert!(e.contains(code), "{name:?}: {e}");
        }
        // 0xC2 starts "£" too, which is no control.
        assert_eq!(check_name("  Café £ Manager "), Ok("Café £ Manager"));
        assert!(check_name(" ").is_err());
    }

    #[test]
    fn parses_the_real_export() {
        let f = parse_export(REAL.as_bytes()).unwrap();
        assert_eq!(f.soc, "33-3051.04");
        assert_eq!(f.job_zone, Some(3));
        assert_eq!(f.statements.len(), 40);
        assert_eq!(f.statements[0].level, Level::Emerging);
        assert_eq!(f.statements[39].level, Level::Advanced);
        assert_eq!(
            f.statements[0].topic,
            "Immigration applications and travel documents"
        );
    }

    #[test]
    fn truncated_json_names_line_and_column() {
        let err = parse_export(&REAL.as_bytes()[..200]).unwrap_err();
        assert!(err.line.is_some() && err.column.is_some(), "{err}");
        assert!(err.message.contains("truncated"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let bad = REAL.replacen("\"jobZone\": 3", "\"jobZone\": \"three\"", 1);
        let err = parse_export(bad.as_bytes()).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("occupation.jobZone"), "{err}");
        assert_eq!(err.line, Some(9), "{err}");
    }

    #[test]
    fn bad_soc_unknown_level_and_empty_statement_are_all_reported() {
        let bad = REAL
            .replacen("33-3051.04", "33-30514", 1)
            .replacen("\"emerging\"", "\"beginner\"", 1)
            .replacen("\"Complex immigration", "\"   \", \"Complex immigration", 1);
        let err = parse_export(bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("occupation.soc"), "{err}");
        assert!(err.contains("framework.levels.beginner"), "{err}");
        assert!(
            err.contains("framework.levels.proficient.statements[0]"),
            "{err}"
        );
    }

    #[test]
    fn non_utf8_is_located() {
        let mut bytes = b"{\n  \"a\": \"x".to_vec();
        bytes.push(0xFF);
        let err = parse_export(&bytes).unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(10)), "{err}");
    }

    #[test]
    fn bom_is_accepted_and_utf16_refused() {
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend_from_slice(REAL.as_bytes());
        assert!(parse_export(&with_bom).is_ok());
        assert!(
            parse_export(&[0xFF, 0xFE, b'{', 0])
                .unwrap_err()
                .message
                .contains("UTF-16")
        );
    }

    #[test]
    fn level_ordinals_round_trip() {
        for l in Level::ALL {
            assert_eq!(Level::from_ordinal(l.ordinal()), Some(l));
            assert_eq!(l.as_str().parse::<Level>().unwrap(), l);
        }
        assert_eq!(Level::from_ordinal(0), None);
        assert_eq!(Level::from_ordinal(5), None);
    }
}
