//! Posting → occupations and levels: reading the posting, the candidates and their features,
//! ranking by the fitted model, level inference, evidence and gap. Posting text never goes
//! through a query-syntax parser.
//!
//! `Mapper::prepare` reads a posting: boilerplate sections go, the title (given, or the first
//! line when it reads like one) is cleaned of job-board additions, seniority phrases are read
//! for the level and left out of the content, and the remaining stemmed terms that the
//! collection knows are weighted by rarity (BM25 IDF over statements) times 1 + ln(count), the
//! best `MAX_TERMS` kept. Every occupation that any evidence finds becomes a candidate with the
//! features of [`model::FEATURES`], each in 0..=1:
//! - profile: BM25 with each occupation as one document (a term's frequency is how many of its
//!   statements hold it, the length its number of statements), divided by the best;
//! - description: BM25 against the framework's `contextCovered` text, divided by the best;
//! - title words: how much of the posting's title the occupation's own title covers (IDF over
//!   titles), damped for titles with many other words and by `HEAD_MISS` for another head noun;
//! - body title: the share of the occupation's own title words found in the posting's text;
//! - title similarity, votes, exact and model: the nearest known titles ([`titles`]);
//! - tools: the software the posting names (see `tool_tables`), divided by the best;
//! - group profile and group title: the major group's best `GROUP_TOP` members, relative to the
//!   best group, so that a lone look-alike from another group does not beat a family;
//! - title vocabulary: BM25 of the posting's words with the occupation's titles as one
//!   document, divided by the best (`titles::TitleIndex::vocabulary`).
//!
//! `Mapper::answer` scores each candidate with the weights of [`model::weights`] (fitted by
//! `cargo xtask fit-map` on the tuning split), turns the scores into softmax probabilities (the
//! confidences), and reads the level, evidence and gap of the best matches.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, TantivyDocument, Term};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::model::Level;
use crate::schema::normalize_soc_filter;
use crate::search::{highlight, hit_from_doc};
use crate::seniority::{self, Cue};
use crate::text::{self, Highlighter};

pub mod model;
pub mod titles;

/// T is multiplied by this when the posting title's last word (its head noun, when titles
/// know it) is none of the occupation title's head nouns: a forklift driver is not a pile
/// driver operator.
pub const HEAD_MISS: f32 = 0.7;
/// Occupations of a major group whose scores make its evidence.
pub const GROUP_TOP: usize = 3;
/// Posting text analysed at most (bytes); the rest is ignored and `truncated` says so.
pub const MAX_TEXT_BYTES: usize = 200_000;
/// Most query terms taken from a posting (the rarest, weighted by how often they occur).
pub const MAX_TERMS: usize = 64;
/// Weight of the statement evidence when it is combined with seniority cues.
pub const W_LEVEL_EVIDENCE: f32 = 0.1;
/// How far the statement evidence's mean level is pushed away from the middle (it is a mean
/// over levels, so it stays near 2.5 unless stretched).
pub const EVIDENCE_STRETCH: f32 = 2.0;

fn spread_evidence(mean: f32) -> f32 {
    (2.5 + EVIDENCE_STRETCH * (mean - 2.5)).clamp(1.0, 4.0)
}
/// Spread of the bell that turns a point on the level scale into four level scores.
pub const LEVEL_SPREAD: f32 = 0.6;
/// The top match is uncertain when its confidence is below this…
pub const UNCERTAIN_CONFIDENCE: f32 = 0.35;
/// … or when the runner-up's probability is at least this share of the top one's.
pub const UNCERTAIN_RUNNER_UP: f32 = 0.75;

/// What to map.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MapRequest {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Matches to return (1-50).
    #[serde(default = "default_top")]
    pub top: usize,
}

fn default_top() -> usize {
    5
}

impl MapRequest {
    /// Matches returned when a request does not say.
    pub fn default_top() -> usize {
        default_top()
    }
}

/// A score for each level, summing to 1.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LevelScores {
    pub emerging: f32,
    pub developing: f32,
    pub proficient: f32,
    pub advanced: f32,
}

impl From<[f32; 4]> for LevelScores {
    fn from(s: [f32; 4]) -> Self {
        LevelScores {
            emerging: s[0],
            developing: s[1],
            proficient: s[2],
            advanced: s[3],
        }
    }
}

/// A statement that supports a match.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub level: Level,
    pub statement: String,
    pub score: f32,
    /// The statement, HTML-escaped, with matched words in `<mark>…</mark>`.
    pub snippet: String,
    /// Matched words as `[start, end)` code point offsets into `statement`.
    pub highlights: Vec<[usize; 2]>,
}

/// A statement of the inferred level, or the next one up, that the posting does not cover.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    pub level: Level,
    pub statement: String,
}

/// One occupation the posting matches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Match {
    pub rank: usize,
    pub soc: String,
    pub title: String,
    pub group: String,
    pub score: f32,
    /// Probability that this match is the right occupation (calibrated on the dev set).
    pub confidence: f32,
    pub level: Level,
    pub level_scores: LevelScores,
    pub evidence: Vec<Evidence>,
    /// The occupation's tools that the posting names.
    pub tools: Vec<String>,
    pub gap: Vec<Gap>,
}

/// A SOC group that the closest candidates share.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SharedGroup {
    /// SOC 2018 code of the group, e.g. `33-3050`.
    pub code: String,
    /// `major`, `minor`, `broad` or `detailed`.
    pub level: String,
    pub name: String,
}

/// The answer for one posting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MapResult {
    pub matches: Vec<Match>,
    /// The top two are too close, or the evidence is weak.
    pub uncertain: bool,
    /// When uncertain: the narrowest SOC group holding the close candidates.
    pub shared_group: Option<SharedGroup>,
    /// Seniority phrases found in the posting.
    pub seniority: Vec<Cue>,
    /// Only the first `MAX_TEXT_BYTES` of the text were read.
    pub truncated: bool,
}

/// An occupation as the mapper knows it.
#[derive(Debug, Clone)]
struct Occupation {
    soc: String,
    title: String,
    group: String,
    title_terms: Vec<String>,
    /// The title's head nouns, stemmed (see [`title_heads`]).
    heads: Vec<String>,
}

/// The head nouns of an O*NET title, the words that say what kind of worker it is: in the part
/// before the first comma, before "--" and before " of ", the last word of each piece joined by
/// "and" or "/". "Cooks, Restaurant" → cook; "Helpers--Electricians" → helper; "First-Line
/// Supervisors of Retail Sales Workers" → supervisor; "Accountants and Auditors" → accountant,
/// auditor.
fn title_heads(title: &str) -> Vec<String> {
    let mut part = title.split(',').next().unwrap_or(title);
    part = part.split("--").next().unwrap_or(part);
    part = part.split(" of ").next().unwrap_or(part);
    let mut heads: Vec<String> = part
        .split(" and ")
        .flat_map(|p| p.split('/'))
        .filter_map(|p| text::query_terms(p).pop())
        .collect();
    heads.sort();
    heads.dedup();
    heads
}

/// The job itself in a posting's title, before what qualifies it: "Registered Nurse - ICU
/// (Nights)" → "Registered Nurse"; "Software Engineer, Payments" → "Software Engineer";
/// "Cook at Rosa's" → "Cook".
fn title_core(title: &str) -> &str {
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

/// SOC 2018 group names, bundled with the binary (public domain, BLS).
fn soc_names() -> &'static BTreeMap<String, (String, String)> {
    static NAMES: OnceLock<BTreeMap<String, (String, String)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        include_str!("../../data/source/soc/soc2018.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                let code = f.next()?.to_string();
                let name = f.next()?.to_string();
                let level = f.next()?.to_string();
                Some((code, (name, level)))
            })
            .collect()
    })
}

/// The narrowest SOC group containing every code (`None` when they share no major group).
pub fn shared_group(socs: &[&str]) -> Option<SharedGroup> {
    let first = socs.first()?;
    let mut best: Option<(usize, SharedGroup)> = None;
    for (code, (name, level)) in soc_names() {
        if !matches!(level.as_str(), "major" | "minor" | "broad" | "detailed") {
            continue;
        }
        let Ok(prefix) = normalize_soc_filter(code) else {
            continue;
        };
        if socs.iter().all(|s| s.starts_with(&prefix))
            && best.as_ref().is_none_or(|(n, _)| prefix.len() > *n)
        {
            best = Some((
                prefix.len(),
                SharedGroup {
                    code: code.clone(),
                    level: level.clone(),
                    name: name.clone(),
                },
            ));
        }
    }
    let _ = first;
    best.map(|(_, g)| g)
}

/// A tool is known by the rarest word of its name ("Apache Airflow" by "airflow", "Microsoft
/// Excel" by "excel"): a posting names the tool when it has that word. Per such word, the
/// occupations with a tool it names and its IDF over the occupations' tool words; per
/// occupation, its tools as (name, naming word).
#[allow(clippy::type_complexity)]
fn tool_tables(
    occupations: &[Occupation],
    knowledge: &BTreeMap<String, crate::model::Knowledge>,
) -> (HashMap<String, (Vec<u32>, f32)>, Vec<Vec<(String, String)>>) {
    let stemmed: Vec<Vec<(String, Vec<String>)>> = occupations
        .iter()
        .map(|o| {
            let tools = knowledge.get(&o.soc).map_or(&[][..], |k| &k.tools[..]);
            tools
                .iter()
                .map(|t| (t.name.clone(), text::query_terms(&t.name)))
                .collect()
        })
        .collect();
    // How many occupations' tools use each word.
    let mut df: HashMap<&str, usize> = HashMap::new();
    for tools in &stemmed {
        let mut words: Vec<&str> = tools
            .iter()
            .flat_map(|(_, s)| s.iter().map(String::as_str))
            .collect();
        words.sort_unstable();
        words.dedup();
        for w in words {
            *df.entry(w).or_insert(0) += 1;
        }
    }
    let n = occupations.len().max(1) as f32;
    let mut postings: HashMap<String, (Vec<u32>, f32)> = HashMap::new();
    let mut names = Vec::with_capacity(occupations.len());
    for (i, tools) in stemmed.iter().enumerate() {
        let mut mine = Vec::with_capacity(tools.len());
        for (name, stems) in tools {
            let Some(rarest) = stems
                .iter()
                .min_by_key(|s| (df[String::as_str(s)], String::as_str(s)))
            else {
                continue;
            };
            let entry = postings
                .entry(rarest.clone())
                .or_insert_with(|| (Vec::new(), (1.0 + n / df[rarest.as_str()] as f32).ln()));
            if entry.0.last() != Some(&(i as u32)) {
                entry.0.push(i as u32);
            }
            mine.push((name.clone(), rarest.clone()));
        }
        names.push(mine);
    }
    (postings, names)
}

/// Maps postings against one point-in-time view of the index. Build once, use for many postings
/// (it is `Sync`); build a new one to see later commits.
pub struct Mapper<'e> {
    engine: &'e Engine,
    searcher: Searcher,
    occupations: Vec<Occupation>,
    /// Occupation-level document frequency of title terms.
    title_df: HashMap<String, usize>,
    /// Per title term, the occupations whose title holds it.
    title_postings: HashMap<String, Vec<usize>>,
    /// Per occupation, the summed IDF (over titles) of its title's terms.
    title_own: Vec<f32>,
    /// Per segment, per document: the occupation index (`u32::MAX` for deleted documents).
    doc_occ: Vec<Vec<u32>>,
    /// Per occupation: its statements as (level, position, address), in level then position order.
    occ_docs: Vec<Vec<(Level, u64, DocAddress)>>,
    /// Mean number of statements per occupation.
    avg_len: f32,
    /// Every title of every occupation (its own and its alternates), for nearest-title lookup.
    title_index: titles::TitleIndex,
    /// Per word that names a tool (its rarest): the occupations that use such a tool, and the
    /// word's IDF over occupations (how specific it is).
    tool_postings: HashMap<String, (Vec<u32>, f32)>,
    /// Per occupation: its tools as (name, the word that names it).
    tool_names: Vec<Vec<(String, String)>>,
}

/// A posting as read, with every candidate's features: what ranking needs.
struct Prepared {
    truncated: bool,
    cues: Vec<Cue>,
    /// The posting's selected terms with their weights.
    weighted: Vec<(String, f32)>,
    /// Every term of the posting but boilerplate (for tools).
    posting_terms: std::collections::BTreeSet<String>,
    title_only: bool,
    candidates: Vec<(usize, model::FeatureVector)>,
}

/// How to build a mapper.
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    /// Titles (lower-cased words, as [`titles::identity`] makes them) that the mapper must not
    /// know: an evaluation leaves out the titles it asks about, so that they are unseen.
    pub exclude_titles: std::collections::HashSet<String>,
    /// The title language models' prior, instead of the fitted one (for the fit itself).
    pub title_model_prior: Option<f32>,
}

/// The per-feature scores a posting gives occupations, before they are combined.
struct CandidateInputs<'a> {
    profile: &'a HashMap<usize, f32>,
    description: &'a HashMap<usize, f32>,
    titles: &'a HashMap<usize, f32>,
    body_titles: &'a HashMap<usize, f32>,
    similar: &'a HashMap<usize, f32>,
    votes: &'a HashMap<usize, f32>,
    title_model: &'a HashMap<usize, f32>,
    exact: &'a HashMap<usize, f32>,
    tools: &'a HashMap<usize, f32>,
    vocabulary: &'a HashMap<usize, f32>,
}

const NO_OCC: u32 = u32::MAX;

fn idf(df: u64, n: u64) -> f32 {
    ((1.0 + (n as f64 - df as f64 + 0.5) / (df as f64 + 0.5)).ln()) as f32
}

/// Words of job-ad boilerplate, which say nothing about the occupation.
const BOILERPLATE: &str = "job jobs role position positions responsibilities responsibility \
    requirements required requires preferred qualifications qualified candidate candidates \
    applicant applicants apply hiring hire join team opportunity opportunities company \
    employer salary benefits experience years year yrs skills ability able looking seeking \
    successful ideal must plus immediately available new colleague colleagues duties \
    description summary offer full part time etc including work environment excellent strong \
    equal will can any our your you we us";

/// The boilerplate words as stemmed terms.
fn boilerplate() -> &'static std::collections::HashSet<String> {
    static SET: OnceLock<std::collections::HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| text::index_terms(BOILERPLATE).into_iter().collect())
}

impl<'e> Mapper<'e> {
    /// Reads every occupation of the index (code, title, group, titles, tools) and where its
    /// statements are.
    pub fn new(engine: &'e Engine) -> Result<Mapper<'e>> {
        Mapper::with_options(engine, &MapOptions::default())
    }

    /// [`Mapper::new`] with options.
    pub fn with_options(engine: &'e Engine, options: &MapOptions) -> Result<Mapper<'e>> {
        let searcher = engine.searcher();
        let f = &engine.fields;
        let mut occupations: Vec<Occupation> = Vec::new();
        let mut by_soc: HashMap<String, usize> = HashMap::new();
        let mut doc_occ = Vec::new();
        let mut occ_docs: Vec<Vec<(Level, u64, DocAddress)>> = Vec::new();
        for (seg_ord, seg) in searcher.segment_readers().iter().enumerate() {
            let ff = seg.fast_fields();
            let soc_col = ff.str("soc")?;
            let level_col = ff.u64("level_ord")?;
            let pos_col = ff.u64("position")?;
            let alive = seg.alive_bitset();
            // Occupation index of each term ordinal of this segment's SOC column.
            let mut docs = vec![NO_OCC; seg.max_doc() as usize];
            let Some(col) = &soc_col else {
                doc_occ.push(docs);
                continue;
            };
            // Ordinals of the live documents, then every distinct ordinal resolved to its code
            // in one sorted pass over the dictionary.
            let mut doc_ord: Vec<Option<u64>> = vec![None; seg.max_doc() as usize];
            let mut first_doc: HashMap<u64, u32> = HashMap::new();
            for doc in 0..seg.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                if let Some(ord) = col.term_ords(doc).next() {
                    doc_ord[doc as usize] = Some(ord);
                    first_doc.entry(ord).or_insert(doc);
                }
            }
            let mut ords: Vec<u64> = first_doc.keys().copied().collect();
            ords.sort_unstable();
            let mut codes: Vec<String> = Vec::with_capacity(ords.len());
            col.dictionary()
                .sorted_ords_to_term_cb(&ords, |bytes| {
                    codes.push(String::from_utf8_lossy(bytes).into_owned());
                })
                .map_err(tantivy::TantivyError::from)?;
            let mut ord_occ: HashMap<u64, u32> = HashMap::with_capacity(ords.len());
            for (ord, soc) in ords.iter().zip(codes) {
                let o = match by_soc.get(&soc) {
                    Some(&o) => o,
                    None => {
                        let stored: TantivyDocument =
                            searcher.doc(DocAddress::new(seg_ord as u32, first_doc[ord]))?;
                        let get = |field| {
                            stored
                                .get_first(field)
                                .and_then(|v| v.as_str())
                                .unwrap_or("")
                                .to_string()
                        };
                        let title = get(f.title);
                        // "X, Except Y" names what the occupation is not: Y's words neither
                        // match a posting's title nor dilute X's.
                        let kept = title.split(", Except").next().unwrap_or(&title);
                        let mut title_terms = text::query_terms(kept);
                        title_terms.sort();
                        title_terms.dedup();
                        occupations.push(Occupation {
                            soc: soc.clone(),
                            group: get(f.group),
                            heads: title_heads(&title),
                            title,
                            title_terms,
                        });
                        occ_docs.push(Vec::new());
                        by_soc.insert(soc, occupations.len() - 1);
                        occupations.len() - 1
                    }
                };
                ord_occ.insert(*ord, o as u32);
            }
            for doc in 0..seg.max_doc() {
                let Some(ord) = doc_ord[doc as usize] else {
                    continue;
                };
                let occ = ord_occ[&ord];
                docs[doc as usize] = occ;
                let level = Level::from_ordinal(level_col.first(doc).unwrap_or(1))
                    .unwrap_or(Level::Emerging);
                occ_docs[occ as usize].push((
                    level,
                    pos_col.first(doc).unwrap_or(0),
                    DocAddress::new(seg_ord as u32, doc),
                ));
            }
            doc_occ.push(docs);
        }
        for docs in &mut occ_docs {
            docs.sort_by_key(|(l, p, _)| (*l, *p));
        }
        let mut title_df: HashMap<String, usize> = HashMap::new();
        for o in &occupations {
            for t in &o.title_terms {
                *title_df.entry(t.clone()).or_insert(0) += 1;
            }
        }
        let mut title_postings: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, o) in occupations.iter().enumerate() {
            for t in &o.title_terms {
                title_postings.entry(t.clone()).or_default().push(i);
            }
        }
        let n_occ = occupations.len() as u64;
        let title_own = occupations
            .iter()
            .map(|o| {
                o.title_terms
                    .iter()
                    .map(|t| idf(title_df[t] as u64, n_occ))
                    .sum()
            })
            .collect();
        let total: usize = occ_docs.iter().map(Vec::len).sum();
        let avg_len = total as f32 / occupations.len().max(1) as f32;
        let knowledge = crate::knowledge::all(&searcher, f)?;
        let title_index = titles::TitleIndex::build(
            occupations.iter().enumerate().flat_map(|(i, o)| {
                let alternates = knowledge.get(&o.soc).map_or(&[][..], |k| &k.titles[..]);
                // The own title without what it excludes ("X, Except Y" is an X).
                let own = o.title.split(", Except").next().unwrap_or(&o.title);
                std::iter::once((i as u32, own))
                    .chain(alternates.iter().map(move |t| (i as u32, t.as_str())))
            }),
            &options.exclude_titles,
            options
                .title_model_prior
                .unwrap_or(model::weights().title_model_prior),
        );
        let (tool_postings, tool_names) = tool_tables(&occupations, &knowledge);
        Ok(Mapper {
            engine,
            searcher,
            occupations,
            title_df,
            title_postings,
            title_own,
            doc_occ,
            occ_docs,
            avg_len,
            title_index,
            tool_postings,
            tool_names,
        })
    }

    /// The index generation this mapper reads.
    pub fn generation(&self) -> u64 {
        self.searcher.generation().generation_id()
    }

    /// Number of occupations known.
    pub fn occupations(&self) -> usize {
        self.occupations.len()
    }

    fn occ_of(&self, addr: DocAddress) -> Option<usize> {
        let o = *self
            .doc_occ
            .get(addr.segment_ord as usize)?
            .get(addr.doc_id as usize)?;
        (o != NO_OCC).then_some(o as usize)
    }

    fn title_idf(&self, t: &str) -> f32 {
        let n = self.occupations.len() as u64;
        idf(self.title_df.get(t).copied().unwrap_or(0) as u64, n)
    }

    /// Per occupation with a title term among `terms`: the summed IDF of those shared terms.
    fn shared_title_idf<'a>(&self, terms: impl Iterator<Item = &'a str>) -> HashMap<usize, f32> {
        let mut out: HashMap<usize, f32> = HashMap::new();
        for t in terms {
            if let Some(occs) = self.title_postings.get(t) {
                let w = self.title_idf(t);
                for &o in occs {
                    *out.entry(o).or_insert(0.0) += w;
                }
            }
        }
        out
    }

    /// T for every occupation whose title shares a term with the posting's title (sorted,
    /// deduplicated terms; `head` is the title's last word). Words that no occupation title
    /// holds say nothing about titles and are left out of the coverage.
    fn title_scores(&self, title_terms: &[String], head: Option<&str>) -> HashMap<usize, f32> {
        let known = |t: &&String| self.title_postings.contains_key(String::as_str(t));
        let wanted: f32 = title_terms
            .iter()
            .filter(known)
            .map(|t| self.title_idf(t))
            .sum();
        if wanted <= 0.0 {
            return HashMap::new();
        }
        let mut out = self.shared_title_idf(title_terms.iter().map(String::as_str));
        out.retain(|_, shared| *shared > 0.0);
        let head_known = head.filter(|h| self.title_postings.contains_key(*h));
        for (o, v) in out.iter_mut() {
            let shared = *v;
            let coverage = shared / wanted;
            let precision = (shared / self.title_own[*o].max(shared)).sqrt();
            let head_factor = match head_known {
                Some(h) if !self.occupations[*o].heads.iter().any(|x| x == h) => HEAD_MISS,
                _ => 1.0,
            };
            *v = coverage * (0.5 + 0.5 * precision) * head_factor;
        }
        out
    }

    /// B for every occupation with a title word in the posting's text: the share of its
    /// title's IDF (over titles) that the text holds.
    fn body_title_scores(&self, body_terms: &[String]) -> HashMap<usize, f32> {
        let unique: std::collections::BTreeSet<&str> =
            body_terms.iter().map(String::as_str).collect();
        let mut out = self.shared_title_idf(unique.into_iter());
        out.retain(|_, shared| *shared > 0.0);
        for (o, v) in out.iter_mut() {
            *v /= self.title_own[*o];
        }
        out
    }

    /// P: BM25 with occupations as documents (term frequency = how many of the occupation's
    /// statements hold the term; length = its number of statements), over the posting's terms.
    fn profile_scores(
        &self,
        weighted: &[(String, f32)],
        query_tf: &HashMap<String, u32>,
    ) -> Result<HashMap<usize, f32>> {
        const K1: f32 = 2.0;
        const B: f32 = 0.75;
        let f = &self.engine.fields;
        let n_occ = self.occupations.len() as u64;
        // Dense per-occupation tallies: a common term touches most occupations.
        let mut scores = vec![0.0f32; self.occupations.len()];
        let mut counts = vec![0u32; self.occupations.len()];
        let mut touched: Vec<usize> = Vec::new();
        for (t, _) in weighted {
            touched.clear();
            let term = Term::from_field_text(f.statement, t);
            for (seg_ord, seg) in self.searcher.segment_readers().iter().enumerate() {
                let inverted = seg.inverted_index(f.statement)?;
                let Some(mut postings) = inverted
                    .read_postings(&term, IndexRecordOption::Basic)
                    .map_err(tantivy::TantivyError::from)?
                else {
                    continue;
                };
                let docs = &self.doc_occ[seg_ord];
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    let o = docs[doc as usize];
                    if o != NO_OCC {
                        if counts[o as usize] == 0 {
                            touched.push(o as usize);
                        }
                        counts[o as usize] += 1;
                    }
                    doc = postings.advance();
                }
            }
            let df = touched.len() as u64;
            if df == 0 {
                continue;
            }
            let w_idf = idf(df, n_occ);
            let qtf = 1.0 + (query_tf.get(t).copied().unwrap_or(1) as f32).ln();
            for &o in &touched {
                let len = self.occ_docs[o].len() as f32;
                let tf = counts[o] as f32;
                let norm = tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / self.avg_len));
                scores[o] += qtf * w_idf * norm;
                counts[o] = 0;
            }
        }
        let out: HashMap<usize, f32> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .collect();
        Ok(out)
    }

    /// K for every occupation with a tool that the posting names: the summed IDF of the distinct
    /// naming words.
    fn tool_scores(&self, posting_terms: &std::collections::BTreeSet<&str>) -> HashMap<usize, f32> {
        let mut out: HashMap<usize, f32> = HashMap::new();
        for t in posting_terms {
            if let Some((occs, idf)) = self.tool_postings.get(*t) {
                for &o in occs {
                    *out.entry(o as usize).or_insert(0.0) += idf;
                }
            }
        }
        out
    }

    /// The occupation's tools that the posting names.
    fn tools_named(
        &self,
        occ: usize,
        posting_terms: &std::collections::BTreeSet<String>,
    ) -> Vec<String> {
        self.tool_names[occ]
            .iter()
            .filter(|(_, word)| posting_terms.contains(word))
            .map(|(name, _)| name.clone())
            .take(10)
            .collect()
    }

    /// Every occupation that any feature finds, with its feature vector (each feature in 0..=1).
    fn candidate_features(&self, c: &CandidateInputs) -> Vec<(usize, model::FeatureVector)> {
        let max = |m: &HashMap<usize, f32>| {
            m.values()
                .copied()
                .fold(0.0, f32::max)
                .max(f32::MIN_POSITIVE)
        };
        let (max_p, max_d, max_k) = (max(c.profile), max(c.description), max(c.tools));
        let max_v = max(c.vocabulary);
        // Dense rows by occupation, filled one feature map at a time (no look-ups per cell).
        let mut dense: Vec<Option<model::FeatureVector>> = vec![None; self.occupations.len()];
        let sources: [(&HashMap<usize, f32>, usize, f32); 10] = [
            (c.profile, 0, max_p),
            (c.description, 1, max_d),
            (c.titles, 2, 1.0),
            (c.body_titles, 3, 1.0),
            (c.similar, 4, 1.0),
            (c.votes, 5, 1.0),
            (c.exact, 6, 1.0),
            (c.title_model, 7, 1.0),
            (c.tools, 8, max_k),
            (c.vocabulary, 11, max_v),
        ];
        for (map, feature, scale) in sources {
            for (&o, &v) in map {
                dense[o].get_or_insert([0.0; model::N_FEATURES])[feature] = v / scale;
            }
        }
        let mut rows: Vec<(usize, model::FeatureVector)> = dense
            .into_iter()
            .enumerate()
            .filter_map(|(o, f)| Some((o, f?)))
            .collect();
        // Backing off the SOC hierarchy: a major group's evidence is the sum of its best
        // `GROUP_TOP` members' profile (and title) scores, relative to the best group's.
        for (feature, source) in [(9, 0), (10, 4)] {
            let mut groups: HashMap<&str, Vec<f32>> = HashMap::new();
            for (o, f) in &rows {
                groups
                    .entry(&self.occupations[*o].soc[..2])
                    .or_default()
                    .push(f[source]);
            }
            let evidence: HashMap<&str, f32> = groups
                .into_iter()
                .map(|(k, mut v)| {
                    v.sort_by(|a, b| b.total_cmp(a));
                    (k, v.iter().take(GROUP_TOP).sum::<f32>())
                })
                .collect();
            let best = evidence
                .values()
                .copied()
                .fold(0.0, f32::max)
                .max(f32::MIN_POSITIVE);
            for (o, f) in rows.iter_mut() {
                f[feature] = evidence[&self.occupations[*o].soc[..2]] / best;
            }
        }
        rows
    }

    /// Maps one posting.
    pub fn map(&self, req: &MapRequest) -> Result<MapResult> {
        let p = self.prepare(req)?;
        let w = model::weights().for_request(p.title_only);
        self.answer(req, p, w)
    }

    /// The candidates a posting finds, each with its feature vector, and whether the request is
    /// a title alone: what `cargo xtask fit-map` fits the weights on.
    pub fn candidates(
        &self,
        req: &MapRequest,
    ) -> Result<(bool, Vec<(String, model::FeatureVector)>)> {
        let p = self.prepare(req)?;
        let rows = p
            .candidates
            .iter()
            .map(|(o, f)| (self.occupations[*o].soc.clone(), *f))
            .collect();
        Ok((p.title_only, rows))
    }

    /// Reads a posting (title, seniority, terms) and computes every candidate's features.
    fn prepare(&self, req: &MapRequest) -> Result<Prepared> {
        if req.top == 0 || req.top > 50 {
            return Err(Error::Invalid(format!(
                "top must be 1 to 50, not {}",
                req.top
            )));
        }
        let mut text = req.text.as_str();
        let truncated = text.len() > MAX_TEXT_BYTES;
        if truncated {
            let mut end = MAX_TEXT_BYTES;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text = &text[..end];
        }
        // Benefits, pay, "about us" and equal-opportunity lines say nothing about the job.
        let cleaned = crate::posting::without_boilerplate(text);
        let text = cleaned.as_str();
        let explicit_title = req
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if text.trim().is_empty() && explicit_title.is_none() {
            return Err(Error::Invalid(
                "nothing to map: the posting text and title are empty".into(),
            ));
        }
        // The job title: given, or the first line when it reads like one; its aliases are
        // replaced before seniority is read ("Sales Associate" is a job, not a level).
        let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let start = text.find(first_line).unwrap_or(0);
        let title_from_text =
            explicit_title.is_none() && crate::posting::looks_like_title(first_line);
        // The title as written, for the nearest-title lookup.
        let raw_title: Option<String> = explicit_title
            .map(str::to_string)
            .or_else(|| title_from_text.then(|| first_line.trim().to_string()));
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
            let c = seniority::cues(t, 1.5);
            title_content = seniority::without_cues(t, &c);
            cues.extend(c);
        }
        let text_cues: Vec<Cue> = seniority::cues(text, 1.0)
            .into_iter()
            .map(|mut c| {
                // A cue in a first line that is the title counts as a title cue.
                if title_from_text && c.span.end <= first_line_end {
                    c.weight *= 1.5;
                }
                c
            })
            .collect();
        let content = seniority::without_cues(text, &text_cues);
        cues.extend(text_cues);
        if title_from_text {
            title_content = content[..first_line_end].trim().to_string();
        }

        let searcher = &self.searcher;
        let stats = crate::engine::StatementStats::of(searcher)?;
        let n_docs = crate::engine::statement_count(searcher, &self.engine.fields)?.max(1);
        let f = &self.engine.fields;

        // Known terms with their weights (IDF × sublinear TF).
        let mut idf_cache: HashMap<String, f32> = HashMap::new();
        let mut tf: HashMap<String, u32> = HashMap::new();
        let body = if title_from_text {
            &content[first_line_end..]
        } else {
            content.as_str()
        };
        let body_terms = text::query_terms(body);
        for t in body_terms
            .iter()
            .cloned()
            .chain(text::query_terms(&title_content))
        {
            *tf.entry(t).or_insert(0) += 1;
        }
        let mut weighted: Vec<(String, f32)> = Vec::new();
        for (t, n) in &tf {
            if boilerplate().contains(t) {
                continue;
            }
            let df = searcher.doc_freq(&Term::from_field_text(f.statement, t))?;
            let i = if df == 0 { 0.0 } else { idf(df, n_docs) };
            idf_cache.insert(t.clone(), i);
            if i > 0.0 {
                weighted.push((t.clone(), i * (1.0 + (*n as f32).ln())));
            }
        }
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weighted.truncate(MAX_TERMS);

        // P: occupations as documents.
        let profile = self.profile_scores(&weighted, &tf)?;

        // D: the frameworks' descriptions (one document per occupation carries it).
        let mut description: HashMap<usize, f32> = HashMap::new();
        if !weighted.is_empty() {
            let q = BooleanQuery::new(weighted_union(f.context, &weighted));
            for (s, addr) in stats.search(&q, &TopDocs::with_limit(200).order_by_score())? {
                if let Some(o) = self.occ_of(addr) {
                    description.insert(o, s);
                }
            }
        }

        // T: the title's words in the occupation's own title; B: its title words in the text.
        let title_words = text::query_terms(&title_content);
        let head = text::query_terms(title_core(&title_content)).pop();
        let title_terms: Vec<String> = {
            let mut t = title_words;
            t.sort();
            t.dedup();
            t
        };
        let titles = self.title_scores(&title_terms, head.as_deref());
        let body_titles = self.body_title_scores(&body_terms);
        // S: the nearest known titles to the job in the title.
        // The title is read twice, as written and without its seniority words ("Senior
        // Accountant" is an accountant, but "Vice Principal" is no "Vice"); each occupation keeps
        // its better reading.
        let mut similar: HashMap<usize, f32> = HashMap::new();
        let mut votes: HashMap<usize, f32> = HashMap::new();
        let mut title_model: HashMap<usize, f32> = HashMap::new();
        let mut exact: HashMap<usize, f32> = HashMap::new();
        let mut readings: Vec<String> = [raw_title.as_deref().unwrap_or(""), &title_content]
            .iter()
            .map(|r| titles::clean_title(r))
            .filter(|t| !t.trim().is_empty())
            .collect();
        readings.dedup();
        for job_title in &readings {
            for (o, p) in self.title_index.likelihood(job_title) {
                let v = title_model.entry(o as usize).or_insert(0.0);
                *v = v.max(p);
            }
            for m in self.title_index.lookup(job_title) {
                let s = similar.entry(m.occ as usize).or_insert(0.0);
                *s = s.max(m.best);
                let v = votes.entry(m.occ as usize).or_insert(0.0);
                *v = v.max(m.votes);
                if m.exact > 0.0 {
                    let x = exact.entry(m.occ as usize).or_insert(0.0);
                    *x = x.max(m.exact);
                }
            }
        }
        // K: tools the posting names.
        let posting_terms: std::collections::BTreeSet<&str> = tf
            .keys()
            .map(String::as_str)
            .filter(|t| !boilerplate().contains(*t))
            .collect();
        let tools = self.tool_scores(&posting_terms);
        // V: the posting's words in the occupation's titles, read as content.
        let vocabulary: HashMap<usize, f32> = self
            .title_index
            .vocabulary(posting_terms.iter().map(|t| {
                let n = tf.get(*t).copied().unwrap_or(1) as f32;
                (*t, 1.0 + n.ln())
            }))
            .into_iter()
            .map(|(o, s)| (o as usize, s))
            .collect();

        let title_only = body_terms.is_empty();
        let candidates = self.candidate_features(&CandidateInputs {
            profile: &profile,
            description: &description,
            titles: &titles,
            body_titles: &body_titles,
            similar: &similar,
            votes: &votes,
            title_model: &title_model,
            exact: &exact,
            tools: &tools,
            vocabulary: &vocabulary,
        });
        let posting_terms = posting_terms.into_iter().map(str::to_string).collect();
        Ok(Prepared {
            truncated,
            cues,
            weighted,
            posting_terms,
            title_only,
            candidates,
        })
    }

    /// Ranks the prepared candidates with weights `w`, and reads the level, evidence and gap of
    /// the best `req.top`.
    fn answer(&self, req: &MapRequest, p: Prepared, w: &[f32]) -> Result<MapResult> {
        let Prepared {
            truncated,
            cues,
            weighted,
            posting_terms,
            candidates,
            ..
        } = p;
        let searcher = &self.searcher;
        let f = &self.engine.fields;
        let mut ranked: Vec<(usize, f32)> = candidates
            .iter()
            .map(|(o, f)| (*o, model::score(w, f)))
            .collect();
        ranked.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| self.occupations[a.0].soc.cmp(&self.occupations[b.0].soc))
        });
        // Each candidate's confidence is its softmax probability under the fitted model.
        let probabilities = model::softmax(&ranked.iter().map(|r| r.1).collect::<Vec<_>>());
        let p1 = probabilities.first().copied().unwrap_or(0.0);
        let p2 = probabilities.get(1).copied().unwrap_or(0.0);
        let uncertain =
            ranked.is_empty() || p1 < UNCERTAIN_CONFIDENCE || p2 >= UNCERTAIN_RUNNER_UP * p1;
        let shared = if uncertain && ranked.len() >= 2 {
            let close: Vec<&str> = ranked
                .iter()
                .zip(&probabilities)
                .take_while(|(_, p)| **p >= UNCERTAIN_RUNNER_UP * p1 * 0.5)
                .take(5)
                .map(|(r, _)| self.occupations[r.0].soc.as_str())
                .collect();
            let close = if close.len() < 2 {
                ranked
                    .iter()
                    .take(2)
                    .map(|r| self.occupations[r.0].soc.as_str())
                    .collect()
            } else {
                close
            };
            shared_group(&close)
        } else {
            None
        };
        let highlighter = Highlighter {
            exact: weighted.iter().map(|(t, _)| t.clone()).collect(),
            fuzzy: Vec::new(),
        };
        let mut matches = Vec::new();
        for (rank, (o, score)) in ranked.into_iter().take(req.top).enumerate() {
            let occ = &self.occupations[o];
            let (evidence, evidence_level, gap) =
                self.level_and_evidence(o, &weighted, &highlighter)?;
            let mut priors = Vec::new();
            if let Some(l) = evidence_level {
                priors.push((spread_evidence(l), W_LEVEL_EVIDENCE));
            }
            let level_point = seniority::combine(&cues, &priors).unwrap_or(2.5);
            // Without seniority language the level is a weak guess: say so with flatter scores.
            let spread = if cues.is_empty() {
                2.0 * LEVEL_SPREAD
            } else {
                LEVEL_SPREAD
            };
            let scores = seniority::level_scores(level_point, spread);
            let level = Level::ALL[scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(1, |(i, _)| i)];
            let confidence = probabilities[rank];
            let gap = gap
                .into_iter()
                .filter(|(l, _)| *l == level || l.index() == level.index() + 1)
                .take(5)
                .map(|(level, addr)| {
                    let doc: TantivyDocument = searcher.doc(addr)?;
                    Ok(Gap {
                        level,
                        statement: hit_from_doc(f, &doc).statement,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            matches.push(Match {
                rank: rank + 1,
                soc: occ.soc.clone(),
                title: occ.title.clone(),
                group: occ.group.clone(),
                score,
                confidence,
                level,
                level_scores: scores.into(),
                evidence,
                tools: self.tools_named(o, &posting_terms),
                gap,
            });
        }
        Ok(MapResult {
            matches,
            uncertain,
            shared_group: shared,
            seniority: cues,
            truncated,
        })
    }

    /// Scores every statement of one occupation against the posting: the best are the evidence,
    /// their spread over levels is the statement evidence of the level, and the unmatched ones
    /// are the gap (returned as addresses; only the few shown are read).
    #[allow(clippy::type_complexity)]
    fn level_and_evidence(
        &self,
        occ: usize,
        weighted: &[(String, f32)],
        highlighter: &Highlighter,
    ) -> Result<(Vec<Evidence>, Option<f32>, Vec<(Level, DocAddress)>)> {
        let f = &self.engine.fields;
        let statements = &self.occ_docs[occ];
        let mut scored: HashMap<DocAddress, f32> = HashMap::new();
        if !weighted.is_empty() {
            // The occupation filter scores 0, so a statement's score is the posting's evidence.
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(
                        f.soc_term(&self.occupations[occ].soc),
                        IndexRecordOption::Basic,
                    )),
                    0.0,
                )),
            )];
            let terms = weighted_union(f.statement, weighted);
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(terms))));
            let q = BooleanQuery::new(clauses);
            let n = statements.len().max(1);
            for (s, addr) in crate::engine::StatementStats::of(&self.searcher)?
                .search(&q, &TopDocs::with_limit(n).order_by_score())?
            {
                scored.insert(addr, s);
            }
        }
        let mut per_level = [0.0f32; 4];
        let mut per_level_n = [0usize; 4];
        let mut evidence_hits = Vec::new();
        let mut gap = Vec::new();
        for &(level, _, addr) in statements {
            per_level_n[level.index()] += 1;
            match scored.get(&addr) {
                Some(&s) => {
                    per_level[level.index()] += s;
                    evidence_hits.push((s, addr));
                }
                None => gap.push((level, addr)),
            }
        }
        evidence_hits.sort_by(|a, b| b.0.total_cmp(&a.0));
        let evidence = evidence_hits
            .into_iter()
            .take(3)
            .map(|(s, addr)| {
                let doc: TantivyDocument = self.searcher.doc(addr)?;
                let mut hit = hit_from_doc(f, &doc);
                text::with_index_analyzer(|a| highlight(&mut hit, highlighter, a));
                Ok(Evidence {
                    level: hit.level,
                    statement: hit.statement,
                    score: s,
                    snippet: hit.snippet,
                    highlights: hit.highlights,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Mean level of the matched statements, each level's share normalised by its size.
        let mut num = 0.0;
        let mut den = 0.0;
        for i in 0..4 {
            if per_level_n[i] > 0 {
                let v = per_level[i] / per_level_n[i] as f32;
                num += v * (i as f32 + 1.0);
                den += v;
            }
        }
        Ok((evidence, (den > 0.0).then(|| num / den), gap))
    }
}

/// Should-clauses for the posting's terms on one field, each boosted by the square root of its
/// weight relative to the heaviest (so rare, repeated terms lead without drowning the rest).
fn weighted_union(
    field: tantivy::schema::Field,
    weighted: &[(String, f32)],
) -> Vec<(Occur, Box<dyn Query>)> {
    let max_w = weighted
        .first()
        .map_or(1.0, |(_, w)| *w)
        .max(f32::MIN_POSITIVE);
    weighted
        .iter()
        .map(|(t, w)| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            ));
            (
                Occur::Should,
                Box::new(BoostQuery::new(q, (w / max_w).sqrt())) as Box<dyn Query>,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_the_kind_of_worker() {
        let heads = |t| title_heads(t);
        assert_eq!(heads("Cooks, Restaurant"), ["cook"]);
        assert_eq!(heads("Helpers--Electricians"), ["helper"]);
        assert_eq!(
            heads("First-Line Supervisors of Retail Sales Workers"),
            ["supervisor"]
        );
        assert_eq!(heads("Accountants and Auditors"), ["account", "auditor"]);
    }

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
}
