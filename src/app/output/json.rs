//! JSON for programs: one JSON value per line (JSON Lines), so that output streams and each
//! line parses on its own; the shapes are the serde types of the results.

use std::io::{self, Write};

use serde::Serialize;

use crate::search::{OccupationResults, SearchResults};

/// One JSON value on one line.
pub fn line<W: Write, T: Serialize>(w: &mut W, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value)?;
    writeln!(w)
}

/// Statement hits as JSON Lines.
pub fn search<W: Write>(w: &mut W, r: &SearchResults) -> io::Result<()> {
    r.hits.iter().try_for_each(|h| line(w, h))
}

/// Occupations as JSON Lines.
pub fn occupations<W: Write>(w: &mut W, r: &OccupationResults) -> io::Result<()> {
    r.occupations.iter().try_for_each(|o| line(w, o))
}
