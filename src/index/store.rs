//! Reading what the index stores, in one place: a stored field's value, a stored statement as
//! a record, the fast columns by their `Fields` handle (not by a string name), and the SOC
//! column's term ordinals resolved to codes.
//!
//! Every reader of the index (search, map, show, export, stats, the vector tables) goes through
//! here, so that how a value is stored is known to one module.

use std::collections::HashMap;

use tantivy::columnar::{Column, StrColumn};
use tantivy::schema::{Field, Value};
use tantivy::{DocAddress, Searcher, SegmentReader, TantivyDocument};

use crate::domain::level::Level;
use crate::error::Result;
use crate::index::schema::Fields;

/// The first stored value of a text field, empty when absent.
pub fn text(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

/// The first stored value of a u64 field.
pub fn number(doc: &TantivyDocument, field: Field) -> Option<u64> {
    doc.get_first(field).and_then(|v| v.as_u64())
}

/// Every stored value of a multi-valued text field, in stored order.
pub fn texts(doc: &TantivyDocument, field: Field) -> impl Iterator<Item = &str> {
    doc.get_all(field).filter_map(|v| v.as_str())
}

/// One statement as stored. A missing level reads as emerging (ordinal 1), a missing position
/// as 0: ingest writes both for every statement, so only a foreign index lacks them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredStatement {
    pub id: String,
    pub soc: String,
    pub title: String,
    pub group: String,
    pub level: Level,
    pub level_ord: u64,
    pub position: u64,
    pub job_zone: Option<u64>,
    pub topic: String,
    pub statement: String,
}

impl StoredStatement {
    /// Reads a stored statement document.
    pub fn read(f: &Fields, doc: &TantivyDocument) -> StoredStatement {
        let level_ord = number(doc, f.level_ord).unwrap_or(1);
        StoredStatement {
            id: text(doc, f.id),
            soc: text(doc, f.soc),
            title: text(doc, f.title),
            group: text(doc, f.group),
            level: Level::from_ordinal(level_ord).unwrap_or(Level::Emerging),
            level_ord,
            position: number(doc, f.position).unwrap_or(0),
            job_zone: number(doc, f.job_zone),
            topic: text(doc, f.topic),
            statement: text(doc, f.statement),
        }
    }
}

/// Is this stored document a knowledge document (titles and tools), not a statement?
pub fn is_knowledge(f: &Fields, doc: &TantivyDocument) -> bool {
    doc.get_first(f.know_soc).is_some()
}

/// A segment's u64 fast column of `field`.
pub fn u64_column(seg: &SegmentReader, searcher: &Searcher, field: Field) -> Result<Column<u64>> {
    Ok(seg
        .fast_fields()
        .u64(searcher.schema().get_field_name(field))?)
}

/// A segment's SOC column (absent in a segment without statements).
pub fn soc_column(
    seg: &SegmentReader,
    searcher: &Searcher,
    f: &Fields,
) -> Result<Option<StrColumn>> {
    Ok(seg
        .fast_fields()
        .str(searcher.schema().get_field_name(f.soc))?)
}

/// The codes of sorted, distinct term ordinals of a SOC column, in one pass over its
/// dictionary (one look-up per document would dominate a whole request).
pub fn codes_of(col: &StrColumn, sorted_ords: &[u64]) -> Result<Vec<String>> {
    let mut codes = Vec::with_capacity(sorted_ords.len());
    col.dictionary()
        .sorted_ords_to_term_cb(sorted_ords, |bytes| {
            codes.push(String::from_utf8_lossy(bytes).into_owned());
        })
        .map_err(tantivy::TantivyError::from)?;
    Ok(codes)
}

/// One segment's live documents by SOC ordinal: each document's ordinal (`None` when deleted
/// or without a code), and the first live document of each ordinal.
pub struct SegmentSocs {
    pub doc_ord: Vec<Option<u64>>,
    pub first_doc: HashMap<u64, u32>,
}

impl SegmentSocs {
    /// Scans a segment's SOC column.
    pub fn scan(seg: &SegmentReader, col: &StrColumn) -> SegmentSocs {
        let alive = seg.alive_bitset();
        let mut doc_ord = vec![None; seg.max_doc() as usize];
        let mut first_doc = HashMap::new();
        for doc in 0..seg.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            if let Some(ord) = col.term_ords(doc).next() {
                doc_ord[doc as usize] = Some(ord);
                first_doc.entry(ord).or_insert(doc);
            }
        }
        SegmentSocs { doc_ord, first_doc }
    }

    /// The distinct ordinals, sorted.
    pub fn sorted_ords(&self) -> Vec<u64> {
        let mut ords: Vec<u64> = self.first_doc.keys().copied().collect();
        ords.sort_unstable();
        ords
    }
}

/// Each live occupation once, with the address of one of its statements (the first in the
/// first segment that holds it), in segment then document order.
pub fn occupations(searcher: &Searcher, f: &Fields) -> Result<Vec<(String, DocAddress)>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (seg_ord, seg) in searcher.segment_readers().iter().enumerate() {
        let Some(col) = soc_column(seg, searcher, f)? else {
            continue;
        };
        let socs = SegmentSocs::scan(seg, &col);
        let mut firsts: Vec<(u32, u64)> = socs.first_doc.iter().map(|(o, d)| (*d, *o)).collect();
        firsts.sort_unstable();
        let mut ords: Vec<u64> = firsts.iter().map(|x| x.1).collect();
        ords.sort_unstable();
        let codes: HashMap<u64, String> =
            ords.iter().copied().zip(codes_of(&col, &ords)?).collect();
        for (doc, ord) in firsts {
            let soc = &codes[&ord];
            if seen.insert(soc.clone()) {
                out.push((soc.clone(), DocAddress::new(seg_ord as u32, doc)));
            }
        }
    }
    Ok(out)
}

/// The SOC code of each statement, through the fast columns: ordinals first, then each
/// segment's distinct ordinals resolved to codes in one sorted pass over its dictionary. Empty
/// for a document without one.
pub fn socs_of(searcher: &Searcher, f: &Fields, docs: &[DocAddress]) -> Result<Vec<String>> {
    let mut columns = Vec::new();
    for seg in searcher.segment_readers() {
        columns.push(soc_column(seg, searcher, f)?);
    }
    let mut doc_ords: Vec<Option<(u32, u64)>> = Vec::with_capacity(docs.len());
    let mut wanted: HashMap<u32, Vec<u64>> = HashMap::new();
    for addr in docs {
        let ord = columns[addr.segment_ord as usize]
            .as_ref()
            .and_then(|col| col.term_ords(addr.doc_id).next());
        if let Some(o) = ord {
            wanted.entry(addr.segment_ord).or_default().push(o);
        }
        doc_ords.push(ord.map(|o| (addr.segment_ord, o)));
    }
    let mut names: HashMap<(u32, u64), String> = HashMap::new();
    for (seg, mut ords) in wanted {
        ords.sort_unstable();
        ords.dedup();
        if let Some(col) = &columns[seg as usize] {
            for (o, code) in ords.iter().zip(codes_of(col, &ords)?) {
                names.insert((seg, *o), code);
            }
        }
    }
    Ok(doc_ords
        .into_iter()
        .map(|k| k.and_then(|k| names.get(&k).cloned()).unwrap_or_default())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::engine::Engine;

    /// The statements of the two fixture exports, read through the store and through a plain
    /// scan of the stored documents, agree.
    #[test]
    fn occupations_and_socs_agree_with_the_stored_documents() {
        let (_dir, engine) = crate::index::fixture_engine();
        let engine: &Engine = &engine;
        let searcher = engine.searcher();
        let f = &engine.fields;
        let occs = occupations(&searcher, f).unwrap();
        assert!(occs.len() >= 2, "{occs:?}");
        let addrs: Vec<DocAddress> = occs.iter().map(|o| o.1).collect();
        let socs = socs_of(&searcher, f, &addrs).unwrap();
        for ((soc, addr), via_column) in occs.iter().zip(&socs) {
            let doc: TantivyDocument = searcher.doc(*addr).unwrap();
            let stored = StoredStatement::read(f, &doc);
            assert_eq!(&stored.soc, soc);
            assert_eq!(via_column, soc);
            assert!(!is_knowledge(f, &doc));
            assert!(!stored.statement.is_empty() && stored.level_ord >= 1);
        }
        let mut distinct: Vec<&String> = occs.iter().map(|o| &o.0).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), occs.len(), "each occupation once");
    }
}
