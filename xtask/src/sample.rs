//! The bundled sample collection: deterministic frameworks derived from O*NET task statements.
//!
//! Each occupation's task statements are ranked by what the task is (directing, policy and budget
//! work high; recording, following procedures and assisting low), split into four proficiency
//! levels by rank, worded the way the real export words each level, and about a fifth of them
//! (chosen by task id) are held back for the mapping dev set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use skillmap::domain::framework::{
    RawExport, RawFramework, RawLevel, RawOccupation, RawTechnology,
};
use skillmap::domain::level::Level;

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
    /// O*NET-SOC code → job zone (1-5).
    pub job_zones: BTreeMap<String, u8>,
    /// O*NET-SOC code → alternate and reported titles and their short forms, first seen first,
    /// without case-insensitive repeats or the occupation's own title.
    pub titles: BTreeMap<String, Vec<String>>,
    /// O*NET-SOC code → its technology, in table order.
    pub technology: BTreeMap<String, Vec<RawTechnology>>,
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

/// `onet/tasks.tsv` below `dir`: each occupation's task statements, in task-id order.
fn load_tasks(dir: &Path) -> Result<BTreeMap<String, Vec<Task>>> {
    let bad = |p: &Path, what: &str| anyhow::anyhow!("{}: {what}", p.display());
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
    Ok(tasks)
}

impl Sources {
    /// The `occupation` block of an export with code `soc`, whose title, group, titles and
    /// tools are those of the O*NET occupation `base`.
    pub fn occupation(
        &self,
        soc: &str,
        base: &str,
        job_zone: Option<u8>,
        inferred: bool,
    ) -> RawOccupation {
        RawOccupation {
            soc: soc.to_string(),
            title: self
                .occupations
                .get(base)
                .map_or("", |t| t.0.as_str())
                .to_string(),
            group: self.majors.get(&base[..2]).cloned(),
            sector: None,
            job_zone,
            job_zone_inferred: job_zone.map(|_| inferred),
            alternate_titles: self.titles.get(base).cloned().unwrap_or_default(),
            technology: self.technology.get(base).cloned().unwrap_or_default(),
        }
    }

    /// Reads `onet/{occupations,tasks,job_zones,alternate_titles,reported_titles,
    /// technology_skills}.tsv` and `soc/soc2018.tsv` below `dir`.
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
        let tasks = load_tasks(dir)?;
        let soc_path = dir.join("soc/soc2018.tsv");
        let mut majors = BTreeMap::new();
        for row in read_tsv(&soc_path)? {
            if row.len() >= 3 && row[2] == "major" {
                let name = row[1].trim_end_matches(" Occupations").to_string();
                majors.insert(skillmap::domain::soc::major(&row[0]).to_string(), name);
            }
        }
        let zone_path = dir.join("onet/job_zones.tsv");
        let mut job_zones = BTreeMap::new();
        for row in read_tsv(&zone_path)? {
            let [code, zone] = row.as_slice() else {
                return Err(bad(&zone_path, "expected 2 columns"));
            };
            let zone = zone
                .parse()
                .ok()
                .filter(|z| skillmap::domain::JOB_ZONES.contains(z))
                .ok_or_else(|| bad(&zone_path, &format!("job zone `{zone}` is not 1-5")))?;
            job_zones.insert(code.clone(), zone);
        }
        let mut titles: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut add_title = |code: &str, title: &str| {
            let title = title.trim();
            let own = occupations
                .get(code)
                .map_or("", |o: &(String, String)| o.0.as_str());
            let list = titles.entry(code.to_string()).or_default();
            if !title.is_empty()
                && !title.eq_ignore_ascii_case(own)
                && !list.iter().any(|t| t.eq_ignore_ascii_case(title))
            {
                list.push(title.to_string());
            }
        };
        for row in read_tsv(&dir.join("onet/alternate_titles.tsv"))? {
            if let [code, title, short @ ..] = row.as_slice() {
                add_title(code, title);
                add_title(code, short.first().map_or("", String::as_str));
            }
        }
        for row in read_tsv(&dir.join("onet/reported_titles.tsv"))? {
            if let [code, title] = row.as_slice() {
                add_title(code, title);
            }
        }
        let tech_path = dir.join("onet/technology_skills.tsv");
        let mut technology: BTreeMap<String, Vec<RawTechnology>> = BTreeMap::new();
        for row in read_tsv(&tech_path)? {
            let [code, name, category, hot] = row.as_slice() else {
                return Err(bad(&tech_path, "expected 4 columns"));
            };
            technology
                .entry(code.clone())
                .or_default()
                .push(RawTechnology {
                    name: name.trim().to_string(),
                    category: Some(category.trim().to_string()).filter(|c| !c.is_empty()),
                    hot: hot == "Y",
                });
        }
        Ok(Sources {
            occupations,
            tasks,
            majors,
            job_zones,
            titles,
            technology,
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
pub(crate) fn mix(x: u64) -> u64 {
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

/// Seniority cues in task statements: how strongly a verb or noun marks a higher level.
fn task_cue(word: &str) -> f64 {
    match word {
        "direct" | "directs" | "formulate" | "establish" | "policy" | "policies" | "strategy"
        | "strategies" | "strategic" | "budget" | "budgets" | "negotiate" | "authorize"
        | "approve" | "oversee" | "administer" | "manage" | "lead" | "plan" | "plans"
        | "appoint" | "delegate" | "allocate" => 3.0,
        "supervise" | "train" | "training" | "evaluate" | "analyze" | "design" | "investigate"
        | "coordinate" | "advise" | "consult" | "diagnose" | "assess" | "recommend" | "develop"
        | "review" | "interpret" | "determine" | "resolve" | "testify" | "instruct" | "teach"
        | "mentor" | "staff" | "programs" | "hire" | "complex" => 2.0,
        "inspect" | "operate" | "prepare" | "perform" | "conduct" | "examine" | "calculate"
        | "test" | "install" | "repair" | "measure" | "monitor" | "adjust" | "compute"
        | "schedule" | "process" | "maintain" | "estimate" | "treat" | "set" => 1.0,
        "record" | "records" | "document" | "file" | "follow" | "assist" | "clean" | "collect"
        | "answer" | "observe" | "verify" | "enter" | "log" | "report" | "check" | "greet"
        | "sort" | "stock" | "transport" | "help" | "load" | "unload" | "count" | "copy"
        | "type" | "deliver" | "instructions" | "procedures" | "routine" => -1.0,
        _ => 0.0,
    }
}

/// How senior a task reads: its first verb counts double, other cue words half. The generator
/// ranks an occupation's tasks into levels by it; `map` does not use it (reading levels by the
/// rule that made them would make the level evaluation circular).
pub fn seniority(task: &str) -> f64 {
    let words: Vec<String> = task
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let Some(first) = words.first() else {
        return 0.0;
    };
    2.0 * task_cue(first) + 0.5 * words[1..].iter().map(|w| task_cue(w)).sum::<f64>()
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

/// What a task is, read from its first verb: it decides how the task is worded at each level, so
/// that a packer's advanced statement is about leading the hardest packing work, not about
/// organisation-wide strategy (which only managers' tasks get).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Directing, planning, budgets, negotiation: the work of running something.
    Manage,
    /// Supervising, training, teaching others.
    Lead,
    /// Analysis, design, research, evaluation, advice: professional judgment.
    Analyse,
    /// Serving, caring for, explaining to or interviewing people.
    Serve,
    /// Records, reports, forms, data entry.
    Record,
    /// Hands-on work with materials, machines, vehicles, animals or sites.
    Handle,
}

impl Kind {
    /// The kind of a task statement, from its first word (O*NET tasks start with their verb).
    pub fn of(task: &str) -> Kind {
        let verb = task
            .split(|c: char| !c.is_alphabetic())
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_ascii_lowercase();
        match verb.as_str() {
            "direct" | "manage" | "plan" | "establish" | "formulate" | "administer" | "oversee"
            | "coordinate" | "negotiate" | "approve" | "authorize" | "allocate" | "organize"
            | "implement" | "initiate" | "assign" | "delegate" | "appoint" | "set" | "control"
            | "enforce" => Kind::Manage,
            "supervise" | "train" | "teach" | "instruct" | "educate" | "mentor" | "coach"
            | "demonstrate" | "guide" => Kind::Lead,
            "analyze" | "evaluate" | "assess" | "research" | "design" | "develop"
            | "investigate" | "review" | "interpret" | "determine" | "diagnose" | "study"
            | "advise" | "consult" | "recommend" | "conduct" | "examine" | "identify"
            | "estimate" | "calculate" | "compute" | "compare" | "create" | "select" | "write"
            | "present" | "prescribe" | "resolve" | "devise" => Kind::Analyse,
            "assist" | "help" | "greet" | "serve" | "care" | "treat" | "explain" | "answer"
            | "provide" | "interview" | "counsel" | "communicate" | "confer" | "discuss"
            | "refer" | "inform" | "contact" | "respond" | "sell" | "collaborate" | "meet"
            | "visit" | "notify" | "participate" | "attend" => Kind::Serve,
            "record" | "document" | "file" | "enter" | "compile" | "keep" | "log" | "report"
            | "update" | "prepare" | "complete" | "process" | "issue" | "order" | "read"
            | "obtain" | "receive" | "schedule" => Kind::Record,
            _ => Kind::Handle,
        }
    }
}

/// Context wording for the two lower levels, whatever the task: how much guidance the worker has.
const EMERGING: &[&str] = &[
    "under direct supervision",
    "following established procedures with a supervisor reviewing the results",
    "using checklists and reference guides, with an experienced colleague on hand",
    "on routine cases, with guidance from experienced staff",
];
const DEVELOPING: &[&str] = &[
    "with minimal supervision during routine work",
    "independently on familiar, recurring assignments",
    "on their own for standard cases, asking for guidance on unusual ones",
];

/// Context wording for the two upper levels, by kind of task. Words that users search for as
/// skills ("strategy", "policy", "training", "quality", "safety") are kept out, so that the level
/// wording does not make every advanced statement match them.
fn upper_wording(kind: Kind, level: Level) -> &'static [&'static str] {
    let proficient = level == Level::Proficient;
    match (kind, proficient) {
        (Kind::Manage, true) => &[
            "for a unit or programme, with full responsibility for the results",
            "balancing competing priorities without direction from above",
        ],
        (Kind::Manage, false) => &[
            "setting direction and priorities across the organization",
            "accountable for results across the organization and for its long-term plans",
        ],
        (Kind::Lead, true) => &[
            "for a working team, correcting errors as the work proceeds",
            "adapting the approach to each person's needs without supervisory input",
        ],
        (Kind::Lead, false) => &[
            "developing the people who lead others and deciding what good practice looks like",
            "designing how newcomers learn the work and guiding those who teach it",
        ],
        (Kind::Analyse, true) => &[
            "independently across complex and non-routine cases",
            "applying sound professional judgment where standard methods do not fit",
        ],
        (Kind::Analyse, false) => &[
            "leading the most complex cases and reviewing colleagues' conclusions",
            "defining the methods colleagues follow and settling disputed results",
        ],
        (Kind::Serve, true) => &[
            "independently, including with difficult or distressed people",
            "adapting to each person's needs without supervisory input",
        ],
        (Kind::Serve, false) => &[
            "handling the most sensitive situations and guiding colleagues through them",
            "shaping how the service is delivered and resolving escalated concerns",
        ],
        (Kind::Record, true) => &[
            "accurately and on time without review, resolving discrepancies as they arise",
            "independently for complex or incomplete cases",
        ],
        (Kind::Record, false) => &[
            "designing the procedures and checks that colleagues follow",
            "reviewing colleagues' work and resolving the discrepancies they escalate",
        ],
        (Kind::Handle, true) => &[
            "independently on non-routine jobs, working out problems without help",
            "to a consistent standard in unusual or difficult conditions",
            "while showing newer workers how it is done",
        ],
        (Kind::Handle, false) => &[
            "leading the crew on the most demanding jobs and deciding how the work is done",
            "as the person others turn to for the hardest jobs, checking their work",
            "refining the crew's methods and passing on the finer points",
        ],
    }
}

/// Where an occupation's work sits, which decides how far its top level reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// O*NET job zone, 1 (little preparation) to 5 (extensive), when known.
    pub job_zone: Option<u8>,
    /// A management occupation (SOC major group 11): its top level runs the organization.
    pub management: bool,
}

impl Setting {
    /// The setting of an occupation with this O*NET-SOC code and job zone.
    pub fn of(soc: &str, job_zone: Option<u8>) -> Setting {
        Setting {
            job_zone,
            management: soc.starts_with("11-"),
        }
    }
}

/// Advanced wording for managing tasks outside management occupations (a paving crew that
/// coordinates truck dumping leads operations, not the organization).
const COORDINATE_ADVANCED: &[&str] = &[
    "for the largest and most complex operations, deciding how colleagues carry them out",
    "taking charge when plans go wrong and setting how the team works",
];

/// The level wording for a task: guidance at the lower levels, and at the upper levels what
/// mastery of that kind of task looks like in this occupation. In job zones 1-2 analysis and
/// management verbs name hands-on work ("examine animals", "coordinate truck dumping").
pub fn context_for(task: &str, level: Level, setting: Setting) -> &'static [&'static str] {
    let hands_on = setting.job_zone.is_some_and(|z| z <= 2);
    let kind = match Kind::of(task) {
        Kind::Analyse | Kind::Manage if hands_on => Kind::Handle,
        kind => kind,
    };
    match level {
        Level::Emerging => EMERGING,
        Level::Developing => DEVELOPING,
        Level::Advanced if kind == Kind::Manage && !setting.management => COORDINATE_ADVANCED,
        _ => upper_wording(kind, level),
    }
}

/// Where a detailed work activity's object ends and its purpose or circumstance begins
/// (`Inspect cargo to identify potential hazards` → `cargo`).
const OBJECT_ENDS: &[&str] = &[
    "to",
    "into",
    "for",
    "from",
    "using",
    "with",
    "during",
    "according",
    "based",
    "such",
    "that",
    "so",
    "by",
    "at",
    "on",
    "in",
    "through",
    "under",
    "onto",
    "before",
    "after",
    "when",
    "as",
    "within",
    "throughout",
    "across",
    "against",
    "around",
    "toward",
    "towards",
    "via",
    "while",
];

/// Nouns for the verbs that open detailed work activities, for topics whose object is one word
/// (`Inspect cargo …` → `Cargo inspection`, as the real export's `Traveler interviews`).
fn verb_noun(verb: &str) -> Option<&'static str> {
    Some(match verb {
        "inspect" => "inspection",
        "examine" => "examination",
        "monitor" => "monitoring",
        "maintain" => "maintenance",
        "clean" => "cleaning",
        "operate" => "operation",
        "develop" => "development",
        "prepare" => "preparation",
        "analyze" => "analysis",
        "evaluate" => "evaluation",
        "test" => "testing",
        "install" => "installation",
        "train" => "training",
        "record" => "records",
        "supervise" => "supervision",
        "apply" => "application",
        "research" => "research",
        "design" => "design",
        "conduct" => "work",
        "create" => "creation",
        "coordinate" => "coordination",
        "collect" => "collection",
        "plan" => "planning",
        "measure" => "measurement",
        "adjust" => "adjustment",
        "assemble" => "assembly",
        "administer" => "administration",
        "review" => "review",
        "verify" => "verification",
        "remove" => "removal",
        "arrange" => "arrangements",
        "estimate" => "estimates",
        "load" => "loading",
        "cut" => "cutting",
        "document" => "documentation",
        "implement" => "implementation",
        "compile" => "compilation",
        "calculate" => "calculations",
        "treat" => "treatment",
        "repair" => "repair",
        "schedule" => "scheduling",
        "assess" => "assessment",
        "investigate" => "investigation",
        "mount" => "mounting",
        "gather" => "gathering",
        "order" => "ordering",
        "move" => "moving",
        "update" => "updates",
        "position" => "positioning",
        "sort" => "sorting",
        "mark" => "marking",
        "manage" => "management",
        "select" => "selection",
        "teach" => "teaching",
        "explain" => "explanation",
        "direct" => "direction",
        "advise" => "advice",
        "promote" => "promotion",
        "interview" => "interviews",
        "negotiate" => "negotiation",
        "identify" => "identification",
        "read" => "reading",
        "write" => "writing",
        "serve" => "service",
        "present" => "presentation",
        "smooth" => "smoothing",
        "draw" => "drawing",
        "refer" => "referral",
        "resolve" => "resolution",
        "set" => "setup",
        _ => return None,
    })
}

/// `animals` → `animal`, for a noun that comes before another (`Animal examination`); words that
/// do not look like regular plurals are kept.
fn singular(word: &str) -> &str {
    let lower = word.to_ascii_lowercase();
    let keep = ["ss", "us", "is", "ings", "news", "series", "species"];
    if !lower.ends_with('s') || keep.iter().any(|k| lower.ends_with(k)) || lower.ends_with("ies") {
        return word;
    }
    &word[..word.len() - 1]
}

/// The topic of a task: the object of its first detailed work activity, as a noun phrase
/// (`Direct financial operations.` → `Financial operations`; `Inspect cargo to identify potential
/// hazards.` → `Cargo inspection`).
pub fn topic_for(task: &Task) -> String {
    const LEADING: [&str; 16] = [
        "to", "with", "for", "on", "in", "of", "about", "from", "into", "the", "between", "as",
        "at", "by", "up", "out",
    ];
    let dwa = task.dwas.first().map(String::as_str).unwrap_or(&task.text);
    let dwa = dwa.trim().trim_end_matches('.');
    let mut words: Vec<&str> = dwa.split_whitespace().collect();
    if words.len() < 2 {
        return capitalize(dwa);
    }
    let verb = words.remove(0).trim_end_matches(',').to_ascii_lowercase();
    while words.len() > 1 && LEADING.contains(&words[0].to_ascii_lowercase().as_str()) {
        words.remove(0);
    }
    // The object runs to the first purpose or circumstance word, or to a comma.
    let mut object = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 && OBJECT_ENDS.contains(&w.to_ascii_lowercase().as_str()) {
            break;
        }
        object.push(*w);
        // A comma inside a list (`materials, equipment, or products`) goes on; any other ends
        // the object.
        let list_goes_on = words[i + 1..]
            .iter()
            .take(4)
            .take_while(|w| !OBJECT_ENDS.contains(&w.to_ascii_lowercase().as_str()))
            .any(|w| matches!(*w, "or" | "and"));
        if w.ends_with(',') && !list_goes_on {
            break;
        }
    }
    // Neither a comma nor "or"/"and" can end a noun phrase.
    while object.len() > 1 && matches!(object.last(), Some(&"or") | Some(&"and")) {
        object.pop();
    }
    if let Some(last) = object.last_mut() {
        *last = last.trim_end_matches(',');
    }
    let phrase = match (object.as_slice(), verb_noun(&verb)) {
        ([one], Some(noun)) => format!("{} {noun}", singular(one)),
        _ => object.join(" "),
    };
    capitalize(&phrase)
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
pub fn statement_for(p: &Placed, setting: Setting) -> String {
    let pool = context_for(&p.task.text, p.level, setting);
    let context = pool[(mix(p.task.id ^ 0x5EED) % pool.len() as u64) as usize];
    let action = decapitalize(p.task.text.trim().trim_end_matches('.'));
    format!("{} — {action}, {context}.", topic_for(&p.task))
}

/// Builds the sample export of one occupation, or `None` when it has no tasks.
pub fn export_for(src: &Sources, soc: &str) -> Option<RawExport> {
    let tasks = src.tasks.get(soc)?;
    let (_, description) = src.occupations.get(soc)?;
    let placed = place(tasks);
    let job_zone = src.job_zones.get(soc).copied();
    let setting = Setting::of(soc, job_zone);
    let mut levels = indexmap::IndexMap::new();
    for level in Level::ALL {
        let statements: Vec<String> = placed
            .iter()
            .filter(|p| p.level == level && !p.held_back)
            .take(10)
            .map(|p| statement_for(p, setting))
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
        occupation: src.occupation(soc, soc, job_zone, false),
        framework: RawFramework {
            version: Some("sample-2.0".into()),
            description: Some(
                "Sample framework derived from O*NET task statements by skillmap's generator (cargo xtask gen-sample); not a real framework generator's output."
                    .into(),
            ),
            context_covered: Some(description.clone()),
            levels,
        },
        sources: Some(serde_json::json!({
            "tasks": "O*NET task statements and detailed work activities (CC BY 4.0)",
            "titles": "O*NET alternate and reported titles (CC BY 4.0)",
            "technology": "O*NET technology skills (CC BY 4.0)",
            "jobZone": "O*NET job zones (CC BY 4.0)",
            "generator": "skillmap cargo xtask gen-sample"
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
        let fw = skillmap::domain::framework::parse_export(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let target = dir.join(format!("{}.json", fw.soc));
        std::fs::write(&target, &bytes)
            .with_context(|| format!("cannot write {}", &target.display()))?;
        real.insert(fw.soc);
        written.push(target);
    }
    // The real exports carry no titles or tools: O*NET's go beside them as tables, the way a
    // user adds them to a collection whose exports lack them.
    written.extend(write_tables(&src, &real, &out.join("tables"))?);
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

/// Writes `titles.tsv` and `technology.tsv` with O*NET's titles and tools of `socs`.
fn write_tables(
    src: &Sources,
    socs: &std::collections::BTreeSet<String>,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot write {}", dir.display()))?;
    let mut titles = String::from("soc\ttitle\n");
    let mut tools = String::from("soc\ttechnology\tcategory\n");
    for soc in socs {
        for t in src.titles.get(soc).into_iter().flatten() {
            titles.push_str(&format!("{soc}\t{t}\n"));
        }
        for t in src.technology.get(soc).into_iter().flatten() {
            let category = t.category.as_deref().unwrap_or("");
            tools.push_str(&format!("{soc}\t{}\t{category}\n", t.name));
        }
    }
    let mut written = Vec::new();
    for (name, text) in [("titles.tsv", titles), ("technology.tsv", tools)] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_of(soc: &str) -> Task {
        Task {
            soc: soc.into(),
            id: 7,
            text: String::new(),
            dwas: vec!["Package materials or products.".into()],
        }
    }

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
        let s = statement_for(&p, Setting::of("11-1011.00", Some(5)));
        assert!(
            s.starts_with("Financial operations — direct or coordinate financial activities, "),
            "{s}"
        );
        let org = upper_wording(Kind::Manage, Level::Advanced);
        assert!(org.iter().any(|w| s.contains(w)), "{s}");
    }

    fn topic(dwa: &str) -> String {
        topic_for(&Task {
            soc: "33-3051.04".into(),
            id: 1,
            text: "Inspect cargo.".into(),
            dwas: vec![dwa.into()],
        })
    }

    #[test]
    fn topics_are_noun_phrases() {
        // The verb and the purpose clause are not part of the topic.
        assert_eq!(
            topic("Inspect cargo to identify potential hazards."),
            "Cargo inspection"
        );
        assert_eq!(
            topic("Examine animals to detect illness, injury or other problems."),
            "Animal examination"
        );
        assert_eq!(
            topic("Direct financial operations."),
            "Financial operations"
        );
        assert_eq!(
            topic("Confer with organizational members to accomplish work activities."),
            "Organizational members"
        );
        assert_eq!(
            topic("Clean equipment or facilities."),
            "Equipment or facilities"
        );
        assert_eq!(
            topic("Maintain inventories of materials, equipment, or products."),
            "Inventories of materials, equipment, or products"
        );
    }

    #[test]
    fn top_level_wording_fits_the_kind_of_work() {
        let advanced = |task: &str, soc: &str, zone: u8| {
            let p = Placed {
                task: Task {
                    text: task.into(),
                    ..task_of(soc)
                },
                level: Level::Advanced,
                held_back: false,
            };
            statement_for(&p, Setting::of(soc, Some(zone)))
        };
        let org = upper_wording(Kind::Manage, Level::Advanced);
        // A hand packer and a baggage screener lead the hardest work, not the organization.
        for (task, soc, zone) in [
            (
                "Mark and label containers, container tags, or products.",
                "53-7064.00",
                1,
            ),
            (
                "Screen passengers and baggage for prohibited items.",
                "33-9093.00",
                2,
            ),
            ("Coordinate truck dumping.", "47-2071.00", 2),
            (
                "Coordinate judges' meeting and appointment schedules.",
                "23-1012.00",
                4,
            ),
        ] {
            let s = advanced(task, soc, zone);
            assert!(!org.iter().any(|w| s.contains(w)), "{s}");
            for word in ["strategy", "policy", "organization-wide"] {
                assert!(!s.contains(word), "{s}");
            }
        }
        // A chief executive's directing task does.
        let s = advanced(
            "Direct or coordinate financial activities.",
            "11-1011.00",
            5,
        );
        assert!(org.iter().any(|w| s.contains(w)), "{s}");
    }

    #[test]
    fn about_a_fifth_is_held_back() {
        let held = (0..10_000).filter(|&i| held_back_by_id(i)).count();
        assert!((1_800..2_200).contains(&held), "{held}");
    }
}
