//! Deterministic benchmark corpora: N exports in the real schema, recombined from O*NET text.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::sample::{Placed, Rng, Setting, Sources, Task, statement_for};
use anyhow::{Context, Result};
use skillmap::domain::framework::{RawExport, RawFramework, RawLevel};
use skillmap::domain::level::Level;

/// What the corpus generator writes.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    pub exports: usize,
    pub seed: u64,
    pub out: PathBuf,
    /// Write one export per file under `out/exports/`.
    pub files: bool,
    /// Write every export as one line of `out/exports.jsonl`.
    pub jsonl: bool,
}

/// Codes in a major group that no real detailed code has: each unused detailed number in order,
/// with variants .00 to .99.
struct MadeUpCodes {
    /// Per major group: the real detailed numbers, and the next (number, variant) to hand out.
    by_major: std::collections::HashMap<String, (std::collections::HashSet<u32>, u32, u32)>,
}

impl MadeUpCodes {
    fn new(detailed: &[&String]) -> Self {
        let mut by_major: std::collections::HashMap<String, _> = Default::default();
        for d in detailed {
            let entry = by_major
                .entry(d[..2].to_string())
                .or_insert_with(|| (std::collections::HashSet::new(), 0, 0));
            if let Ok(n) = d[3..7].parse::<u32>() {
                entry.0.insert(n);
            }
        }
        MadeUpCodes { by_major }
    }

    fn next(&mut self, major: &str) -> Result<String> {
        let Some((real, number, variant)) = self.by_major.get_mut(major) else {
            anyhow::bail!("no detailed code in major group {major}");
        };
        while real.contains(number) {
            *number += 1;
        }
        if *number > 9999 {
            anyhow::bail!("major group {major} has no more codes to make up");
        }
        let code = format!("{major}-{:04}.{:02}", *number, *variant);
        *variant += 1;
        if *variant == 100 {
            (*variant, *number) = (0, *number + 1);
        }
        Ok(code)
    }
}

/// Generates exports: export `i` takes a detailed SOC code round-robin with a two-digit variant,
/// its title, and 10 statements a level whose topics and actions are drawn from the tasks of
/// occupations in the same major group, worded for their level as the sample collection is.
/// Past 100 × the number of detailed codes (about 3.5M statements), the codes are made up in the
/// same major group from detailed numbers no real code uses, so that 10M statements can still
/// have distinct codes.
pub fn generate(src: &Sources, opts: &CorpusOptions) -> Result<usize> {
    let mut detailed: Vec<&String> = Vec::new();
    for soc in src.tasks.keys() {
        if detailed.last().is_none_or(|d| d[..7] != soc[..7]) {
            detailed.push(soc);
        }
    }
    let mut made_up = MadeUpCodes::new(&detailed);
    // Tasks by major group, for recombination.
    let mut by_major: std::collections::BTreeMap<&str, Vec<&Task>> = Default::default();
    for (soc, tasks) in &src.tasks {
        by_major.entry(&soc[..2]).or_default().extend(tasks.iter());
    }
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot write {}", &opts.out.display()))?;
    let mut jsonl = if opts.jsonl {
        let p = opts.out.join("exports.jsonl");
        Some((
            std::io::BufWriter::new(
                std::fs::File::create(&p)
                    .with_context(|| format!("cannot write {}", &p.display()))?,
            ),
            p,
        ))
    } else {
        None
    };
    let mut rng = Rng(opts.seed);
    for i in 0..opts.exports {
        let base = detailed[i % detailed.len()];
        let variant = i / detailed.len();
        let soc = if variant < 100 {
            format!("{}.{:02}", &base[..7], variant)
        } else {
            made_up.next(&base[..2])?
        };
        let pool = &by_major[&base[..2]];
        let job_zone = 1 + (rng.below(5) as u8);
        let setting = Setting::of(&soc, Some(job_zone));
        let mut levels = indexmap::IndexMap::new();
        for level in Level::ALL {
            let statements = (0..10)
                .map(|_| {
                    let mut task = pool[rng.below(pool.len())].clone();
                    let other = pool[rng.below(pool.len())];
                    task.dwas = other.dwas.clone();
                    task.id = rng.next();
                    statement_for(
                        &Placed {
                            task,
                            level,
                            held_back: false,
                        },
                        setting,
                    )
                })
                .collect();
            levels.insert(
                level.as_str().to_string(),
                RawLevel {
                    label: Some(crate::sample::capitalize(level.as_str())),
                    statements,
                },
            );
        }
        let export = RawExport {
            schema_version: "1.0".into(),
            exported_at: Some("2026-11-27T00:00:00.000Z".into()),
            occupation: src.occupation(&soc, base, Some(job_zone), true),
            framework: RawFramework {
                version: Some("corpus-1.0".into()),
                description: None,
                context_covered: None,
                levels,
            },
            sources: None,
            attribution: Some(crate::sample::ONET_ATTRIBUTION.into()),
        };
        if opts.files {
            let dir = opts.out.join("exports").join(format!("{:03}", i / 1000));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot write {}", &dir.display()))?;
            let p = dir.join(format!("{soc}.json"));
            std::fs::write(&p, serde_json::to_vec_pretty(&export)?)
                .with_context(|| format!("cannot write {}", &p.display()))?;
        }
        if let Some((w, p)) = jsonl.as_mut() {
            serde_json::to_writer(&mut *w, &export)?;
            w.write_all(b"\n")
                .with_context(|| format!("cannot write {}", p.as_path().display()))?;
        }
    }
    if let Some((mut w, p)) = jsonl {
        w.flush()
            .with_context(|| format!("cannot write {}", &p.display()))?;
    }
    Ok(opts.exports)
}

/// Loads the O*NET tables from `source` and generates the corpus.
pub fn generate_from(source: &Path, opts: &CorpusOptions) -> Result<usize> {
    generate(&Sources::load(source)?, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_codes_are_distinct_valid_and_never_a_real_detailed_code() {
        let real = ["11-0000.00", "11-0001.00", "11-0003.00", "53-7051.00"].map(String::from);
        let refs: Vec<&String> = real.iter().collect();
        let mut made = MadeUpCodes::new(&refs);
        let codes: Vec<String> = (0..250).map(|_| made.next("11").unwrap()).collect();
        let distinct: std::collections::HashSet<&String> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
        for c in &codes {
            assert!(skillmap::domain::soc::is_valid(c), "{c}");
            assert!(c.starts_with("11-"), "{c}");
            assert!(!["0000", "0001", "0003"].contains(&&c[3..7]), "{c}");
        }
        // The unused numbers in order, each with variants .00 to .99.
        assert_eq!(codes[0], "11-0002.00");
        assert_eq!(codes[99], "11-0002.99");
        assert_eq!(codes[100], "11-0004.00");
        assert!(made.next("99").is_err());
    }
}
