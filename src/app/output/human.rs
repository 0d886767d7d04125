//! Human text: every result type for people, with optional colour, written to any `impl Write`.
//! Text from the index or a request is escaped for the terminal (`esc`) before it is written.

use std::io::{self, Write};
use std::ops::Range;

use crate::domain::level::Level;
use crate::index::ingest::IngestReport;
use crate::index::show::OccupationView;
use crate::index::stats::Stats;
use crate::map::MapResult;
use crate::map::eval::EvalReport;
use crate::search::relevance::SearchEvalReport;
use crate::search::{OccupationResults, SearchHit, SearchResults};

/// How human text is decorated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colour for matched words and headings.
    pub color: bool,
}

const HL_ON: &str = "\x1b[1;33m";
const DIM_ON: &str = "\x1b[2m";
const BOLD_ON: &str = "\x1b[1m";
const OFF: &str = "\x1b[0m";

/// Text from an index, an export or a request made safe for a terminal: control characters
/// (escape sequences, carriage returns, line breaks) and the invisible bidirectional and
/// zero-width marks that can make text read differently are shown as `\u{..}` escapes.
/// Validation refuses them at ingest; this also covers indexes built before it did.
pub fn esc(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Style {
    /// `s`, escaped for the terminal, in the decoration `on` when colour is on.
    fn wrap(&self, on: &str, s: &str) -> String {
        if self.color {
            format!("{on}{}{OFF}", esc(s))
        } else {
            esc(s).into_owned()
        }
    }

    /// The text, escaped for the terminal, with ranges highlighted (plain when colour is off).
    pub fn highlighted(&self, text: &str, ranges: &[Range<usize>]) -> String {
        if !self.color {
            return esc(text).into_owned();
        }
        let mut out = String::new();
        let mut at = 0;
        for r in ranges {
            // Ranges come from the index; one that does not fit the text is not highlighted.
            let (Some(before), Some(word)) = (text.get(at..r.start), text.get(r.clone())) else {
                continue;
            };
            out.push_str(&esc(before));
            out.push_str(&self.wrap(HL_ON, word));
            at = r.end;
        }
        out.push_str(&esc(text.get(at..).unwrap_or("")));
        out
    }
}

/// The indexing summary for people.
pub fn index_report<W: Write>(w: &mut W, r: &IngestReport) -> io::Result<()> {
    for rej in &r.rejected {
        writeln!(w, "rejected: {}", esc(&rej.to_string()))?;
    }
    for warn in &r.warnings {
        writeln!(w, "warning: {}", esc(warn))?;
    }
    // One line per reason, in the order first met, with one path as an example.
    let mut reasons: Vec<(&str, usize, &str)> = Vec::new();
    for s in &r.skipped {
        match reasons.iter_mut().find(|(reason, ..)| *reason == s.reason) {
            Some(entry) => entry.1 += 1,
            None => reasons.push((&s.reason, 1, &s.path)),
        }
    }
    for (reason, n, example) in reasons {
        writeln!(
            w,
            "skipped {n} file(s): {}, e.g. {}",
            esc(reason),
            esc(example)
        )?;
    }
    if !r.committed {
        writeln!(
            w,
            "nothing committed: {} file(s) rejected in --strict mode; the index is unchanged",
            r.rejected.len()
        )?;
        return Ok(());
    }
    writeln!(
        w,
        "indexed {} statements of {} occupations from {} file(s) into {} in {:.2}s ({:.0} statements/s); replaced {} previously indexed; rejected {}",
        r.statements_added,
        r.occupations,
        r.files_read,
        r.index,
        r.elapsed_secs,
        r.statements_per_sec,
        r.statements_replaced,
        r.rejected.len()
    )
}

/// One hit: its rank, code, title, level and score on a line (with "(some words)" when it does
/// not hold every unit, so that a reader sees where the second tier begins), then the statement
/// with its matches highlighted, then the score's explanation when asked for.
fn hit_block<W: Write>(w: &mut W, hit: &SearchHit, style: Style, indent: &str) -> io::Result<()> {
    writeln!(
        w,
        "{indent}{}. {}  {}  [{}]  score {:.3}{}",
        hit.rank,
        style.wrap(BOLD_ON, &hit.soc),
        esc(&hit.title),
        hit.level,
        hit.score,
        if hit.all_terms { "" } else { "  (some words)" }
    )?;
    writeln!(
        w,
        "{indent}   {}",
        style.highlighted(&hit.statement, &hit.byte_ranges)
    )?;
    if let Some(e) = &hit.explain {
        explain_tree(w, e, &format!("{indent}     "), style)?;
    }
    Ok(())
}

/// Prints a score explanation tree, one node a line.
fn explain_tree<W: Write>(
    w: &mut W,
    e: &serde_json::Value,
    indent: &str,
    style: Style,
) -> io::Result<()> {
    let value = e.get("value").and_then(|v| v.as_f64()).unwrap_or(0.0);
    let desc = e.get("description").and_then(|v| v.as_str()).unwrap_or("");
    writeln!(
        w,
        "{indent}{}",
        style.wrap(DIM_ON, &format!("{value:.3} {desc}"))
    )?;
    if let Some(details) = e.get("details").and_then(|d| d.as_array()) {
        for d in details {
            explain_tree(w, d, &format!("{indent}  "), style)?;
        }
    }
    Ok(())
}

/// Statement hits for people.
pub fn search<W: Write>(w: &mut W, r: &SearchResults, style: Style) -> io::Result<()> {
    for hit in &r.hits {
        hit_block(w, hit, style, "")?;
        writeln!(w)?;
    }
    match (r.total, r.total_all_terms) {
        (Some(total), Some(all)) => {
            writeln!(w, "{total} statement(s) match, {all} with every word")
        }
        _ => Ok(()),
    }
}

/// Occupations for people.
pub fn occupations<W: Write>(w: &mut W, r: &OccupationResults, style: Style) -> io::Result<()> {
    for o in &r.occupations {
        let spread: Vec<String> = Level::ALL
            .iter()
            .map(|l| format!("{l} {}", o.levels.get(*l)))
            .collect();
        writeln!(
            w,
            "{}. {}  {}  score {:.3}  ({} matching: {})",
            o.rank,
            style.wrap(BOLD_ON, &o.soc),
            esc(&o.title),
            o.score,
            o.matched,
            spread.join(", ")
        )?;
        if !o.named_by.is_empty() {
            writeln!(w, "   named by: {}", esc(&o.named_by.join("; ")))?;
        }
        if let Some(x) = &o.explain {
            write!(
                w,
                "   score = statements {:.3} + levels {:.3} + matches {:.3} + titles and tools {:.3}",
                x.statements, x.levels, x.matches, x.named
            )?;
            match x.semantic {
                Some(s) => writeln!(w, " + semantic {s:.3}")?,
                None => writeln!(w)?,
            }
        }
        for h in &o.hits {
            writeln!(
                w,
                "   [{}] {}",
                h.level,
                style.highlighted(&h.statement, &h.byte_ranges)
            )?;
        }
        writeln!(w)?;
    }
    writeln!(w, "{} occupation(s) match", r.total)
}

/// An occupation's framework for people.
pub fn show<W: Write>(w: &mut W, v: &OccupationView, style: Style) -> io::Result<()> {
    writeln!(w, "{}  {}", style.wrap(BOLD_ON, &v.soc), esc(&v.title))?;
    let zone = v.job_zone.map_or("unknown".to_string(), |z| z.to_string());
    writeln!(
        w,
        "group: {}   job zone: {zone}   framework: {}",
        esc(&v.group),
        esc(&v.version)
    )?;
    for l in &v.levels {
        writeln!(w, "\n{}", style.wrap(BOLD_ON, l.level.as_str()))?;
        for (i, s) in l.statements.iter().enumerate() {
            writeln!(w, "  {:>2}. {}", i + 1, esc(s))?;
        }
    }
    if !v.titles.is_empty() {
        let heading = format!("also called ({})", v.titles.len());
        writeln!(w, "\n{}", style.wrap(BOLD_ON, &heading))?;
        writeln!(w, "  {}", esc(&v.titles.join("; ")))?;
    }
    if !v.tools.is_empty() {
        let heading = format!("tools and technology ({})", v.tools.len());
        writeln!(w, "\n{}", style.wrap(BOLD_ON, &heading))?;
        for t in &v.tools {
            match t.category.as_str() {
                "" => writeln!(w, "  {}", esc(&t.name))?,
                c => writeln!(w, "  {}  ({})", esc(&t.name), esc(c))?,
            }
        }
    }
    Ok(())
}

/// Index counts for people.
pub fn stats<W: Write>(w: &mut W, s: &Stats) -> io::Result<()> {
    writeln!(w, "occupations  {}", s.occupations)?;
    writeln!(w, "statements   {}", s.statements)?;
    for l in Level::ALL {
        let n = s.levels.get(l);
        writeln!(w, "  {:<11}{n}", l.as_str())?;
    }
    writeln!(
        w,
        "size         {} bytes in {} segment(s)",
        s.bytes, s.segments
    )?;
    writeln!(w, "groups")?;
    for g in &s.groups {
        writeln!(
            w,
            "  {}  {:<50} {:>5} occupations {:>7} statements",
            g.code,
            esc(&g.name),
            g.occupations,
            g.statements
        )?;
    }
    Ok(())
}

/// A bar of `width` cells for a share in 0..=1.
fn bar(share: f32, width: usize) -> String {
    let cells = (share.clamp(0.0, 1.0) * width as f32).round() as usize;
    format!("{}{}", "█".repeat(cells), "·".repeat(width - cells))
}

/// A posting's matches for people: level bars, evidence, gaps.
pub fn map<W: Write>(w: &mut W, r: &MapResult, style: Style) -> io::Result<()> {
    if r.matches.is_empty() {
        return writeln!(w, "no occupation matches this posting");
    }
    for m in &r.matches {
        writeln!(
            w,
            "{}. {}  {}  score {:.3}  confidence {:.0}%",
            m.rank,
            style.wrap(BOLD_ON, &m.soc),
            esc(&m.title),
            m.score,
            m.confidence * 100.0
        )?;
        let s = &m.level_scores;
        writeln!(w, "   level: {}", style.wrap(BOLD_ON, m.level.as_str()))?;
        for (l, v) in [
            (Level::Emerging, s.emerging),
            (Level::Developing, s.developing),
            (Level::Proficient, s.proficient),
            (Level::Advanced, s.advanced),
        ] {
            writeln!(
                w,
                "     {:<11}{} {:>3.0}%",
                l.as_str(),
                bar(v, 20),
                v * 100.0
            )?;
        }
        if !m.evidence.is_empty() {
            writeln!(w, "   evidence:")?;
            for e in &m.evidence {
                let ranges = char_to_byte_ranges(&e.statement, &e.highlights);
                writeln!(
                    w,
                    "     [{}] {}",
                    e.level,
                    style.highlighted(&e.statement, &ranges)
                )?;
            }
        }
        if !m.gap.is_empty() {
            writeln!(w, "   not covered by the posting:")?;
            for g in &m.gap {
                writeln!(w, "     [{}] {}", g.level, esc(&g.statement))?;
            }
        }
        writeln!(w)?;
    }
    if r.uncertain {
        match &r.shared_group {
            Some(g) => writeln!(
                w,
                "uncertain: the best matches are close; they share {} {} ({} group)",
                g.code,
                esc(&g.name),
                g.level
            )?,
            None => writeln!(
                w,
                "uncertain: the best matches are close or the evidence is weak"
            )?,
        }
    }
    if !r.seniority.is_empty() {
        let cues: Vec<String> = r
            .seniority
            .iter()
            .map(|c| format!("\"{}\" ({:.1})", esc(c.phrase.trim()), c.level))
            .collect();
        writeln!(w, "seniority: {}", cues.join(", "))?;
    }
    if r.truncated {
        writeln!(
            w,
            "note: only the first {} bytes of the text were read",
            crate::map::MAX_TEXT_BYTES
        )?;
    }
    Ok(())
}

/// The byte ranges of character ranges (a mapping's evidence carries character ranges, for web
/// pages); a range that does not fit the text is dropped rather than trusted.
fn char_to_byte_ranges(text: &str, ranges: &[[usize; 2]]) -> Vec<Range<usize>> {
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain([text.len()])
        .collect();
    ranges
        .iter()
        .filter_map(|[a, b]| Some(*offsets.get(*a)?..*offsets.get(*b)?))
        .collect()
}

/// Evaluation figures for people.
pub fn eval<W: Write>(w: &mut W, r: &EvalReport) -> io::Result<()> {
    let pct = |v: f64| format!("{:5.1}%", v * 100.0);
    writeln!(w, "postings            {}", r.n)?;
    writeln!(w, "                    top-1   top-5")?;
    for (name, acc) in [
        ("O*NET-SOC code", &r.onet_soc),
        ("6-digit SOC", &r.soc6),
        ("major group", &r.major),
    ] {
        writeln!(w, "{name:<20}{}  {}", pct(acc.top1), pct(acc.top5))?;
    }
    for k in &r.by_kind {
        writeln!(
            w,
            "  {:<18}n {:<5} O*NET-SOC {} / {}   6-digit {} / {}   major {}",
            k.kind,
            k.n,
            pct(k.onet_soc.top1),
            pct(k.onet_soc.top5),
            pct(k.soc6.top1),
            pct(k.soc6.top5),
            pct(k.major.top1)
        )?;
    }
    if r.level_n == 0 {
        writeln!(w, "level               no line has a level label")?;
    } else {
        writeln!(
            w,
            "level ({} labelled) exact {}  within one {}",
            r.level_n,
            pct(r.level_exact),
            pct(r.level_within_one)
        )?;
        writeln!(w, "level confusion (rows true, columns predicted: E D P A)")?;
        for (l, row) in Level::ALL.iter().zip(r.level_confusion.iter()) {
            writeln!(
                w,
                "  {:<11}{:>5}{:>5}{:>5}{:>5}",
                l.as_str(),
                row[0],
                row[1],
                row[2],
                row[3]
            )?;
        }
    }
    writeln!(
        w,
        "uncertain           {}  (top-1 of the rest {})",
        pct(r.uncertain_share),
        pct(r.certain_top1)
    )?;
    writeln!(
        w,
        "calibration (confidence bin: n, mean confidence, accuracy)"
    )?;
    for b in &r.calibration {
        writeln!(
            w,
            "  {:.1}-{:.1}: {:>5}  {}  {}",
            b.from,
            b.to,
            b.n,
            pct(b.mean_confidence),
            pct(b.accuracy)
        )?;
    }
    Ok(())
}

/// The lines `eval` could not use, one `error:` line each (for stderr).
pub fn eval_errors<W: Write>(w: &mut W, r: &EvalReport) -> io::Result<()> {
    r.errors
        .iter()
        .try_for_each(|e| writeln!(w, "error: {}", esc(e)))
}

/// `eval-search`: one row per query, then the means.
pub fn search_eval<W: Write>(w: &mut W, r: &SearchEvalReport) -> io::Result<()> {
    writeln!(w, "ranking: {}   queries: {}", r.ranking, r.split.as_str())?;
    writeln!(
        w,
        "{:<6} {:<9} {:>8} {:>6} {:>10} {:>9}  query",
        "id", "split", "nDCG@10", "P@10", "recall@100", "unjudged"
    )?;
    for q in &r.per_query {
        writeln!(
            w,
            "{:<6} {:<9} {:>8.3} {:>6.2} {:>10.3} {:>9}  {}",
            q.id,
            q.split.as_str(),
            q.ndcg10,
            q.p10,
            q.recall100,
            q.unjudged10,
            q.query
        )?;
    }
    let m = &r.mean;
    writeln!(
        w,
        "mean over {} queries: nDCG@10 {:.3}  P@10 {:.3}  recall@100 {:.3}  unjudged in top 10: {}",
        m.queries, m.ndcg10, m.p10, m.recall100, m.unjudged10
    )?;
    if !r.no_relevant.is_empty() {
        writeln!(
            w,
            "left out, nothing judged relevant: {}",
            r.no_relevant.join(" ")
        )?;
    }
    if !r.unjudged.is_empty() {
        writeln!(w, "left out, not judged: {}", r.unjudged.join(" "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(title: &str, statement: &str, ranges: Vec<Range<usize>>) -> SearchHit {
        SearchHit {
            rank: 1,
            id: "33-3051.04:emerging:0".into(),
            soc: "33-3051.04".into(),
            title: title.into(),
            group: String::new(),
            level: Level::Emerging,
            level_ord: 0,
            position: 0,
            job_zone: None,
            topic: String::new(),
            statement: statement.into(),
            score: 1.0,
            all_terms: true,
            snippet: String::new(),
            highlights: Vec::new(),
            explain: None,
            byte_ranges: ranges,
        }
    }

    #[test]
    fn text_from_an_index_cannot_drive_the_terminal() {
        assert_eq!(esc("plain — text"), "plain — text");
        assert_eq!(esc("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(esc("x\ry"), "x\\u{d}y");
        assert_eq!(esc("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(esc("c1\u{9b}31m"), "c1\\u{9b}31m");
        // An index written before validation refused such titles still prints safely.
        let r = SearchResults {
            hits: vec![hit(
                "Officer\u{1b}]0;owned\u{7}",
                "inspect \u{1b}[31mcargo",
                std::iter::once(13..18).collect(),
            )],
            total: None,
            total_all_terms: None,
        };
        for color in [false, true] {
            let mut out = Vec::new();
            search(&mut out, &r, Style { color }).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("Officer\\u{1b}]0;owned\\u{7}"), "{text}");
            assert!(text.contains("inspect \\u{1b}[31m"), "{text}");
            // Only our own colour codes remain: bold SOC, highlighted word, resets.
            let escapes = text.matches('\u{1b}').count();
            assert_eq!(escapes, if color { 4 } else { 0 }, "{text:?}");
        }
    }

    #[test]
    fn highlights_that_do_not_fit_the_text_are_dropped_not_a_panic() {
        let r = SearchResults {
            hits: vec![hit("T", "cargo", vec![3..40, 0..5])],
            total: None,
            total_all_terms: None,
        };
        let mut out = Vec::new();
        search(&mut out, &r, Style { color: true }).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("cargo"));
    }
}
