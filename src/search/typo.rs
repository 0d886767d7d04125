//! Typo tolerance without walking the term dictionary: every statement term of one index
//! generation with the strings left when one or two of its characters are deleted, so that the
//! terms within two edits of a misspelt word are found by looking its own deletions up (two
//! strings within `d` edits share a string each reaches by at most `d` deletions), then checked
//! by the edit distance tantivy's `FuzzyTermQuery` automaton computes, so that the same terms
//! match.

use std::hash::{BuildHasher, Hasher};

use tantivy::Searcher;
use tantivy::schema::Field;

use crate::error::Result;

/// The most edits looked up.
const MAX_EDITS: u8 = 2;

/// The statement terms of one index generation, and their deletions.
#[derive(Debug, Default)]
pub(crate) struct Vocabulary {
    /// Every distinct term of the field in some segment, sorted.
    terms: Vec<String>,
    /// (hash of a deletion, term number), sorted: each term's strings with up to [`MAX_EDITS`]
    /// characters deleted (itself included). A hash may collide; candidates are checked.
    deletions: Vec<(u64, u32)>,
}

/// The hashes of every string left when at most `edits` characters of `word` are deleted
/// (itself included; a string reached twice is hashed twice). The hasher is fixed, so that a
/// deletion hashes alike at build and at look-up; no string is built.
fn deletions(word: &str, edits: u8) -> Vec<u64> {
    let chars: Vec<char> = word.chars().collect();
    let state = foldhash::fast::FixedState::with_seed(0x005e_ad0f_7e55);
    let hash = |skip: [usize; 2]| {
        let mut h = state.build_hasher();
        for (i, c) in chars.iter().enumerate() {
            if i != skip[0] && i != skip[1] {
                h.write_u32(*c as u32);
            }
        }
        h.write_usize(chars.len() - skip.iter().filter(|&&i| i < chars.len()).count());
        h.finish()
    };
    let none = usize::MAX;
    let mut out = vec![hash([none, none])];
    if edits >= 1 {
        for i in 0..chars.len() {
            out.push(hash([i, none]));
        }
    }
    if edits >= 2 {
        for i in 0..chars.len() {
            for j in i + 1..chars.len() {
                out.push(hash([i, j]));
            }
        }
    }
    out
}

impl Vocabulary {
    /// Reads every segment's term dictionary of `field`.
    pub(crate) fn build(searcher: &Searcher, field: Field) -> Result<Vocabulary> {
        let mut terms: Vec<String> = Vec::new();
        for seg in searcher.segment_readers() {
            let index = seg.inverted_index(field)?;
            let mut stream = index
                .terms()
                .stream()
                .map_err(|e| crate::error::Error::Tantivy(e.into()))?;
            while stream.advance() {
                if let Ok(t) = std::str::from_utf8(stream.key()) {
                    terms.push(t.to_string());
                }
            }
        }
        terms.sort_unstable();
        terms.dedup();
        let mut all: Vec<(u64, u32)> = Vec::new();
        for (n, t) in terms.iter().enumerate() {
            all.extend(deletions(t, MAX_EDITS).into_iter().map(|h| (h, n as u32)));
        }
        all.sort_unstable();
        all.dedup();
        Ok(Vocabulary {
            terms,
            deletions: all,
        })
    }

    /// The terms within `distance` edits of `word` (an adjacent transposition counts as one),
    /// as tantivy's `FuzzyTermQuery::new(term, distance, true)` finds them; sorted.
    pub(crate) fn near(&self, word: &str, distance: u8) -> Vec<&str> {
        let distance = distance.min(MAX_EDITS);
        let mut found: Vec<u32> = Vec::new();
        for h in deletions(word, distance) {
            let from = self.deletions.partition_point(|e| e.0 < h);
            found.extend(
                self.deletions[from..]
                    .iter()
                    .take_while(|e| e.0 == h)
                    .map(|e| e.1),
            );
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|n| self.terms[n as usize].as_str())
            .filter(|t| within(word, t, distance))
            .collect()
    }
}

/// Whether `a` and `b` are within `distance` edits, an adjacent transposition counting as one:
/// the optimal string alignment distance, which tantivy's automaton with transpositions
/// accepts (the test below holds the two to the same terms). A handful of candidates is
/// checked per word, far cheaper than building the automaton for it.
fn within(a: &str, b: &str, distance: u8) -> bool {
    let d = usize::from(distance);
    a.chars().count().abs_diff(b.chars().count()) <= d && strsim::osa_distance(a, b) <= d
}

#[cfg(test)]
mod tests {
    use super::*;
    use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder};
    use std::sync::OnceLock;
    use tantivy::collector::DocSetCollector;
    use tantivy::query::FuzzyTermQuery;

    /// tantivy's automaton builders, one per distance (transpositions cost one).
    fn builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
        static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        BUILDERS[distance as usize].get_or_init(|| LevenshteinAutomatonBuilder::new(distance, true))
    }

    /// Misspellings of a term: every deletion, insertion, substitution and transposition, and
    /// some pairs of them.
    fn misspellings(term: &str) -> Vec<String> {
        let chars: Vec<char> = term.chars().collect();
        let s = |v: &[char]| v.iter().collect::<String>();
        let mut out = Vec::new();
        for i in 0..=chars.len() {
            let mut v = chars.clone();
            v.insert(i, 'x');
            out.push(s(&v));
            if i < chars.len() {
                let mut v = chars.clone();
                v.remove(i);
                out.push(s(&v));
                let mut v = chars.clone();
                v[i] = 'q';
                out.push(s(&v));
            }
            if i + 1 < chars.len() {
                let mut v = chars.clone();
                v.swap(i, i + 1);
                out.push(s(&v));
                // Two edits: a transposition and a substitution at the end.
                let last = v.len() - 1;
                v[last] = 'z';
                out.push(s(&v));
            }
        }
        out
    }

    #[test]
    fn finds_the_terms_the_automaton_accepts_and_the_documents_fuzzy_queries_match() {
        let (_tmp, engine) = crate::index::fixture_engine();
        let searcher = engine.searcher();
        let field = engine.fields.statement;
        let vocabulary = Vocabulary::build(&searcher, field).unwrap();
        assert!(vocabulary.terms.len() > 50, "{}", vocabulary.terms.len());
        let mut checked = 0;
        let mut found = 0;
        for term in vocabulary.terms.iter().step_by(5) {
            for word in misspellings(term) {
                for distance in [1u8, 2] {
                    let dfa = builder(distance).build_dfa(&word);
                    // The brute force: every term through the automaton.
                    let want: Vec<&str> = vocabulary
                        .terms
                        .iter()
                        .map(String::as_str)
                        .filter(|t| matches!(dfa.eval(t), Distance::Exact(_)))
                        .collect();
                    let got = vocabulary.near(&word, distance);
                    assert_eq!(got, want, "{word:?} within {distance}");
                    checked += 1;
                    found += usize::from(!got.is_empty());
                }
            }
        }
        assert!(found * 2 > checked, "{found} of {checked} found something");
        // The same documents as tantivy's fuzzy query, through `Memo`.
        for (word, distance) in [
            ("nurze", 1u8),
            ("medicaton", 2),
            ("patiets", 2),
            ("qqqqq", 2),
        ] {
            let term = tantivy::Term::from_field_text(field, word);
            let fuzzy = || FuzzyTermQuery::new(term.clone(), distance, true);
            let near = vocabulary
                .near(word, distance)
                .into_iter()
                .map(|t| tantivy::Term::from_field_text(field, t))
                .collect();
            let memo = super::super::memo::Memo::with_terms(fuzzy(), near);
            let want = searcher.search(&fuzzy(), &DocSetCollector).unwrap();
            let got = searcher.search(&memo, &DocSetCollector).unwrap();
            assert_eq!(got, want, "{word}");
        }
    }

    proptest::proptest! {
        /// The distance check accepts exactly what tantivy's automaton accepts, on short strings
        /// of a small alphabet, where transpositions next to other edits are frequent.
        #[test]
        fn the_distance_check_agrees_with_the_automaton(
            a in "[abcé]{0,7}",
            b in "[abcé]{0,7}",
            distance in 1u8..=2,
        ) {
            let automaton = matches!(builder(distance).build_dfa(&a).eval(&b), Distance::Exact(_));
            proptest::prop_assert_eq!(within(&a, &b, distance), automaton, "{} {}", a, b);
        }
    }

    #[test]
    fn the_distance_check_counts_a_transposition_once_and_never_edits_it_again() {
        for (a, b, distance, want) in [
            ("ab", "ba", 1, true),
            ("contrabnd", "contraband", 1, true),
            ("ca", "abc", 2, false),
            ("abcd", "bacd", 1, true),
            ("abcd", "badc", 1, false),
            ("abcd", "badc", 2, true),
        ] {
            let automaton = matches!(builder(distance).build_dfa(a).eval(b), Distance::Exact(_));
            assert_eq!(automaton, want, "automaton {a} {b} {distance}");
            assert_eq!(within(a, b, distance), want, "{a} {b} {distance}");
        }
    }

    #[test]
    fn a_deletion_hashes_as_the_string_it_leaves() {
        // "abc" without one or two characters is "bc", "ac", "ab", "a", "b", "c".
        let abc = deletions("abc", 2);
        assert_eq!(abc.len(), 7);
        for s in ["abc", "bc", "ac", "ab"] {
            assert!(abc.contains(&deletions(s, 0)[0]), "{s}");
        }
        for s in ["a", "b", "c"] {
            assert!(abc.contains(&deletions(s, 0)[0]), "{s}");
        }
        assert!(!abc.contains(&deletions("ba", 0)[0]));
        assert!(!abc.contains(&deletions("d", 0)[0]));
        assert_eq!(deletions("ab", 1).len(), 3);
    }
}
