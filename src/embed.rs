//! The static embedding model: texts to unit vectors with the table distilled from
//! all-MiniLM-L6-v2 (`models/`, made by `cargo xtask distill`), compiled into the binary.
//!
//! A text is cut into WordPiece tokens by the model's own BERT tokenizer, whose vocabulary was
//! extended with the bundled collection's words (so that "phlebotomy" is one entry, and any
//! other word falls back to its pieces); its vector is the mean of its tokens' rows, each row
//! already weighted by how rare the token is, scaled to length 1. No neural network runs here:
//! a posting embeds in microseconds.

use std::sync::OnceLock;

/// The table's file: magic, SHA-256 of the body, then the body (rows u32, dims u32, one f32
/// scale per row, rows × dims int8).
const TABLE: &[u8] = include_bytes!("../models/minilm-static.bin");
/// The extended tokenizer (Hugging Face `tokenizer.json`), for text off the fast path.
const TOKENIZER: &[u8] = include_bytes!("../models/tokenizer.json");
/// The tokenizer's vocabulary, one entry per line in id order (written beside it by `cargo xtask
/// distill`): read in milliseconds, where parsing `tokenizer.json` took about 25 ms of every
/// process that embeds.
const VOCAB: &str = include_str!("../models/vocab.txt");
const MAGIC: &[u8; 8] = b"SKMVEC01";
/// Non-ASCII punctuation that the fast path knows (BERT isolates each; none changes when
/// normalised): dashes, quotes, the ellipsis and the bullet.
const PUNCTUATION: [char; 9] = ['—', '–', '‘', '’', '“', '”', '…', '•', '·'];

/// Dimensions of every vector.
pub const DIMS: usize = 256;

/// A unit vector (or all zeros for a text with no tokens).
pub type Vector = Vec<f32>;

/// The static model: tokenizer and table.
pub struct Model {
    /// Hugging Face's tokenizer, for text the fast path does not cover (loaded when needed).
    tokenizer: OnceLock<Option<tokenizers::Tokenizer>>,
    tokenizer_json: &'static [u8],
    /// WordPiece's vocabulary: word-initial pieces, and continuation pieces without `##`.
    initial: Pieces,
    continuing: Pieces,
    /// The vocabulary, one entry per line in id order.
    vocab: &'static str,
    unknown: u32,
    /// One scale per row, and the int8 rows (row-major), read in place from the table.
    scales: Vec<f32>,
    values: &'static [u8],
    n_rows: usize,
    digest: [u8; 32],
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("rows", &self.n_rows)
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

/// A table's scales, rows, row count and digest.
type Parsed = (Vec<f32>, &'static [u8], usize, [u8; 32]);

/// Why a table cannot be read.
fn parse_table(bytes: &'static [u8]) -> Result<Parsed, String> {
    let short = || "the embedding table is cut short".to_string();
    if bytes.get(..8) != Some(MAGIC.as_slice()) {
        return Err("not a skillmap embedding table".into());
    }
    let digest: [u8; 32] = bytes
        .get(8..40)
        .ok_or_else(short)?
        .try_into()
        .unwrap_or([0; 32]);
    let body = &bytes[40..];
    let u32_at = |at: usize| -> Result<usize, String> {
        let b: [u8; 4] = body
            .get(at..at + 4)
            .ok_or_else(short)?
            .try_into()
            .map_err(|_| short())?;
        Ok(u32::from_le_bytes(b) as usize)
    };
    let (n_rows, dims) = (u32_at(0)?, u32_at(4)?);
    if dims != DIMS {
        return Err(format!("the table has {dims} dimensions, not {DIMS}"));
    }
    let scales_at = 8;
    let data_at = scales_at + 4 * n_rows;
    let data = body
        .get(data_at..data_at + n_rows * dims)
        .ok_or_else(short)?;
    let scales = body[scales_at..data_at]
        .chunks_exact(4)
        .map(|s| f32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .collect();
    Ok((scales, data, n_rows, digest))
}

impl Model {
    /// The model compiled into the binary, loaded once (a few milliseconds).
    pub fn bundled() -> &'static Model {
        static M: OnceLock<Model> = OnceLock::new();
        M.get_or_init(|| {
            Model::from_bytes(TABLE, TOKENIZER, VOCAB)
                .expect("models/ holds a valid table and tokenizer (checked by a unit test)")
        })
    }

    /// Reads a table, its tokenizer and the tokenizer's vocabulary (one entry per line, in id
    /// order; the table has a row per entry).
    pub fn from_bytes(
        table: &'static [u8],
        tokenizer: &'static [u8],
        vocab: &'static str,
    ) -> Result<Model, String> {
        let (scales, values, n_rows, digest) = parse_table(table)?;
        let n_entries = vocab.lines().count();
        if n_entries != n_rows {
            return Err(format!(
                "the vocabulary has {n_entries} entries and the table {n_rows} rows"
            ));
        }
        let mut initial = Pieces::default();
        let mut continuing = Pieces::default();
        let mut unknown = None;
        for (id, piece) in vocab.lines().enumerate() {
            let id = id as u32;
            if piece == "[UNK]" {
                unknown = Some(id);
            }
            match piece.strip_prefix("##") {
                Some(rest) => continuing.insert(rest, id),
                None => initial.insert(piece, id),
            };
        }
        let unknown = unknown.ok_or("the vocabulary has no [UNK] token")?;
        Ok(Model {
            tokenizer: OnceLock::new(),
            tokenizer_json: tokenizer,
            initial,
            continuing,
            vocab,
            unknown,
            scales,
            values,
            n_rows,
            digest,
        })
    }

    /// The SHA-256 of the table's body, in hex: names the model that vectors were made with.
    pub fn fingerprint(&self) -> String {
        self.digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The token ids of a text: the tokenizer's own answer. ASCII text (nearly all of it)
    /// takes a fast path that does what BERT's normaliser, pre-tokeniser and WordPiece do to
    /// ASCII, about ten times faster; a test holds it equal to the tokenizer on the bundled
    /// collection and on random ASCII.
    pub fn tokens(&self, text: &str) -> Vec<u32> {
        // `is_ascii` goes a word at a time; the character scan is for text with a dash or quote.
        if text.is_ascii()
            || text
                .chars()
                .all(|c| c.is_ascii() || PUNCTUATION.contains(&c))
        {
            return self.ascii_tokens(text);
        }
        match self.hugging_face().map(|t| t.encode_fast(text, false)) {
            Some(Ok(e)) => e.get_ids().to_vec(),
            _ => Vec::new(),
        }
    }

    fn hugging_face(&self) -> Option<&tokenizers::Tokenizer> {
        self.tokenizer
            .get_or_init(|| tokenizers::Tokenizer::from_bytes(self.tokenizer_json).ok())
            .as_ref()
    }

    /// Row `id`, dequantised, added to `v`.
    #[inline(always)]
    fn add_row(&self, id: usize, v: &mut [f32]) {
        let scale = self.scales[id];
        let row = &self.values[id * DIMS..(id + 1) * DIMS];
        add_scaled(v, row, scale);
    }

    fn ascii_tokens(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        let mut word = String::new();
        for c in text.chars() {
            match c {
                '\t' | '\n' | '\r' | ' ' => self.word_pieces(&mut word, &mut out),
                // Control characters are removed (clean_text).
                '\0'..='\x1f' | '\x7f' => {}
                '!'..='/' | ':'..='@' | '['..='`' | '{'..='~' => {
                    self.word_pieces(&mut word, &mut out);
                    word.push(c);
                    self.word_pieces(&mut word, &mut out);
                }
                c if PUNCTUATION.contains(&c) => {
                    self.word_pieces(&mut word, &mut out);
                    word.push(c);
                    self.word_pieces(&mut word, &mut out);
                }
                _ => word.push(c.to_ascii_lowercase()),
            }
        }
        self.word_pieces(&mut word, &mut out);
        out
    }

    /// WordPiece on one word: the longest known piece first; a word with an unknown remainder,
    /// or of over 100 characters, is `[UNK]`. Empties `word`.
    fn word_pieces(&self, word: &mut String, out: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        if word.len() > 100 {
            out.push(self.unknown);
            word.clear();
            return;
        }
        let mark = out.len();
        let mut start = 0;
        while start < word.len() {
            let table = if start == 0 {
                &self.initial
            } else {
                &self.continuing
            };
            let found = (start + 1..=word.len())
                .rev()
                .find_map(|end| table.get(&word[start..end]).map(|id| (end, id)));
            match found {
                Some((end, id)) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(mark);
                    out.push(self.unknown);
                    break;
                }
            }
        }
        word.clear();
    }

    /// Is `word` (lower-case) one entry of the table, a whole word?
    pub fn is_word(&self, word: &str) -> bool {
        self.initial.get(word).is_some()
    }

    /// The table's whole words (alphabetic, three letters or more; no `##` pieces) with their
    /// unit vectors: the vocabulary that hybrid search expands a query from.
    pub fn words(&self) -> Vec<(String, Vector)> {
        // In id order; an entry listed twice is the id its look-up gives.
        let words = self.vocab.lines().enumerate().filter_map(|(id, w)| {
            let id = id as u32;
            let whole = w.chars().count() >= 3 && w.chars().all(char::is_alphabetic);
            (whole && self.initial.get(w) == Some(id)).then(|| (w.to_string(), id))
        });
        words
            .map(|(w, id)| {
                let mut v = vec![0.0; DIMS];
                self.add_row(id as usize, &mut v);
                normalise(&mut v);
                (w, v)
            })
            .collect()
    }

    /// The text's unit vector (zeros when it has no tokens).
    pub fn embed(&self, text: &str) -> Vector {
        let mut v = vec![0.0f32; DIMS];
        self.embed_into(text, &mut v);
        v
    }

    /// [`Model::embed`] into `v` (`DIMS` long; overwritten), so that a caller embedding many
    /// texts reuses one buffer instead of allocating a vector per text.
    pub fn embed_into(&self, text: &str, v: &mut [f32]) {
        v.fill(0.0);
        let ids = self.tokens(text);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { self.sum_rows_avx2(&ids, v) };
            normalise(v);
            return;
        }
        self.sum_rows(&ids, v);
        normalise(v);
    }

    /// Adds the rows of `ids` to `v` (ids past the table are skipped).
    #[inline(always)]
    fn sum_rows(&self, ids: &[u32], v: &mut [f32]) {
        for &id in ids {
            let id = id as usize;
            if id < self.n_rows {
                self.add_row(id, v);
            }
        }
    }

    /// [`Model::sum_rows`] compiled for AVX2: eight lanes a step where the baseline has four
    /// (28% less time for the bundled collection's texts in a measurement). The same multiply
    /// and add per value, with no fused multiply-add, so the sums are bit for bit the same.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn sum_rows_avx2(&self, ids: &[u32], v: &mut [f32]) {
        self.sum_rows(ids, v);
    }
}

/// One side of WordPiece's vocabulary. A piece of up to 15 bytes (nearly all of them) is
/// looked up by its bytes packed into a `u128`, so the key is compared inside the table instead
/// of by following a pointer into the vocabulary's text: one cache miss fewer a look-up, and
/// tokenizing is most of the time embedding takes.
#[derive(Default)]
struct Pieces {
    short: foldhash::HashMap<u128, u32>,
    long: foldhash::HashMap<&'static str, u32>,
}

impl Pieces {
    fn insert(&mut self, piece: &'static str, id: u32) {
        match crate::short::pack(piece) {
            Some(k) => self.short.insert(k, id),
            None => self.long.insert(piece, id),
        };
    }

    fn get(&self, piece: &str) -> Option<u32> {
        match crate::short::pack(piece) {
            Some(k) => self.short.get(&k).copied(),
            None => self.long.get(piece).copied(),
        }
    }
}

/// `v += scale × row`, the row's bytes read as int8.
#[inline(always)]
fn add_scaled(v: &mut [f32], row: &[u8], scale: f32) {
    for (x, &q) in v.iter_mut().zip(row) {
        *x += scale * f32::from(q as i8);
    }
}

/// Scales a vector to length 1 (leaves zeros alone).
pub fn normalise(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        for x in v.iter_mut() {
            *x /= n;
        }
    }
}

/// The dot product (the cosine of two unit vectors). (A copy compiled for AVX2 and FMA,
/// chosen at run time, made batch mapping no faster in a measurement: the cost is in memory.)
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dot_lanes(a, b)
}

/// The dot product of `a` with int8 values as a vector file stores them (each byte an `i8`),
/// not yet scaled: a quarter of the memory an `f32` row reads.
pub fn dot_i8(a: &[f32], q: &[u8]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked); the function reads only within both slices.
        return unsafe { dot_i8_avx2(a, q) };
    }
    dot_i8_lanes(a, q)
}

/// [`dot_i8_lanes`] compiled for AVX2, where widening eight `i8` to `f32` is two instructions
/// (without it, the widening costs more than the memory it saves). The same operations in the
/// same order, so the same result.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_i8_avx2(a: &[f32], q: &[u8]) -> f32 {
    dot_i8_lanes(a, q)
}

#[inline(always)]
fn dot_i8_lanes(a: &[f32], q: &[u8]) -> f32 {
    lanes_dot(a, q, |y| f32::from(y as i8))
}

/// In eight lanes, so that it vectorises.
#[inline(always)]
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    lanes_dot(a, b, |y| y)
}

/// The dot product of `a` with `b` read as `f32` by `value`, in eight lanes.
#[inline(always)]
fn lanes_dot<T: Copy>(a: &[f32], b: &[T], value: impl Fn(T) -> f32 + Copy) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, &y)| x * value(y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * value(y[i]);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Vectors of many texts, one row each, in one flat array.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    pub data: Vec<f32>,
}

impl Matrix {
    /// An empty matrix with room for `rows` rows.
    pub fn with_rows(rows: usize) -> Matrix {
        Matrix {
            data: Vec::with_capacity(rows * DIMS),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len() / DIMS
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * DIMS..(i + 1) * DIMS]
    }

    /// Appends a vector.
    pub fn push(&mut self, v: &[f32]) {
        self.data.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &str, b: &str) -> f32 {
        let m = Model::bundled();
        dot(&m.embed(a), &m.embed(b))
    }

    #[test]
    fn the_bundled_table_matches_its_checksum() {
        use sha2::Digest;
        let m = Model::bundled();
        let body = &TABLE[40..];
        let sum = sha2::Sha256::digest(body);
        assert_eq!(
            sum.as_slice(),
            &m.digest,
            "models/minilm-static.bin is damaged"
        );
    }

    #[test]
    fn vectors_are_unit_length_and_empty_text_is_zero() {
        let m = Model::bundled();
        let v = m.embed("Registered nurse in an intensive care unit");
        assert!((dot(&v, &v) - 1.0).abs() < 1e-4);
        assert!(m.embed("").iter().all(|&x| x == 0.0));
        assert!(m.embed("   ").iter().all(|&x| x == 0.0));
    }

    #[test]
    fn paraphrases_are_nearer_than_unrelated_duties() {
        let same = cos(
            "Stay current with regulations",
            "keeps abreast of legal changes",
        );
        let other = cos(
            "Stay current with regulations",
            "operate a forklift in the warehouse",
        );
        assert!(same > other + 0.1, "{same} vs {other}");
        let excel = cos("spreadsheet software", "Microsoft Excel");
        let weld = cos("spreadsheet software", "arc welding torch");
        assert!(excel > weld + 0.1, "{excel} vs {weld}");
    }

    #[test]
    fn collection_words_are_one_token_and_unknown_words_fall_back_to_pieces() {
        let m = Model::bundled();
        assert_eq!(m.tokens("phlebotomy").len(), 1);
        assert!(m.tokens("zqxjvbw").len() > 1);
        assert!(
            m.tokens("PHLEBOTOMY") == m.tokens("phlebotomy"),
            "case does not matter"
        );
    }

    fn slow_tokens(text: &str) -> Vec<u32> {
        let m = Model::bundled();
        m.hugging_face()
            .unwrap()
            .encode_fast(text, false)
            .unwrap()
            .get_ids()
            .to_vec()
    }

    #[test]
    fn the_ascii_fast_path_tokenises_the_bundled_collection_as_the_tokenizer_does() {
        let m = Model::bundled();
        fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/frameworks");
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().take(120) {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            strings(&serde_json::from_str(&text).unwrap(), &mut texts);
        }
        texts.push("Café “quoted” — naïve résumé…".into());
        for t in &texts {
            assert_eq!(m.tokens(t), slow_tokens(t), "{t}");
        }
        assert!(texts.len() > 5000, "{}", texts.len());
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_fast_path_equals_the_tokenizer(text in "[ -~\t\n\x00-\x1f—–‘’“”…•·]{0,80}", word in "[a-z]{90,110}") {
            let m = Model::bundled();
            proptest::prop_assert_eq!(m.tokens(&text), slow_tokens(&text));
            proptest::prop_assert_eq!(m.tokens(&word), slow_tokens(&word));
        }
    }

    #[test]
    fn the_int8_dot_product_is_the_dot_product_with_the_stored_vector() {
        let a: Vec<f32> = (0..DIMS).map(|i| (i as f32 * 0.37).sin()).collect();
        let v: Vec<f32> = (0..DIMS).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut q = [0i8; DIMS];
        let scale = crate::index::vectors::quantise(&v, &mut q);
        let bytes: Vec<u8> = q.iter().map(|&x| x as u8).collect();
        let stored: Vec<f32> = q.iter().map(|&x| f32::from(x) * scale).collect();
        let want = dot(&a, &stored);
        let got = scale * dot_i8(&a, &bytes);
        assert!(
            (got - want).abs() < 1e-4 * want.abs().max(1.0),
            "{got} vs {want}"
        );
        // Whichever copy the CPU runs, the same operations in the same order.
        assert_eq!(
            dot_i8(&a, &bytes).to_bits(),
            dot_i8_lanes(&a, &bytes).to_bits()
        );
        // A length that is not a multiple of eight, and negative values.
        let (a7, b7) = (&a[..7], &bytes[..7]);
        let plain: f32 = a7
            .iter()
            .zip(b7)
            .map(|(x, &y)| x * f32::from(y as i8))
            .sum();
        assert!((dot_i8(a7, b7) - plain).abs() < 1e-4);
    }

    #[test]
    fn both_dot_products_agree() {
        let a: Vec<f32> = (0..259).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..259).map(|i| (i as f32 * 0.11).cos()).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-3);
        assert!((dot_lanes(&a, &b) - plain).abs() < 1e-3);
    }

    #[test]
    fn the_vocabulary_list_is_the_tokenizers() {
        #[derive(serde::Deserialize)]
        struct Json {
            model: JsonModel,
        }
        #[derive(serde::Deserialize)]
        struct JsonModel {
            vocab: std::collections::HashMap<String, u32>,
        }
        let json: Json = serde_json::from_slice(TOKENIZER).unwrap();
        let mut by_id: Vec<(u32, String)> = json
            .model
            .vocab
            .into_iter()
            .map(|(w, id)| (id, w))
            .collect();
        by_id.sort();
        let listed: Vec<&str> = VOCAB.lines().collect();
        assert_eq!(listed.len(), by_id.len());
        for (i, (id, w)) in by_id.iter().enumerate() {
            assert_eq!((*id as usize, listed[i]), (i, w.as_str()));
        }
    }

    #[test]
    fn a_damaged_table_is_refused() {
        assert!(Model::from_bytes(b"nonsense", TOKENIZER, VOCAB).is_err());
        assert!(Model::from_bytes(&TABLE[..1000], TOKENIZER, VOCAB).is_err());
        // A vocabulary of another length than the table.
        assert!(Model::from_bytes(TABLE, TOKENIZER, "[UNK]\n").is_err());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn rows_summed_for_avx2_are_the_same_bits_as_the_baseline() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let m = Model::bundled();
        let texts = [
            "Patient care — monitor vital signs, on routine cases, with guidance.",
            "Forklift operator (night shift), warehouse #3",
            "zqxjvbw phlebotomy spreadsheet Microsoft Excel",
        ];
        for t in texts {
            let ids = m.tokens(t);
            let (mut plain, mut wide) = (vec![0.0f32; DIMS], vec![0.0f32; DIMS]);
            m.sum_rows(&ids, &mut plain);
            // SAFETY: AVX2 was detected above.
            unsafe { m.sum_rows_avx2(&ids, &mut wide) };
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&plain), bits(&wide), "{t}");
            assert!(plain.iter().any(|&x| x != 0.0));
        }
    }
}
