//! Tables beside the exports: TSV or CSV files of alternate titles or tools per occupation
//! (O*NET's layout or a plain `soc<TAB>title`), parsed with a precise error for each bad row.

use super::framework::{
    ExportError, Knowledge, Tool, check_name, decode_utf8, push_title, truncate,
};
use super::soc;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
