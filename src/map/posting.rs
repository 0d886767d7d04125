//! Reading a job posting: which of its lines describe the job and which are the employer's
//! boilerplate (benefits, pay, "about us", equal-opportunity statements, how to apply).
//!
//! Boilerplate words are real occupational words elsewhere ("dental" in a benefits list, "veteran"
//! in an equal-opportunity statement, "insurance"), so they are removed by where they stand, not by
//! what they are: a boilerplate heading ("Benefits:", "What we offer") opens a section that lasts
//! until the next heading; an inline one ("Perks: free lunch") ends its line; a line with an
//! equal-opportunity or application phrase goes as a whole.

use std::sync::OnceLock;

use regex::Regex;

/// Headings of sections that describe the employer, not the job.
const HEADINGS: &str = r"benefits?|perks?|perks (?:and|&) benefits|benefits (?:and|&) perks|what we offer|we offer|our offer|what you(?:'ll| will) get|compensation|compensation (?:and|&) benefits|pay|salary|pay (?:and|&) benefits|about us|about the company|about the team|who we are|our company|why join us|why work (?:with|for) us|equal (?:employment )?opportunity|eeo(?: statement)?|diversity(?: (?:and|&) inclusion)?|how to apply|to apply|application process";

/// Phrases that mark a whole line as boilerplate.
const LINE_PHRASES: &str = r"equal (?:employment )?opportunity|do(?:es)? not discriminate|without regard to|affirmative action|reasonable accommodations?|\beoe\b|background check|drug[- ]free workplace|e-verify|apply (?:now|today|online)|to apply,|send (?:your|a) (?:resume|cv)";

fn heading_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(r"(?i)^\W*(?:{HEADINGS})\W*$")).expect("valid heading pattern")
    })
}

fn inline_heading() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r"(?i)(?:^|[.;!?]\s+|\s-\s|\s)((?:{HEADINGS})\s*:)"
        ))
        .expect("valid inline pattern")
    })
}

fn line_phrase() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!("(?i){LINE_PHRASES}")).expect("valid phrase pattern"))
}

/// Is this line a heading of any section (short, ending with a colon)?
fn any_heading(line: &str) -> bool {
    let t = line.trim();
    t.ends_with(':') && t.split_whitespace().count() <= 6
}

/// The posting with its boilerplate blanked out: every removed byte becomes a space (line breaks
/// are kept), so offsets into the result are offsets into the posting.
pub fn without_boilerplate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_boilerplate = false;
    let mut first = true;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        // The first line, when it reads like a job title, is the title whatever its words
        // ("Equal Opportunity Specialist" is a job).
        let is_title = first && looks_like_title(body);
        if !body.trim().is_empty() {
            first = false;
        }
        let keep_until = if is_title {
            body.len()
        } else if heading_line().is_match(body) {
            in_boilerplate = true;
            0
        } else if any_heading(body) {
            in_boilerplate = false;
            body.len()
        } else if in_boilerplate || line_phrase().is_match(body) {
            0
        } else if let Some(m) = inline_heading().captures(body).and_then(|c| c.get(1)) {
            m.start()
        } else {
            body.len()
        };
        out.push_str(&body[..keep_until]);
        out.extend(std::iter::repeat_n(' ', body.len() - keep_until));
        out.push_str(&line[body.len()..]);
    }
    // No filter may empty a posting that had words: then all of it is the posting.
    if !out.chars().any(char::is_alphanumeric) && text.chars().any(char::is_alphanumeric) {
        return text.to_string();
    }
    out
}

/// Is this line a job title (short, no sentence punctuation, not a section heading)?
pub fn looks_like_title(line: &str) -> bool {
    let l = line.trim();
    let words = l.split_whitespace().count();
    (1..=10).contains(&words)
        && !l.ends_with('.')
        && !l.ends_with(':')
        && !l.starts_with(['-', '*', '•'])
        && l.chars().any(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(text: &str) -> Vec<String> {
        without_boilerplate(text)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// regression_12: a title line that reads like boilerplate is still the title, and a
    /// posting made only of boilerplate is kept whole rather than emptied.
    #[test]
    fn regression_12_title_lines_and_all_boilerplate_postings_are_kept() {
        assert_eq!(
            kept("Equal Opportunity Specialist"),
            ["Equal Opportunity Specialist"]
        );
        let eeo = "Equal Opportunity Specialist\nWe are an equal opportunity employer.";
        assert_eq!(kept(eeo), ["Equal Opportunity Specialist"]);
        let only = "We are an equal opportunity employer.";
        assert_eq!(kept(only), [only]);
    }

    #[test]
    fn sections_inline_headings_and_statements_go() {
        let posting = "Barista\n\
            Make espresso drinks. Benefits: dental and vision insurance.\n\
            What we offer:\n- Health and dental insurance\n- Paid time off\n\
            Responsibilities:\n- Clean the espresso machine\n\
            We are an equal opportunity employer and do not discriminate against veterans.\n";
        assert_eq!(
            kept(posting),
            [
                "Barista",
                "Make espresso drinks.",
                "Responsibilities:",
                "- Clean the espresso machine"
            ]
        );
    }

    #[test]
    fn offsets_are_kept() {
        let posting = "Cook\r\nPerks: free meals\r\nPrep vegetables\n";
        let out = without_boilerplate(posting);
        assert_eq!(out.len(), posting.len());
        assert!(out.contains("Prep vegetables"));
        assert!(!out.contains("meals"));
    }

    #[test]
    fn job_words_that_look_like_headings_stay() {
        for line in [
            "Benefits Specialist",
            "Administer employee benefits programs and answer benefits questions.",
            "Prepare payroll and process pay adjustments.",
        ] {
            assert_eq!(kept(line), [line]);
        }
    }
}
