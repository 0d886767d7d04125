//! Text analysis shared by search and map: the index's analyzer, query terms, highlighting.

use std::ops::Range;

// foldhash: several times faster than SipHash on short words, and seeded per map, so posting
// text cannot be built to collide.
use foldhash::HashMap;

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, StopWordFilter, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};

/// The analyzer used at index time for prose fields: the same chain as tantivy's `en_stem`
/// (simple tokenizer, long-token removal, lower-casing, English Snowball stemming), with the
/// stems memoised. Stemming was 46% of the instructions of an indexing run (callgrind, see
/// BENCHMARKS.md) while the vocabulary is small, so each analyzer keeps a cache of its stems.
/// The output is identical to `en_stem`'s, which is why it is registered under that name.
pub fn index_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(CachedStemmer)
        .build()
}

/// The index analyzer with English stop words removed before stemming: for free-text queries,
/// where "of" or "the" must not be required words.
pub fn query_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::English).expect("tantivy ships English stop words"))
        .filter(CachedStemmer)
        .build()
}

/// Distinct words remembered per analyzer before the cache starts over.
const STEM_CACHE_WORDS: usize = 200_000;

/// English Snowball stemming (as tantivy's `Stemmer`) with a per-analyzer memo of stems.
#[derive(Clone, Copy, Debug, Default)]
pub struct CachedStemmer;

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner: tokenizer,
            cache: StemCache::default(),
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

/// The tokenizer that [`CachedStemmer`] wraps around another.
#[derive(Clone)]
pub struct CachedStemmerFilter<T> {
    inner: T,
    cache: StemCache,
    stemmer: frostem::Stemmer,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        let CachedStemmerFilter {
            inner,
            cache,
            stemmer,
        } = self;
        CachedStemmerStream {
            tail: inner.token_stream(text),
            cache,
            stemmer,
        }
    }
}

/// Stems by word: words and stems of up to 15 bytes (nearly all) packed into numbers
/// ([`crate::short`]), so that a hit reads no text but the table's; longer ones by their text.
#[derive(Clone, Default)]
pub struct StemCache {
    short: HashMap<u128, u128>,
    long: HashMap<String, String>,
}

impl StemCache {
    /// Replaces `word` with its stem.
    fn stem(&mut self, word: &mut String, stemmer: &frostem::Stemmer) {
        let key = crate::short::pack(word);
        if let Some(k) = key {
            if let Some(&stem) = self.short.get(&k) {
                word.clear();
                crate::short::push_unpacked(stem, word);
                return;
            }
        } else if let Some(stem) = self.long.get(word.as_str()) {
            word.clear();
            word.push_str(stem);
            return;
        }
        let stem = stemmer.stem(word).into_owned();
        if self.short.len() + self.long.len() >= STEM_CACHE_WORDS {
            self.short.clear();
            self.long.clear();
        }
        match (key, crate::short::pack(&stem)) {
            (Some(k), Some(s)) => {
                self.short.insert(k, s);
            }
            (None, _) => {
                self.long.insert(word.clone(), stem.clone());
            }
            // A stem longer than its word (Snowball makes none) is not kept.
            (Some(_), None) => {}
        }
        *word = stem;
    }
}

/// Token stream of [`CachedStemmerFilter`].
pub struct CachedStemmerStream<'a, T> {
    tail: T,
    cache: &'a mut StemCache,
    stemmer: &'a frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        self.cache.stem(&mut token.text, self.stemmer);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Registers our analyzers on an index: `en_stem` is replaced by the memoising equivalent.
pub fn register(index: &tantivy::Index) {
    index
        .tokenizers()
        .register(crate::index::schema::TEXT_ANALYZER, index_analyzer());
}

thread_local! {
    static INDEX_ANALYZER: std::cell::RefCell<TextAnalyzer> =
        std::cell::RefCell::new(index_analyzer());
    static QUERY_ANALYZER: std::cell::RefCell<TextAnalyzer> =
        std::cell::RefCell::new(query_analyzer());
}

/// Runs `f` with this thread's index analyzer, whose stem memo lasts as long as the thread (a
/// fresh analyzer per search would stem every word again). `f` must not call it again.
pub fn with_index_analyzer<R>(f: impl FnOnce(&mut TextAnalyzer) -> R) -> R {
    INDEX_ANALYZER.with(|a| f(&mut a.borrow_mut()))
}

/// The stemmed terms of `text`, stop words included (this thread's index analyzer).
pub fn index_terms(text: &str) -> Vec<String> {
    with_index_analyzer(|a| terms(a, text))
}

/// The stemmed terms of `text` without English stop words (this thread's query analyzer).
pub fn query_terms(text: &str) -> Vec<String> {
    QUERY_ANALYZER.with(|a| terms(&mut a.borrow_mut(), text))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_stemming_equals_tantivys_en_stem() {
        let text = "Inspecting inspected cargo; running runs ran — Customs and border officers' \
                    analyses, organizational organization UNIVERSITIES universities 42 ñandú \
                    internationalizations internationalization interdisciplinary";
        let mut plain = tantivy::tokenizer::TokenizerManager::default()
            .get("en_stem")
            .unwrap();
        let mut cached = index_analyzer();
        let want = tokens(&mut plain, text);
        // Twice: the second pass is served from the cache.
        assert_eq!(tokens(&mut cached, text), want);
        assert_eq!(tokens(&mut cached, text), want);
    }

    #[test]
    fn query_terms_are_stemmed_without_stop_words() {
        let mut a = query_analyzer();
        assert_eq!(
            terms(&mut a, "Inspecting the cargo of ships"),
            ["inspect", "cargo", "ship"]
        );
    }
}
