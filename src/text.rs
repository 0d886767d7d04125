//! Text analysis shared by search and map: the index's analyzer, query terms, highlighting.

use std::collections::HashSet;
use std::ops::Range;

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    TokenStream,
};

/// The analyzer used at index time for prose fields (same chain as tantivy's `en_stem`).
pub fn index_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The index analyzer with English stop words removed before stemming: for free-text queries,
/// where "of" or "the" must not be required words.
pub fn query_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::English).expect("tantivy ships English stop words"))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The stemmed terms of `text` with their byte ranges.
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.offset_from..t.offset_to));
    }
    out
}

/// The stemmed terms of `text`.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    tokens(analyzer, text).into_iter().map(|(t, _)| t).collect()
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
            || self
                .fuzzy
                .iter()
                .any(|(f, d)| strsim::damerau_levenshtein(f, term) <= *d)
    }

    /// Byte ranges of `text` whose tokens match, in order and not overlapping.
    pub fn ranges(&self, analyzer: &mut TextAnalyzer, text: &str) -> Vec<Range<usize>> {
        tokens(analyzer, text)
            .into_iter()
            .filter(|(t, _)| self.matches(t))
            .map(|(_, r)| r)
            .collect()
    }
}

/// Converts byte ranges of `text` into Unicode code point ranges (what a web page indexes by,
/// for text in the Basic Multilingual Plane).
pub fn char_ranges(text: &str, ranges: &[Range<usize>]) -> Vec<[usize; 2]> {
    let to_char = |b: usize| text[..b].chars().count();
    ranges
        .iter()
        .map(|r| [to_char(r.start), to_char(r.end)])
        .collect()
}

/// Escapes text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The text with every range wrapped in `<mark>…</mark>`, HTML-escaped, safe to insert as HTML.
pub fn marked_html(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        out.push_str(&escape_html(&text[at..r.start]));
        out.push_str("<mark>");
        out.push_str(&escape_html(&text[r.clone()]));
        out.push_str("</mark>");
        at = r.end;
    }
    out.push_str(&escape_html(&text[at..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_terms_are_stemmed_without_stop_words() {
        let mut a = query_analyzer();
        assert_eq!(
            terms(&mut a, "Inspecting the cargo of ships"),
            ["inspect", "cargo", "ship"]
        );
    }

    #[test]
    fn highlight_and_mark() {
        let mut a = index_analyzer();
        let h = Highlighter {
            exact: ["inspect".to_string()].into(),
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
