//! The mapping dev set: labelled postings built only from task statements held back from the sample.
//!
//! Each posting takes 2-4 held-back task statements of one occupation, a target level (uniform
//! over the four), tasks placed at or near that level by the sample generator, and, for most
//! postings, a job title and seniority language for the target level; only postings with
//! seniority language carry a level label. The tuning split (`dev`)
//! and the held-out split (`test`) use different seniority phrasings, so that the test split also
//! measures how far the level reader generalises beyond the phrasings it was tuned on.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::sample::{Placed, Rng, Sources, place};
use anyhow::{Context, Result};
use skillmap::model::Level;

/// One labelled posting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelledPosting {
    pub id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub soc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

/// Seniority phrasings per level: (dev split, test split). `{t}` is the job title.
const SENIORITY: [(&[&str], &[&str]); 4] = [
    (
        &[
            "Entry-level position; full training provided.",
            "Trainee role working under close supervision.",
            "Junior position, no prior experience required.",
            "Apprenticeship: you will learn on the job from experienced colleagues.",
            "Internship opportunity for students and recent graduates.",
        ],
        &[
            "This is an entry level opening; we train you.",
            "Ideal first job: 0-1 years of experience, closely supervised.",
            "Graduate trainee program, mentored by a senior team member.",
            "Beginner welcome - on-the-job training and step-by-step guidance.",
        ],
    ),
    (
        &[
            "1-3 years of experience required.",
            "Associate level; handles routine assignments with minimal supervision.",
            "At least 2 years of relevant experience.",
            "You will work on standard cases with some guidance.",
        ],
        &[
            "Requires 2-3 years in a similar role.",
            "Intermediate position: some experience needed, routine work handled on your own.",
            "Associate role for someone with a couple of years of experience.",
        ],
    ),
    (
        &[
            "5+ years of experience; works independently on complex cases.",
            "Senior role: you will mentor junior staff and handle non-routine problems.",
            "Experienced professional able to work without supervision.",
            "Lead complex projects independently; 6 years of experience preferred.",
        ],
        &[
            "Seasoned specialist with 7 years of experience, self-directed.",
            "Senior position; coaches new hires and resolves escalated issues.",
            "Must work autonomously on difficult, non-standard assignments; 5-8 years experience.",
        ],
    ),
    (
        &[
            "Director level: sets strategy and manages managers.",
            "Head of department with 10+ years of experience.",
            "Principal role responsible for organization-wide policy and budget.",
            "Executive position leading the function across the organization.",
        ],
        &[
            "VP-level leader who owns the strategic roadmap; 12+ years of experience.",
            "Chief of the division, accountable for budgets and policy company-wide.",
            "Head of the practice; builds and leads a team of managers.",
        ],
    ),
];

const INTROS: &[&str] = &[
    "We are hiring.",
    "Join our team.",
    "Our organization is looking for a new colleague.",
    "Position available immediately.",
    "",
];

/// Singular form of an O*NET title's last word, the way postings name one job.
fn singular_title(title: &str) -> String {
    let title = title.split(',').next().unwrap_or(title).trim();
    let (head, last) = title.rsplit_once(' ').unwrap_or(("", title));
    let last = if let Some(s) = last.strip_suffix("ies") {
        format!("{s}y")
    } else if last.ends_with("sses") || last.ends_with("ches") || last.ends_with("shes") {
        last[..last.len() - 2].to_string()
    } else if last.ends_with('s') && !last.ends_with("ss") {
        last[..last.len() - 1].to_string()
    } else {
        last.to_string()
    };
    if head.is_empty() {
        last
    } else {
        format!("{head} {last}")
    }
}

/// Builds the labelled postings of one split ("dev" or "test"): two postings per occupation with
/// at least two held-back tasks.
pub fn build(src: &Sources, split: &str) -> Vec<LabelledPosting> {
    let test = split == "test";
    let mut out = Vec::new();
    for (soc, tasks) in &src.tasks {
        let held: Vec<Placed> = place(tasks).into_iter().filter(|p| p.held_back).collect();
        if held.len() < 2 {
            continue;
        }
        let title = src
            .occupations
            .get(soc)
            .map_or(String::new(), |t| t.0.clone());
        // Whole occupations go to one split (about 30% to test), so that no held-back task of a
        // test posting was seen while tuning.
        let seed = crate::sample::held_back_seed(soc);
        if (seed % 10 >= 7) != test {
            continue;
        }
        let mut rng = Rng(seed);
        for n in 0..2 {
            let target = Level::ALL[rng.below(4)];
            let k = (2 + rng.below(3)).min(held.len());
            let mut chosen: Vec<&Placed> = held.iter().collect();
            // Tasks at the target level first, then the nearest levels; ties by a random key.
            let keys: Vec<u64> = chosen.iter().map(|_| rng.next()).collect();
            let mut order: Vec<usize> = (0..chosen.len()).collect();
            order.sort_by_key(|&i| {
                (
                    (chosen[i].level.index() as i64 - target.index() as i64).abs(),
                    keys[i],
                )
            });
            chosen = order.into_iter().take(k).map(|i| chosen[i]).collect();
            let with_title = rng.chance(45);
            let with_seniority = rng.chance(65);
            let (dev_phr, test_phr) = SENIORITY[target.index()];
            let phrases = if test { test_phr } else { dev_phr };
            let seniority = phrases[rng.below(phrases.len())];
            let intro = INTROS[rng.below(INTROS.len())];
            let job = singular_title(&title);
            let mut text = String::new();
            if with_title {
                text.push_str(&job);
                text.push_str("\n\n");
            }
            if !intro.is_empty() {
                text.push_str(intro);
                text.push(' ');
            }
            text.push_str("Responsibilities:\n");
            for p in &chosen {
                text.push_str("- ");
                text.push_str(&p.task.text);
                text.push('\n');
            }
            if with_seniority {
                text.push('\n');
                text.push_str(&seniority.replace("{t}", &job));
                text.push('\n');
            }
            out.push(LabelledPosting {
                id: format!("{split}-{soc}-{n}"),
                text,
                title: None,
                soc: soc.clone(),
                // Only seniority language fixes a posting's level; without it the posting has
                // no level label (eval scores levels on the labelled postings alone).
                level: with_seniority.then_some(target),
            });
        }
    }
    out
}

/// Writes `out/dev.jsonl` and `out/test.jsonl`.
pub fn write(source: &Path, out: &Path) -> Result<(usize, usize)> {
    let src = Sources::load(source)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut counts = (0, 0);
    for (split, n) in [("dev", &mut counts.0), ("test", &mut counts.1)] {
        let postings = build(&src, split);
        *n = postings.len();
        let mut text = String::new();
        for p in &postings {
            text.push_str(&serde_json::to_string(p)?);
            text.push('\n');
        }
        let path = out.join(format!("{split}.jsonl"));
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", &path.display()))?;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singular_titles() {
        assert_eq!(singular_title("Registered Nurses"), "Registered Nurse");
        assert_eq!(
            singular_title("Customs and Border Protection Officers"),
            "Customs and Border Protection Officer"
        );
        assert_eq!(
            singular_title("Secretaries and Administrative Assistants, Except Legal"),
            "Secretaries and Administrative Assistant"
        );
        assert_eq!(singular_title("Chief Executives"), "Chief Executive");
        assert_eq!(singular_title("Boilermakers"), "Boilermaker");
    }
}
