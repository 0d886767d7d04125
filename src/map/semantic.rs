//! Stage: semantic evidence. The posting's static embedding against each occupation's statement
//! vectors and title vectors (from the index's vector file), and the occupations whose
//! statements lie nearest to the posting as extra candidates.

use std::sync::{Arc, OnceLock};

use crate::embed::{self, DIMS, Matrix};
use crate::index::vectors::Store;

/// How many of an occupation's statements the posting's evidence averages: the best three, so
/// that a posting about a few duties is not diluted by the rest.
pub const TOP_STATEMENTS: usize = 3;
/// Occupations taken as candidates from the nearest statement centroids alone.
pub const NEIGHBOURS: usize = 20;
/// Candidates whose semantic evidence is computed: the leaders of each main lexical feature
/// (profile, title similarity, title model, title vocabulary), and the neighbours.
pub const LEADERS: usize = 40;

/// One vector of an occupation in the commit's vector file.
pub enum Item {
    /// A statement's vector, by key (none when the file lacks it).
    Key(u64),
    /// A title's vector, by the key of its text, or embedded when the file lacks it (the texts
    /// are shared: occupations list many of the same titles).
    Text(std::sync::Arc<str>),
}

/// Each occupation's vectors: matrices of their own, or vectors of the commit's vector file that
/// are copied side by side the first time a posting needs the occupation (a cold process copies
/// a few dozen occupations'; a batch, at most each once), as the file holds them, in int8: the
/// semantic evidence reads many vectors, and an int8 row is a quarter of an `f32` one.
pub enum Rows {
    Owned(Vec<Matrix>),
    Stored {
        store: Arc<Store>,
        /// Per occupation: its vectors.
        items: Vec<Vec<Item>>,
        /// Per occupation: its vectors, once copied.
        read: Vec<OnceLock<Found>>,
    },
}

/// One occupation's vectors: rows of the vector file, and vectors embedded for the texts the
/// file lacks.
#[derive(Debug, Default)]
pub struct Found {
    /// The file's rows, copied side by side ([`DIMS`] bytes each, each an `i8`).
    values: Vec<u8>,
    /// Their scales.
    scales: Vec<f32>,
    embedded: Matrix,
}

/// One occupation's vectors, to take dot products with.
enum View<'a> {
    Matrix(&'a Matrix),
    Stored(&'a Found),
}

impl View<'_> {
    fn len(&self) -> usize {
        match self {
            View::Matrix(m) => m.len(),
            View::Stored(f) => f.scales.len() + f.embedded.len(),
        }
    }

    /// The dot product of `v` with vector `i`.
    fn dot(&self, i: usize, v: &[f32]) -> f32 {
        match self {
            View::Matrix(m) => embed::dot(v, m.row(i)),
            View::Stored(f) => match f.scales.get(i) {
                Some(&scale) => scale * embed::dot_i8(v, &f.values[i * DIMS..(i + 1) * DIMS]),
                None => embed::dot(v, f.embedded.row(i - f.scales.len())),
            },
        }
    }
}

impl Rows {
    /// Vectors of `store` per occupation.
    pub fn stored(store: Arc<Store>, items: Vec<Vec<Item>>) -> Rows {
        let read = (0..items.len()).map(|_| OnceLock::new()).collect();
        Rows::Stored { store, items, read }
    }

    /// Occupation `occ`'s vectors (none when it is out of range).
    fn of(&self, occ: usize) -> Option<View<'_>> {
        match self {
            Rows::Owned(m) => m.get(occ).map(View::Matrix),
            Rows::Stored { store, items, read } => {
                let slot = read.get(occ)?;
                let found = slot.get_or_init(|| {
                    let mut found = Found::default();
                    for item in &items[occ] {
                        match locate(store, item) {
                            Some(Located::Row(i)) => {
                                let (values, scale) = store.quantised_at(i);
                                found.values.extend_from_slice(values);
                                found.scales.push(scale);
                            }
                            Some(Located::Embedded(v)) => found.embedded.push(&v),
                            None => {}
                        }
                    }
                    found
                });
                Some(View::Stored(found))
            }
        }
    }

    /// Calls `f` with each vector of occupation `occ`, in order, without keeping what it reads.
    fn each(&self, occ: usize, mut f: impl FnMut(&[f32])) {
        match self {
            Rows::Owned(m) => {
                if let Some(m) = m.get(occ) {
                    for i in 0..m.len() {
                        f(m.row(i));
                    }
                }
            }
            Rows::Stored { store, items, .. } => {
                each_stored(store, items.get(occ).map_or(&[][..], |r| &r[..]), f);
            }
        }
    }
}

/// Where an item's vector is.
enum Located {
    /// A row of the vector file.
    Row(usize),
    /// Not in the file: a text, embedded now.
    Embedded(Vec<f32>),
}

/// Finds an item's vector: its row in `store`, else a text's embedding; none for a statement
/// the file lacks.
fn locate(store: &Store, item: &Item) -> Option<Located> {
    let key = match item {
        Item::Key(k) => *k,
        Item::Text(t) => crate::index::vectors::key(t),
    };
    match (store.position(key), item) {
        (Some(i), _) => Some(Located::Row(i)),
        (None, Item::Text(t)) => Some(Located::Embedded(embed::Model::bundled().embed(t))),
        (None, Item::Key(_)) => None,
    }
}

/// Calls `f` with the vector of each of `items`.
fn each_stored(store: &Store, items: &[Item], mut f: impl FnMut(&[f32])) {
    let mut buf = [0.0f32; DIMS];
    for item in items {
        match locate(store, item) {
            Some(Located::Row(i)) => {
                store.row_into(i, &mut buf);
                f(&buf);
            }
            Some(Located::Embedded(v)) => f(&v),
            None => {}
        }
    }
}

/// Per-occupation vectors, built with the mapper.
pub struct Tables {
    /// Statement vectors of each occupation.
    statements: Rows,
    /// Title vectors of each occupation: its own title, then its known alternate titles.
    titles: Rows,
    /// Each occupation's statement centroid, scaled to length 1 (a zero row when it has none).
    centroids: Matrix,
}

/// The two semantic features of one occupation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Evidence {
    /// Mean cosine of the posting with its best [`TOP_STATEMENTS`] statements.
    pub statements: f32,
    /// Best cosine of the posting's title with the occupation's titles.
    pub title: f32,
}

impl Default for Tables {
    fn default() -> Tables {
        Tables::new(Rows::Owned(Vec::new()), Rows::Owned(Vec::new()), 0)
    }
}

impl Tables {
    /// The tables with centroids summed before (`centroids`: one row per occupation).
    pub fn with_centroids(statements: Rows, titles: Rows, centroids: Matrix) -> Tables {
        Tables {
            statements,
            titles,
            centroids,
        }
    }

    /// The statement centroids, one row per occupation.
    pub fn centroids(&self) -> &Matrix {
        &self.centroids
    }

    /// Builds the tables of `occupations` occupations from their statement and title vectors
    /// (the centroids are summed here, in parallel).
    pub fn new(statements: Rows, titles: Rows, occupations: usize) -> Tables {
        use rayon::prelude::*;
        let sums: Vec<Vec<f32>> = (0..occupations)
            .into_par_iter()
            .map(|o| {
                let mut c = vec![0.0f32; DIMS];
                statements.each(o, |row| {
                    for (x, y) in c.iter_mut().zip(row) {
                        *x += y;
                    }
                });
                embed::normalise(&mut c);
                c
            })
            .collect();
        let mut centroids = Matrix::with_rows(occupations);
        for c in &sums {
            centroids.push(c);
        }
        Tables {
            statements,
            titles,
            centroids,
        }
    }

    /// The occupations whose statement centroids are nearest to the posting, best first.
    pub fn neighbours(&self, posting: &[f32], k: usize) -> Vec<(usize, f32)> {
        let mut all: Vec<(usize, f32)> = (0..self.centroids.len())
            .map(|o| (o, embed::dot(posting, self.centroids.row(o))))
            .filter(|(_, c)| *c > 0.0)
            .collect();
        let k = k.min(all.len());
        if k == 0 {
            return Vec::new();
        }
        all.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        all.truncate(k);
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all
    }

    /// The semantic evidence for occupation `occ` (cosines below zero count as zero).
    pub fn evidence(&self, occ: usize, posting: &[f32], title: Option<&[f32]>) -> Evidence {
        let mut best = [0.0f32; TOP_STATEMENTS];
        let statements = self.statements.of(occ);
        if let Some(m) = &statements {
            for i in 0..m.len() {
                let c = m.dot(i, posting);
                if c > best[TOP_STATEMENTS - 1] {
                    best[TOP_STATEMENTS - 1] = c;
                    best.sort_by(|a, b| b.total_cmp(a));
                }
            }
        }
        let n = statements.map_or(0, |m| m.len()).clamp(1, TOP_STATEMENTS);
        let statements = best.iter().take(n).sum::<f32>() / n as f32;
        let title = match (title, self.titles.of(occ)) {
            (Some(t), Some(m)) => (0..m.len()).map(|i| m.dot(i, t)).fold(0.0f32, f32::max),
            _ => 0.0,
        };
        // Quantised vectors are unit length only to about 1e-3.
        Evidence {
            statements: statements.clamp(0.0, 1.0),
            title: title.clamp(0.0, 1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::Model;

    fn matrix(texts: &[&str]) -> Matrix {
        let m = Model::bundled();
        let mut out = Matrix::default();
        for t in texts {
            out.push(&m.embed(t));
        }
        out
    }

    fn tables() -> Tables {
        Tables::new(
            Rows::Owned(vec![
                matrix(&[
                    "Administer medications to patients and monitor their reactions",
                    "Record patients' medical histories and symptoms",
                ]),
                matrix(&[
                    "Weld components in flat, vertical, or overhead positions",
                    "Operate welding equipment and grind welds smooth",
                ]),
                Matrix::default(),
            ]),
            Rows::Owned(vec![
                matrix(&["Registered Nurses", "Staff Nurse"]),
                matrix(&["Welders, Cutters, Solderers, and Brazers", "Welder"]),
                Matrix::default(),
            ]),
            3,
        )
    }

    #[test]
    fn the_nearer_occupation_has_more_evidence_and_leads_the_neighbours() {
        let t = tables();
        let m = Model::bundled();
        let posting = m.embed("give patients their medicine and chart vital signs");
        let title = m.embed("ICU nurse");
        let nurse = t.evidence(0, &posting, Some(&title));
        let welder = t.evidence(1, &posting, Some(&title));
        assert!(nurse.statements > welder.statements, "{nurse:?} {welder:?}");
        assert!(nurse.title > welder.title, "{nurse:?} {welder:?}");
        let near = t.neighbours(&posting, 5);
        assert_eq!(near[0].0, 0);
        assert!(
            near.iter().all(|(o, _)| *o != 2),
            "no statements, no centroid"
        );
    }

    #[test]
    fn no_title_and_no_statements_give_zero_and_values_stay_in_range() {
        let t = tables();
        let posting = Model::bundled().embed("weld steel frames");
        let e = t.evidence(1, &posting, None);
        assert_eq!(e.title, 0.0);
        assert!((0.0..=1.0).contains(&e.statements));
        assert_eq!(t.evidence(2, &posting, None), Evidence::default());
        assert_eq!(t.evidence(99, &posting, None), Evidence::default());
        assert!(t.neighbours(&posting, 0).is_empty());
    }
}
