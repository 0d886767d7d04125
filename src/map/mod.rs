//! Posting → occupations and levels, as a pipeline of stages, each in its own file:
//! 1. [`read`]: the posting as read — length cap, boilerplate, the job title (given, or the
//!    first line when it reads like one) cleaned of job-board additions, seniority cues;
//! 2. [`candidates`]: the posting's terms weighted by rarity, every occupation any evidence
//!    finds, and its features (statements, description, titles via [`titles`], tools, SOC
//!    group back-off);
//! 3. [`confidence`]: scores under the weights of [`model`] (fitted by `cargo xtask fit-map` on
//!    the tuning split), softmax confidences, uncertainty and the shared SOC group;
//! 4. [`evidence`]: the best matches' statements that the posting scores — evidence, gap, and
//!    the mean level of what matched;
//! 5. [`level`]: each match's level from the seniority cues and that statement evidence.
//!
//! [`Mapper`] holds what the stages read from one point-in-time view of the index; posting
//! text never goes through a query-syntax parser.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::domain::level::{Level, LevelScores};
use crate::error::{Error, Result};
use crate::index::analyzer;
use crate::index::engine::Engine;
use crate::index::store;
use crate::map::seniority::Cue;
use crate::search::highlight::Highlighter;

use candidates::{NO_OCC, Occupation, idf, title_heads};

pub mod batch;
pub mod candidates;
pub mod confidence;
pub mod eval;
pub mod evidence;
pub mod level;
pub mod model;
pub mod posting;
pub mod prebuilt;
pub mod read;
pub mod semantic;
pub mod seniority;
pub mod titles;

pub use confidence::shared_group;
pub use read::{MAX_TEXT_BYTES, expand_title};

/// What to map.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MapRequest {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Matches to return (1-50).
    #[serde(default = "default_top")]
    pub top: usize,
}

/// Matches returned when a request does not say: the best and its close alternatives.
pub const DEFAULT_TOP: usize = 5;
/// Most matches one request may ask for: beyond 50 the confidences are all near zero.
pub const MAX_TOP: usize = 50;

fn default_top() -> usize {
    DEFAULT_TOP
}

impl MapRequest {
    /// Matches returned when a request does not say.
    pub fn default_top() -> usize {
        default_top()
    }
}

/// A statement that supports a match.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    pub level: Level,
    pub statement: String,
}

/// One occupation the posting matches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedGroup {
    /// SOC 2018 code of the group, e.g. `33-3050`.
    pub code: String,
    /// `major`, `minor`, `broad` or `detailed`.
    pub level: crate::domain::soc::GroupLevel,
    pub name: String,
}

/// The answer for one posting. (Unknown fields are not denied: a batch line is this object
/// with the posting's `id` beside its fields, and the API document says so.)
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
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

/// Maps postings against one point-in-time view of the index. Build once, use for many postings
/// (it is `Sync`); build a new one to see later commits.
pub struct Mapper {
    /// The schema's field handles (the mapper owns its view of the index, so it borrows nothing
    /// and can be shared across threads and requests).
    fields: crate::index::schema::Fields,
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
    /// Statements in the index (knowledge documents left out), for the terms' rarity.
    n_statements: u64,
    /// Per-term facts read from the index, kept across postings.
    term_cache: candidates::TermCache,
    /// Every title of every occupation (its own and its alternates), for nearest-title lookup.
    title_index: titles::TitleIndex,
    /// Per word that names a tool (its rarest): the occupations that use such a tool, and the
    /// word's IDF over occupations (how specific it is).
    tool_postings: HashMap<String, (Vec<u32>, f32)>,
    /// Per occupation: its tools as (name, the word that names it).
    tool_names: candidates::ToolNames,
    /// Per occupation: its statement and title vectors.
    semantic: semantic::Tables,
    /// The title and tool tables were read from the file written beside the commit.
    written: bool,
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

impl Mapper {
    /// Reads every occupation of the index (code, title, group, titles, tools) and where its
    /// statements are.
    pub fn new(engine: &Engine) -> Result<Mapper> {
        Mapper::with_options(engine, &MapOptions::default())
    }

    /// [`Mapper::new`] with options.
    pub fn with_options(engine: &Engine, options: &MapOptions) -> Result<Mapper> {
        let searcher = engine.searcher();
        let f = &engine.fields;
        // The tables written beside the commit ([`prebuilt`]) are read when they are the
        // searcher's and no titles or prior of its own are asked for; else they are built from
        // the knowledge documents. Either is read beside the statements' scan.
        let token = (options.exclude_titles.is_empty() && options.title_model_prior.is_none())
            .then(|| crate::index::sidecar::token_seen(&engine.index, &searcher))
            .flatten();
        let (scanned, known) = rayon::join(
            || scan_occupations(&searcher, f),
            || -> Result<Known> {
                if let Some(t) = token
                    .as_deref()
                    .and_then(|t| prebuilt::read(&engine.path, t))
                {
                    return Ok(Known::Written(Box::new(t)));
                }
                Ok(Known::Read(crate::index::knowledge::all(&searcher, f)?))
            },
        );
        let Scanned {
            mut occupations,
            first,
            doc_occ,
            occ_docs,
            occ_keys,
        } = scanned?;
        let known = Known::checked(known?, &searcher, f, &mut occupations, &first)?;
        let vectors = engine.vectors()?;
        let exclude = &options.exclude_titles;
        let written = matches!(known, Known::Written(_));
        let statements = statement_items(occ_keys);
        let (tables, semantic) = match known {
            Known::Written(mut t) => {
                let alternates = std::mem::take(&mut t.alternates);
                let centroids = std::mem::take(&mut t.centroids);
                let statements = semantic::Rows::stored(vectors.clone(), statements);
                let titles = semantic::Rows::stored(
                    vectors.clone(),
                    title_items(&occupations, alternates, exclude),
                );
                // The centroids summed at index time, when they are whole.
                let semantic = if centroids.len() == occupations.len() * crate::embed::DIMS {
                    let centroids = crate::embed::Matrix { data: centroids };
                    semantic::Tables::with_centroids(statements, titles, centroids)
                } else {
                    semantic::Tables::new(statements, titles, occupations.len())
                };
                (*t, semantic)
            }
            // The title index and tool tables beside the semantic tables.
            Known::Read(knowledge) => rayon::join(
                || prebuilt::build(&occupations, &knowledge, options),
                || {
                    let alternates = prebuilt::alternates(&occupations, &knowledge);
                    semantic::Tables::new(
                        semantic::Rows::stored(vectors.clone(), statements),
                        semantic::Rows::stored(
                            vectors.clone(),
                            title_items(&occupations, alternates, exclude),
                        ),
                        occupations.len(),
                    )
                },
            ),
        };
        let TitleTables {
            title_df,
            title_postings,
            title_own,
        } = title_tables(&occupations);
        let total: usize = occ_docs.iter().map(Vec::len).sum();
        let avg_len = total as f32 / occupations.len().max(1) as f32;
        let n_statements = crate::index::engine::statement_count(&searcher, f)?.max(1);
        Ok(Mapper {
            fields: engine.fields,
            searcher,
            occupations,
            title_df,
            title_postings,
            title_own,
            doc_occ,
            occ_docs,
            avg_len,
            n_statements,
            term_cache: Default::default(),
            title_index: tables.title_index,
            tool_postings: tables.tool_postings,
            tool_names: tables.tool_names,
            semantic,
            written,
        })
    }

    /// Whether this mapper read its title and tool tables from the file written beside the
    /// commit instead of building them.
    pub fn read_written_tables(&self) -> bool {
        self.written
    }

    /// The index generation this mapper reads.
    pub fn generation(&self) -> u64 {
        self.searcher.generation().generation_id()
    }

    /// Number of occupations known.
    pub fn occupations(&self) -> usize {
        self.occupations.len()
    }

    pub(super) fn occ_of(&self, addr: DocAddress) -> Option<usize> {
        let o = *self
            .doc_occ
            .get(addr.segment_ord as usize)?
            .get(addr.doc_id as usize)?;
        (o != NO_OCC).then_some(o as usize)
    }

    /// Maps one posting.
    pub fn map(&self, req: &MapRequest) -> Result<MapResult> {
        let (reading, c) = self.prepare(req)?;
        let ranking = confidence::rank(
            &self.keyed(&c.rows),
            model::weights().for_request(c.title_only),
        );
        let shared = if ranking.uncertain && ranking.ranked.len() >= 2 {
            let close: Vec<&str> = ranking
                .ranked
                .iter()
                .take(confidence::close_count(&ranking.confidence))
                .map(|((soc, _), _)| *soc)
                .collect();
            confidence::shared_group(&close)
        } else {
            None
        };
        let shown: Vec<(usize, f32, f32)> = ranking
            .ranked
            .iter()
            .zip(&ranking.confidence)
            .take(req.top)
            .map(|(((_, o), s), p)| (*o, *s, *p))
            .collect();
        let occs: Vec<usize> = shown.iter().map(|s| s.0).collect();
        let scored = self.statement_scores(&occs, &c.weighted)?;
        let highlighter = Highlighter {
            exact: c.weighted.iter().map(|(t, _)| t.clone()).collect(),
            fuzzy: Vec::new(),
        };
        let mut matches = Vec::with_capacity(shown.len());
        for (rank, (o, score, confidence)) in shown.into_iter().enumerate() {
            let occ = &self.occupations[o];
            let found = self.found(o, &scored, &highlighter)?;
            let inferred = level::infer(&reading.cues, found.mean_level);
            matches.push(Match {
                rank: rank + 1,
                soc: occ.soc.clone(),
                title: occ.title.clone(),
                group: occ.group.clone(),
                score,
                confidence,
                level: inferred.level,
                level_scores: inferred.scores.into(),
                evidence: found.evidence,
                tools: self.tools_named(o, &c.posting_terms),
                gap: self.gap_shown(found.gap, inferred.level)?,
            });
        }
        Ok(MapResult {
            matches,
            uncertain: ranking.uncertain,
            shared_group: shared,
            seniority: reading.cues,
            truncated: reading.truncated,
        })
    }

    /// The candidates a posting finds, each with its feature vector, and whether the request is
    /// a title alone: what `cargo xtask fit-map` fits the weights on. Sorted by code.
    pub fn candidates(
        &self,
        req: &MapRequest,
    ) -> Result<(bool, Vec<(String, model::FeatureVector)>)> {
        let (_, c) = self.prepare(req)?;
        let mut rows: Vec<(String, model::FeatureVector)> = c
            .rows
            .iter()
            .map(|(o, f)| (self.occupations[*o].soc.clone(), *f))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((c.title_only, rows))
    }

    /// The first stages, shared by [`Mapper::map`] and [`Mapper::candidates`]: the request
    /// checked, the posting read, the candidates found.
    fn prepare(&self, req: &MapRequest) -> Result<(read::Reading, candidates::Candidates)> {
        check_top(req.top)?;
        let reading = read::read(&req.text, req.title.as_deref())?;
        let c = self.candidates_of(&reading)?;
        Ok((reading, c))
    }

    /// Candidates keyed by (code, occupation), so that ties rank by code whatever the order the
    /// index lists occupations in.
    fn keyed(
        &self,
        rows: &[(usize, model::FeatureVector)],
    ) -> Vec<((&str, usize), model::FeatureVector)> {
        rows.iter()
            .map(|(o, f)| ((self.occupations[*o].soc.as_str(), *o), *f))
            .collect()
    }
}

/// Where the title and tool tables come from: the file written beside the commit, or the
/// knowledge documents.
enum Known {
    Written(Box<prebuilt::Tables>),
    Read(std::collections::BTreeMap<String, crate::domain::framework::Knowledge>),
}

impl Known {
    /// The written tables when they describe the scanned occupations (same codes, same fitted
    /// prior), else the knowledge documents; and the occupations' titles and groups filled in,
    /// from the written tables when they are used (a stored read per occupation was most of a
    /// cold start at 2M statements).
    fn checked(
        known: Known,
        searcher: &Searcher,
        f: &crate::index::schema::Fields,
        occupations: &mut [Occupation],
        first: &[DocAddress],
    ) -> Result<Known> {
        let mut known = match known {
            Known::Written(t)
                if !t.socs.iter().eq(occupations.iter().map(|o| &o.soc))
                    || t.described.len() != occupations.len()
                    || t.title_index.prior() != model::weights().title_model_prior =>
            {
                Known::Read(crate::index::knowledge::all(searcher, f)?)
            }
            known => known,
        };
        let described = match &mut known {
            Known::Written(t) => Some(std::mem::take(&mut t.described)),
            Known::Read(_) => None,
        };
        describe(searcher, f, occupations, first, described)?;
        Ok(known)
    }
}

/// What one pass over the statements' fast columns finds: every occupation (its code), one
/// statement of each, and where each one's statements are.
struct Scanned {
    /// Their codes only: [`describe`] fills in titles and groups.
    occupations: Vec<Occupation>,
    /// Per occupation: one of its statements, to read its title and group from.
    first: Vec<DocAddress>,
    /// Per segment, per document: the occupation index (`NO_OCC` for deleted documents).
    doc_occ: Vec<Vec<u32>>,
    /// Per occupation: its statements as (level, position, address), in level then position order.
    occ_docs: Vec<Vec<(Level, u64, DocAddress)>>,
    /// Per occupation: the vector keys of its statements.
    occ_keys: Vec<Vec<u64>>,
}

/// A statement as the scan reads it: level, position, address, vector key.
type StatementRow = (Level, u64, DocAddress, Option<u64>);

/// Scans every segment's SOC, level, position and vector-key columns; nothing is read from the
/// store (see [`describe`]).
fn scan_occupations(searcher: &Searcher, f: &crate::index::schema::Fields) -> Result<Scanned> {
    let mut occupations: Vec<Occupation> = Vec::new();
    let mut first: Vec<DocAddress> = Vec::new();
    let mut by_soc: HashMap<String, usize> = HashMap::new();
    let mut doc_occ = Vec::new();
    // Per occupation: its statements as (level, position, address, vector key).
    let mut occ_rows: Vec<Vec<StatementRow>> = Vec::new();
    for (seg_ord, seg) in searcher.segment_readers().iter().enumerate() {
        let level_col = store::u64_column(seg, searcher, f.level_ord)?;
        let pos_col = store::u64_column(seg, searcher, f.position)?;
        let key_col = store::u64_column(seg, searcher, f.vec_key)?;
        // Occupation index of each term ordinal of this segment's SOC column.
        let mut docs = vec![NO_OCC; seg.max_doc() as usize];
        let Some(col) = store::soc_column(seg, searcher, f)? else {
            doc_occ.push(docs);
            continue;
        };
        // Ordinals of the live documents, then every distinct ordinal resolved to its code
        // in one sorted pass over the dictionary.
        let store::SegmentSocs { doc_ord, first_doc } = store::SegmentSocs::scan(seg, &col);
        let mut ords: Vec<u64> = first_doc.keys().copied().collect();
        ords.sort_unstable();
        let codes = store::codes_of(&col, &ords)?;
        let mut ord_occ: HashMap<u64, u32> = HashMap::with_capacity(ords.len());
        for (ord, soc) in ords.iter().zip(codes) {
            let o = match by_soc.get(&soc) {
                Some(&o) => o,
                None => {
                    occupations.push(Occupation {
                        soc: soc.clone(),
                        ..Default::default()
                    });
                    first.push(DocAddress::new(seg_ord as u32, first_doc[ord]));
                    occ_rows.push(Vec::new());
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
            let level =
                Level::from_ordinal(level_col.first(doc).unwrap_or(1)).unwrap_or(Level::Emerging);
            occ_rows[occ as usize].push((
                level,
                pos_col.first(doc).unwrap_or(0),
                DocAddress::new(seg_ord as u32, doc),
                key_col.first(doc),
            ));
        }
        doc_occ.push(docs);
    }
    // Occupations are numbered by code and their statements ordered by level, position and
    // vector key, not by where the scan met them: two indexes of the same collection (whose
    // documents tantivy's threads lay out differently) then give the same answers, ties and
    // float sums alike.
    let mut order: Vec<usize> = (0..occupations.len()).collect();
    order.sort_by(|&a, &b| occupations[a].soc.cmp(&occupations[b].soc));
    let mut number = vec![NO_OCC; order.len()];
    for (new, &old) in order.iter().enumerate() {
        number[old] = new as u32;
    }
    for docs in &mut doc_occ {
        for o in docs.iter_mut().filter(|o| **o != NO_OCC) {
            *o = number[*o as usize];
        }
    }
    let occupations = in_order(occupations, &order);
    let first = order.iter().map(|&i| first[i]).collect();
    let (occ_docs, occ_keys) = in_order(occ_rows, &order)
        .into_iter()
        .map(|mut rows| {
            rows.sort_by_key(|(l, p, _, k)| (*l, *p, *k));
            let docs = rows.iter().map(|(l, p, a, _)| (*l, *p, *a)).collect();
            let keys = rows.iter().filter_map(|r| r.3).collect();
            (docs, keys)
        })
        .unzip();
    Ok(Scanned {
        occupations,
        first,
        doc_occ,
        occ_docs,
        occ_keys,
    })
}

/// Fills in each scanned occupation's title and group (and what is derived from the title):
/// from `known`, (title, group) per occupation in the same order, when given (the tables
/// written beside the commit carry them), else from one stored statement each.
fn describe(
    searcher: &Searcher,
    f: &crate::index::schema::Fields,
    occupations: &mut [Occupation],
    first: &[DocAddress],
    known: Option<Vec<(String, String)>>,
) -> Result<()> {
    let mut known = known.map(Vec::into_iter);
    for (i, o) in occupations.iter_mut().enumerate() {
        let (title, group) = match known.as_mut().and_then(Iterator::next) {
            Some(pair) => pair,
            None => {
                let stored: TantivyDocument = searcher.doc(first[i])?;
                (store::text(&stored, f.title), store::text(&stored, f.group))
            }
        };
        // "X, Except Y" names what the occupation is not: Y's words neither match a posting's
        // title nor dilute X's.
        let kept = title.split(", Except").next().unwrap_or(&title);
        let mut title_terms = analyzer::query_terms(kept);
        title_terms.sort();
        title_terms.dedup();
        o.title_terms = title_terms;
        o.heads = title_heads(&title);
        o.title = title;
        o.group = group;
    }
    Ok(())
}

/// The items of `v` in the order of their indexes in `order` (a permutation).
fn in_order<T: Default>(mut v: Vec<T>, order: &[usize]) -> Vec<T> {
    order.iter().map(|&i| std::mem::take(&mut v[i])).collect()
}

/// The occupations' title terms as tables (the mapper's fields of the same names).
struct TitleTables {
    title_df: HashMap<String, usize>,
    title_postings: HashMap<String, Vec<usize>>,
    title_own: Vec<f32>,
}

/// Each title term's occupation frequency, the occupations whose title holds it, and each
/// occupation's summed IDF of its own title terms.
fn title_tables(occupations: &[Occupation]) -> TitleTables {
    let mut title_df: HashMap<String, usize> = HashMap::new();
    for o in occupations {
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
    let title_own: Vec<f32> = occupations
        .iter()
        .map(|o| {
            o.title_terms
                .iter()
                .map(|t| idf(title_df[t] as u64, n_occ))
                .sum()
        })
        .collect();
    TitleTables {
        title_df,
        title_postings,
        title_own,
    }
}

/// `top` must be 1 to 50.
fn check_top(top: usize) -> Result<()> {
    if !(1..=MAX_TOP).contains(&top) {
        return Err(Error::Invalid(format!(
            "top must be 1 to {MAX_TOP}, not {top}"
        )));
    }
    Ok(())
}

/// Each occupation's statement vectors, by their keys in the commit's vector file.
fn statement_items(occ_keys: Vec<Vec<u64>>) -> Vec<Vec<semantic::Item>> {
    occ_keys
        .into_iter()
        .map(|keys| keys.into_iter().map(semantic::Item::Key).collect())
        .collect()
}

/// Each occupation's title vectors: its own title, then its alternates, but those an evaluation
/// hides (a title the vector file lacks is embedded when the occupation is first read).
fn title_items(
    occupations: &[Occupation],
    alternates: prebuilt::Alternates,
    exclude: &std::collections::HashSet<String>,
) -> Vec<Vec<semantic::Item>> {
    use rayon::prelude::*;
    // Each distinct text is shared by the occupations that list it.
    let texts: Vec<std::sync::Arc<str>> = alternates
        .texts
        .into_iter()
        .map(std::sync::Arc::from)
        .collect();
    let hidden: Vec<bool> = if exclude.is_empty() {
        Vec::new()
    } else {
        texts
            .par_iter()
            .map(|t| exclude.contains(&titles::identity(t)))
            .collect()
    };
    occupations
        .par_iter()
        .enumerate()
        .map(|(i, o)| {
            let own = (exclude.is_empty() || !exclude.contains(&titles::identity(&o.title)))
                .then(|| std::sync::Arc::from(o.title.as_str()));
            let mine = alternates.of.get(i).map_or(&[][..], |v| &v[..]);
            own.into_iter()
                .chain(
                    mine.iter()
                        .filter(|&&t| !hidden.get(t as usize).copied().unwrap_or(false))
                        .map(|&t| texts[t as usize].clone()),
                )
                .map(semantic::Item::Text)
                .collect()
        })
        .collect()
}

/// The mapper's index of the occupation with code `soc` (for the stages' tests).
#[cfg(test)]
pub(crate) fn occupation_index(mapper: &Mapper, soc: &str) -> usize {
    mapper
        .occupations
        .iter()
        .position(|o| o.soc == soc)
        .expect("the occupation is indexed")
}

#[cfg(test)]
mod tests {
    use super::candidates::title_heads;
    use super::*;

    #[test]
    fn the_pipeline_maps_a_posting_with_evidence_level_and_gap() {
        let (_tmp, engine) = crate::index::fixture_engine();
        let mapper = Mapper::new(&engine).unwrap();
        assert_eq!(mapper.occupations(), 3);
        let req = MapRequest {
            text: "Senior Registered Nurse\nAssess patient health and administer nursing care."
                .into(),
            title: None,
            top: 2,
        };
        let r = mapper.map(&req).unwrap();
        assert_eq!(r.matches.len(), 2);
        let best = &r.matches[0];
        assert_eq!(best.soc, "29-1141.00", "{r:?}");
        assert!(best.confidence > r.matches[1].confidence);
        assert_eq!(best.level, Level::Proficient, "senior");
        assert!(!best.evidence.is_empty() && best.evidence.len() <= 3);
        assert!(
            best.evidence[0].snippet.contains("<mark>"),
            "{:?}",
            best.evidence
        );
        assert!(
            best.gap
                .iter()
                .all(|g| matches!(g.level, Level::Proficient | Level::Advanced))
        );
        assert_eq!(r.seniority.len(), 1);
        let bad = MapRequest { top: 0, ..req };
        assert!(matches!(mapper.map(&bad), Err(Error::Invalid(_))));
    }

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
}
