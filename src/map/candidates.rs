//! The candidate stages of `map`: the posting's terms weighted by rarity, every occupation that
//! any evidence finds, and its features ([`model::FEATURES`], each in 0..=1) — profile and
//! description BM25 over the statements, the title features (own title words, nearest titles,
//! votes, exact, title model, title vocabulary), tools, and the SOC-group back-off.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use tantivy::collector::TopDocs;
use tantivy::query::BooleanQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, TERMINATED, Term};

use crate::domain::soc;
use crate::error::Result;
use crate::index::analyzer;
use crate::numbering::Numbering;

use super::evidence::weighted_union;
use super::model::feature as F;
use super::read::Reading;
use super::{Mapper, model};

/// T is multiplied by this when the posting title's last word (its head noun, when titles
/// know it) is none of the occupation title's head nouns: a forklift driver is not a pile
/// driver operator.
pub const HEAD_MISS: f32 = 0.7;
/// Occupations of a major group whose scores make its evidence.
pub const GROUP_TOP: usize = 3;
/// Per occupation, a feature's raw score (a fast hash: these maps are made per posting).
type Scores = foldhash::HashMap<usize, f32>;

/// Most entries the term cache holds (a document frequency counts one, an occupation list one
/// per occupation): about 32 MB at most.
pub const TERM_CACHE_LIMIT: usize = 4_000_000;

/// (occupation, how many of its statements hold a term), for every occupation that has one.
type OccupationCounts = Arc<[(u32, u32)]>;

/// What the mapper reads from the index per term, kept across postings: the same words recur
/// in posting after posting, and the mapper sees one unchanging view of the index. Bounded by
/// [`TERM_CACHE_LIMIT`]; beyond it, terms are read afresh each time.
#[derive(Default)]
pub(super) struct TermCache {
    /// Statements that hold the term.
    statement_df: RwLock<foldhash::HashMap<String, u64>>,
    /// Occupations whose statements hold the term, with how many of their statements do.
    occupations: RwLock<foldhash::HashMap<String, OccupationCounts>>,
    /// Entries held.
    held: AtomicUsize,
}

impl TermCache {
    /// The cached value of `term` in `map`, or `compute`'s (which gives its size and value),
    /// kept when there is room.
    fn get_or<T: Clone>(
        &self,
        map: &RwLock<foldhash::HashMap<String, T>>,
        term: &str,
        compute: impl FnOnce(&str) -> Result<(usize, T)>,
    ) -> Result<T> {
        if let Some(v) = map.read().unwrap_or_else(|e| e.into_inner()).get(term) {
            return Ok(v.clone());
        }
        let (size, v) = compute(term)?;
        // Two threads may read the same term at once: the first to insert it pays for it.
        let mut map = map.write().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(term) && self.held.load(Ordering::Relaxed) + size <= TERM_CACHE_LIMIT {
            self.held.fetch_add(size, Ordering::Relaxed);
            map.insert(term.to_string(), v.clone());
        }
        Ok(v)
    }
}

/// Most query terms taken from a posting (the rarest, weighted by how often they occur).
pub const MAX_TERMS: usize = 64;
/// Descriptions scored per posting: a description belongs to one occupation, and the best few
/// hundred hold every occupation the feature could make a leader.
pub const DESCRIPTION_POOL: usize = 200;

/// An occupation as the mapper knows it.
#[derive(Debug, Clone, Default)]
pub(super) struct Occupation {
    pub(super) soc: String,
    pub(super) title: String,
    pub(super) group: String,
    pub(super) title_terms: Vec<String>,
    /// The title's head nouns, stemmed (see [`title_heads`]).
    pub(super) heads: Vec<String>,
}

/// The head nouns of an O*NET title, the words that say what kind of worker it is: in the part
/// before the first comma, before "--" and before " of ", the last word of each piece joined by
/// "and" or "/". "Cooks, Restaurant" → cook; "Helpers--Electricians" → helper; "First-Line
/// Supervisors of Retail Sales Workers" → supervisor; "Accountants and Auditors" → accountant,
/// auditor.
pub(super) fn title_heads(title: &str) -> Vec<String> {
    let mut part = title.split(',').next().unwrap_or(title);
    part = part.split("--").next().unwrap_or(part);
    part = part.split(" of ").next().unwrap_or(part);
    let mut heads: Vec<String> = part
        .split(" and ")
        .flat_map(|p| p.split('/'))
        .filter_map(|p| analyzer::query_terms(p).pop())
        .collect();
    heads.sort();
    heads.dedup();
    heads
}

/// Every occupation's tools as (name, the word that names it), each distinct pair held once
/// (occupations share many tools: at 2M statements, 52,260 occupations list 1.7 million tools
/// of 7,605 names).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct ToolNames {
    /// The distinct (name, naming word) pairs.
    pairs: Vec<(String, String)>,
    /// Per occupation: its tools, as numbers in `pairs`, in the knowledge's order.
    of: Vec<Vec<u32>>,
}

impl ToolNames {
    /// The occupation's tools as (name, naming word).
    pub(super) fn of(&self, occ: usize) -> impl Iterator<Item = (&str, &str)> {
        self.of
            .get(occ)
            .map_or(&[][..], |v| &v[..])
            .iter()
            .map(|&p| {
                let (name, word) = &self.pairs[p as usize];
                (name.as_str(), word.as_str())
            })
    }
}

/// A tool is known by the rarest word of its name ("Apache Airflow" by "airflow", "Microsoft
/// Excel" by "excel"): a posting names the tool when it has that word. Per such word, the
/// occupations with a tool it names and its IDF over the occupations' tool words; per
/// occupation, its tools as (name, naming word).
pub(super) fn tool_tables(
    occupations: &[Occupation],
    knowledge: &BTreeMap<String, crate::domain::framework::Knowledge>,
) -> (HashMap<String, (Vec<u32>, f32)>, ToolNames) {
    // Each distinct tool name is stemmed once (occupations share many tools); per occupation,
    // its tools as names' numbers.
    let mut names: Numbering<&str> = Numbering::default();
    let stemmed: Vec<Vec<u32>> = occupations
        .iter()
        .map(|o| {
            let tools = knowledge.get(&o.soc).map_or(&[][..], |k| &k.tools[..]);
            tools.iter().map(|t| names.number(&t.name)).collect()
        })
        .collect();
    let distinct = names.into_values();
    let stems: Vec<Vec<String>> = distinct
        .iter()
        .map(|name| analyzer::query_terms(name))
        .collect();
    // How many occupations' tools use each word.
    let mut df: HashMap<&str, usize> = HashMap::new();
    for tools in &stemmed {
        let mut words: Vec<&str> = tools
            .iter()
            .flat_map(|&t| stems[t as usize].iter().map(String::as_str))
            .collect();
        words.sort_unstable();
        words.dedup();
        for w in words {
            *df.entry(w).or_insert(0) += 1;
        }
    }
    // Each distinct name's rarest word.
    let rarest: Vec<Option<&String>> = stems
        .iter()
        .map(|s| {
            s.iter()
                .min_by_key(|s| (df[String::as_str(s)], String::as_str(s)))
        })
        .collect();
    let n = occupations.len().max(1) as f32;
    let mut postings: HashMap<String, (Vec<u32>, f32)> = HashMap::new();
    // A distinct name's number in the pairs (names without a word have none).
    let mut pair_of: Vec<u32> = vec![u32::MAX; distinct.len()];
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut of = Vec::with_capacity(occupations.len());
    for (i, tools) in stemmed.iter().enumerate() {
        let mut mine = Vec::with_capacity(tools.len());
        for &t in tools {
            let Some(rarest) = rarest[t as usize] else {
                continue;
            };
            let entry = postings
                .entry(rarest.clone())
                .or_insert_with(|| (Vec::new(), (1.0 + n / df[rarest.as_str()] as f32).ln()));
            if entry.0.last() != Some(&(i as u32)) {
                entry.0.push(i as u32);
            }
            if pair_of[t as usize] == u32::MAX {
                pair_of[t as usize] = pairs.len() as u32;
                pairs.push((distinct[t as usize].to_string(), rarest.clone()));
            }
            mine.push(pair_of[t as usize]);
        }
        of.push(mine);
    }
    let names = ToolNames { pairs, of };
    (postings, names)
}

/// The per-feature scores a posting gives occupations, before they are combined.
struct CandidateInputs<'a> {
    profile: &'a Scores,
    description: &'a Scores,
    titles: &'a Scores,
    body_titles: &'a Scores,
    similar: &'a Scores,
    votes: &'a Scores,
    title_model: &'a Scores,
    exact: &'a Scores,
    tools: &'a Scores,
    vocabulary: &'a Scores,
    /// Occupations whose statement centroid is near the posting (their cosine).
    neighbours: &'a Scores,
}

pub(super) const NO_OCC: u32 = u32::MAX;

pub(super) fn idf(df: u64, n: u64) -> f32 {
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
    SET.get_or_init(|| analyzer::index_terms(BOILERPLATE).into_iter().collect())
}

/// The posting's terms as [`Mapper::posting_terms`] reads them.
struct PostingTerms {
    /// Each known term's count in the title and body.
    tf: foldhash::HashMap<String, u32>,
    /// The body's terms, in order.
    body_terms: Vec<String>,
    /// The best terms by weight, heaviest first.
    weighted: Vec<(String, f32)>,
}

/// The title features of every occupation a title reading finds.
struct TitleLookups {
    similar: Scores,
    votes: Scores,
    title_model: Scores,
    exact: Scores,
}

/// A posting's candidates, and what the later stages need of its words.
pub(super) struct Candidates {
    /// The posting's selected terms with their weights, heaviest first.
    pub weighted: Vec<(String, f32)>,
    /// Every term of the posting but boilerplate (for the tools it names).
    pub posting_terms: BTreeSet<String>,
    /// The request is a job title alone.
    pub title_only: bool,
    /// Every occupation any feature finds, with its features.
    pub rows: Vec<(usize, model::FeatureVector)>,
}

impl Mapper {
    /// The posting's weighted terms, and every candidate with its features.
    pub(super) fn candidates_of(&self, r: &Reading) -> Result<Candidates> {
        let searcher = &self.searcher;
        let stats = crate::index::engine::StatementStats::of(searcher)?;
        let f = &self.fields;

        let PostingTerms {
            tf,
            body_terms,
            weighted,
        } = self.posting_terms(r)?;

        // P: occupations as documents.
        let profile = self.profile_scores(&weighted, &tf)?;

        // D: the frameworks' descriptions (one document per occupation carries it).
        let mut description: Scores = Scores::default();
        if !weighted.is_empty() {
            let q = BooleanQuery::new(weighted_union(f.context, &weighted));
            let top = TopDocs::with_limit(DESCRIPTION_POOL).order_by_score();
            for (s, addr) in stats.search(&q, &top)? {
                if let Some(o) = self.occ_of(addr) {
                    description.insert(o, s);
                }
            }
        }

        // T: the title's words in the occupation's own title; B: its title words in the text.
        let mut title_terms = analyzer::query_terms(&r.title_content);
        title_terms.sort();
        title_terms.dedup();
        let titles = self.title_scores(&title_terms, r.head.as_deref());
        let body_titles = self.body_title_scores(&body_terms);
        // S, votes, exact and the title model.
        let TitleLookups {
            similar,
            votes,
            title_model,
            exact,
        } = self.title_lookups(&r.title_readings);
        // K: tools the posting names.
        let posting_terms: BTreeSet<&str> = tf
            .keys()
            .map(String::as_str)
            .filter(|t| !boilerplate().contains(*t))
            .collect();
        let tools = self.tool_scores(&posting_terms);
        // V: the posting's words in the occupation's titles, read as content.
        let vocabulary: Scores = self
            .title_index
            .vocabulary(posting_terms.iter().map(|t| {
                let n = tf.get(*t).copied().unwrap_or(1) as f32;
                (*t, 1.0 + n.ln())
            }))
            .into_iter()
            .map(|(o, s)| (o as usize, s))
            .collect();

        // E: the posting's embedding against statements and titles; the occupations nearest to
        // it join the candidates.
        let model = crate::embed::Model::bundled();
        let posting_vector = model.embed(&format!("{} {}", r.title_content, r.body));
        let title_vector =
            (!r.title_content.trim().is_empty()).then(|| model.embed(&r.title_content));
        let neighbours: Scores = self
            .semantic
            .neighbours(&posting_vector, super::semantic::NEIGHBOURS)
            .into_iter()
            .collect();

        let mut rows = self.candidate_features(&CandidateInputs {
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
            neighbours: &neighbours,
        });
        self.semantic_features(
            &mut rows,
            &neighbours,
            &posting_vector,
            title_vector.as_deref(),
        );
        Ok(Candidates {
            title_only: body_terms.is_empty(),
            posting_terms: posting_terms.into_iter().map(str::to_string).collect(),
            weighted,
            rows,
        })
    }

    /// The posting's known terms: their counts, the body's terms, and the best [`MAX_TERMS`]
    /// weighted by IDF × sublinear TF (boilerplate words left out).
    fn posting_terms(&self, r: &Reading) -> Result<PostingTerms> {
        let searcher = &self.searcher;
        let n_docs = self.n_statements;
        let f = &self.fields;
        // Known terms with their weights (IDF × sublinear TF).
        let mut tf: foldhash::HashMap<String, u32> = Default::default();
        let body_terms = analyzer::query_terms(&r.body);
        for t in body_terms
            .iter()
            .cloned()
            .chain(analyzer::query_terms(&r.title_content))
        {
            *tf.entry(t).or_insert(0) += 1;
        }
        let mut weighted: Vec<(String, f32)> = Vec::new();
        for (t, n) in &tf {
            if boilerplate().contains(t) {
                continue;
            }
            let df = self
                .term_cache
                .get_or(&self.term_cache.statement_df, t, |t| {
                    Ok((
                        1,
                        searcher.doc_freq(&Term::from_field_text(f.statement, t))?,
                    ))
                })?;
            let i = if df == 0 { 0.0 } else { idf(df, n_docs) };
            if i > 0.0 {
                weighted.push((t.clone(), i * (1.0 + (*n as f32).ln())));
            }
        }
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weighted.truncate(MAX_TERMS);

        Ok(PostingTerms {
            tf,
            body_terms,
            weighted,
        })
    }

    /// The nearest known titles to each reading of the posting's title; each occupation keeps
    /// its better reading.
    fn title_lookups(&self, readings: &[String]) -> TitleLookups {
        let mut similar: Scores = Scores::default();
        let mut votes: Scores = Scores::default();
        let mut title_model: Scores = Scores::default();
        let mut exact: Scores = Scores::default();
        let keep_max = |m: &mut Scores, o: u32, v: f32| {
            let x = m.entry(o as usize).or_insert(0.0);
            *x = x.max(v);
        };
        for job_title in readings {
            for (o, p) in self.title_index.likelihood(job_title) {
                keep_max(&mut title_model, o, p);
            }
            for m in self.title_index.lookup(job_title) {
                keep_max(&mut similar, m.occ, m.best);
                keep_max(&mut votes, m.occ, m.votes);
                if m.exact > 0.0 {
                    keep_max(&mut exact, m.occ, m.exact);
                }
            }
        }
        TitleLookups {
            similar,
            votes,
            title_model,
            exact,
        }
    }

    /// The semantic features of the rows that lead one of the main features or are the
    /// posting's neighbours (zero for the rest, which cannot win; computing them for every row
    /// that shares a word with the posting would cost more than all the rest).
    fn semantic_features(
        &self,
        rows: &mut [(usize, model::FeatureVector)],
        neighbours: &Scores,
        posting_vector: &[f32],
        title_vector: Option<&[f32]>,
    ) {
        let mut wanted = vec![false; rows.len()];
        for feature in [
            F::PROFILE,
            F::TITLE_SIMILARITY,
            F::TITLE_MODEL,
            F::TITLE_VOCABULARY,
        ] {
            let mut order: Vec<usize> = (0..rows.len())
                .filter(|&i| rows[i].1[feature] > 0.0)
                .collect();
            order.sort_by(|&a, &b| rows[b].1[feature].total_cmp(&rows[a].1[feature]));
            for i in order.into_iter().take(super::semantic::LEADERS) {
                wanted[i] = true;
            }
        }
        for (i, (o, f)) in rows.iter_mut().enumerate() {
            if wanted[i] || neighbours.contains_key(o) {
                let e = self.semantic.evidence(*o, posting_vector, title_vector);
                f[F::SEMANTIC_STATEMENTS] = e.statements;
                f[F::SEMANTIC_TITLE] = e.title;
            } else {
                f[F::SEMANTIC_STATEMENTS] = 0.0;
                f[F::SEMANTIC_TITLE] = 0.0;
            }
        }
    }

    fn title_idf(&self, t: &str) -> f32 {
        let n = self.occupations.len() as u64;
        idf(self.title_df.get(t).copied().unwrap_or(0) as u64, n)
    }

    /// Per occupation with a title term among `terms`: the summed IDF of those shared terms.
    fn shared_title_idf<'a>(&self, terms: impl Iterator<Item = &'a str>) -> Scores {
        let mut out: Scores = Scores::default();
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
    fn title_scores(&self, title_terms: &[String], head: Option<&str>) -> Scores {
        let known = |t: &&String| self.title_postings.contains_key(String::as_str(t));
        let wanted: f32 = title_terms
            .iter()
            .filter(known)
            .map(|t| self.title_idf(t))
            .sum();
        if wanted <= 0.0 {
            return Scores::default();
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
    fn body_title_scores(&self, body_terms: &[String]) -> Scores {
        let unique: BTreeSet<&str> = body_terms.iter().map(String::as_str).collect();
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
        query_tf: &foldhash::HashMap<String, u32>,
    ) -> Result<Scores> {
        const K1: f32 = 2.0;
        const B: f32 = 0.75;
        let f = &self.fields;
        let n_occ = self.occupations.len() as u64;
        // Dense per-occupation tallies: a common term touches most occupations.
        let mut scores = vec![0.0f32; self.occupations.len()];
        let mut counts = vec![0u32; self.occupations.len()];
        for (t, _) in weighted {
            let occs = self
                .term_cache
                .get_or(&self.term_cache.occupations, t, |t| {
                    let mut touched: Vec<usize> = Vec::new();
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
                    let pairs: OccupationCounts = touched
                        .iter()
                        .map(|&o| (o as u32, std::mem::take(&mut counts[o])))
                        .collect();
                    Ok((pairs.len(), pairs))
                })?;
            let df = occs.len() as u64;
            if df == 0 {
                continue;
            }
            let w_idf = idf(df, n_occ);
            let qtf = 1.0 + (query_tf.get(t).copied().unwrap_or(1) as f32).ln();
            for &(o, tf) in occs.iter() {
                let len = self.occ_docs[o as usize].len() as f32;
                let tf = tf as f32;
                let norm = tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / self.avg_len));
                scores[o as usize] += qtf * w_idf * norm;
            }
        }
        let out: Scores = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .collect();
        Ok(out)
    }

    /// K for every occupation with a tool that the posting names: the summed IDF of the distinct
    /// naming words.
    fn tool_scores(&self, posting_terms: &BTreeSet<&str>) -> Scores {
        let mut out: Scores = Scores::default();
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
    pub(super) fn tools_named(&self, occ: usize, posting_terms: &BTreeSet<String>) -> Vec<String> {
        self.tool_names
            .of(occ)
            .filter(|(_, word)| posting_terms.contains(*word))
            .map(|(name, _)| name.to_string())
            .take(10)
            .collect()
    }

    /// Every occupation that any feature finds, with its feature vector (each feature in 0..=1).
    fn candidate_features(&self, c: &CandidateInputs) -> Vec<(usize, model::FeatureVector)> {
        let max = |m: &Scores| {
            m.values()
                .copied()
                .fold(0.0, f32::max)
                .max(f32::MIN_POSITIVE)
        };
        let (max_p, max_d, max_k) = (max(c.profile), max(c.description), max(c.tools));
        let max_v = max(c.vocabulary);
        // Dense rows by occupation, filled one feature map at a time (no look-ups per cell).
        let mut dense: Vec<Option<model::FeatureVector>> = vec![None; self.occupations.len()];
        let sources: [(&Scores, usize, f32); 11] = [
            (c.profile, F::PROFILE, max_p),
            (c.description, F::DESCRIPTION, max_d),
            (c.titles, F::TITLE_WORDS, 1.0),
            (c.body_titles, F::BODY_TITLE, 1.0),
            (c.similar, F::TITLE_SIMILARITY, 1.0),
            (c.votes, F::TITLE_VOTES, 1.0),
            (c.exact, F::TITLE_EXACT, 1.0),
            (c.title_model, F::TITLE_MODEL, 1.0),
            (c.tools, F::TOOLS, max_k),
            (c.vocabulary, F::TITLE_VOCABULARY, max_v),
            // Filled in for every row afterwards; listed so that neighbours become rows.
            (c.neighbours, F::SEMANTIC_STATEMENTS, 1.0),
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
        for (feature, source) in [
            (F::GROUP_PROFILE, F::PROFILE),
            (F::GROUP_TITLE, F::TITLE_SIMILARITY),
        ] {
            let mut groups: HashMap<&str, Vec<f32>> = HashMap::new();
            for (o, f) in &rows {
                groups
                    .entry(soc::major(&self.occupations[*o].soc))
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
                f[feature] = evidence[soc::major(&self.occupations[*o].soc)] / best;
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::fixture_engine;
    use crate::map::read::read;

    #[test]
    fn the_term_cache_computes_once_and_keeps_within_its_limit() {
        let cache = TermCache::default();
        let calls = std::cell::Cell::new(0);
        let get = |term: &str, size: usize| {
            cache
                .get_or(&cache.statement_df, term, |_| {
                    calls.set(calls.get() + 1);
                    Ok((size, 7u64))
                })
                .unwrap()
        };
        assert_eq!(get("nurs", 1), 7);
        assert_eq!(get("nurs", 1), 7);
        assert_eq!(calls.get(), 1, "read once");
        // A value larger than the room left is returned but not kept.
        assert_eq!(get("weld", TERM_CACHE_LIMIT), 7);
        assert_eq!(get("weld", TERM_CACHE_LIMIT), 7);
        assert_eq!(calls.get(), 3);
        assert_eq!(cache.held.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn tools_are_known_by_their_rarest_word() {
        let occ = |soc: &str| Occupation {
            soc: soc.into(),
            title: String::new(),
            group: String::new(),
            title_terms: Vec::new(),
            heads: Vec::new(),
        };
        let tool = |name: &str| crate::domain::framework::Tool {
            name: name.into(),
            category: String::new(),
        };
        let mut knowledge = BTreeMap::new();
        for (soc, tools) in [
            ("a", vec!["Apache Airflow", "Microsoft Excel"]),
            ("b", vec!["Apache Kafka", "Microsoft Excel"]),
        ] {
            let k: &mut crate::domain::framework::Knowledge =
                knowledge.entry(soc.to_string()).or_default();
            k.tools = tools.into_iter().map(tool).collect();
        }
        let (postings, names) = tool_tables(&[occ("a"), occ("b")], &knowledge);
        assert_eq!(postings["airflow"].0, [0]);
        assert_eq!(postings["excel"].0, [0, 1], "both use Excel");
        assert!(
            !postings.contains_key("apach"),
            "the shared word names nothing"
        );
        assert!(
            postings["airflow"].1 > postings["excel"].1,
            "rarer is more specific"
        );
        assert_eq!(
            names.of(1).collect::<Vec<_>>(),
            [("Apache Kafka", "kafka"), ("Microsoft Excel", "excel")]
        );
        assert_eq!(names.pairs.len(), 3, "the shared tool is held once");
    }

    #[test]
    fn every_candidate_has_features_in_range_and_the_right_one_leads_its_features() {
        let (_tmp, engine) = fixture_engine();
        let mapper = Mapper::new(&engine).unwrap();
        let r = read(
            "Registered Nurse\nAssess patient health problems and administer nursing care.",
            None,
        )
        .unwrap();
        let c = mapper.candidates_of(&r).unwrap();
        assert!(!c.title_only);
        assert!(c.weighted.len() <= MAX_TERMS);
        assert!(
            c.weighted.windows(2).all(|w| w[0].1 >= w[1].1),
            "heaviest first"
        );
        assert!(
            c.rows
                .iter()
                .all(|(_, f)| f.iter().all(|x| (0.0..=1.0).contains(x)))
        );
        let nurse = crate::map::occupation_index(&mapper, "29-1141.00");
        let f = c.rows.iter().find(|(o, _)| *o == nurse).unwrap().1;
        let at = |name: &str| model::FEATURES.iter().position(|x| *x == name).unwrap();
        for name in ["profile", "title_words", "group_profile"] {
            assert_eq!(f[at(name)], 1.0, "{name}: {f:?}");
        }
        assert!(f[at("title_similarity")] > 0.9, "{f:?}");
        // A title alone is a title-only request.
        let t = mapper
            .candidates_of(&read("", Some("Transportation Inspector")).unwrap())
            .unwrap();
        assert!(t.title_only);
    }
}
