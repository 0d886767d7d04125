//! The mapping dev sets, built only from what the bundled collection holds back or what `eval`
//! hides from the mapper, split by occupation (about 30% of occupations, by a hash of the code,
//! are the held-out `test` split; the rest are the tuning `dev` split):
//!
//! - `{split}.jsonl`: postings. `posting` lines are whole job ads: a held-out O*NET title dressed
//!   as job boards dress titles, a company blurb, 2-3 task statements held back from the
//!   collection, requirements, benefits and an equal-opportunity line. `duties` lines are 2-4
//!   held-back task statements alone. 65% carry seniority language for a target level and a level
//!   label.
//! - `{split}-titles.jsonl`: job titles alone. `title` lines are held-out O*NET alternate and
//!   reported titles as O*NET writes them; `board-title` lines are other held-out titles dressed
//!   as job boards dress them (seniority, location, shift, pay, contract type, requisition);
//!   `known-title` lines are titles the index knows word for word, as users often type them
//!   (not blind by nature: they say how well a known title is read).
//!
//! A held-out title is one whose lower-cased words hash into one fifth of the titles; every line
//! made from one names it in `unseen_title`, and `skillmap eval` maps the file with all of them
//! unknown to the mapper (the product itself indexes every title). The dev and test splits use
//! different seniority phrasings, so the test split also measures how far the level reader
//! generalises beyond the phrasings it was tuned on.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::sample::{Placed, Rng, Sources, place};
use anyhow::{Context, Result};
use skillmap::domain::level::Level;

/// One labelled line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelledPosting {
    pub id: String,
    pub kind: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub soc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unseen_title: Option<String>,
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

const BLURBS: &[&str] = &[
    "Northwind Services is a growing regional company with more than 40 locations.",
    "We are a family-owned business that has served our community since 1985.",
    "Join a mission-driven team that puts people first.",
    "Our client, a leading organization in its field, is expanding.",
    "Bright Harbor Group is an award-winning employer with a friendly, supportive culture.",
    "",
];

const REQUIREMENTS: &[&str] = &[
    "High school diploma or equivalent.",
    "Valid driver's license and a clean driving record.",
    "Ability to lift up to 50 pounds.",
    "Bachelor's degree preferred.",
    "Strong communication and organizational skills.",
    "Must pass a background check and drug screening.",
    "Able to work flexible hours, including weekends.",
    "Proficiency with Microsoft Office.",
];

const BENEFITS: &[&str] = &[
    "Benefits: medical, dental and vision insurance, 401(k) with company match, paid time off.",
    "We offer competitive pay, health insurance, tuition reimbursement and an employee discount.",
    "Perks include paid holidays, flexible scheduling and a referral bonus.",
];

const EQUAL_OPPORTUNITY: &[&str] = &[
    "We are an equal opportunity employer. All qualified applicants will receive consideration for employment without regard to race, color, religion, sex, sexual orientation, gender identity, national origin, disability or veteran status.",
    "EOE/AA. We celebrate diversity and are committed to an inclusive workplace.",
];

/// What job boards put before a title.
const BOARD_PREFIXES: &[&str] = &[
    "Senior ",
    "Sr. ",
    "Junior ",
    "Lead ",
    "Experienced ",
    "Entry Level ",
    "Hiring Now: ",
    "Urgently Hiring - ",
];

/// What job boards put after a title.
const BOARD_SUFFIXES: &[&str] = &[
    " - Remote",
    " (Remote)",
    " - Hybrid",
    " - Night Shift",
    " (Nights)",
    " - Full Time",
    " - Part-Time",
    " II",
    " III",
    " - $22/hr",
    " - Up to $85,000",
    " - $2,500 Sign-On Bonus",
    " - Austin, TX",
    ", Denver, CO",
    " | Req #48213",
    " (Contract)",
    " - Weekends",
    " - PRN",
    " - Immediate Start",
];

/// FNV-1a of a title's lower-cased words: the same key `eval` uses to hide the title.
fn title_hash(title: &str) -> u64 {
    skillmap::map::titles::identity(title)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Is this title one of the fifth held out for evaluation?
pub fn held_out_title(title: &str) -> bool {
    crate::sample::mix(title_hash(title)).is_multiple_of(5)
}

/// Is this occupation in the held-out `test` split (about 30% of occupations)?
fn in_test(soc: &str) -> bool {
    crate::sample::held_back_seed(soc) % 10 >= 7
}

/// A title as a job board might show it.
fn dress(title: &str, rng: &mut Rng) -> String {
    let mut t = String::new();
    if rng.chance(35) {
        t.push_str(BOARD_PREFIXES[rng.below(BOARD_PREFIXES.len())]);
    }
    t.push_str(title);
    for _ in 0..rng.below(3) {
        t.push_str(BOARD_SUFFIXES[rng.below(BOARD_SUFFIXES.len())]);
    }
    t
}

/// The held-out titles of an occupation, in table order.
fn held_out_titles<'a>(src: &'a Sources, soc: &str) -> Vec<&'a str> {
    src.titles
        .get(soc)
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|t| held_out_title(t))
        .collect()
}

/// The title lines of one split: per occupation, up to two held-out titles as O*NET writes them
/// (`title`), up to two others dressed as job boards dress them (`board-title`), and one title
/// that the index knows (`known-title`: what users often type, a title in O*NET's lists).
pub fn build_titles(src: &Sources, split: &str) -> Vec<LabelledPosting> {
    let test = split == "test";
    let mut out = Vec::new();
    for soc in src.tasks.keys() {
        if in_test(soc) != test {
            continue;
        }
        let mut rng = Rng(crate::sample::held_back_seed(soc) ^ 0x7171);
        let mut titles = held_out_titles(src, soc);
        // A random order, so that the lines are not the table's first titles.
        let keys: Vec<u64> = titles.iter().map(|_| rng.next()).collect();
        let mut order: Vec<usize> = (0..titles.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        titles = order.into_iter().map(|i| titles[i]).collect();
        let known: Vec<&str> = src
            .titles
            .get(soc)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|t| !held_out_title(t))
            .collect();
        if !known.is_empty() {
            let t = known[rng.below(known.len())];
            out.push(LabelledPosting {
                id: format!("{split}-known-title-{soc}"),
                kind: "known-title".into(),
                text: String::new(),
                title: Some(t.to_string()),
                soc: soc.clone(),
                level: None,
                unseen_title: None,
            });
        }
        for (n, t) in titles.iter().take(4).enumerate() {
            let (kind, shown) = if n < 2 {
                ("title", t.to_string())
            } else {
                ("board-title", dress(t, &mut rng))
            };
            out.push(LabelledPosting {
                id: format!("{split}-{kind}-{soc}-{n}"),
                kind: kind.into(),
                text: String::new(),
                title: Some(shown),
                soc: soc.clone(),
                level: None,
                unseen_title: Some(t.to_string()),
            });
        }
    }
    out
}

/// The posting lines of one split: per occupation with at least two held-back tasks, a whole
/// posting under a dressed held-out title (when the occupation has one) and a duties-only one.
pub fn build(src: &Sources, split: &str) -> Vec<LabelledPosting> {
    let test = split == "test";
    let mut out = Vec::new();
    for (soc, tasks) in &src.tasks {
        if in_test(soc) != test {
            continue;
        }
        let held: Vec<Placed> = place(tasks).into_iter().filter(|p| p.held_back).collect();
        if held.len() < 2 {
            continue;
        }
        let mut rng = Rng(crate::sample::held_back_seed(soc));
        let titles = held_out_titles(src, soc);
        for n in 0..2 {
            let whole = n == 0 && !titles.is_empty();
            let target = Level::ALL[rng.below(4)];
            let k = (2 + rng.below(if whole { 2 } else { 3 })).min(held.len());
            // Tasks at the target level first, then the nearest levels; ties by a random key.
            let keys: Vec<u64> = held.iter().map(|_| rng.next()).collect();
            let mut order: Vec<usize> = (0..held.len()).collect();
            order.sort_by_key(|&i| {
                (
                    (held[i].level.index() as i64 - target.index() as i64).abs(),
                    keys[i],
                )
            });
            let chosen: Vec<&Placed> = order.into_iter().take(k).map(|i| &held[i]).collect();
            let with_seniority = rng.chance(65);
            let (dev_phr, test_phr) = SENIORITY[target.index()];
            let phrases = if test { test_phr } else { dev_phr };
            let seniority = phrases[rng.below(phrases.len())];
            let mut text = String::new();
            let mut unseen = None;
            if whole {
                let t = titles[rng.below(titles.len())];
                text.push_str(&dress(t, &mut rng));
                text.push_str("\n\n");
                let blurb = BLURBS[rng.below(BLURBS.len())];
                if !blurb.is_empty() {
                    text.push_str(blurb);
                    text.push_str("\n\n");
                }
                unseen = Some(t.to_string());
            } else if rng.chance(50) {
                text.push_str(INTROS[rng.below(INTROS.len())]);
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
                text.push_str(seniority);
                text.push('\n');
            }
            if whole {
                text.push_str("\nRequirements:\n");
                for _ in 0..2 {
                    text.push_str("- ");
                    text.push_str(REQUIREMENTS[rng.below(REQUIREMENTS.len())]);
                    text.push('\n');
                }
                text.push('\n');
                text.push_str(BENEFITS[rng.below(BENEFITS.len())]);
                text.push_str("\n\n");
                text.push_str(EQUAL_OPPORTUNITY[rng.below(EQUAL_OPPORTUNITY.len())]);
                text.push('\n');
            }
            let kind = if whole { "posting" } else { "duties" };
            out.push(LabelledPosting {
                id: format!("{split}-{kind}-{soc}-{n}"),
                kind: kind.into(),
                text,
                title: None,
                soc: soc.clone(),
                // Only seniority language fixes a posting's level; without it the posting has
                // no level label (eval scores levels on the labelled postings alone).
                level: with_seniority.then_some(target),
                unseen_title: unseen,
            });
        }
    }
    out
}

fn write_lines(path: &Path, lines: &[LabelledPosting]) -> Result<()> {
    let mut text = String::new();
    for p in lines {
        text.push_str(&serde_json::to_string(p)?);
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `out/{dev,test}.jsonl` (postings) and `out/{dev,test}-titles.jsonl` (titles); returns
/// the number of lines of each split.
pub fn write(source: &Path, out: &Path) -> Result<(usize, usize)> {
    let src = Sources::load(source)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut counts = (0, 0);
    for (split, n) in [("dev", &mut counts.0), ("test", &mut counts.1)] {
        let postings = build(&src, split);
        let titles = build_titles(&src, split);
        *n = postings.len() + titles.len();
        write_lines(&out.join(format!("{split}.jsonl")), &postings)?;
        write_lines(&out.join(format!("{split}-titles.jsonl")), &titles)?;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dressed_titles_keep_the_title() {
        let mut rng = Rng(3);
        for _ in 0..50 {
            let d = dress("Staff Nurse", &mut rng);
            assert!(d.contains("Staff Nurse"), "{d}");
        }
    }

    #[test]
    fn about_a_fifth_of_titles_are_held_out() {
        let held = (0..5_000)
            .filter(|i| held_out_title(&format!("Title {i}")))
            .count();
        assert!((800..1_200).contains(&held), "{held}");
        // The key ignores case and punctuation, as eval's does.
        assert_eq!(
            held_out_title("Staff Nurse"),
            held_out_title("staff  nurse,")
        );
    }
}
