//! Title knowledge for `map`: every title an occupation goes by (its own and its alternates),
//! job-board titles cleaned of what boards add to them, abbreviations learnt from the titles
//! themselves, and nearest-title retrieval by word and character n-grams.
//!
//! A title and a posting's title are compared as TF-IDF vectors (cosine) over their stemmed
//! words and the character trigrams of their words, so that "finance manager" meets "Financial
//! Managers" (stems differ, trigrams agree), typos and word order cost little, and a rare word
//! ("pilates") weighs more than a common one ("instructor"). An occupation's score is its best
//! title's, lowered when the title's head noun (what kind of worker: nurse, engineer) is not the
//! posting's, and when the same title belongs to several occupations.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use crate::index::analyzer;
use crate::numbering::Numbering;

/// Weight of a character trigram relative to a word (both times their IDF): trigrams bridge
/// spelling variants, words carry the meaning.
pub const CHAR_WEIGHT: f32 = 0.3;
/// A title whose head noun is not the posting's keeps this share of its similarity.
pub const HEAD_MISS: f32 = 0.75;
/// Occupations returned per title lookup.
pub const TOP_OCCUPATIONS: usize = 50;
/// Trigrams in more titles than this share are left out (see [`TitleIndex::build`]).
pub const COMMON_TRIGRAM_SHARE: f32 = 0.01;
/// Nearest titles that vote for their occupations.
pub const VOTERS: usize = 10;

/// How near an occupation's titles are to a posting title.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TitleMatch {
    pub occ: u32,
    /// Similarity of its nearest title, in 0..=1.
    pub best: f32,
    /// Its share of the similarity of the [`VOTERS`] nearest titles overall: many near titles
    /// of one occupation say more than one.
    pub votes: f32,
    /// One of its titles is the posting's title word for word (then 1/√ of the occupations
    /// that share it, else 0).
    pub exact: f32,
}

/// One distinct known title text, with what the similarity needs of it; the occupations that
/// list it are its entries ([`TitleIndex::form_entries`]). Occupations share many titles (at 2M
/// statements, 52,260 occupations list 2.7 million titles of 35,190 texts), so the n-gram
/// postings are kept per text, not per (occupation, title).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Form {
    /// Euclidean norm of its feature vector.
    norm: f32,
    /// Its head noun's stem, interned in [`TitleIndex::heads`].
    head: u32,
    /// Its lower-cased words (see [`identity`]), hashed.
    identity: u64,
    /// 1/√(occupations listing the same title): a title several occupations share says less.
    specificity: f32,
}

/// Nearest-title retrieval over every title of every occupation. It is written beside each
/// commit with the mapper's other tables ([`super::prebuilt`]).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TitleIndex {
    /// Per entry, an (occupation, title) pair: its occupation.
    entry_occ: Vec<u32>,
    /// The distinct title texts.
    forms: Vec<Form>,
    /// Per form, its entries in ascending order: `form_entries[form_start[f]..form_start[f + 1]]`.
    form_start: Vec<u32>,
    form_entries: Vec<u32>,
    /// Feature → (form, weight in that form).
    postings: foldhash::HashMap<Feature, Vec<(u32, f32)>>,
    /// Feature → IDF over entries.
    idf: foldhash::HashMap<Feature, f32>,
    /// Lower-cased abbreviation → the words it stands for (`lpn` → `licensed practical nurse`).
    abbreviations: HashMap<String, String>,
    /// Per stemmed title word: (occupation, how often its titles use the word).
    word_counts: HashMap<String, Vec<(u32, u32)>>,
    /// Per stemmed title word: its share of all title words.
    word_share: HashMap<String, f32>,
    /// Per occupation: the number of words in its titles.
    occ_words: Vec<u32>,
    /// Dirichlet smoothing of the title language models, in words: an occupation with few
    /// titles leans on how common a word is among all titles (fitted with the weights).
    prior: f32,
    /// Head-noun stems, interned.
    heads: HashMap<String, u32>,
    /// The common trigrams left out.
    dropped: foldhash::HashSet<Feature>,
}

/// A feature: a stemmed word or a character trigram, hashed (64 bits; collisions among a few
/// hundred thousand features are vanishingly rare and would only blur two features).
type Feature = u64;

fn feature_hash(kind: u8, parts: &[&str]) -> Feature {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0x5EED).build_hasher();
    h.write_u8(kind);
    for p in parts {
        h.write(p.as_bytes());
    }
    h.finish()
}

/// A title's features with their raw weights (before IDF): its stemmed words (`words`), and the
/// character trigrams of each lower-cased word padded with `#`.
fn features(title: &str, words: &[String]) -> Vec<(Feature, f32)> {
    let mut out: Vec<(Feature, f32)> = Vec::with_capacity(words.len() + 4 * title.len() / 3);
    for w in words {
        out.push((feature_hash(b'w', &[w]), 1.0));
    }
    let mut padded: Vec<char> = Vec::with_capacity(32);
    let mut buf = [0u8; 12];
    for word in title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        padded.clear();
        padded.push('#');
        padded.extend(word.chars().flat_map(char::to_lowercase));
        padded.push('#');
        for g in padded.windows(3) {
            let mut n = 0;
            for c in g {
                n += c.encode_utf8(&mut buf[n..]).len();
            }
            let gram = std::str::from_utf8(&buf[..n]).unwrap_or("");
            out.push((feature_hash(b'c', &[gram]), CHAR_WEIGHT));
        }
    }
    // Repeated features add up.
    out.sort_by_key(|f| f.0);
    let mut merged: Vec<(Feature, f32)> = Vec::with_capacity(out.len());
    for (f, w) in out {
        match merged.last_mut() {
            Some(last) if last.0 == f => last.1 += w,
            _ => merged.push((f, w)),
        }
    }
    merged
}

/// What the index reads from one title, once.
struct Analysed {
    words: Vec<String>,
    features: Vec<(Feature, f32)>,
    head: String,
    identity: String,
}

fn analyse(title: &str) -> Analysed {
    let words = analyzer::query_terms(title);
    let main = main_part(title);
    let head = if main.len() == title.trim().len() {
        words.last().cloned()
    } else {
        head_of(title)
    };
    Analysed {
        features: features(title, &words),
        words,
        head: head.unwrap_or_default(),
        identity: identity(title),
    }
}

/// The main part of a known title: before a parenthesis and before a comma ("Canine
/// Enforcement Officer (K-9 Enforcement Officer)" → "Canine Enforcement Officer").
fn main_part(title: &str) -> &str {
    let end = title.find([',', '(']).unwrap_or(title.len());
    title[..end].trim()
}

/// The stem of a title's head noun: its last word that is not a stop word.
pub fn head_of(title: &str) -> Option<String> {
    analyzer::query_terms(main_part(title)).pop()
}

/// The key under which identical titles are counted and excluded: lower-cased words.
pub fn identity(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Abbreviations that titles spell out: "Licensed Practical Nurse (LPN)", "Clinic Licensed
/// Practical Nurse (Clinic LPN)" → `lpn` = "licensed practical nurse". An upper-case word in the
/// parenthesis stands for the words of the title that the parenthesis lacks, when their initials
/// spell it. The most frequent reading wins.
fn learn_abbreviations<'a>(titles: impl Iterator<Item = &'a str>) -> HashMap<String, String> {
    let mut votes: HashMap<(String, String), usize> = HashMap::new();
    for t in titles {
        let (Some(open), Some(close)) = (t.find('('), t.rfind(')')) else {
            continue;
        };
        if close <= open {
            continue;
        }
        let outside: Vec<&str> = t[..open].split_whitespace().collect();
        let inside: Vec<&str> = t[open + 1..close].split_whitespace().collect();
        let inside_lower: HashSet<String> = inside.iter().map(|w| w.to_lowercase()).collect();
        for word in &inside {
            let letters: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
            let is_acronym = letters.len() >= 2
                && letters.len() <= 6
                && letters
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !is_acronym {
                continue;
            }
            let expansion: Vec<&str> = outside
                .iter()
                .copied()
                .filter(|w| !inside_lower.contains(&w.to_lowercase()))
                .collect();
            let initials: String = expansion
                .iter()
                .filter_map(|w| w.chars().next())
                .map(|c| c.to_ascii_uppercase())
                .collect();
            if initials == letters {
                let key = (letters.to_lowercase(), expansion.join(" ").to_lowercase());
                *votes.entry(key).or_insert(0) += 1;
            }
        }
    }
    let mut best: HashMap<String, (usize, String)> = HashMap::new();
    let mut sorted: Vec<_> = votes.into_iter().collect();
    sorted.sort();
    for ((abbr, expansion), n) in sorted {
        let slot = best.entry(abbr).or_insert((0, String::new()));
        if n > slot.0 {
            *slot = (n, expansion);
        }
    }
    best.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

/// A language model of each occupation's titles: which words its titles use how often (the
/// [`TitleIndex`] fields of the same names).
struct LanguageModel {
    word_counts: HashMap<String, Vec<(u32, u32)>>,
    word_share: HashMap<String, f32>,
    occ_words: Vec<u32>,
}

fn language_model(kept: &[(u32, u32)], forms: &[&Analysed]) -> LanguageModel {
    let n_occ = kept.iter().map(|(o, _)| *o as usize + 1).max().unwrap_or(0);
    let mut occ_words = vec![0u32; n_occ];
    let mut counts: HashMap<String, HashMap<u32, u32>> = HashMap::new();
    for (occ, form) in kept {
        for w in &forms[*form as usize].words {
            occ_words[*occ as usize] += 1;
            let per_occ = match counts.get_mut(w) {
                Some(m) => m,
                None => counts.entry(w.clone()).or_default(),
            };
            *per_occ.entry(*occ).or_insert(0) += 1;
        }
    }
    let total: u32 = occ_words.iter().sum::<u32>().max(1);
    let word_share = counts
        .iter()
        .map(|(w, m)| (w.clone(), m.values().sum::<u32>() as f32 / total as f32))
        .collect();
    let word_counts = counts
        .into_iter()
        .map(|(w, m)| {
            let mut v: Vec<(u32, u32)> = m.into_iter().collect();
            v.sort_unstable();
            (w, v)
        })
        .collect();
    LanguageModel {
        word_counts,
        word_share,
        occ_words,
    }
}

/// The n-gram side of the index, built by [`features_index`].
struct Features {
    forms: Vec<Form>,
    postings: foldhash::HashMap<Feature, Vec<(u32, f32)>>,
    idf: foldhash::HashMap<Feature, f32>,
    dropped: foldhash::HashSet<Feature>,
    heads: HashMap<String, u32>,
}

/// The weighted n-gram features of the kept titles: each form's norm and head, the postings by
/// form, the features' IDF over the kept entries, those dropped as too common, and the head
/// nouns' numbers. `forms` are the distinct texts in order of their first kept entry, `uses` how
/// many kept entries each has.
fn features_index(forms: &[&Analysed], uses: &[u32]) -> Features {
    // How many occupations list each title.
    let mut owners: foldhash::HashMap<&str, usize> = Default::default();
    for (a, &n) in forms.iter().zip(uses) {
        *owners.entry(a.identity.as_str()).or_insert(0) += n as usize;
    }
    // Document frequencies count entries, as if each (occupation, title) were a document.
    let mut df: foldhash::HashMap<Feature, usize> = Default::default();
    for (a, &n) in forms.iter().zip(uses) {
        for (f, _) in &a.features {
            *df.entry(*f).or_insert(0) += n as usize;
        }
    }
    let n = uses.iter().map(|&u| u as usize).sum::<usize>().max(1) as f32;
    // Trigrams in more than `COMMON_TRIGRAM_SHARE` of the titles ("er#", "#ma") are dropped,
    // like stop words: they say little, and their long lists would be most of a look-up.
    let common = (COMMON_TRIGRAM_SHARE * n).max(50.0) as usize;
    let trigrams: foldhash::HashSet<Feature> = forms
        .iter()
        .flat_map(|a| a.features.iter().filter(|f| f.1 < 1.0).map(|f| f.0))
        .collect();
    let idf: foldhash::HashMap<Feature, f32> = df
        .iter()
        .filter(|(f, d)| **d <= common || !trigrams.contains(*f))
        .map(|(f, &d)| (*f, (1.0 + n / d as f32).ln()))
        .collect();
    let dropped: foldhash::HashSet<Feature> = df
        .keys()
        .filter(|f| !idf.contains_key(*f))
        .copied()
        .collect();
    let mut postings: foldhash::HashMap<Feature, Vec<(u32, f32)>> = Default::default();
    let mut out = Vec::with_capacity(forms.len());
    let mut heads: HashMap<String, u32> = HashMap::new();
    for (i, a) in forms.iter().enumerate() {
        let mut norm = 0.0f32;
        for (f, w) in &a.features {
            let Some(idf) = idf.get(f) else {
                continue;
            };
            let v = w * idf;
            norm += v * v;
            postings.entry(*f).or_default().push((i as u32, v));
        }
        out.push(Form {
            norm: norm.sqrt().max(f32::MIN_POSITIVE),
            head: {
                let next = heads.len() as u32;
                *heads.entry(a.head.clone()).or_insert(next)
            },
            identity: identity_hash(&a.identity),
            specificity: 1.0 / (owners[a.identity.as_str()] as f32).sqrt(),
        });
    }
    Features {
        forms: out,
        postings,
        idf,
        dropped,
        heads,
    }
}

impl TitleIndex {
    /// Builds the index from (occupation, title) pairs. Titles whose lower-cased words are in
    /// `exclude` are left out (an evaluation leaves out the titles it asks about).
    pub fn build<'a>(
        titles: impl IntoIterator<Item = (u32, &'a str)>,
        exclude: &HashSet<String>,
        prior: f32,
    ) -> TitleIndex {
        use rayon::prelude::*;
        // Stemming is most of the work: every distinct title is read once, in parallel (many
        // occupations share titles). `titles` become (occupation, text number).
        let mut distinct: Numbering<&str> = Numbering::default();
        let titles: Vec<(u32, u32)> = titles
            .into_iter()
            .map(|(occ, t)| (occ, distinct.number(t)))
            .collect();
        let texts = distinct.into_values();
        let analysed: Vec<Analysed> = texts.par_iter().map(|t| analyse(t)).collect();
        // Each text's identity, numbered: an occupation keeps one title per identity.
        let mut identities: Numbering<&str> = Numbering::default();
        let identity_of: Vec<u32> = analysed
            .iter()
            .map(|a| identities.number(a.identity.as_str()))
            .collect();
        drop(identities);
        // The kept entries as (occupation, form), the forms being the texts numbered in order
        // of first use.
        let mut kept: Vec<(u32, u32)> = Vec::with_capacity(titles.len());
        let mut form_of: Vec<u32> = vec![u32::MAX; analysed.len()];
        let mut forms: Vec<&Analysed> = Vec::new();
        let mut form_texts: Vec<&str> = Vec::new();
        let mut uses: Vec<u32> = Vec::new();
        let mut seen: foldhash::HashSet<u64> = Default::default();
        for (occ, id) in titles {
            let a = &analysed[id as usize];
            if a.identity.is_empty()
                || exclude.contains(&a.identity)
                || !seen.insert(u64::from(occ) << 32 | u64::from(identity_of[id as usize]))
            {
                continue;
            }
            if form_of[id as usize] == u32::MAX {
                form_of[id as usize] = forms.len() as u32;
                forms.push(a);
                form_texts.push(texts[id as usize]);
                uses.push(0);
            }
            let form = form_of[id as usize];
            uses[form as usize] += 1;
            kept.push((occ, form));
        }
        drop((seen, form_of, identity_of));
        // Each form's entries, in ascending order.
        let mut form_start: Vec<u32> = Vec::with_capacity(forms.len() + 1);
        form_start.push(0);
        for n in &uses {
            form_start.push(form_start.last().copied().unwrap_or(0) + n);
        }
        let mut fill: Vec<u32> = form_start[..forms.len()].to_vec();
        let mut form_entries: Vec<u32> = vec![0; kept.len()];
        for (e, &(_, f)) in kept.iter().enumerate() {
            form_entries[fill[f as usize] as usize] = e as u32;
            fill[f as usize] += 1;
        }
        drop(fill);
        let entry_occ: Vec<u32> = kept.iter().map(|(occ, _)| *occ).collect();
        // The abbreviations and the language model read the kept titles on their own, beside
        // the rest.
        let ((abbreviations, lm), features) = rayon::join(
            || {
                rayon::join(
                    || learn_abbreviations(kept.iter().map(|(_, f)| form_texts[*f as usize])),
                    || language_model(&kept, &forms),
                )
            },
            || features_index(&forms, &uses),
        );
        let LanguageModel {
            word_counts,
            word_share,
            occ_words,
        } = lm;
        let Features {
            forms,
            postings,
            idf,
            dropped,
            heads,
        } = features;
        TitleIndex {
            entry_occ,
            forms,
            form_start,
            form_entries,
            postings,
            idf,
            abbreviations,
            word_counts,
            word_share,
            occ_words,
            prior,
            heads,
            dropped,
        }
    }
    /// The title language models' prior the index was built with.
    pub fn prior(&self) -> f32 {
        self.prior
    }

    /// Number of titles known, as (occupation, title) pairs.
    pub fn len(&self) -> usize {
        self.entry_occ.len()
    }

    /// Whether no title is known.
    pub fn is_empty(&self) -> bool {
        self.entry_occ.is_empty()
    }

    /// The title with the abbreviations it uses spelled out after it ("lpn office nurse" →
    /// "lpn office nurse licensed practical nurse"), in any case.
    pub fn expand(&self, title: &str) -> String {
        let mut out = title.to_string();
        for w in title.split(|c: char| !c.is_alphanumeric()) {
            if let Some(x) = self.abbreviations.get(&w.to_lowercase()) {
                out.push(' ');
                out.push_str(x);
            }
        }
        out
    }

    /// How likely each occupation's titles make the title's words (a smoothed unigram model of
    /// each occupation's titles), as a posterior over occupations with a uniform prior: the
    /// occupations whose titles use the words, best first, with their probability.
    pub fn likelihood(&self, title: &str) -> Vec<(u32, f32)> {
        let words: Vec<String> = analyzer::query_terms(&self.expand(title))
            .into_iter()
            .filter(|w| self.word_share.contains_key(w))
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mu = self.prior;
        // log P(words | occ) for every occupation: the smoothed background for each word, then
        // the occupations that use the word get their counts added.
        let mut log_p: Vec<f32> = self
            .occ_words
            .iter()
            .map(|&n| {
                words
                    .iter()
                    .map(|w| (mu * self.word_share[w] / (n as f32 + mu)).ln())
                    .sum()
            })
            .collect();
        let mut touched: HashSet<u32> = HashSet::new();
        for w in &words {
            let share = self.word_share[w];
            for &(occ, c) in &self.word_counts[w] {
                let n = self.occ_words[occ as usize] as f32;
                log_p[occ as usize] +=
                    ((c as f32 + mu * share) / (n + mu)).ln() - (mu * share / (n + mu)).ln();
                touched.insert(occ);
            }
        }
        let posterior = crate::map::model::softmax(&log_p);
        let mut ranked: Vec<(u32, f32)> = touched
            .into_iter()
            .map(|o| (o, posterior[o as usize]))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(TOP_OCCUPATIONS);
        ranked
    }

    /// How strongly each occupation's titles use a posting's words, read as content: BM25 with
    /// each occupation's titles as one document (a word's frequency is how many of its titles
    /// use it, the length its number of title words). A duty about campaigns and advertising
    /// copy points to the occupation whose titles say "Advertising" and "Campaign" even when its
    /// statements do not. `terms` are stemmed words with their query weights.
    pub fn vocabulary<'t>(&self, terms: impl Iterator<Item = (&'t str, f32)>) -> Vec<(u32, f32)> {
        const K1: f32 = 1.2;
        const B: f32 = 0.75;
        let n_occ = self.occ_words.iter().filter(|n| **n > 0).count().max(1) as f32;
        let avg = self.occ_words.iter().sum::<u32>() as f32 / n_occ;
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for (w, q) in terms {
            let Some(occs) = self.word_counts.get(w) else {
                continue;
            };
            let df = occs.len() as f32;
            let idf = (1.0 + (n_occ - df + 0.5) / (df + 0.5)).ln();
            for &(occ, c) in occs {
                let len = self.occ_words[occ as usize] as f32;
                let tf = c as f32;
                let norm = tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg.max(1.0)));
                *scores.entry(occ).or_insert(0.0) += q * idf * norm;
            }
        }
        let mut ranked: Vec<(u32, f32)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }

    /// The occupations whose titles are nearest to a (cleaned) posting title, best first, with
    /// their similarity in 0..=1.
    pub fn lookup(&self, title: &str) -> Vec<TitleMatch> {
        let expanded = self.expand(title);
        let qf = features(&expanded, &analyzer::query_terms(&expanded));
        // A head no known title has misses every title alike.
        let head = head_of(title).map(|h| self.heads.get(&h).copied().unwrap_or(u32::MAX));
        let mut q_norm = 0.0f32;
        // Dot products in a dense array (a title query touches thousands of titles through its
        // common trigrams; a hash map per touch costs more than the arithmetic).
        let mut dots = vec![0.0f32; self.forms.len()];
        let mut touched: Vec<u32> = Vec::new();
        // Features no title has still count in the query's norm, at the rarest weight: a word
        // nobody's title holds makes every title a weaker match.
        let unseen_idf = (1.0 + self.entry_occ.len().max(1) as f32).ln();
        for (f, w) in &qf {
            let Some(idf) = self.idf.get(f) else {
                if !self.dropped.contains(f) {
                    q_norm += (w * unseen_idf).powi(2);
                }
                continue;
            };
            let qv = w * idf;
            q_norm += qv * qv;
            for &(form, fv) in &self.postings[f] {
                let d = &mut dots[form as usize];
                if *d == 0.0 {
                    touched.push(form);
                }
                *d += qv * fv;
            }
        }
        let q_norm = q_norm.sqrt().max(f32::MIN_POSITIVE);
        let asked = identity_hash(&identity(title));
        let mut scored: Vec<(f32, u32)> = Vec::with_capacity(touched.len());
        let mut by_occ: HashMap<u32, TitleMatch> = HashMap::new();
        for f in touched {
            let form = &self.forms[f as usize];
            // At most 1 (float rounding of an identical title can give 1.0000001).
            let cos = (dots[f as usize] / (q_norm * form.norm)).min(1.0);
            let head_factor = match head {
                Some(h) if h != form.head => HEAD_MISS,
                _ => 1.0,
            };
            let s = cos * head_factor * form.specificity;
            let exact = cos > 0.99 && form.identity == asked;
            let (start, end) = (self.form_start[f as usize], self.form_start[f as usize + 1]);
            for &e in &self.form_entries[start as usize..end as usize] {
                scored.push((s, e));
                let occ = self.entry_occ[e as usize];
                let m = by_occ.entry(occ).or_insert(TitleMatch {
                    occ,
                    best: 0.0,
                    votes: 0.0,
                    exact: 0.0,
                });
                m.best = m.best.max(s);
                if exact {
                    m.exact = m.exact.max(form.specificity);
                }
            }
        }
        // The nearest titles vote: best first, ties by entry, summed in that order.
        let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if scored.len() > VOTERS {
            scored.select_nth_unstable_by(VOTERS, order);
            scored.truncate(VOTERS);
        }
        scored.sort_unstable_by(order);
        let voters_total: f32 = scored.iter().map(|s| s.0).sum();
        if voters_total > 0.0 {
            for (s, e) in &scored {
                if let Some(m) = by_occ.get_mut(&self.entry_occ[*e as usize]) {
                    m.votes += s / voters_total;
                }
            }
        }
        let mut ranked: Vec<TitleMatch> = by_occ.into_values().collect();
        ranked.sort_by(|a, b| b.best.total_cmp(&a.best).then(a.occ.cmp(&b.occ)));
        ranked.truncate(TOP_OCCUPATIONS);
        ranked
    }
}

/// A title identity as a number, for comparing without strings.
fn identity_hash(identity: &str) -> u64 {
    feature_hash(b'i', &[identity])
}

/// What job boards add to a title and that says nothing about the job: work arrangement,
/// location, shift, schedule, pay, contract type, urgency, bonuses and requisition numbers.
fn noise() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let parts = [
            r"\b(?:100% )?(?:fully )?remote\b",
            r"\bhybrid\b",
            r"\bon[- ]?site\b",
            r"\bwork from home\b|\bwfh\b",
            r"\b(?:full|part)[- ]?time\b|\bft\b|\bpt\b",
            r"\b(?:temp(?:orary)?|contract(?:or)?|contract[- ]to[- ]hire|seasonal|permanent|perm|freelance|per diem|prn|1099|w2)\b",
            r"\b(?:day|night|evening|overnight|weekend|swing|graveyard|rotating)s?(?: shift)?\b|\b(?:1st|2nd|3rd|first|second|third) shift\b|\bshift\b",
            r"\b\d{1,2}(?::\d\d)?\s?(?:am|pm)?\s?-\s?\d{1,2}(?::\d\d)?\s?(?:am|pm)\b",
            r"\b\d+x\d+s?\b|\b\d{1,2}[- ]?hour shifts?\b",
            r"(?:up to |from )?\$\s?\d[\d,.]*\s?k?(?:\s?-\s?\$?\s?\d[\d,.]*\s?k?)?(?:\s?(?:/|per|an|a)\s?(?:hr|hour|year|yr|annum|week|wk))?",
            r"\b(?:urgently |now |immediately )?hiring(?: now| immediately| urgently)?\b|\burgent(?:ly)?\b|\bimmediate (?:start|opening|hire)\b|\bapply (?:now|today)\b|\bnew\b",
            r"\b(?:sign[- ]?on|signing|retention|relocation)(?: bonus)?\b|\bbonus\b",
            r"\b(?:req(?:uisition)?|job(?: id)?|ref|id)\s?(?:#|no\.?|number)?\s?:?\s?[a-z]*[-]?\d+\b|#\s?\d+\b|\b[a-z]{1,3}-\d{3,}\b",
            r"\b(?:entry level|no experience(?: needed| required)?|will train|paid training)\b",
        ];
        Regex::new(&format!("(?i){}", parts.join("|"))).expect("the noise pattern is valid")
    })
}

/// A US "City, ST" or a state code alone, as boards append them.
fn location() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:\b[A-Z][a-zA-Z.]+(?:\s[A-Z][a-zA-Z.]+)*,\s?)?\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)\b(?:\s\d{5})?")
            .expect("the location pattern is valid")
    })
}

/// Roman numerals and grade numbers that boards put after a title ("Accountant II").
fn grade() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b(?:I{1,3}|IV|V|VI{1,3}|[Ll]evel \d|[Gg]rade \d+|\d)\s*$")
            .expect("the grade pattern is valid")
    })
}

/// The job in a title as a job board shows it: bracketed asides, segments that are only
/// location, schedule, pay or urgency, and such words inside the job part are removed ("Registered
/// Nurse - ICU (Nights) - $5,000 Sign-On Bonus" → "Registered Nurse"; "Hiring Now: Forklift
/// Operator, Austin, TX" → "Forklift Operator"). A title made only of such words is kept as it was.
pub fn clean_title(raw: &str) -> String {
    let mut s = raw.to_string();
    // Bracketed asides: "(Remote)", "[Nights]", "{Req 123}".
    let brackets = [('(', ')'), ('[', ']'), ('{', '}')];
    for (open, close) in brackets {
        while let (Some(a), Some(b)) = (s.find(open), s.find(close)) {
            if b <= a {
                break;
            }
            s.replace_range(a..=b, " ");
        }
    }
    // Segments: keep those that still have words once the noise is gone, and take the first.
    let segments: Vec<&str> = s
        .split([':', '|', '–', '—', '•', '/', '·'])
        .flat_map(|seg| seg.split(" - "))
        .flat_map(|seg| seg.split(" @ "))
        .collect();
    let job = segments
        .iter()
        .map(|seg| strip_noise(seg))
        .find(|seg| seg.chars().any(char::is_alphabetic));
    match job {
        Some(job) => job,
        None => raw.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// A segment without noise words, a location, a trailing grade, or an " at Company" tail.
fn strip_noise(seg: &str) -> String {
    let seg = match seg.find(" at ") {
        Some(i) if i > 0 => &seg[..i],
        _ => seg,
    };
    let seg = location().replace_all(seg, " ");
    let seg = noise().replace_all(&seg, " ");
    let seg = grade().replace_all(seg.trim(), " ");
    seg.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty() && *w != "-" && *w != "&")
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(titles: &[(u32, &str)]) -> TitleIndex {
        TitleIndex::build(titles.iter().copied(), &HashSet::new(), 5.0)
    }

    #[test]
    fn job_board_additions_are_removed() {
        for (raw, job) in [
            ("Registered Nurse - ICU (Nights)", "Registered Nurse"),
            ("Senior Data Engineer (Remote)", "Senior Data Engineer"),
            (
                "Hiring Now: Forklift Operator, Austin, TX",
                "Forklift Operator",
            ),
            (
                "Warehouse Associate - $18/hr - Full Time",
                "Warehouse Associate",
            ),
            (
                "CDL-A Truck Driver | $5,000 Sign-On Bonus",
                "CDL-A Truck Driver",
            ),
            ("Accountant II - Req #48213", "Accountant"),
            ("Line Cook at Rosa's Kitchen", "Line Cook"),
            ("Medical Assistant, Part-Time, Hybrid", "Medical Assistant"),
            ("Night Shift Security Officer", "Security Officer"),
            ("Remote", "Remote"),
        ] {
            assert_eq!(clean_title(raw), job, "{raw}");
        }
    }

    #[test]
    fn abbreviations_come_from_the_titles() {
        let a = learn_abbreviations(
            [
                "Licensed Practical Nurse (LPN)",
                "Clinic Licensed Practical Nurse (Clinic LPN)",
                "Chief Executive Officer (CEO)",
                "Canine Enforcement Officer (K-9 Enforcement Officer)",
            ]
            .into_iter(),
        );
        assert_eq!(a["lpn"], "licensed practical nurse");
        assert_eq!(a["ceo"], "chief executive officer");
        assert_eq!(a.len(), 2, "{a:?}");
    }

    #[test]
    fn nearest_titles_bridge_stems_typos_and_abbreviations() {
        let idx = index(&[
            (0, "Financial Managers"),
            (0, "Finance Manager"),
            (1, "Security Managers"),
            (2, "Licensed Practical Nurse (LPN)"),
            (3, "Registered Nurse"),
            (3, "Office Nurse"),
            (4, "Exercise Trainers and Group Fitness Instructors"),
            (4, "Pilates Instructor"),
            (5, "Nursing Instructors and Teachers, Postsecondary"),
            (6, "Stock Room Manager"),
            (7, "Locker Room Attendant"),
        ]);
        let top = |q: &str| idx.lookup(q)[0].occ;
        assert_eq!(top("finance manager"), 0);
        assert_eq!(top("financial manger"), 0, "a typo");
        assert_eq!(top("pilates instructor"), 4);
        assert_eq!(top("lpn office nurse"), 2, "an abbreviation in lower case");
        assert_eq!(
            top("stock room attendant"),
            7 /* shares the head noun */
        );
        let scores = idx.lookup("finance manager");
        assert!(scores[0].best > 0.5 && scores[0].best <= 1.0, "{scores:?}");
        // Its two titles are the two nearest: most of the votes.
        assert!(scores[0].votes > 0.5, "{scores:?}");
    }

    #[test]
    fn shared_titles_say_less_and_excluded_titles_are_unknown() {
        let idx = index(&[
            (0, "Fabricator"),
            (1, "Fabricator"),
            (2, "Welder Fabricator"),
        ]);
        let r = idx.lookup("fabricator");
        let exact = r.iter().find(|m| m.occ == 0).unwrap().best;
        assert!((exact - 1.0 / 2f32.sqrt()).abs() < 1e-4, "{r:?}");
        let exclude: HashSet<String> = ["welder fabricator".to_string()].into();
        let idx = TitleIndex::build([(2u32, "Welder Fabricator")], &exclude, 5.0);
        assert!(idx.is_empty());
        assert!(idx.lookup("welder fabricator").is_empty());
    }

    #[test]
    fn a_shared_title_is_held_once_and_answers_for_every_occupation_that_lists_it() {
        let pairs = [
            (0, "Fabricator"),
            (1, "Fabricator"),
            (1, "fabricator"),
            (2, "Welder Fabricator"),
            (3, "Welder"),
            (3, "Welder Fabricator"),
        ];
        let idx = index(&pairs);
        assert_eq!(
            idx.len(),
            5,
            "a repeat in another case is not a second title"
        );
        assert_eq!(idx.forms.len(), 3, "one form per distinct text kept");
        let by_occ = |r: &[TitleMatch]| {
            let mut r = r.to_vec();
            r.sort_by_key(|m| m.occ);
            r
        };
        let r = by_occ(&idx.lookup("welder fabricator"));
        assert_eq!(r.len(), 4, "{r:?}");
        assert_eq!(r[0].best, r[1].best, "both list Fabricator");
        assert_eq!(r[2].best, r[3].best, "both list Welder Fabricator");
        assert!(r[2].exact > 0.0 && r[2].exact == r[3].exact);
        assert!(r[2].best > r[0].best);
        let votes: f32 = r.iter().map(|m| m.votes).sum();
        assert!((votes - 1.0).abs() < 1e-5, "every title votes: {r:?}");
        assert!(r[3].votes > r[2].votes, "occupation 3 has two near titles");
        // The order of the pairs changes the forms' numbers, not the answers.
        let mut reversed = pairs.to_vec();
        reversed.reverse();
        let again = index(&reversed);
        for q in ["welder fabricator", "fabricator", "welder", "metal welder"] {
            let (a, b) = (by_occ(&idx.lookup(q)), by_occ(&again.lookup(q)));
            assert_eq!(a.len(), b.len(), "{q}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!((x.occ, x.best, x.exact), (y.occ, y.best, y.exact), "{q}");
                assert!((x.votes - y.votes).abs() < 1e-6, "{q}: {x:?} {y:?}");
            }
        }
    }

    #[test]
    fn duty_words_find_the_occupation_whose_titles_use_them() {
        let idx = index(&[
            (0, "Advertising Manager"),
            (0, "Campaign Director"),
            (0, "Advertising Director"),
            (1, "Sales Manager"),
            (1, "Account Manager"),
            (2, "Copy Editor"),
        ]);
        let words = analyzer::query_terms("edit advertising copy and track campaign response");
        let ranked = idx.vocabulary(words.iter().map(|w| (w.as_str(), 1.0)));
        assert_eq!(ranked[0].0, 0, "{ranked:?}");
        assert!(
            ranked.iter().any(|(o, _)| *o == 2),
            "copy and edit: {ranked:?}"
        );
        assert!(
            ranked.iter().all(|(o, _)| *o != 1),
            "no shared word: {ranked:?}"
        );
        // A word that no title uses, and none at all, find nothing.
        assert!(idx.vocabulary([("zzz", 1.0)].into_iter()).is_empty());
        assert!(idx.vocabulary(std::iter::empty()).is_empty());
    }
}
