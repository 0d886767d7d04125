//! Serde types of the domain: competency framework exports, their validation, and proficiency levels.

use indexmap::IndexMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::level::Level;
use super::soc;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    fn msg(message: impl Into<String>) -> Self {
        ExportError {
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }

    fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
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
    validate(raw)
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

/// Validates a parsed export into a [`Framework`], collecting every problem it finds.
pub fn validate(raw: RawExport) -> Result<Framework, ExportError> {
    let mut problems: Vec<ExportError> = Vec::new();
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
    let soc = occ.soc.trim().to_string();
    if !soc::is_valid(&soc) {
        problems.push(ExportError::field(
            "occupation.soc",
            format!(
                "`{}` is not an O*NET-SOC code; expected NN-NNNN or NN-NNNN.NN",
                truncate(&occ.soc, 20)
            ),
        ));
    }
    let title = occ.title.trim().to_string();
    if title.is_empty() {
        problems.push(ExportError::field(
            "occupation.title",
            "empty; expected the occupation's title",
        ));
    }
    // Every text that is indexed, stored or shown has a length limit and no control characters:
    // a megabyte title would make a gigabyte index, and an escape sequence would reach terminals.
    let texts = [
        (
            "schemaVersion",
            Some(raw.schema_version.as_str()),
            MAX_TAG_CHARS,
            true,
        ),
        (
            "exportedAt",
            raw.exported_at.as_deref(),
            MAX_TAG_CHARS,
            true,
        ),
        (
            "occupation.title",
            Some(occ.title.as_str()),
            MAX_NAME_CHARS,
            true,
        ),
        (
            "occupation.group",
            occ.group.as_deref(),
            MAX_NAME_CHARS,
            true,
        ),
        (
            "occupation.sector",
            occ.sector.as_deref(),
            MAX_NAME_CHARS,
            true,
        ),
        (
            "framework.version",
            raw.framework.version.as_deref(),
            MAX_TAG_CHARS,
            true,
        ),
        (
            "framework.description",
            raw.framework.description.as_deref(),
            MAX_PROSE_CHARS,
            false,
        ),
        (
            "framework.contextCovered",
            raw.framework.context_covered.as_deref(),
            MAX_PROSE_CHARS,
            false,
        ),
    ];
    for (field, value, max, one_line) in texts {
        if let Some(e) = value.and_then(|v| check_text(v, max, one_line).err()) {
            problems.push(ExportError::field(field, e));
        }
    }
    let exported_at = match raw.exported_at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => match parse_timestamp(t) {
            Ok(ts) => Some(ts),
            Err(e) => {
                problems.push(ExportError::field("exportedAt", e));
                None
            }
        },
    };
    if let Some(z) = occ.job_zone
        && !(1..=5).contains(&z)
    {
        problems.push(ExportError::field(
            "occupation.jobZone",
            format!("{z} is out of range; expected 1 to 5"),
        ));
    }
    if raw.framework.levels.is_empty() {
        problems.push(ExportError::field(
            "framework.levels",
            "no levels; expected emerging, developing, proficient and/or advanced",
        ));
    }
    let mut statements = Vec::new();
    let mut levels: Vec<(Level, &RawLevel)> = Vec::new();
    for (name, level) in &raw.framework.levels {
        match name.parse::<Level>() {
            Ok(l) if name == l.as_str() => levels.push((l, level)),
            _ => problems.push(ExportError::field(
                format!("framework.levels.{}", truncate(name, 40)),
                "unknown level name; expected one of emerging, developing, proficient, advanced",
            )),
        }
        if problems.len() > 20 {
            break; // a file with thousands of bad levels needs only the first few named
        }
    }
    levels.sort_by_key(|(l, _)| *l);
    for (level, raw_level) in levels {
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
        if raw_level.statements.is_empty() {
            problems.push(ExportError::field(
                &path,
                "no statements; expected at least one",
            ));
        }
        if raw_level.statements.len() > MAX_STATEMENTS_PER_LEVEL {
            problems.push(ExportError::field(
                &path,
                format!(
                    "{} statements; at most {MAX_STATEMENTS_PER_LEVEL} are accepted",
                    raw_level.statements.len()
                ),
            ));
            continue;
        }
        for (i, s) in raw_level.statements.iter().enumerate() {
            let text = s.trim();
            if text.is_empty() {
                problems.push(ExportError::field(
                    format!("{path}[{i}]"),
                    "empty statement",
                ));
                continue;
            }
            if let Some(c) = control_char(text) {
                problems.push(ExportError::field(
                    format!("{path}[{i}]"),
                    format!(
                        "control character U+{:04X} in a statement; expected text",
                        c as u32
                    ),
                ));
                continue;
            }
            let chars = text.chars().count();
            if chars > MAX_STATEMENT_CHARS {
                problems.push(ExportError::field(
                    format!("{path}[{i}]"),
                    format!("statement of {chars} characters; at most {MAX_STATEMENT_CHARS} are accepted"),
                ));
                continue;
            }
            let topic = topic_of(text);
            let topic_chars = topic.chars().count();
            if topic_chars > MAX_NAME_CHARS {
                problems.push(ExportError::field(
                    format!("{path}[{i}]"),
                    format!(
                        "topic (the text before ` — `) of {topic_chars} characters; at most {MAX_NAME_CHARS} are accepted"
                    ),
                ));
                continue;
            }
            statements.push(Statement {
                level,
                position: i as u32,
                topic: topic.to_string(),
                text: text.to_string(),
            });
        }
    }
    let knowledge = knowledge_of(occ, &mut problems);
    if let Some(first) = problems.first() {
        let mut err = first.clone();
        if problems.len() > 1 {
            let rest: Vec<String> = problems[1..]
                .iter()
                .take(5)
                .map(|p| p.to_string())
                .collect();
            let more = problems.len() - 1 - rest.len();
            err.message = format!(
                "{}; also: {}{}",
                err.message,
                rest.join("; "),
                if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                }
            );
        }
        return Err(err);
    }
    Ok(Framework {
        knowledge,
        soc,
        title,
        group: occ.group.clone().unwrap_or_default().trim().to_string(),
        job_zone: occ.job_zone,
        version: raw.framework.version.clone().unwrap_or_default(),
        exported_at: raw
            .exported_at
            .clone()
            .unwrap_or_default()
            .trim()
            .to_string(),
        exported_at_nanos: exported_at,
        context: raw
            .framework
            .context_covered
            .clone()
            .unwrap_or_default()
            .trim()
            .to_string(),
        statements,
    })
}

/// Checks a text field: at most `max` characters and no control characters (`one_line` also
/// refuses tabs and line breaks). Returns what is wrong.
fn check_text(text: &str, max: usize, one_line: bool) -> Result<(), String> {
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
    if let Some(c) = control_char(name).or_else(|| name.chars().find(|c| c.is_control())) {
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

/// What a table beside the exports lists for each occupation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// `soc<TAB>title[<TAB>short title]`: titles the occupation goes by.
    Titles,
    /// `soc<TAB>technology[<TAB>category[<TAB>hot]]`: tools it uses.
    Tools,
}

/// A parsed title or technology table: what it says per occupation, in first-seen order, and the
/// rows it could not read (with their line).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub kind: TableKind,
    pub occupations: Vec<(String, Knowledge)>,
    pub row_errors: Vec<ExportError>,
}

/// Header names of a table's first column (the occupation).
const SOC_HEADERS: &[&str] = &["soc", "onet_soc_code", "o*net-soc code", "code"];
/// Header names of a title table's second column.
const TITLE_HEADERS: &[&str] = &[
    "title",
    "alternate_title",
    "reported_title",
    "alternate title",
];
/// Header names of a technology table's second column.
const TOOL_HEADERS: &[&str] = &["technology", "tool", "example", "name"];

/// Parses a tab-separated title or technology table. The first line is its header, which says
/// which kind it is; a bad row is reported with its line and the other rows are kept.
pub fn parse_table(bytes: &[u8]) -> Result<Table, ExportError> {
    let text = decode_utf8(bytes)?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l).unwrap_or("");
    let columns: Vec<String> = header
        .split('\t')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let kind = match columns.as_slice() {
        [soc, second, ..] if SOC_HEADERS.contains(&soc.as_str()) => {
            if TITLE_HEADERS.contains(&second.as_str()) {
                TableKind::Titles
            } else if TOOL_HEADERS.contains(&second.as_str()) {
                TableKind::Tools
            } else {
                return Err(bad_header(header));
            }
        }
        _ => return Err(bad_header(header)),
    };
    let mut occupations: Vec<(String, Knowledge)> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    let mut row_errors = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let row_error = |field: &str, message: String| ExportError {
            line: Some(i + 1),
            column: None,
            field: Some(field.to_string()),
            message,
        };
        let cells: Vec<&str> = line.split('\t').map(unquote_cell).collect();
        let soc = cells[0].trim();
        if !soc::is_valid(soc) {
            row_errors.push(row_error(
                &columns[0],
                format!(
                    "`{}` is not an O*NET-SOC code; expected NN-NNNN or NN-NNNN.NN",
                    truncate(soc, 40)
                ),
            ));
            continue;
        }
        let Some(name) = cells.get(1) else {
            row_errors.push(row_error(
                &columns[1],
                "missing; expected a tab and a name after the code".into(),
            ));
            continue;
        };
        let name = match check_name(name) {
            Ok(n) => n,
            Err(e) => {
                row_errors.push(row_error(&columns[1], e));
                continue;
            }
        };
        // The third column: a short title (`CEO`) or the tool's category, both optional.
        let third = match cells.get(2).map(|c| c.trim()).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match check_name(c) {
                Ok(c) => Some(c),
                Err(e) => {
                    row_errors.push(row_error(columns.get(2).map_or("", String::as_str), e));
                    continue;
                }
            },
        };
        let slot = *at.entry(soc.to_string()).or_insert_with(|| {
            occupations.push((soc.to_string(), Knowledge::default()));
            occupations.len() - 1
        });
        let k = &mut occupations[slot].1;
        match kind {
            TableKind::Titles => {
                push_title(&mut k.titles, name);
                if let Some(short) = third {
                    push_title(&mut k.titles, short);
                }
            }
            TableKind::Tools => {
                let tool = Tool {
                    name: name.to_string(),
                    category: third.unwrap_or("").to_string(),
                };
                if !k.tools.contains(&tool) {
                    k.tools.push(tool);
                }
            }
        }
    }
    Ok(Table {
        kind,
        occupations,
        row_errors,
    })
}

fn bad_header(header: &str) -> ExportError {
    ExportError {
        line: Some(1),
        column: None,
        field: None,
        message: format!(
            "header `{}` is not a table skillmap knows; expected `soc<TAB>title` (titles) or `soc<TAB>technology` (tools), tab-separated",
            truncate(&header.replace('\t', "<TAB>"), 80)
        ),
    }
}

/// A TSV cell as spreadsheet tools write it: `"a ""b"" c"` is `a "b" c`.
fn unquote_cell(cell: &str) -> &str {
    // Quotes are only stripped; doubled quotes inside stay doubled (rare in titles and tools).
    cell.strip_prefix('"')
        .and_then(|c| c.strip_suffix('"'))
        .unwrap_or(cell)
}

/// The first control character (other than white space) of a text. Control characters are
/// C0 (bytes below 0x20 and 0x7F) or C1 (U+0080-U+009F, encoded 0xC2 0x80-0x9F), so a byte scan
/// finds whether there is one before any character is decoded.
fn control_char(text: &str) -> Option<char> {
    let b = text.as_bytes();
    let suspect = b.iter().enumerate().any(|(i, &x)| {
        x < 0x20
            || x == 0x7F
            || (x == 0xC2 && b.get(i + 1).is_some_and(|&y| (0x80..=0x9F).contains(&y)))
    });
    if !suspect {
        return None;
    }
    text.chars().find(|c| c.is_control() && !c.is_whitespace())
}

/// The topic of a statement: the text before ` — `, or empty.
pub fn topic_of(text: &str) -> &str {
    text.split_once(TOPIC_SEPARATOR)
        .map_or("", |(t, _)| t.trim())
}

fn truncate(s: &str, max: usize) -> String {
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
    fn tables_say_their_kind_and_report_bad_rows() {
        let t = parse_table(
            b"onet_soc_code\talternate_title\tshort_title\n29-1141.00\tStaff Nurse\t\n29-2061.00\tLicensed Practical Nurse\tLPN\nxx\tNurse\n29-1141.00\t\n29-1141.00\tstaff nurse\n",
        )
        .unwrap();
        assert_eq!(t.kind, TableKind::Titles);
        assert_eq!(
            t.occupations,
            vec![
                (
                    "29-1141.00".to_string(),
                    Knowledge {
                        titles: vec!["Staff Nurse".into()],
                        tools: vec![]
                    }
                ),
                (
                    "29-2061.00".to_string(),
                    Knowledge {
                        titles: vec!["Licensed Practical Nurse".into(), "LPN".into()],
                        tools: vec![]
                    }
                ),
            ]
        );
        let lines: Vec<_> = t.row_errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [Some(4), Some(5)]);
        assert!(
            t.row_errors[0]
                .to_string()
                .contains("not an O*NET-SOC code")
        );
        let t =
            parse_table(b"soc\ttechnology\tcategory\n53-7051.00\tForklifts\tIndustrial trucks\n")
                .unwrap();
        assert_eq!(t.kind, TableKind::Tools);
        assert_eq!(t.occupations[0].1.tools[0].category, "Industrial trucks");
        let e = parse_table(b"a,b\n1,2\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("soc<TAB>title"), "{e}");
    }

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

    #[test]
    fn soc_codes() {
        for ok in ["33-3051", "33-3051.04", "11-1011.00"] {
            assert!(soc::is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "33",
            "333051",
            "33-305",
            "33-3051.4",
            "ab-cdef",
            "33-3051.0a",
            "33_3051",
        ] {
            assert!(!soc::is_valid(bad), "{bad}");
        }
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
