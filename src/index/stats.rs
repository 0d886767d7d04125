//! Counts of an index: occupations, statements, levels, SOC major groups, size on disk.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED};

use crate::domain::level::{Level, LevelCounts};
use crate::error::{Error, Result};
use crate::index::engine::Engine;

/// One SOC major group in the index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct GroupStats {
    /// Two-digit major group code, e.g. `33`.
    pub code: String,
    /// The group name from the exports, e.g. `Protective Service`.
    pub name: String,
    pub occupations: u64,
    pub statements: u64,
}

/// What `skillmap stats` reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Stats {
    pub occupations: u64,
    pub statements: u64,
    /// Statements per level, all four levels present.
    pub levels: LevelCounts,
    pub groups: Vec<GroupStats>,
    /// Size of the index folder on disk.
    pub bytes: u64,
    pub segments: usize,
}

/// Counts the live (not deleted) documents holding each term of an untokenized field.
pub fn alive_term_counts(searcher: &Searcher, field: Field) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for seg in searcher.segment_readers() {
        let inverted = seg.inverted_index(field)?;
        let alive = seg.alive_bitset();
        let mut terms = inverted
            .terms()
            .stream()
            .map_err(tantivy::TantivyError::from)?;
        while terms.advance() {
            let mut postings = inverted
                .read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)
                .map_err(tantivy::TantivyError::from)?;
            let mut n = 0u64;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    n += 1;
                }
                doc = postings.advance();
            }
            if n > 0 {
                let key = String::from_utf8_lossy(terms.key()).into_owned();
                *counts.entry(key).or_insert(0) += n;
            }
        }
    }
    Ok(counts)
}

/// Computes the index's counts.
pub fn stats(engine: &Engine) -> Result<Stats> {
    let searcher = engine.searcher();
    let f = &engine.fields;
    let socs = alive_term_counts(&searcher, f.soc)?;
    let by_level = alive_term_counts(&searcher, f.level)?;
    let mut levels = LevelCounts::default();
    for l in Level::ALL {
        *levels.get_mut(l) = by_level.get(l.as_str()).copied().unwrap_or(0);
    }
    let mut groups: BTreeMap<String, GroupStats> = BTreeMap::new();
    for (soc, n) in &socs {
        let code = crate::domain::soc::major(soc).to_string();
        let g = groups.entry(code.clone()).or_insert_with(|| GroupStats {
            code,
            name: String::new(),
            occupations: 0,
            statements: 0,
        });
        g.occupations += 1;
        g.statements += n;
    }
    for g in groups.values_mut() {
        g.name = group_name(engine, &searcher, &g.code)?;
    }
    Ok(Stats {
        occupations: socs.len() as u64,
        statements: crate::index::engine::statement_count(&searcher, &engine.fields)?,
        levels,
        groups: groups.into_values().collect(),
        bytes: dir_size(&engine.path)?,
        segments: searcher.segment_readers().len(),
    })
}

/// The group name stored with one of the group's statements.
fn group_name(engine: &Engine, searcher: &Searcher, code: &str) -> Result<String> {
    use tantivy::collector::TopDocs;
    use tantivy::query::TermQuery;
    let q = TermQuery::new(
        tantivy::Term::from_field_text(engine.fields.soc_prefix, code),
        IndexRecordOption::Basic,
    );
    let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
    let Some((_, addr)) = top.first() else {
        return Ok(String::new());
    };
    let doc: tantivy::TantivyDocument = searcher.doc(*addr)?;
    Ok(crate::index::store::text(&doc, engine.fields.group))
}

/// Bytes of the files directly in the index folder (tantivy keeps no subfolders).
pub fn dir_size(path: &std::path::Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        if let Ok(m) = entry.metadata()
            && m.is_file()
        {
            total += m.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    /// The counts equal what the fixture exports hold: their statements by level and group.
    #[test]
    fn counts_add_up_to_the_fixture_exports() {
        let (_dir, engine) = crate::index::fixture_engine();
        let s = super::stats(&engine).unwrap();
        let mut by_level = [0u64; 4];
        let mut total = 0;
        for entry in std::fs::read_dir(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frameworks"),
        )
        .unwrap()
        {
            let fw = crate::domain::framework::parse_export(
                &std::fs::read(entry.unwrap().path()).unwrap(),
            )
            .unwrap();
            for st in &fw.statements {
                by_level[st.level.index()] += 1;
                total += 1;
            }
        }
        assert_eq!(s.statements, total);
        assert_eq!(s.occupations, 3);
        for l in crate::domain::level::Level::ALL {
            assert_eq!(s.levels.get(l), by_level[l.index()], "{l}");
        }
        assert_eq!(s.groups.iter().map(|g| g.statements).sum::<u64>(), total);
        assert!(s.bytes > 0 && s.segments >= 1);
    }
}
