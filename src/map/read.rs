//! Stage 1 of `map`, reading the posting: its length cap, the boilerplate that goes, the job
//! title (given, or the first line when it reads like one) cleaned of job-board additions and
//! with its aliases spelled out, and the seniority cues, which are left out of the content.
//! Pure text work: no index is read here.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::index::analyzer;
use crate::map::seniority::{self, Cue};

use super::titles;

/// Posting text analysed at most (bytes); the rest is ignored and `truncated` says so.
pub const MAX_TEXT_BYTES: usize = 200_000;
/// Weight of a seniority cue in the title, relative to one in the text.
pub const TITLE_CUE_WEIGHT: f32 = 1.5;

/// A posting as read.
#[derive(Debug, Clone)]
pub struct Reading {
    /// Only the first [`MAX_TEXT_BYTES`] of the text were read.
    pub truncated: bool,
    /// Seniority phrases, in the title (weighted [`TITLE_CUE_WEIGHT`]) and in the text.
    pub cues: Vec<Cue>,
    /// The title's content: cleaned, aliases spelled out, seniority words blanked.
    pub title_content: String,
    /// The head noun of the title's job (stemmed), when there is a title.
    pub head: Option<String>,
    /// The text's content without the title line, seniority words blanked.
    pub body: String,
    /// The title's readings for the nearest-title look-ups: as written and without its
    /// seniority words ("Senior Accountant" is an accountant, but "Vice Principal" is no
    /// "Vice"), each cleaned of job-board additions, distinct and not empty.
    pub title_readings: Vec<String>,
}

/// Reads a posting. An error when neither text (once boilerplate is gone) nor title is left.
pub fn read(text: &str, title: Option<&str>) -> Result<Reading> {
    let mut text = text;
    let truncated = text.len() > MAX_TEXT_BYTES;
    if truncated {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text = &text[..end];
    }
    // Benefits, pay, "about us" and equal-opportunity lines say nothing about the job.
    let cleaned = crate::map::posting::without_boilerplate(text);
    let text = cleaned.as_str();
    let explicit_title = title.map(str::trim).filter(|t| !t.is_empty());
    if text.trim().is_empty() && explicit_title.is_none() {
        return Err(Error::Invalid(
            "nothing to map: the posting text and title are empty".into(),
        ));
    }
    // The job title: given, or the first line when it reads like one; its aliases are replaced
    // before seniority is read ("Sales Associate" is a job, not a level).
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let start = text.find(first_line).unwrap_or(0);
    let title_from_text =
        explicit_title.is_none() && crate::map::posting::looks_like_title(first_line);
    // The title as written, for the nearest-title look-up.
    let raw_title: Option<&str> = explicit_title.or(title_from_text.then(|| first_line.trim()));
    // What job boards add to titles (location, shift, pay, "Remote") is no evidence.
    let explicit_title = explicit_title.map(|t| expand_title(&titles::clean_title(t)));
    let expanded;
    let (text, first_line_end) = if title_from_text {
        let line = expand_title(&titles::clean_title(first_line));
        let end = start + line.len();
        expanded = format!(
            "{}{line}{}",
            &text[..start],
            &text[start + first_line.len()..]
        );
        (expanded.as_str(), end)
    } else {
        (text, start + first_line.len())
    };

    // Seniority cues, and the content with the cues blanked out.
    let mut cues = Vec::new();
    let mut title_content = String::new();
    if let Some(t) = explicit_title.as_deref() {
        let c = seniority::cues(t, TITLE_CUE_WEIGHT);
        title_content = seniority::without_cues(t, &c);
        cues.extend(c);
    }
    let text_cues: Vec<Cue> = seniority::cues(text, 1.0)
        .into_iter()
        .map(|mut c| {
            // A cue in a first line that is the title counts as a title cue.
            if title_from_text && c.span.end <= first_line_end {
                c.weight *= TITLE_CUE_WEIGHT;
            }
            c
        })
        .collect();
    let content = seniority::without_cues(text, &text_cues);
    cues.extend(text_cues);
    let body = if title_from_text {
        title_content = content[..first_line_end].trim().to_string();
        content[first_line_end..].to_string()
    } else {
        content
    };
    let head = analyzer::query_terms(title_core(&title_content)).pop();
    let mut title_readings: Vec<String> = [raw_title.unwrap_or(""), &title_content]
        .iter()
        .map(|r| titles::clean_title(r))
        .filter(|t| !t.trim().is_empty())
        .collect();
    title_readings.dedup();
    Ok(Reading {
        truncated,
        cues,
        title_content,
        head,
        body,
        title_readings,
    })
}

/// The job itself in a posting's title, before what qualifies it: "Registered Nurse - ICU
/// (Nights)" → "Registered Nurse"; "Software Engineer, Payments" → "Software Engineer";
/// "Cook at Rosa's" → "Cook".
pub fn title_core(title: &str) -> &str {
    let mut end = title.len();
    for sep in [" - ", " – ", " — ", "|", "(", ",", " at ", " for ", " in "] {
        if let Some(i) = title.find(sep)
            && i > 0
        {
            end = end.min(i);
        }
    }
    &title[..end]
}

/// Common job-board words and abbreviations with the O*NET title words they stand for
/// (`data/title_aliases.tsv`). An alias written in capitals matches only in capitals ("RN", not
/// "rn"); the others match in any case. Whole words only, in one left-to-right pass; where two
/// aliases start at the same word, the longer wins ("border patrol officer" reads "border
/// patrol", not "patrol officer").
struct TitleAliases {
    re: regex::Regex,
    /// Capitalised aliases as written, the others lower-cased.
    adds: HashMap<String, &'static str>,
}

fn title_aliases() -> &'static TitleAliases {
    static ALIASES: OnceLock<TitleAliases> = OnceLock::new();
    ALIASES.get_or_init(|| {
        let mut rows: Vec<(&str, &str)> = include_str!("../../data/title_aliases.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (alias, adds) = l.split_once('\t')?;
                Some((alias.trim(), adds.trim()))
            })
            .filter(|(alias, _)| !alias.is_empty())
            .collect();
        rows.sort_by_key(|(alias, _)| std::cmp::Reverse(alias.len()));
        let caps = |alias: &str| !alias.chars().any(char::is_lowercase);
        let alternatives: Vec<String> = rows
            .iter()
            .map(|(alias, _)| {
                let flag = if caps(alias) { "-i" } else { "i" };
                format!("(?{flag}:{})", regex::escape(alias))
            })
            .collect();
        let re = regex::Regex::new(&format!(r"\b(?:{})\b", alternatives.join("|")))
            .expect("the bundled aliases make a valid pattern");
        let adds = rows
            .iter()
            .map(|(alias, adds)| {
                let key = if caps(alias) {
                    alias.to_string()
                } else {
                    alias.to_lowercase()
                };
                (key, *adds)
            })
            .collect();
        TitleAliases { re, adds }
    })
}

/// The title with every alias replaced by the O*NET words it stands for.
pub fn expand_title(title: &str) -> String {
    let a = title_aliases();
    a.re.replace_all(title, |c: &regex::Captures| {
        let m = &c[0];
        let adds = a
            .adds
            .get(m)
            .or_else(|| a.adds.get(&m.to_lowercase()))
            .copied()
            .unwrap_or(m);
        adds.to_string()
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_of_a_title_is_the_job() {
        assert_eq!(
            title_core("Registered Nurse - ICU (Nights)"),
            "Registered Nurse"
        );
        assert_eq!(
            title_core("Software Engineer, Payments"),
            "Software Engineer"
        );
        assert_eq!(title_core("Cook at Rosa's"), "Cook");
        assert_eq!(title_core("Front-End Developer"), "Front-End Developer");
    }

    #[test]
    fn aliases_are_whole_words_longest_first_and_capitals_where_written() {
        assert_eq!(
            expand_title("CDL Driver"),
            "heavy tractor-trailer truck driver Driver"
        );
        // "cdl" in lower case is not the abbreviation; nor is "tech" inside "technology".
        assert_eq!(expand_title("cdl"), "cdl");
        assert_eq!(expand_title("Technology Lead"), "Technology Lead");
        assert_eq!(
            expand_title("Border Patrol Officer"),
            "customs border protection Officer"
        );
        assert_eq!(expand_title("Pharmacy Tech"), "Pharmacy technician");
    }

    #[test]
    fn a_first_line_that_reads_like_a_title_is_the_title() {
        let r = read(
            "Senior Registered Nurse - ICU (Nights)\nCare for patients in intensive care.",
            None,
        )
        .unwrap();
        assert!(!r.title_content.contains("Senior"), "{r:?}");
        assert!(r.title_content.contains("Registered Nurse"), "{r:?}");
        assert_eq!(r.head.as_deref(), Some("nurs"));
        assert!(r.body.contains("intensive care") && !r.body.contains("Nurse"));
        // Read as written and without its seniority word.
        assert_eq!(r.title_readings.len(), 2, "{r:?}");
        assert!(r.cues.iter().any(|c| c.weight >= TITLE_CUE_WEIGHT), "{r:?}");
    }

    #[test]
    fn a_given_title_leaves_the_text_whole_and_its_cues_weigh_more() {
        let r = read(
            "Reconcile ledgers monthly; 5+ years of experience.",
            Some("Junior Accountant (Remote)"),
        )
        .unwrap();
        assert!(r.body.contains("Reconcile ledgers monthly"), "{r:?}");
        assert_eq!(r.head.as_deref(), Some("account"));
        assert!(r.title_readings.iter().all(|t| !t.contains("Remote")));
        let title_cues = r
            .cues
            .iter()
            .filter(|c| c.weight == TITLE_CUE_WEIGHT)
            .count();
        assert_eq!(title_cues, 1, "{:?}", r.cues);
        assert_eq!(
            r.cues.len(),
            2,
            "one in the title, one in the text: {:?}",
            r.cues
        );
    }

    #[test]
    fn empty_postings_are_an_error_and_long_ones_are_cut_on_a_char_boundary() {
        assert!(read("   ", None).is_err());
        assert!(read("", Some("  ")).is_err());
        assert!(read("", Some("Welder")).is_ok());
        let long = "é".repeat(MAX_TEXT_BYTES);
        let r = read(&long, None).unwrap();
        assert!(r.truncated);
        assert!(!read("Weld pipe.", None).unwrap().truncated);
    }
}
