//! The mapper's tables that do not depend on where documents lie — the title index, the tool
//! tables, each occupation's alternate titles and its statements' centroid — built by `skillmap
//! index` after each commit and written beside it, so that a `map` process reads them instead of
//! building them.
//!
//! The file is named by the commit's vector token (new at every commit that adds or removes
//! anything), holds the occupations' codes in the order the tables number them, and is used only
//! when the searcher sees exactly the commit's segments and the codes agree; otherwise, or when
//! the file is missing, damaged or of another format, the mapper builds the tables as before.
//! Writing it is atomic (temporary file, sync, rename); a run killed before that leaves the
//! commit without its tables, which costs only time.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::Searcher;

use crate::domain::framework::Knowledge;
use crate::error::{Error, Result};
use crate::index::schema::Fields;

use super::candidates::{Occupation, tool_tables};
use super::{MapOptions, model, titles};

/// The file's first bytes: what it is, and the version of its layout. Bump the number when the
/// tables or how they are built change.
const MAGIC: &[u8; 8] = b"SKMTAB04";

/// What the mapper builds from the knowledge documents.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Tables {
    /// The occupations' codes, in the order the tables number them (by code).
    pub socs: Vec<String>,
    pub title_index: titles::TitleIndex,
    /// See the [`super::Mapper`] fields of the same names.
    pub tool_postings: HashMap<String, (Vec<u32>, f32)>,
    pub tool_names: Vec<Vec<(String, String)>>,
    /// Per occupation: its alternate titles, as the knowledge documents list them (filled by
    /// [`write`] only: a mapper that builds its tables has them in its knowledge already).
    pub alternates: Vec<Vec<String>>,
    /// Per occupation: the centroid of its statement vectors, `DIMS` values each (summed by
    /// [`write`] from the commit's vector file; empty when the tables were built in a mapper).
    pub centroids: Vec<f32>,
}

/// An occupation's alternate titles in `knowledge` (none when it has no knowledge).
fn alternates_of<'a>(knowledge: &'a BTreeMap<String, Knowledge>, soc: &str) -> &'a [String] {
    knowledge.get(soc).map_or(&[][..], |k| &k.titles[..])
}

/// Each occupation's alternate titles, in the tables' order.
pub(super) fn alternates(
    occupations: &[Occupation],
    knowledge: &BTreeMap<String, Knowledge>,
) -> Vec<Vec<String>> {
    occupations
        .iter()
        .map(|o| alternates_of(knowledge, &o.soc).to_vec())
        .collect()
}

/// Builds the tables: the title index beside the tool tables (without the alternates, which
/// only the written file needs).
pub(super) fn build(
    occupations: &[Occupation],
    knowledge: &BTreeMap<String, Knowledge>,
    options: &MapOptions,
) -> Tables {
    let (title_index, (tool_postings, tool_names)) = rayon::join(
        || {
            titles::TitleIndex::build(
                occupations.iter().enumerate().flat_map(|(i, o)| {
                    // The own title without what it excludes ("X, Except Y" is an X).
                    let own = o.title.split(", Except").next().unwrap_or(&o.title);
                    std::iter::once((i as u32, own)).chain(
                        alternates_of(knowledge, &o.soc)
                            .iter()
                            .map(move |t| (i as u32, t.as_str())),
                    )
                }),
                &options.exclude_titles,
                options
                    .title_model_prior
                    .unwrap_or(model::weights().title_model_prior),
            )
        },
        || tool_tables(occupations, knowledge),
    );
    Tables {
        socs: occupations.iter().map(|o| o.soc.clone()).collect(),
        title_index,
        tool_postings,
        tool_names,
        alternates: Vec::new(),
        centroids: Vec::new(),
    }
}

/// The file of the commit with vector token `token`.
pub fn path(dir: &Path, token: &str) -> PathBuf {
    dir.join(format!("map-tables-{token}.bin"))
}

/// The vector token of the index's newest commit, when `searcher` sees exactly that commit's
/// segments (a searcher of an older commit, or one taken while a merge was being saved, gets
/// `None`).
pub(super) fn token_seen(index: &tantivy::Index, searcher: &Searcher) -> Option<String> {
    let metas = index.load_metas().ok()?;
    let token = metas
        .payload
        .as_deref()
        .and_then(crate::index::schema::vectors_token)?;
    let mut committed: Vec<(String, u32)> = metas
        .segments
        .iter()
        .map(|s| (s.id().uuid_string(), s.num_deleted_docs()))
        .collect();
    let mut seen: Vec<(String, u32)> = searcher
        .segment_readers()
        .iter()
        .map(|r| (r.segment_id().uuid_string(), r.num_deleted_docs()))
        .collect();
    committed.sort();
    seen.sort();
    (committed == seen).then(|| token.to_string())
}

/// Builds the tables of the index's newest commit, writes them beside it and removes the tables
/// of other commits. Called by `skillmap index` after its commit and merges, with the writer's
/// lock held, so that the commit does not change underneath.
pub fn write(index: &tantivy::Index, fields: &Fields, dir: &Path) -> Result<()> {
    let reader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let Some(token) = token_seen(index, &searcher) else {
        return Ok(());
    };
    let (scanned, knowledge) = rayon::join(
        || super::scan_occupations(&searcher, fields),
        || crate::index::knowledge::all(&searcher, fields),
    );
    let super::Scanned {
        occupations,
        occ_keys,
        ..
    } = scanned?;
    // The statement centroids, summed as a mapper sums them (first, so that the vector file is
    // let go before the title index is built).
    let centroids = {
        let store = std::sync::Arc::new(crate::index::vectors::Store::open(dir, &token)?);
        let semantic = super::semantic::Tables::new(
            super::semantic::Rows::stored(store, super::statement_items(occ_keys)),
            super::semantic::Rows::Owned(Vec::new()),
            occupations.len(),
        );
        semantic.centroids().data.clone()
    };
    let knowledge = knowledge?;
    let mut tables = build(&occupations, &knowledge, &MapOptions::default());
    tables.alternates = alternates(&occupations, &knowledge);
    drop(knowledge);
    tables.centroids = centroids;
    let body = postcard::to_stdvec(&tables)
        .map_err(|e| Error::Invalid(format!("the mapper's tables do not encode: {e}")))?;
    drop(tables);
    let target = path(dir, &token);
    let failed = |e: std::io::Error| Error::WriteFailed {
        path: target.clone(),
        cause: e.to_string(),
        committed: true,
    };
    let tmp = target.with_extension("tmp");
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&header(&body))?;
        f.write_all(&body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(failed(e));
    }
    remove_others(dir, Some(&token));
    Ok(())
}

/// The file's header before `body` (the tables, postcard): the magic, the body's CRC-32 and its
/// length.
fn header(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out
}

/// The body of a file's `bytes`, when they are whole and of this layout.
fn body(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let crc = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
    let len = u64::from_le_bytes(rest.get(4..12)?.try_into().ok()?);
    let body = rest.get(12..)?;
    (body.len() as u64 == len && crc32fast::hash(body) == crc).then_some(body)
}

/// The tables in `bytes`, or `None` when they are not whole, damaged or of another layout.
fn decode(bytes: &[u8]) -> Option<Tables> {
    postcard::from_bytes(body(bytes)?).ok()
}

/// Checks the tables of the commit with `token` (`skillmap stats --verify`): false when there
/// are none, [`Error::Damaged`] when they fail their checksum.
pub fn verify(dir: &Path, token: &str) -> Result<bool> {
    let path = path(dir, token);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&path, e)),
    };
    // Tables of another layout (another version of skillmap) are not damaged: no mapper reads
    // them, and the next index run replaces them.
    if bytes.len() >= MAGIC.len() && bytes.starts_with(&MAGIC[..6]) && !bytes.starts_with(MAGIC) {
        return Ok(false);
    }
    if body(&bytes).is_none() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(Error::Damaged {
            path: dir.to_path_buf(),
            detail: format!(
                "its mapper tables {name} fail their checksum (`map` builds them instead; the \
                 next `skillmap index` run writes them again)"
            ),
            damaged: vec![name],
        });
    }
    Ok(true)
}

/// The tables written for the commit with `token`, when its file is there and sound.
pub(super) fn read(dir: &Path, token: &str) -> Option<Tables> {
    decode(&std::fs::read(path(dir, token)).ok()?)
}

/// Removes the tables of every commit but `keep`'s (and unfinished writes).
pub fn remove_others(dir: &Path, keep: Option<&str>) {
    let keep = keep.map(|t| path(dir, t));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("map-tables-") && Some(e.path()) != keep {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_centroids_are_the_ones_a_mapper_sums() {
        let (_tmp, engine) = crate::index::fixture_engine();
        let searcher = engine.searcher();
        let token = token_seen(&engine.index, &searcher).expect("the newest commit");
        let written = read(&engine.path, &token).expect("the index run wrote its tables");
        assert_eq!(written.centroids.len(), 3 * crate::embed::DIMS);
        assert!(written.centroids.iter().any(|x| *x != 0.0));
        // A prior of its own makes the mapper build everything.
        let options = MapOptions {
            title_model_prior: Some(model::weights().title_model_prior),
            ..Default::default()
        };
        let built = super::super::Mapper::with_options(&engine, &options).unwrap();
        assert!(!built.read_written_tables());
        assert_eq!(built.semantic.centroids().data, written.centroids);
        assert_eq!(written.socs, ["29-1141.00", "33-3051.04", "53-6051.00"]);
    }

    #[test]
    fn tables_decode_as_encoded_and_damage_is_refused() {
        let (_tmp, engine) = crate::index::fixture_engine();
        let searcher = engine.searcher();
        let occupations = super::super::scan_occupations(&searcher, &engine.fields)
            .unwrap()
            .occupations;
        let knowledge = crate::index::knowledge::all(&searcher, &engine.fields).unwrap();
        let mut tables = build(&occupations, &knowledge, &MapOptions::default());
        tables.alternates = alternates(&occupations, &knowledge);
        assert_eq!(tables.socs.len(), 3);
        let body = postcard::to_stdvec(&tables).unwrap();
        let bytes = [header(&body), body].concat();
        let bytes_again = bytes.clone();
        let back = decode(&bytes).expect("a whole file decodes");
        assert_eq!(back.socs, tables.socs);
        assert_eq!(back.alternates, tables.alternates);
        assert_eq!(back.tool_names, tables.tool_names);
        assert_eq!(back.title_index.len(), tables.title_index.len());
        for title in ["registered nurse", "lpn", "welder fabricator"] {
            assert_eq!(
                back.title_index.lookup(title),
                tables.title_index.lookup(title)
            );
            assert_eq!(
                back.title_index.likelihood(title),
                tables.title_index.likelihood(title)
            );
        }
        // Cut short, one byte flipped, another layout: all refused.
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(decode(&flipped).is_none());
        let mut other = bytes;
        other[7] = b'1';
        assert!(decode(&other).is_none());
        // `verify`: another layout is passed over, damage is reported, no file is no tables.
        let dir = tempfile::tempdir().unwrap();
        assert!(!verify(dir.path(), "t").unwrap());
        std::fs::write(path(dir.path(), "t"), &other).unwrap();
        assert!(!verify(dir.path(), "t").unwrap());
        std::fs::write(path(dir.path(), "t"), &flipped).unwrap();
        assert!(matches!(
            verify(dir.path(), "t"),
            Err(Error::Damaged { .. })
        ));
        std::fs::write(path(dir.path(), "t"), &bytes_again).unwrap();
        assert!(verify(dir.path(), "t").unwrap());
    }
}
