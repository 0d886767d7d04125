//! One occupation's framework as indexed, and the closest codes for an unknown one.

use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;

use crate::domain::framework::Tool;
use crate::domain::level::Level;
use crate::error::{Error, Result};
use crate::index::engine::Engine;
use crate::index::store;
use crate::search::SearchHit;

/// One level of an occupation's framework.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelView {
    pub level: Level,
    pub statements: Vec<String>,
}

/// An occupation's framework as indexed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccupationView {
    pub soc: String,
    pub title: String,
    pub group: String,
    pub job_zone: Option<u64>,
    pub version: String,
    pub source: String,
    pub levels: Vec<LevelView>,
    /// Other titles the occupation goes by (from its export and indexed title tables).
    pub titles: Vec<String>,
    /// Tools and technology it uses (from its export and indexed technology tables).
    pub tools: Vec<Tool>,
}

/// Every indexed statement of one occupation, by level then position.
pub fn statements_of(engine: &Engine, soc: &str) -> Result<Vec<(SearchHit, String, String)>> {
    let searcher = engine.searcher();
    let q = TermQuery::new(engine.fields.soc_term(soc), IndexRecordOption::Basic);
    let n = searcher.search(&q, &Count)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let top = searcher.search(&q, &TopDocs::with_limit(n).order_by_score())?;
    let mut out = Vec::with_capacity(n);
    for (_, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let version = store::text(&doc, engine.fields.version);
        let source = store::text(&doc, engine.fields.source);
        out.push((SearchHit::read(&engine.fields, &doc), version, source));
    }
    out.sort_by_key(|(h, _, _)| (h.level_ord, h.position));
    Ok(out)
}

/// The framework of `soc`, optionally only some levels. An unknown code is an error naming the
/// closest codes in the index.
pub fn show(engine: &Engine, soc: &str, levels: &[Level]) -> Result<OccupationView> {
    let soc = soc.trim();
    // A code of the wrong shape is refused before any look-up: suggesting codes for a 30 KB
    // string would cost seconds of edit distances.
    if !crate::domain::soc::is_valid(soc) {
        let shown: String = soc.chars().take(20).collect();
        let more = if soc.chars().count() > 20 { "…" } else { "" };
        return Err(Error::Invalid(format!(
            "`{shown}{more}` is not an O*NET-SOC code; expected NN-NNNN or NN-NNNN.NN, e.g. 33-3051.04"
        )));
    }
    let all = statements_of(engine, soc)?;
    let Some((first, version, source)) = all.first().cloned() else {
        return Err(Error::UnknownSoc {
            soc: soc.to_string(),
            closest: closest_codes(engine, soc, 5)?,
        });
    };
    let mut views: Vec<LevelView> = Vec::new();
    for (hit, _, _) in all {
        if !levels.is_empty() && !levels.contains(&hit.level) {
            continue;
        }
        match views.last_mut() {
            Some(v) if v.level == hit.level => v.statements.push(hit.statement),
            _ => views.push(LevelView {
                level: hit.level,
                statements: vec![hit.statement],
            }),
        }
    }
    let knowledge = crate::index::knowledge::of(&engine.searcher(), &engine.fields, &first.soc)?;
    Ok(OccupationView {
        titles: knowledge.titles,
        tools: knowledge.tools,
        soc: first.soc,
        title: first.title,
        group: first.group,
        job_zone: first.job_zone,
        version,
        source,
        levels: views,
    })
}

/// The indexed codes closest to `soc`: longest shared prefix first, then fewest edits. `soc` is
/// a valid code (at most 10 characters), so this is one short edit distance per occupation.
pub fn closest_codes(engine: &Engine, soc: &str, n: usize) -> Result<Vec<String>> {
    let codes = crate::index::stats::alive_term_counts(&engine.searcher(), engine.fields.soc)?;
    let mut ranked: Vec<(usize, usize, String)> = codes
        .into_keys()
        .map(|c| {
            let shared = c
                .chars()
                .zip(soc.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (shared, strsim::levenshtein(&c, soc), c)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    Ok(ranked.into_iter().take(n).map(|(_, _, c)| c).collect())
}
