//! Highlighting: which spans of a statement match the query (exact stems, and misspellings
//! within an edit distance), as byte ranges, character ranges and HTML with `<mark>`.

use foldhash::HashSet;
use std::ops::Range;

use tantivy::tokenizer::TextAnalyzer;

use super::SearchHit;

/// Fills a hit's snippet and highlight ranges.
pub fn highlight(hit: &mut SearchHit, h: &Highlighter, analyzer: &mut TextAnalyzer) {
    let ranges = h.ranges(analyzer, &hit.statement);
    hit.snippet = marked_html(&hit.statement, &ranges);
    hit.highlights = char_ranges(&hit.statement, &ranges);
    hit.byte_ranges = ranges;
}

/// What a highlighted span may match: exact stemmed terms, and misspelled query words that
/// match an indexed term within an edit distance.
#[derive(Debug, Default, Clone)]
pub struct Highlighter {
    pub exact: HashSet<String>,
    /// (term, maximum edit distance)
    pub fuzzy: Vec<(String, usize)>,
}

impl Highlighter {
    fn matches(&self, term: &str) -> bool {
        self.exact.contains(term)
            || self.fuzzy.iter().any(|(f, d)| {
                // Lengths further apart than the distance cannot match; skip the DP for them.
                f.chars().count().abs_diff(term.chars().count()) <= *d
                    && strsim::damerau_levenshtein(f, term) <= *d
            })
    }

    /// Byte ranges of `text` whose tokens match, in order and not overlapping.
    pub fn ranges(&self, analyzer: &mut TextAnalyzer, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            if self.matches(&t.text) {
                out.push(t.offset_from..t.offset_to);
            }
        }
        out
    }
}

/// Converts byte ranges of `text` into Unicode code point ranges (what a web page indexes by,
/// for text in the Basic Multilingual Plane). The ranges are in order.
pub fn char_ranges(text: &str, ranges: &[Range<usize>]) -> Vec<[usize; 2]> {
    let mut chars = 0;
    let mut at = 0;
    let mut to_char = |b: usize| {
        chars += text[at..b].chars().count();
        at = b;
        chars
    };
    ranges
        .iter()
        .map(|r| {
            let start = to_char(r.start);
            [start, to_char(r.end)]
        })
        .collect()
}

/// Escapes text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// Appends `s` to `out`, escaped for HTML.
fn push_escaped(out: &mut String, s: &str) {
    let mut at = 0;
    for (i, c) in s.char_indices() {
        let entity = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[at..i]);
        out.push_str(entity);
        at = i + 1;
    }
    out.push_str(&s[at..]);
}

/// The text with every range wrapped in `<mark>…</mark>`, HTML-escaped, safe to insert as HTML.
pub fn marked_html(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len() + 13 * ranges.len() + 16);
    let mut at = 0;
    for r in ranges {
        push_escaped(&mut out, &text[at..r.start]);
        out.push_str("<mark>");
        push_escaped(&mut out, &text[r.clone()]);
        out.push_str("</mark>");
        at = r.end;
    }
    push_escaped(&mut out, &text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::analyzer::index_analyzer;

    #[test]
    fn highlight_and_mark() {
        let mut a = index_analyzer();
        let h = Highlighter {
            exact: ["inspect".to_string()].into_iter().collect(),
            fuzzy: vec![("contrabnd".into(), 1)],
        };
        let text = "Inspects <cargo> & contraband";
        let r = h.ranges(&mut a, text);
        assert_eq!(r, [0..8, 19..29]);
        assert_eq!(
            marked_html(text, &r),
            "<mark>Inspects</mark> &lt;cargo&gt; &amp; <mark>contraband</mark>"
        );
        assert_eq!(char_ranges("— ab c", &[4..6, 7..8]), [[2, 4], [5, 6]]);
    }
}
