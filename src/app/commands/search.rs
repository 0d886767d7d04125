//! `skillmap search`: statements that mention a skill, or (`--by-occupation`) the occupations
//! ranked by their evidence.

use std::io::Write;

use crate::app::cli::{Format, SearchArgs};
use crate::app::output::Renderer;
use crate::app::{Outcome, open_engine};
use crate::error::Error;
use crate::search::{self, SearchRequest, request};

pub fn run(args: SearchArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let engine = open_engine(&args.dir.index)?.for_one_query();
    let render = Renderer::for_stdout(args.format);
    let req = SearchRequest {
        query: args.query.join(" "),
        soc: args.soc,
        levels: args.level,
        job_zones: args.job_zone,
        limit: args.limit,
        offset: args.offset,
        explain: args.explain,
        // Totals are shown to people only; JSON Lines carry hits alone.
        count: args.format == Format::Human,
        semantic_ratio: request::semantic_ratio(args.hybrid, args.semantic_ratio)
            .map_err(Error::Invalid)?,
    }
    .validated()?;
    let found = if args.by_occupation {
        let r = search::search_occupations(&engine, &req)?;
        render.occupations(out, &r)?;
        r.total > 0
    } else {
        let r = search::search(&engine, &req)?;
        render.search(out, &r)?;
        !r.hits.is_empty() || r.total.is_some_and(|n| n > 0)
    };
    Ok(Outcome::found_if(found))
}
