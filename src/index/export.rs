//! `skillmap export`: the index's statements as flat JSON Lines, plus Quickwit and OpenSearch
//! configurations that reproduce our fields, for users who outgrow one machine.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;

use crate::error::{Error, Result};
use crate::index::engine::Engine;
use crate::index::store::{self, StoredStatement};

/// One statement, flat.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FlatStatement {
    pub id: String,
    pub soc: String,
    /// Group prefixes of the code (`33`, `33-3`, `33-30`, `33-305`, `33-3051`, full code).
    pub soc_prefix: Vec<String>,
    pub title: String,
    pub group: String,
    pub level: String,
    pub level_ord: u64,
    pub position: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job_zone: Option<u64>,
    pub topic: String,
    pub text: String,
    pub version: String,
    pub source: String,
}

/// Writes every live statement as one JSON line (knowledge documents are not statements and are
/// left out); returns how many.
pub fn write_ndjson<W: Write>(
    engine: &Engine,
    out: &mut W,
    bulk_index: Option<&str>,
) -> Result<u64> {
    let searcher = engine.searcher();
    let f = &engine.fields;
    let mut n = 0;
    for seg in searcher.segment_readers() {
        let store = seg
            .get_store_reader(64)
            .map_err(tantivy::TantivyError::from)?;
        for doc in seg.doc_ids_alive() {
            let stored: TantivyDocument = store.get(doc)?;
            if store::is_knowledge(f, &stored) {
                // A knowledge document (titles and tools), not a statement.
                continue;
            }
            let hit = StoredStatement::read(f, &stored);
            let flat = FlatStatement {
                soc_prefix: crate::domain::soc::prefixes(&hit.soc),
                id: hit.id,
                soc: hit.soc,
                title: hit.title,
                group: hit.group,
                level: hit.level.as_str().to_string(),
                level_ord: hit.level_ord,
                position: hit.position,
                job_zone: hit.job_zone,
                topic: hit.topic,
                text: hit.statement,
                version: store::text(&stored, f.version),
                source: store::text(&stored, f.source),
            };
            if let Some(index) = bulk_index {
                serde_json::to_writer(
                    &mut *out,
                    &serde_json::json!({"index": {"_index": index, "_id": flat.id}}),
                )?;
                out.write_all(b"\n").map_err(|e| Error::io("<export>", e))?;
            }
            serde_json::to_writer(&mut *out, &flat)?;
            out.write_all(b"\n").map_err(|e| Error::io("<export>", e))?;
            n += 1;
        }
    }
    Ok(n)
}

/// Quickwit index configuration (JSON, which Quickwit reads like YAML) reproducing our fields:
/// stemmed text with positions and field norms, exact codes and levels, fast numeric fields.
pub fn quickwit_config(index_id: &str) -> serde_json::Value {
    let raw = |name: &str, fast: bool| serde_json::json!({"name": name, "type": "text", "tokenizer": "raw", "stored": true, "fast": fast});
    let prose = |name: &str| serde_json::json!({"name": name, "type": "text", "tokenizer": "en_stem", "record": "position", "fieldnorms": true, "stored": true});
    let num = |name: &str| serde_json::json!({"name": name, "type": "u64", "indexed": true, "fast": true, "stored": true});
    serde_json::json!({
        "version": "0.8",
        "index_id": index_id,
        "doc_mapping": {
            "mode": "strict",
            "field_mappings": [
                raw("id", false),
                raw("soc", true),
                {"name": "soc_prefix", "type": "array<text>", "tokenizer": "raw", "stored": true},
                prose("title"),
                raw("group", true),
                raw("level", true),
                num("level_ord"),
                num("position"),
                num("job_zone"),
                prose("topic"),
                prose("text"),
                raw("version", false),
                raw("source", false),
            ],
        },
        "search_settings": {"default_search_fields": ["text", "topic", "title"]},
    })
}

/// OpenSearch index settings and mappings reproducing our fields (English stemming with
/// positions on prose, keywords for codes and levels, numbers with doc values).
pub fn opensearch_mapping() -> serde_json::Value {
    let keyword = serde_json::json!({"type": "keyword"});
    let prose = serde_json::json!({"type": "text", "analyzer": "english", "index_options": "positions", "norms": true});
    let num = serde_json::json!({"type": "long", "doc_values": true});
    serde_json::json!({
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0}},
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": keyword, "soc": keyword, "soc_prefix": keyword, "title": prose,
                "group": keyword, "level": keyword, "level_ord": num, "position": num,
                "job_zone": num, "topic": prose, "text": prose, "version": keyword,
                "source": keyword,
            }
        }
    })
}

/// What `export --out DIR` wrote.
#[derive(Debug, Serialize)]
pub struct ExportReport {
    pub statements: u64,
    pub files: Vec<String>,
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Ndjson,
    Quickwit,
    Opensearch,
}

/// Writes the export into a folder.
pub fn export_to_dir(engine: &Engine, format: ExportFormat, dir: &Path) -> Result<ExportReport> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut files = Vec::new();
    let mut write_json = |name: &str, v: &serde_json::Value| -> Result<()> {
        let p = dir.join(name);
        let mut text = serde_json::to_string_pretty(v)?;
        text.push('\n');
        std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
        files.push(p.display().to_string());
        Ok(())
    };
    match format {
        ExportFormat::Ndjson => {}
        ExportFormat::Quickwit => write_json("quickwit-index.json", &quickwit_config("skillmap"))?,
        ExportFormat::Opensearch => write_json("opensearch-index.json", &opensearch_mapping())?,
    }
    let name = if format == ExportFormat::Opensearch {
        "bulk.ndjson"
    } else {
        "statements.ndjson"
    };
    let p = dir.join(name);
    let file = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
    let mut w = std::io::BufWriter::new(file);
    let bulk = (format == ExportFormat::Opensearch).then_some("skillmap");
    let statements = write_ndjson(engine, &mut w, bulk)?;
    w.flush().map_err(|e| Error::io(&p, e))?;
    files.push(p.display().to_string());
    Ok(ExportReport { statements, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stored statement is exported once, with its prefixes; knowledge documents are not.
    #[test]
    fn ndjson_holds_every_statement_once_and_no_knowledge_document() {
        let (_dir, engine) = crate::index::fixture_engine();
        let mut out = Vec::new();
        let n = write_ndjson(&engine, &mut out, None).unwrap();
        let lines: Vec<FlatStatement> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let stats = crate::index::stats::stats(&engine).unwrap();
        assert_eq!(n, stats.statements);
        assert_eq!(lines.len() as u64, n);
        let mut ids: Vec<&str> = lines.iter().map(|s| s.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), lines.len(), "each statement once");
        for s in &lines {
            assert_eq!(s.soc_prefix, crate::domain::soc::prefixes(&s.soc));
            assert!(!s.text.is_empty());
        }
    }

    /// A bulk export puts an action line before each document, for OpenSearch's `_bulk`.
    #[test]
    fn bulk_ndjson_interleaves_actions_and_the_mappings_name_every_field() {
        let (_dir, engine) = crate::index::fixture_engine();
        let mut out = Vec::new();
        let n = write_ndjson(&engine, &mut out, Some("skills")).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count() as u64, 2 * n);
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["index"]["_index"], "skills", "{first}");
        let fields: Vec<String> = serde_json::to_value(FlatStatement::default())
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let qw = quickwit_config("skills").to_string();
        let os = opensearch_mapping().to_string();
        for f in &fields {
            assert!(qw.contains(&format!("\"{f}\"")), "quickwit lacks {f}");
            assert!(os.contains(&format!("\"{f}\"")), "opensearch lacks {f}");
        }
    }
}
