//! Reading what the index knows about occupations beyond their frameworks: alternate titles and
//! tools, from the knowledge documents that exports and tables put there.

use std::collections::BTreeMap;

use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::domain::framework::{Knowledge, Tool, push_title};
use crate::error::Result;
use crate::index::schema::Fields;
use crate::index::store;

/// Every occupation's knowledge, merged over its knowledge documents (its export's and every
/// table's), by O*NET-SOC code. Titles and tools are in a stable order (by source, then as
/// listed) without repeats, so the answer does not depend on where they came from.
pub fn all(searcher: &Searcher, fields: &Fields) -> Result<BTreeMap<String, Knowledge>> {
    let q = TermQuery::new(fields.knowledge_term(), IndexRecordOption::Basic);
    read(searcher, fields, &q)
}

/// One occupation's knowledge (empty when nothing is known).
pub fn of(searcher: &Searcher, fields: &Fields, soc: &str) -> Result<Knowledge> {
    let q = TermQuery::new(
        tantivy::Term::from_field_text(fields.know_soc, soc),
        IndexRecordOption::Basic,
    );
    Ok(read(searcher, fields, &q)?.remove(soc).unwrap_or_default())
}

fn read(
    searcher: &Searcher,
    fields: &Fields,
    q: &TermQuery,
) -> Result<BTreeMap<String, Knowledge>> {
    let mut addrs: Vec<DocAddress> = searcher.search(q, &DocSetCollector)?.into_iter().collect();
    addrs.sort();
    let mut docs: Vec<(String, String, TantivyDocument)> = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let doc: TantivyDocument = searcher.doc(addr)?;
        docs.push((
            store::text(&doc, fields.know_soc),
            store::text(&doc, fields.source),
            doc,
        ));
    }
    docs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut out: BTreeMap<String, Knowledge> = BTreeMap::new();
    for (soc, _, doc) in docs {
        let k = out.entry(soc).or_default();
        for t in store::texts(&doc, fields.alt_title) {
            push_title(&mut k.titles, t);
        }
        if let Some(json) = doc.get_first(fields.tools_json).and_then(|v| v.as_str()) {
            // Written by `Fields::knowledge_document`; an unreadable value is left out.
            let tools: Vec<Tool> = serde_json::from_str(json).unwrap_or_default();
            for t in tools {
                if !k.tools.contains(&t) {
                    k.tools.push(t);
                }
            }
        }
    }
    Ok(out)
}
