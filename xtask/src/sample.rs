//! The bundled sample collection: deterministic frameworks derived from O*NET task statements.
//!
//! Each occupation's task statements are ranked by what the task is (directing, policy and budget
//! work high; recording, following procedures and assisting low), split into four proficiency
//! levels by rank, worded the way the real export words each level, and about a fifth of them
//! (chosen by task id) are held back for the mapping dev set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use skillmap::model::{Level, RawExport, RawFramework, RawLevel, RawOccupation};
use skillmap::seniority::task_seniority as seniority;

/// The O*NET attribution that every copy of the data keeps.
pub const ONET_ATTRIBUTION: &str = "This product includes information from the O*NET Database by the U.S. Department of Labor, Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0 license. O*NET is a trademark of USDOL/ETA.";

/// One O*NET task statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub soc: String,
    pub id: u64,
    pub text: String,
    pub dwas: Vec<String>,
}

/// A task's place in the sample: its level, and whether it is held back from the collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub task: Task,
    pub level: Level,
    pub held_back: bool,
}

/// The O*NET and SOC tables the generator reads.
pub struct Sources {
    /// O*NET-SOC code → (title, description).
    pub occupations: BTreeMap<String, (String, String)>,
    /// O*NET-SOC code → its tasks, in task-id order.
    pub tasks: BTreeMap<String, Vec<Task>>,
    /// Major group code (`33`) → name without the trailing " Occupations".
    pub majors: BTreeMap<String, String>,
}

fn read_tsv(path: &Path) -> Result<Vec<Vec<String>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(unquote).collect())
        .collect())
}

/// A TSV field as written by spreadsheet tools: `"a ""b"" c"` is `a "b" c`.
fn unquote(field: &str) -> String {
    match field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => field.to_string(),
    }
}

impl Sources {
    /// Reads `onet/occupations.tsv`, `onet/tasks.tsv` and `soc/soc2018.tsv` below `dir`.
    pub fn load(dir: &Path) -> Result<Sources> {
        let bad = |p: &Path, what: &str| anyhow::anyhow!("{}: {what}", p.display());
        let occ_path = dir.join("onet/occupations.tsv");
        let mut occupations = BTreeMap::new();
        for row in read_tsv(&occ_path)? {
            let [code, title, desc] = row.as_slice() else {
                return Err(bad(&occ_path, "expected 3 columns"));
            };
            occupations.insert(code.clone(), (title.clone(), desc.clone()));
        }
        let task_path = dir.join("onet/tasks.tsv");
        let mut tasks: BTreeMap<String, Vec<Task>> = BTreeMap::new();
        for row in read_tsv(&task_path)? {
            let [code, id, text, dwas] = row.as_slice() else {
                return Err(bad(&task_path, "expected 4 columns"));
            };
            let id = id
                .parse()
                .map_err(|_| bad(&task_path, &format!("task id `{id}` is not a number")))?;
            tasks.entry(code.clone()).or_default().push(Task {
                soc: code.clone(),
                id,
                text: text.trim().to_string(),
                dwas: dwas
                    .split('|')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(str::to_string)
                    .collect(),
            });
        }
        for list in tasks.values_mut() {
            list.sort_by_key(|t| t.id);
        }
        let soc_path = dir.join("soc/soc2018.tsv");
        let mut majors = BTreeMap::new();
        for row in read_tsv(&soc_path)? {
            if row.len() >= 3 && row[2] == "major" {
                let name = row[1].trim_end_matches(" Occupations").to_string();
                majors.insert(row[0][..2].to_string(), name);
            }
        }
        Ok(Sources {
            occupations,
            tasks,
            majors,
        })
    }
}

/// A small, fast, seedable generator (splitmix64) shared by the generators: the same seed gives
/// the same bytes.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A 64-bit mix (one splitmix64 step) so that hold-back choices do not follow task-id order.
fn mix(x: u64) -> u64 {
    Rng(x).next()
}

/// Is this task one of the ~20% held back from the sample for the mapping dev set?
pub fn held_back_by_id(task_id: u64) -> bool {
    mix(task_id).is_multiple_of(5)
}

/// A stable per-occupation seed (FNV-1a of the code) for generators that draw per occupation.
pub fn held_back_seed(soc: &str) -> u64 {
    soc.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Places an occupation's tasks: ranks them by seniority, splits the ranking into four levels of
/// (nearly) equal size, and holds back ~20% by task id while keeping every level non-empty that
/// has tasks and at least four tasks (or all, if fewer) in the sample.
pub fn place(tasks: &[Task]) -> Vec<Placed> {
    let mut ranked: Vec<&Task> = tasks.iter().collect();
    ranked.sort_by(|a, b| {
        seniority(&a.text)
            .total_cmp(&seniority(&b.text))
            .then(mix(a.id).cmp(&mix(b.id)))
    });
    let n = ranked.len();
    let mut placed: Vec<Placed> = ranked
        .iter()
        .enumerate()
        .map(|(rank, t)| Placed {
            task: (*t).clone(),
            level: Level::ALL[(rank * 4 / n.max(1)).min(3)],
            held_back: held_back_by_id(t.id),
        })
        .collect();
    // Every level that has tasks keeps at least one in the sample.
    for level in Level::ALL {
        let in_level = || placed.iter().filter(|p| p.level == level);
        if in_level().count() > 0
            && in_level().all(|p| p.held_back)
            && let Some(p) = placed.iter_mut().find(|p| p.level == level)
        {
            p.held_back = false;
        }
    }
    // At least four tasks (or all) stay in the sample.
    while placed.iter().filter(|p| !p.held_back).count() < n.min(4) {
        match placed.iter_mut().rev().find(|p| p.held_back) {
            Some(p) => p.held_back = false,
            None => break,
        }
    }
    placed.sort_by_key(|p| p.task.id);
    placed
}

const WORDING: [&[&str]; 4] = [
    &[
        "under direct supervision",
        "using checklists and reference materials under supervisor guidance",
        "following established procedures with supervisory review",
        "with guidance from experienced staff on routine cases",
    ],
    &[
        "with minimal supervision during routine operations",
        "independently in familiar, recurring situations",
        "with reduced supervisory input across standard workloads",
    ],
    &[
        "independently across complex and non-routine situations",
        "autonomously while mentoring less experienced colleagues",
        "applying advanced judgment to non-routine cases without supervisory input",
    ],
    &[
        "setting strategy and policy across the organization",
        "designing organization-wide programs, standards and practices",
        "leading at an organizational scale and shaping long-term direction",
    ],
];

/// The topic of a task: its first detailed work activity without the leading verb
/// (`Direct financial operations.` → `Financial operations`).
pub fn topic_for(task: &Task) -> String {
    const LEADING: [&str; 16] = [
        "to", "with", "for", "on", "in", "of", "about", "from", "into", "the", "between", "as",
        "at", "by", "up", "out",
    ];
    let dwa = task.dwas.first().map(String::as_str).unwrap_or(&task.text);
    let dwa = dwa.trim().trim_end_matches('.');
    let mut words: Vec<&str> = dwa.split_whitespace().collect();
    if words.len() > 1 {
        words.remove(0);
        while words.len() > 1 && LEADING.contains(&words[0].to_ascii_lowercase().as_str()) {
            words.remove(0);
        }
    }
    capitalize(&words.join(" "))
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Lower-cases the first letter unless the first word is an acronym.
fn decapitalize(s: &str) -> String {
    let first_word = s.split_whitespace().next().unwrap_or("");
    if first_word.chars().filter(|c| c.is_uppercase()).count() > 1 {
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The statement for a placed task: `Topic — action in context`, worded for its level.
pub fn statement_for(p: &Placed) -> String {
    let pool = WORDING[p.level.index()];
    let context = pool[(mix(p.task.id ^ 0x5EED) % pool.len() as u64) as usize];
    let action = decapitalize(p.task.text.trim().trim_end_matches('.'));
    format!("{} — {action}, {context}.", topic_for(&p.task))
}

/// Builds the sample export of one occupation, or `None` when it has no tasks.
pub fn export_for(src: &Sources, soc: &str) -> Option<RawExport> {
    let tasks = src.tasks.get(soc)?;
    let (title, description) = src.occupations.get(soc)?;
    let placed = place(tasks);
    let mut levels = indexmap::IndexMap::new();
    for level in Level::ALL {
        let statements: Vec<String> = placed
            .iter()
            .filter(|p| p.level == level && !p.held_back)
            .take(10)
            .map(statement_for)
            .collect();
        if !statements.is_empty() {
            levels.insert(
                level.as_str().to_string(),
                RawLevel {
                    label: Some(capitalize(level.as_str())),
                    statements,
                },
            );
        }
    }
    Some(RawExport {
        schema_version: "1.0".into(),
        exported_at: Some("2026-11-27T00:00:00.000Z".into()),
        occupation: RawOccupation {
            soc: soc.to_string(),
            title: title.clone(),
            group: src.majors.get(&soc[..2]).cloned(),
            sector: None,
            job_zone: None,
            job_zone_inferred: None,
        },
        framework: RawFramework {
            version: Some("sample-1.0".into()),
            description: Some(
                "Sample framework derived from O*NET task statements by skillmap gen-sample; not a real framework generator's output."
                    .into(),
            ),
            context_covered: Some(description.clone()),
            levels,
        },
        sources: Some(serde_json::json!({
            "onet": "O*NET task statements and detailed work activities (CC BY 4.0)",
            "generator": "skillmap gen-sample"
        })),
        attribution: Some(ONET_ATTRIBUTION.into()),
    })
}

/// Writes the collection: the real exports from `source/exports/` and one sample export for
/// every other occupation with task statements, into `out/frameworks/`. Returns the files written.
pub fn write_collection(source: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    let src = Sources::load(source)?;
    let dir = out.join("frameworks");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot write {}", &dir.display()))?;
    let mut written = Vec::new();
    let mut real = std::collections::BTreeSet::new();
    let exports = source.join("exports");
    let entries = std::fs::read_dir(&exports)
        .with_context(|| format!("cannot read {}", &exports.display()))?;
    let mut real_files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    real_files.sort();
    for path in real_files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let fw = skillmap::model::parse_export(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let target = dir.join(format!("{}.json", fw.soc));
        std::fs::write(&target, &bytes)
            .with_context(|| format!("cannot write {}", &target.display()))?;
        real.insert(fw.soc);
        written.push(target);
    }
    for soc in src.tasks.keys().filter(|s| !real.contains(*s)) {
        let Some(export) = export_for(&src, soc) else {
            continue;
        };
        let target = dir.join(format!("{soc}.json"));
        let mut text = serde_json::to_string_pretty(&export)?;
        text.push('\n');
        std::fs::write(&target, text)
            .with_context(|| format!("cannot write {}", &target.display()))?;
        written.push(target);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: u64, text: &str) -> Task {
        Task {
            soc: "11-1011.00".into(),
            id,
            text: text.into(),
            dwas: vec!["Direct financial operations.".into()],
        }
    }

    #[test]
    fn seniority_orders_typical_tasks() {
        assert!(
            seniority("Direct the organization's budget and policy.") > seniority("Inspect cargo.")
        );
        assert!(seniority("Inspect cargo.") > seniority("Record inspection results in logs."));
    }

    #[test]
    fn placement_is_deterministic_and_levels_are_ordered_by_seniority() {
        let tasks: Vec<Task> = [
            "Record data.",
            "Direct budget policy.",
            "Inspect equipment.",
            "Supervise staff.",
            "Assist customers.",
            "Establish strategic plans.",
            "Operate machines.",
            "Evaluate programs.",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| task(i as u64 + 100, t))
        .collect();
        let a = place(&tasks);
        assert_eq!(a, place(&tasks));
        let level_of = |text: &str| a.iter().find(|p| p.task.text == text).unwrap().level;
        assert!(level_of("Direct budget policy.") > level_of("Record data."));
        assert!(level_of("Establish strategic plans.") > level_of("Inspect equipment."));
        for l in Level::ALL {
            assert!(a.iter().any(|p| p.level == l && !p.held_back), "{l} empty");
        }
    }

    #[test]
    fn statements_have_topic_and_level_wording() {
        let p = Placed {
            task: task(1, "Direct or coordinate financial activities."),
            level: Level::Advanced,
            held_back: false,
        };
        let s = statement_for(&p);
        assert!(
            s.starts_with("Financial operations — direct or coordinate financial activities, "),
            "{s}"
        );
        assert!(WORDING[3].iter().any(|w| s.contains(w)), "{s}");
    }

    #[test]
    fn about_a_fifth_is_held_back() {
        let held = (0..10_000).filter(|&i| held_back_by_id(i)).count();
        assert!((1_800..2_200).contains(&held), "{held}");
    }
}
