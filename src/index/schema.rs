//! The one tantivy `Schema`: field names, `Fields` handles, and framework → `TantivyDocument`.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{TantivyDocument, Term};

use crate::domain::framework::{Framework, Knowledge};

/// The analyzer of prose fields: tantivy's built-in English stemmer chain
/// (simple tokenizer, long-token removal, lower-casing, Porter/Snowball stemming).
pub const TEXT_ANALYZER: &str = "en_stem";

/// Handles to every field of the schema, looked up once.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Stable statement id `SOC:level:position` (exact, stored).
    pub id: Field,
    /// Full O*NET-SOC code (exact, stored).
    pub soc: Field,
    /// Every prefix of the SOC code that names a group: `33`, `33-3`, `33-30`, `33-305`, `33-3051`
    /// and the full code (exact, multi-valued, not stored).
    pub soc_prefix: Field,
    /// Occupation title (stemmed, stored).
    pub title: Field,
    /// Occupation group name (exact, stored).
    pub group: Field,
    /// Level name (exact, stored).
    pub level: Field,
    /// Level ordinal 1-4 (fast, indexed, stored).
    pub level_ord: Field,
    /// 0-based position of the statement within its level (fast, stored).
    pub position: Field,
    /// Job zone 1-5, absent when unknown (fast, indexed, stored).
    pub job_zone: Field,
    /// Framework version (exact, stored).
    pub version: Field,
    /// The export's `exportedAt` (stored).
    pub exported_at: Field,
    /// Where the statement came from: `path` or `path:line` for JSON Lines (exact, stored).
    pub source: Field,
    /// Statement text, topic included (stemmed with positions, stored).
    pub statement: Field,
    /// The statement's topic, the part before ` — ` (stemmed with positions, stored).
    pub topic: Field,
    /// What the framework covers (`contextCovered`), on the occupation's first statement only
    /// (stemmed, not stored): an occupation-level description for mapping postings.
    pub context: Field,
    /// Marks a knowledge document (one per export that carries titles or tools, and one per
    /// occupation of an indexed title or technology table): value `knowledge` (exact). Knowledge
    /// documents have no `soc`, `statement` or `title`, so statement search never sees them.
    pub kind: Field,
    /// The O*NET-SOC code a knowledge document is about (exact, stored).
    pub know_soc: Field,
    /// On knowledge documents that came with an export: its SOC code, so that a newer export of
    /// the occupation replaces them (exact, not stored).
    pub know_export: Field,
    /// Alternate titles of the occupation (stemmed, stored, multi-valued).
    pub alt_title: Field,
    /// Tool names and their categories (stemmed, not stored, multi-valued).
    pub tool: Field,
    /// The tools as a JSON array of `{name, category}` (stored only).
    pub tools_json: Field,
    /// The key of the statement's vector in the commit's vector file (`vectors::key` of its
    /// text; fast).
    pub vec_key: Field,
    /// The keys of title vectors: the occupation's own title on its first statement, the
    /// alternate titles on knowledge documents (fast, multi-valued).
    pub title_keys: Field,
}

/// What an index's documents hold, written as the payload of every commit. Bump it when that
/// changes while the schema stays the same (as when the topic stopped being indexed twice):
/// an index of another format is refused with the message to rebuild it.
pub const INDEX_FORMAT: &str = "skillmap-index-3";

/// The payload of a commit whose vector file has `token`.
pub fn payload(token: &str) -> String {
    format!("{INDEX_FORMAT} vectors={token}")
}

/// The vector file's token in a payload of this format; `None` for any other payload.
pub fn vectors_token(payload: &str) -> Option<&str> {
    let token = payload
        .strip_prefix(INDEX_FORMAT)?
        .strip_prefix(" vectors=")?;
    (token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

/// The `kind` value of knowledge documents.
pub const KNOWLEDGE: &str = "knowledge";

fn text_options() -> TextOptions {
    TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TEXT_ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored()
}

/// Builds the schema. Opening an index compares its schema with this one.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        soc: b.add_text_field("soc", STRING | STORED | FAST),
        soc_prefix: b.add_text_field("soc_prefix", STRING),
        title: b.add_text_field("title", text_options()),
        group: b.add_text_field("group", STRING | STORED),
        level: b.add_text_field("level", STRING | STORED),
        level_ord: b.add_u64_field("level_ord", INDEXED | STORED | FAST),
        position: b.add_u64_field("position", STORED | FAST),
        job_zone: b.add_u64_field("job_zone", INDEXED | STORED | FAST),
        version: b.add_text_field("version", STRING | STORED),
        exported_at: b.add_text_field("exported_at", STORED),
        source: b.add_text_field("source", STRING | STORED),
        statement: b.add_text_field("statement", text_options()),
        topic: b.add_text_field("topic", text_options()),
        context: b.add_text_field(
            "context",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TEXT_ANALYZER)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
        kind: b.add_text_field("kind", STRING),
        know_soc: b.add_text_field("know_soc", STRING | STORED),
        know_export: b.add_text_field("know_export", STRING),
        alt_title: b.add_text_field("alt_title", text_options()),
        tool: b.add_text_field(
            "tool",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TEXT_ANALYZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
        tools_json: b.add_text_field("tools_json", STORED),
        vec_key: b.add_u64_field("vec_key", FAST),
        title_keys: b.add_u64_field("title_keys", FAST),
    };
    (b.build(), fields)
}

impl Fields {
    /// Looks the handles up in an index's schema (which must equal [`build`]'s).
    pub fn from_schema(schema: &Schema) -> tantivy::Result<Fields> {
        let f = |name: &str| schema.get_field(name);
        Ok(Fields {
            id: f("id")?,
            soc: f("soc")?,
            soc_prefix: f("soc_prefix")?,
            title: f("title")?,
            group: f("group")?,
            level: f("level")?,
            level_ord: f("level_ord")?,
            position: f("position")?,
            job_zone: f("job_zone")?,
            version: f("version")?,
            exported_at: f("exported_at")?,
            source: f("source")?,
            statement: f("statement")?,
            topic: f("topic")?,
            context: f("context")?,
            kind: f("kind")?,
            know_soc: f("know_soc")?,
            know_export: f("know_export")?,
            alt_title: f("alt_title")?,
            tool: f("tool")?,
            tools_json: f("tools_json")?,
            vec_key: f("vec_key")?,
            title_keys: f("title_keys")?,
        })
    }

    /// Term selecting every statement of one occupation.
    pub fn soc_term(&self, soc: &str) -> Term {
        Term::from_field_text(self.soc, soc)
    }

    /// Term selecting every statement that came from one source (file or JSON Lines record).
    pub fn source_term(&self, source: &str) -> Term {
        Term::from_field_text(self.source, source)
    }

    /// Term selecting every knowledge document.
    pub fn knowledge_term(&self) -> Term {
        Term::from_field_text(self.kind, KNOWLEDGE)
    }

    /// Term selecting the knowledge documents that came with exports of one occupation.
    pub fn know_export_term(&self, soc: &str) -> Term {
        Term::from_field_text(self.know_export, soc)
    }

    /// A knowledge document: what one source says about one occupation's titles and tools.
    /// `from_export` marks those that an export carried (replaced with the export).
    pub fn knowledge_document(
        &self,
        soc: &str,
        knowledge: &Knowledge,
        source: &str,
        from_export: bool,
    ) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_text(self.kind, KNOWLEDGE);
        d.add_text(self.know_soc, soc);
        if from_export {
            d.add_text(self.know_export, soc);
        }
        d.add_text(self.source, source);
        for t in &knowledge.titles {
            d.add_text(self.alt_title, t);
            d.add_u64(self.title_keys, crate::index::vectors::key(t));
        }
        for t in &knowledge.tools {
            d.add_text(self.tool, &t.name);
            if !t.category.is_empty() {
                d.add_text(self.tool, &t.category);
            }
        }
        if !knowledge.tools.is_empty() {
            // Serializing plain strings cannot fail.
            d.add_text(
                self.tools_json,
                serde_json::to_string(&knowledge.tools).unwrap_or_default(),
            );
        }
        d
    }

    /// Converts a validated framework into one document per statement.
    pub fn documents(&self, fw: &Framework, source: &str) -> Vec<TantivyDocument> {
        let prefixes = crate::domain::soc::prefixes(&fw.soc);
        fw.statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut d = TantivyDocument::default();
                if i == 0 {
                    if !fw.context.is_empty() {
                        d.add_text(self.context, &fw.context);
                    }
                    d.add_u64(self.title_keys, crate::index::vectors::key(&fw.title));
                }
                d.add_text(
                    self.id,
                    format!("{}:{}:{}", fw.soc, s.level.as_str(), s.position),
                );
                d.add_text(self.soc, &fw.soc);
                for p in &prefixes {
                    d.add_text(self.soc_prefix, p);
                }
                d.add_text(self.title, &fw.title);
                d.add_text(self.group, &fw.group);
                d.add_text(self.level, s.level.as_str());
                d.add_u64(self.level_ord, s.level.ordinal());
                d.add_u64(self.position, u64::from(s.position));
                if let Some(z) = fw.job_zone {
                    d.add_u64(self.job_zone, u64::from(z));
                }
                d.add_text(self.version, &fw.version);
                d.add_text(self.exported_at, &fw.exported_at);
                d.add_text(self.source, source);
                // The text once, topic included: the judged queries in data/relevance/ rank
                // better when the topic label counts no more than the action (the topic indexed
                // a second time lifted "Food preparation areas — mop the floor" for "food
                // preparation").
                d.add_text(self.statement, &s.text);
                d.add_text(self.topic, &s.topic);
                d.add_u64(self.vec_key, crate::index::vectors::key(&s.text));
                d
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_schema_finds_every_field() {
        let (schema, fields) = build();
        let again = Fields::from_schema(&schema).unwrap();
        assert_eq!(format!("{fields:?}"), format!("{again:?}"));
    }
}
