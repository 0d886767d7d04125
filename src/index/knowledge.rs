//! Reading what the index knows about occupations beyond their frameworks: alternate titles and
//! tools, from the knowledge documents that exports and tables put there.

use std::collections::{BTreeMap, HashSet};

use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::domain::framework::{Knowledge, Tool};
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
    Ok(merge(docs(
        searcher,
        fields,
        &addresses(searcher, q)?,
        |_| true,
    )?))
}

/// The live documents a query matches, in address order.
fn addresses(searcher: &Searcher, q: &dyn tantivy::query::Query) -> Result<Vec<DocAddress>> {
    let mut addrs: Vec<DocAddress> = searcher.search(q, &DocSetCollector)?.into_iter().collect();
    addrs.sort();
    Ok(addrs)
}

/// The knowledge documents of one occupation, by address (read nothing but postings).
pub fn addresses_of(searcher: &Searcher, fields: &Fields, soc: &str) -> Result<Vec<DocAddress>> {
    let q = TermQuery::new(
        tantivy::Term::from_field_text(fields.know_soc, soc),
        IndexRecordOption::Basic,
    );
    addresses(searcher, &q)
}

/// The live knowledge documents that `q` matches, in address order. Their tools are parsed only
/// where `with_tools` says so (the others read as having none).
pub fn matching(
    searcher: &Searcher,
    fields: &Fields,
    q: &dyn tantivy::query::Query,
    with_tools: impl Fn(DocAddress) -> bool,
) -> Result<Vec<(DocAddress, Doc)>> {
    let addrs = addresses(searcher, q)?;
    let docs = docs(searcher, fields, &addrs, with_tools)?;
    Ok(addrs.into_iter().zip(docs).collect())
}

/// One knowledge document as stored: what one source says about one occupation.
#[derive(Debug, Clone)]
pub struct Doc {
    pub soc: String,
    pub source: String,
    pub titles: Vec<String>,
    pub tools: Vec<Tool>,
}

/// Reads knowledge documents (give the addresses in order: neighbours share a store block).
fn docs(
    searcher: &Searcher,
    fields: &Fields,
    addrs: &[DocAddress],
    with_tools: impl Fn(DocAddress) -> bool,
) -> Result<Vec<Doc>> {
    let mut out = Vec::with_capacity(addrs.len());
    for &addr in addrs {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let json = doc.get_first(fields.tools_json).and_then(|v| v.as_str());
        let tools = match json.filter(|_| with_tools(addr)) {
            // Written by `Fields::knowledge_document`; an unreadable value is left out.
            Some(json) => serde_json::from_str(json).unwrap_or_default(),
            None => Vec::new(),
        };
        out.push(Doc {
            soc: store::text(&doc, fields.know_soc),
            source: store::text(&doc, fields.source),
            titles: store::texts(&doc, fields.alt_title)
                .map(str::to_string)
                .collect(),
            tools,
        });
    }
    Ok(out)
}

/// Merges documents by occupation: ordered by source (a stable sort, so address order breaks
/// ties), titles without repeats in another case (as [`push_title`](crate::domain::framework::push_title) keeps them), tools without
/// repeats.
pub fn merge(mut docs: Vec<Doc>) -> BTreeMap<String, Knowledge> {
    docs.sort_by(|a, b| (&a.soc, &a.source).cmp(&(&b.soc, &b.source)));
    let mut out: BTreeMap<String, Knowledge> = BTreeMap::new();
    // What the current occupation holds so far, for repeats found in constant time (an
    // occupation of the generated corpora has hundreds of titles and tools). The documents come
    // grouped by occupation, so only one occupation's sets are held at a time.
    let mut titles: HashSet<String> = HashSet::new();
    let mut tools: HashSet<Tool> = HashSet::new();
    let mut current: Option<String> = None;
    for d in docs {
        if current.as_deref() != Some(d.soc.as_str()) {
            titles.clear();
            tools.clear();
            current = Some(d.soc.clone());
        }
        let k = out.entry(d.soc).or_default();
        for t in d.titles {
            if titles.insert(t.to_ascii_lowercase()) {
                k.titles.push(t);
            }
        }
        for t in d.tools {
            if tools.insert(t.clone()) {
                k.tools.push(t);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::framework::push_title;

    fn doc(soc: &str, source: &str, titles: &[&str], tools: &[(&str, &str)]) -> Doc {
        Doc {
            soc: soc.into(),
            source: source.into(),
            titles: titles.iter().map(|t| t.to_string()).collect(),
            tools: tools
                .iter()
                .map(|(n, c)| Tool {
                    name: n.to_string(),
                    category: c.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn merge_orders_by_source_and_drops_repeats_as_push_title_does() {
        let docs = vec![
            doc(
                "11-1011.00",
                "tables",
                &["Chief Executive", "CEO"],
                &[("Excel", "Spreadsheet")],
            ),
            doc(
                "11-1011.00",
                "export",
                &["ceo", "President"],
                &[("Excel", "Spreadsheet"), ("Excel", "")],
            ),
            doc("13-2011.00", "export", &["Accountant"], &[]),
        ];
        let merged = merge(docs.clone());
        // The same merge, by the rule written once in push_title and a linear search.
        let mut sorted = docs;
        sorted.sort_by(|a, b| (&a.soc, &a.source).cmp(&(&b.soc, &b.source)));
        let mut expected: BTreeMap<String, Knowledge> = BTreeMap::new();
        for d in sorted {
            let k = expected.entry(d.soc).or_default();
            for t in &d.titles {
                push_title(&mut k.titles, t);
            }
            for t in d.tools {
                if !k.tools.contains(&t) {
                    k.tools.push(t);
                }
            }
        }
        assert_eq!(merged, expected);
        assert_eq!(
            merged["11-1011.00"].titles,
            ["ceo", "President", "Chief Executive"]
        );
        assert_eq!(merged["11-1011.00"].tools.len(), 2);
    }
}
