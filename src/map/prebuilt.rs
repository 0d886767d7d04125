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
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::framework::Knowledge;
use crate::error::Result;
use crate::index::schema::Fields;
use crate::index::sidecar::Sidecar;
use crate::numbering::Numbering;

use super::candidates::{Occupation, tool_tables};
use super::{MapOptions, model, titles};

/// What the mapper builds from the knowledge documents.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Tables {
    /// The occupations' codes, in the order the tables number them (by code).
    pub socs: Vec<String>,
    /// Per occupation, in the same order: its title and group (filled by [`write`] only: a
    /// mapper that builds its tables has read them already).
    pub described: Vec<(String, String)>,
    pub title_index: titles::TitleIndex,
    /// See the [`super::Mapper`] fields of the same names.
    pub tool_postings: HashMap<String, (Vec<u32>, f32)>,
    pub tool_names: super::candidates::ToolNames,
    /// Per occupation: its alternate titles, as the knowledge documents list them (filled by
    /// [`write`] only: a mapper that builds its tables has them in its knowledge already).
    pub alternates: Alternates,
    /// Per occupation: the centroid of its statement vectors, `DIMS` values each (summed by
    /// [`write`] from the commit's vector file; empty when the tables were built in a mapper).
    pub centroids: Vec<f32>,
}

/// An occupation's alternate titles in `knowledge` (none when it has no knowledge).
fn alternates_of<'a>(knowledge: &'a BTreeMap<String, Knowledge>, soc: &str) -> &'a [String] {
    knowledge.get(soc).map_or(&[][..], |k| &k.titles[..])
}

/// Each occupation's alternate titles, each distinct text held once (occupations share many:
/// at 2M statements, 52,260 occupations list 2.6 million).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Alternates {
    /// The distinct texts.
    pub texts: Vec<String>,
    /// Per occupation, in the tables' order: its alternate titles as numbers in `texts`.
    pub of: Vec<Vec<u32>>,
}

impl Alternates {
    /// One occupation's alternate titles.
    #[cfg(test)]
    pub fn of(&self, occ: usize) -> Vec<&str> {
        self.of[occ]
            .iter()
            .map(|&t| self.texts[t as usize].as_str())
            .collect()
    }
}

/// Each occupation's alternate titles, in the tables' order.
pub(super) fn alternates(
    occupations: &[Occupation],
    knowledge: &BTreeMap<String, Knowledge>,
) -> Alternates {
    let mut texts: Numbering<&str> = Numbering::default();
    let of = occupations
        .iter()
        .map(|o| {
            alternates_of(knowledge, &o.soc)
                .iter()
                .map(|t| texts.number(t))
                .collect()
        })
        .collect();
    let texts = texts
        .into_values()
        .into_iter()
        .map(str::to_string)
        .collect();
    Alternates { texts, of }
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
        described: Vec::new(),
        title_index,
        tool_postings,
        tool_names,
        alternates: Alternates::default(),
        centroids: Vec::new(),
    }
}

/// The file: `map-tables-<token>.bin`.
pub const FILE: Sidecar = Sidecar {
    prefix: "map-tables-",
    magic: b"SKMTAB06",
    what: "the mapper's tables",
};

/// Builds the tables of the index's newest commit, writes them beside it and removes the tables
/// of other commits. Called by `skillmap index` after its commit and merges, with the writer's
/// lock held, so that the commit does not change underneath. `also` is given the commit's token
/// and the knowledge read for the tables, for what else is derived from it (the
/// titles-and-tools table); its error is returned, after the tables are written.
pub fn write(
    index: &tantivy::Index,
    fields: &Fields,
    dir: &Path,
    also: impl FnOnce(&str, &BTreeMap<String, Knowledge>) -> Result<()> + Send,
) -> Result<()> {
    let Some((searcher, token)) = crate::index::sidecar::newest(index)? else {
        return Ok(());
    };
    let (scanned, knowledge) = rayon::join(
        || super::scan_occupations(&searcher, fields),
        || {
            let knowledge = crate::index::knowledge::all(&searcher, fields)?;
            let also = also(&token, &knowledge);
            Ok::<_, crate::error::Error>((knowledge, also))
        },
    );
    let super::Scanned {
        mut occupations,
        first,
        occ_keys,
        ..
    } = scanned?;
    super::describe(&searcher, fields, &mut occupations, &first, None)?;
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
    let (knowledge, also) = knowledge?;
    let mut tables = build(&occupations, &knowledge, &MapOptions::default());
    tables.alternates = alternates(&occupations, &knowledge);
    drop(knowledge);
    tables.described = occupations
        .iter()
        .map(|o| (o.title.clone(), o.group.clone()))
        .collect();
    tables.centroids = centroids;
    FILE.write(dir, &token, &tables)?;
    also
}

/// The tables written for the commit with `token`, when its file is there and sound.
pub(super) fn read(dir: &Path, token: &str) -> Option<Tables> {
    FILE.read(dir, token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn the_written_centroids_are_the_ones_a_mapper_sums() {
        let (_tmp, engine) = crate::index::fixture_engine();
        let searcher = engine.searcher();
        let token =
            crate::index::sidecar::token_seen(&engine.index, &searcher).expect("the newest commit");
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
        // A mapper that reads the file describes the occupations as one that reads the store.
        let read = super::super::Mapper::new(&engine).unwrap();
        assert!(read.read_written_tables());
        let describe = |m: &super::super::Mapper| -> Vec<_> {
            m.occupations
                .iter()
                .map(|o| {
                    (
                        o.soc.clone(),
                        o.title.clone(),
                        o.group.clone(),
                        o.title_terms.clone(),
                        o.heads.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(describe(&read), describe(&built));
        assert_eq!(
            written.described[1].0,
            "Customs and Border Protection Officers"
        );
        assert!(
            describe(&built)
                .iter()
                .all(|o| !o.1.is_empty() && !o.2.is_empty())
        );
    }

    #[test]
    fn tables_decode_as_encoded_and_damage_is_refused() {
        let (_tmp, engine) = crate::index::fixture_engine();
        let searcher = engine.searcher();
        let scanned = super::super::scan_occupations(&searcher, &engine.fields).unwrap();
        let mut occupations = scanned.occupations;
        super::super::describe(
            &searcher,
            &engine.fields,
            &mut occupations,
            &scanned.first,
            None,
        )
        .unwrap();
        let knowledge = crate::index::knowledge::all(&searcher, &engine.fields).unwrap();
        let mut tables = build(&occupations, &knowledge, &MapOptions::default());
        tables.alternates = alternates(&occupations, &knowledge);
        assert_eq!(tables.socs.len(), 3);
        let bytes = FILE.encode(&tables).unwrap();
        let bytes_again = bytes.clone();
        let back = FILE.decode::<Tables>(&bytes).expect("a whole file decodes");
        assert_eq!(back.socs, tables.socs);
        assert_eq!(back.alternates, tables.alternates);
        for (i, o) in occupations.iter().enumerate() {
            assert_eq!(
                tables.alternates.of(i),
                alternates_of(&knowledge, &o.soc),
                "{}",
                o.soc
            );
        }
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
        assert!(FILE.decode::<Tables>(&bytes[..bytes.len() - 1]).is_none());
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(FILE.decode::<Tables>(&flipped).is_none());
        let mut other = bytes;
        other[7] = b'1';
        assert!(FILE.decode::<Tables>(&other).is_none());
        // `verify`: another layout is passed over, damage is reported, no file is no tables.
        let dir = tempfile::tempdir().unwrap();
        assert!(!FILE.verify(dir.path(), "t").unwrap());
        std::fs::write(FILE.path(dir.path(), "t"), &other).unwrap();
        assert!(!FILE.verify(dir.path(), "t").unwrap());
        std::fs::write(FILE.path(dir.path(), "t"), &flipped).unwrap();
        assert!(matches!(
            FILE.verify(dir.path(), "t"),
            Err(Error::Damaged { .. })
        ));
        std::fs::write(FILE.path(dir.path(), "t"), &bytes_again).unwrap();
        assert!(FILE.verify(dir.path(), "t").unwrap());
    }
}
