//! Seniority language in postings: cue phrases, years of experience, and the level they point to.
//!
//! Pure text rules, no index. Each cue has a level value on the 1 (emerging) – 4 (advanced)
//! scale and a weight; cues found in the job title weigh 1.5 times as much. The spans of the cues
//! are returned so that the caller can leave them out of the occupation match.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A seniority phrase found in a posting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cue {
    /// The text as written.
    pub phrase: String,
    /// 1.0 (emerging) to 4.0 (advanced).
    pub level: f32,
    pub weight: f32,
    /// Byte range in the text it was found in (not serialized).
    #[serde(skip)]
    pub span: Range<usize>,
}

/// (pattern, level value, weight). Earlier patterns win where they overlap later ones, so
/// specific phrases ("mentor junior staff") come before the words inside them ("junior").
const RULES: &[(&str, f32, f32)] = &[
    // Advanced: running the function, strategy, managers of managers.
    (
        r"manag(?:e|es|ing|er) of managers|manages? managers|team of managers|leads? managers",
        4.0,
        1.5,
    ),
    (
        r"head of (?:the )?(?:department|division|function|practice|unit|team|[a-z]+)",
        4.0,
        1.5,
    ),
    (
        r"\b(?:vice[- ]president|vp|svp|evp|chief|c-level|executive director|managing director)\b",
        4.0,
        1.5,
    ),
    (r"\bdirector\b", 4.0, 1.2),
    (
        r"\bsets? (?:the )?(?:strategy|strategic direction|direction|vision|policy)|owns? the (?:strategy|strategic|roadmap)|strategic (?:roadmap|leadership|direction|planning)",
        4.0,
        1.2,
    ),
    (
        r"\b(?:organi[sz]ation|company|enterprise|division)[- ]wide\b|across the (?:organi[sz]ation|company|enterprise)",
        4.0,
        1.0,
    ),
    (r"\bprincipal\b", 4.0, 1.0),
    (
        r"\bleads? the (?:department|division|function|organi[sz]ation|practice|unit)\b",
        4.0,
        1.5,
    ),
    (
        r"\bmaster (?:electrician|plumber|carpenter|mechanic|technician|welder|craftsman|craftsperson|tradesman|tradesperson|pipefitter|hvac)\b",
        4.0,
        1.2,
    ),
    (
        r"\baccountable for (?:the )?budgets?\b|\bowns? (?:the )?budget\b",
        4.0,
        1.0,
    ),
    // Proficient: senior, independent, complex, mentoring others.
    (
        r"\b(?:mentor|mentors|mentoring|coach|coaches|coaching|train|trains|training|supervise|supervises|supervising|guide|guides) (?:the )?(?:junior|new|less experienced|entry[- ]level)(?: [a-z]+)?",
        3.0,
        1.2,
    ),
    (
        r"\b(?:senior|sr\.?|seasoned|experienced professional|expert)\b",
        3.0,
        1.2,
    ),
    (
        r"\bteam lead\b|\btech(?:nical)? lead\b|\blead (?:complex|the|a|projects?|engineer|developer|technician|nurse|analyst)\b",
        3.2,
        1.0,
    ),
    (
        r"\b(?:works?|working) (?:independently|autonomously|on (?:your|their) own)\b|\bwithout (?:close )?(?:supervision|oversight)\b|\bself[- ]directed\b|\bautonomously\b|\bindependently\b",
        3.0,
        1.0,
    ),
    (
        r"\bnon[- ]routine\b|\bcomplex (?:cases|problems|projects|assignments|issues)\b|\bescalat(?:ed|ions?)\b|\bnon[- ]standard\b",
        3.0,
        0.8,
    ),
    (r"\bmentor(?:s|ing)?\b|\bcoach(?:es|ing)?\b", 3.0, 0.8),
    // Licensed trades: a journeyman works unsupervised; a master also runs the work.
    (
        r"\bjourney(?:man|men|woman|person|worker|[- ]level)\b",
        3.0,
        1.2,
    ),
    // Developing: associate, some experience, routine work.
    (
        r"\b(?:associate|intermediate|mid[- ]level|mid[- ]career|level (?:ii|2))\b",
        2.0,
        1.2,
    ),
    (
        r"\b(?:minimal|limited|some|moderate|general) (?:supervision|guidance|oversight)\b",
        2.0,
        1.0,
    ),
    (
        r"\broutine (?:work|assignments|cases|tasks|operations|duties)\b|\bstandard cases\b",
        2.0,
        0.8,
    ),
    (
        r"\b(?:some|a couple of years of|prior) experience\b",
        2.0,
        0.8,
    ),
    // Emerging: entry level, trainee, close supervision.
    (
        r"\bentry[- ]?level\b|\bno (?:prior |previous )?experience\b|\bfirst job\b|\bbeginners?\b",
        1.0,
        1.5,
    ),
    (
        r"\b(?:interns?|internships?|trainees?|apprentices?|apprenticeships?|graduate trainee|recent graduates?|students?|level (?:i|1))\b",
        1.0,
        1.2,
    ),
    (r"\b(?:junior|jr\.?)\b", 1.0, 1.2),
    (
        r"\b(?:under|with) (?:close|direct|constant) supervision\b|\bclosely supervised\b|\bstep[- ]by[- ]step guidance\b",
        1.0,
        1.2,
    ),
    (
        r"\b(?:on[- ]the[- ]job training|training (?:is )?provided|full training|we (?:will )?train you|learn on the job)\b",
        1.0,
        1.0,
    ),
];

/// Phrases about someone else's seniority ("reports to the Director", "mentored by a senior
/// engineer"): no cue inside them counts.
const NEUTRAL: &str = r"(?i)\breports? (?:directly )?to (?:the |a |an |our )?[^.;:\n]{0,40}|\b(?:mentored|supervised|coached|trained|guided|managed|led|overseen) by (?:a |an |the |our )?[^.;:\n]{0,40}";

/// Years of experience: "5+ years", "2-3 years", "10 yrs", "at least 2 years".
const YEARS: &str =
    r"(?i)\b(\d{1,2})\s*(?:\+|plus)?\s*(?:(?:-|–|to)\s*(\d{1,2})\s*)?\+?\s*(?:years?|yrs?)\b";

type Compiled = (Vec<(Regex, f32, f32)>, Regex, Regex);

fn compiled() -> &'static Compiled {
    static RULES_RE: OnceLock<Compiled> = OnceLock::new();
    RULES_RE.get_or_init(|| {
        let rules = RULES
            .iter()
            .map(|(p, l, w)| {
                (
                    Regex::new(&format!("(?i){p}")).expect("valid cue pattern"),
                    *l,
                    *w,
                )
            })
            .collect();
        (
            rules,
            Regex::new(YEARS).expect("valid years pattern"),
            Regex::new(NEUTRAL).expect("valid neutral pattern"),
        )
    })
}

/// The level that a number of years of experience points to.
pub fn years_level(years: f32) -> f32 {
    match years {
        y if y < 2.0 => 1.0,
        y if y < 4.0 => 2.0,
        y if y < 8.0 => 3.0,
        y if y < 10.0 => 3.5,
        _ => 4.0,
    }
}

/// Finds the seniority cues of a text. `weight_scale` multiplies every weight (1.5 for a title).
pub fn cues(text: &str, weight_scale: f32) -> Vec<Cue> {
    let (rules, years, neutral) = compiled();
    // Someone else's seniority is not the job's: those spans hold no cue.
    let mut taken: Vec<Range<usize>> = neutral.find_iter(text).map(|m| m.range()).collect();
    let mut out = Vec::new();
    let overlaps = |taken: &[Range<usize>], r: &Range<usize>| {
        taken.iter().any(|t| t.start < r.end && r.start < t.end)
    };
    for m in years.captures_iter(text) {
        let whole = m.get(0).expect("match");
        let low: f32 = m[1].parse().unwrap_or(0.0);
        // A range counts by its middle: "1-3 years" is two years.
        let high: f32 = m
            .get(2)
            .and_then(|h| h.as_str().parse().ok())
            .unwrap_or(low);
        if low > 50.0 || high < low {
            continue;
        }
        out.push(Cue {
            phrase: whole.as_str().to_string(),
            level: years_level((low + high) / 2.0),
            weight: 1.5 * weight_scale,
            span: whole.range(),
        });
        taken.push(whole.range());
    }
    for (re, level, weight) in rules {
        for m in re.find_iter(text) {
            let r = m.range();
            if overlaps(&taken, &r) {
                continue;
            }
            out.push(Cue {
                phrase: m.as_str().to_string(),
                level: *level,
                weight: weight * weight_scale,
                span: r.clone(),
            });
            taken.push(r);
        }
    }
    out.sort_by_key(|c| c.span.start);
    out
}

/// The text with the cue spans blanked out (same length, so offsets still hold).
pub fn without_cues(text: &str, cues: &[Cue]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for c in cues {
        for b in &mut bytes[c.span.clone()] {
            *b = b' ';
        }
    }
    // Spans are whole matches of char-boundary patterns, so this is still UTF-8; be safe anyway.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Combines cues with priors (levels from evidence, weighted): the weighted mean on the 1-4
/// scale. Adding a cue of level 4 never lowers the result, nor a cue of level 1 raises it.
pub fn combine(cues: &[Cue], priors: &[(f32, f32)]) -> Option<f32> {
    let mut num = 0.0;
    let mut den = 0.0;
    for c in cues {
        num += c.level * c.weight;
        den += c.weight;
    }
    for &(level, weight) in priors {
        num += level * weight;
        den += weight;
    }
    (den > 0.0).then(|| (num / den).clamp(1.0, 4.0))
}

/// Scores for each of the four levels from a point on the 1-4 scale: a discretized bell around
/// it, summing to 1. The highest score is the level nearest the point.
pub fn level_scores(point: f32, spread: f32) -> [f32; 4] {
    let mut s = [0.0f32; 4];
    for (i, v) in s.iter_mut().enumerate() {
        let d = (i as f32 + 1.0) - point;
        *v = (-(d * d) / (2.0 * spread * spread)).exp();
    }
    let total: f32 = s.iter().sum();
    s.map(|v| v / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(text: &str) -> Vec<f32> {
        cues(text, 1.0).into_iter().map(|c| c.level).collect()
    }

    #[test]
    fn typical_phrases() {
        assert_eq!(levels("Entry-level trainee"), [1.0, 1.0]);
        assert_eq!(levels("Senior engineer; mentors junior staff"), [3.0, 3.0]);
        assert_eq!(levels("5+ years of experience"), [3.0]);
        assert_eq!(levels("1-3 years"), [2.0]);
        assert_eq!(levels("0-1 years"), [1.0]);
        assert_eq!(levels("2-3 yrs"), [2.0]);
        assert_eq!(levels("10+ years, leads the department"), [4.0, 4.0]);
        assert_eq!(levels("Head of Engineering"), [4.0]);
        assert_eq!(levels("Director of nursing, sets strategy"), [4.0, 4.0]);
        assert_eq!(levels("works independently under no one"), [3.0]);
        assert_eq!(levels("under close supervision"), [1.0]);
        assert!(levels("Remove lead paint and inspect cargo").is_empty());
        assert_eq!(
            levels("Staff nurse. Reports to the Director of Nursing."),
            Vec::<f32>::new()
        );
        assert_eq!(
            levels("Junior analyst, mentored by a senior engineer"),
            [1.0]
        );
        assert_eq!(levels("Journeyman electrician"), [3.0]);
        assert_eq!(levels("Master plumber"), [4.0]);
        assert!(levels("Master's degree in nursing").is_empty());
    }

    #[test]
    fn blanking_keeps_offsets() {
        let text = "Senior nurse, 5 years";
        let c = cues(text, 1.0);
        let blank = without_cues(text, &c);
        assert_eq!(blank.len(), text.len());
        assert_eq!(blank.trim(), "nurse,");
    }

    #[test]
    fn combine_and_scores() {
        let c = cues("senior", 1.0);
        assert_eq!(combine(&c, &[]), Some(3.0));
        assert_eq!(combine(&[], &[]), None);
        assert_eq!(combine(&[], &[(2.0, 1.0)]), Some(2.0));
        let s = level_scores(3.2, 0.6);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(s[2] > s[3] && s[3] > s[1] && s[1] > s[0]);
    }
}
