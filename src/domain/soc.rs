//! SOC codes: what a valid O*NET-SOC code is, its group prefixes (major to detailed), how a
//! `--soc` filter is normalised to a prefix, and the SOC 2018 group names bundled with the binary.
//!
//! Every rule about the shape of a code lives here, so that nothing else slices `soc[..2]`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The four levels of the SOC 2018 hierarchy, widest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum GroupLevel {
    Major,
    Minor,
    Broad,
    Detailed,
}

impl GroupLevel {
    /// The level's name in the SOC tables (`major`, `minor`, `broad`, `detailed`).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupLevel::Major => "major",
            GroupLevel::Minor => "minor",
            GroupLevel::Broad => "broad",
            GroupLevel::Detailed => "detailed",
        }
    }

    fn parse(s: &str) -> Option<GroupLevel> {
        match s {
            "major" => Some(GroupLevel::Major),
            "minor" => Some(GroupLevel::Minor),
            "broad" => Some(GroupLevel::Broad),
            "detailed" => Some(GroupLevel::Detailed),
            _ => None,
        }
    }
}

impl std::fmt::Display for GroupLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Is `soc` an O*NET-SOC code (`NN-NNNN` or `NN-NNNN.NN`)?
pub fn is_valid(soc: &str) -> bool {
    let b = soc.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    match b.len() {
        7 => digits(0..2) && b[2] == b'-' && digits(3..7),
        10 => digits(0..2) && b[2] == b'-' && digits(3..7) && b[7] == b'.' && digits(8..10),
        _ => false,
    }
}

/// The major group of a code (`33` of `33-3051.04`); the code itself when it is shorter.
pub fn major(soc: &str) -> &str {
    soc.get(..2).unwrap_or(soc)
}

/// The 6-digit SOC code of an O*NET-SOC code (`33-3051` of `33-3051.04`).
pub fn six_digit(soc: &str) -> &str {
    soc.get(..7).unwrap_or(soc)
}

/// The group prefixes of a valid SOC code, shortest first: major `33`, minor `33-3`, `33-30`,
/// broad `33-305`, detailed `33-3051` and, for an O*NET code, the full `33-3051.04`.
pub fn prefixes(soc: &str) -> Vec<String> {
    let mut out: Vec<String> = [2, 4, 5, 6, 7]
        .into_iter()
        .filter_map(|n| soc.get(..n).map(str::to_string))
        .collect();
    if soc.len() > 7 {
        out.push(soc.to_string());
    }
    out
}

/// Normalises a `--soc` filter to an indexed prefix. Accepts a prefix (`33`, `33-30`, `33-305`,
/// `33-3051`, `33-3051.04`) or an official SOC group code whose trailing zeros mark the group
/// (`33-0000` major, `33-3000` minor, `33-3050` broad).
pub fn normalize_filter(input: &str) -> Result<String, String> {
    let s = input.trim();
    let b = s.as_bytes();
    let ok_digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let valid = match b.len() {
        2 => ok_digits(0..2),
        4..=7 => ok_digits(0..2) && b[2] == b'-' && ok_digits(3..b.len()),
        10 => is_valid(s),
        _ => false,
    };
    if !valid {
        return Err(format!(
            "`{input}` is not a SOC code or prefix; expected e.g. 33, 33-30, 33-305, 33-3051, 33-3051.04 or a group code like 33-3000"
        ));
    }
    if b.len() == 7 {
        // A 6-digit code ending in zeros is a group code: strip them to get its prefix.
        let digits = s[3..].trim_end_matches('0');
        return Ok(if digits.is_empty() {
            major(s).to_string()
        } else {
            format!("{}-{digits}", major(s))
        });
    }
    Ok(s.to_string())
}

/// One SOC 2018 group: its official code, its level and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub code: String,
    pub level: GroupLevel,
    pub name: String,
    /// The prefix that its member codes start with (`33-3` for `33-3000`).
    pub prefix: String,
}

/// The SOC 2018 groups (public domain, BLS), bundled with the binary, by official code.
pub fn groups() -> &'static BTreeMap<String, Group> {
    static GROUPS: OnceLock<BTreeMap<String, Group>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        include_str!("../../data/source/soc/soc2018.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                let code = f.next()?.to_string();
                let name = f.next()?.to_string();
                let level = GroupLevel::parse(f.next()?)?;
                let prefix = normalize_filter(&code).ok()?;
                Some((
                    code.clone(),
                    Group {
                        code,
                        level,
                        name,
                        prefix,
                    },
                ))
            })
            .collect()
    })
}

/// The narrowest SOC group containing every code (`None` when they share no major group, or
/// there are none).
pub fn narrowest_shared_group(socs: &[&str]) -> Option<&'static Group> {
    if socs.is_empty() {
        return None;
    }
    groups()
        .values()
        .filter(|g| socs.iter().all(|s| s.starts_with(&g.prefix)))
        // The longest prefix is the narrowest group; the first of equals in code order.
        .fold(None, |best: Option<&Group>, g| match best {
            Some(b) if b.prefix.len() >= g.prefix.len() => Some(b),
            _ => Some(g),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes() {
        for ok in ["33-3051", "33-3051.04", "11-1011.00"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "33",
            "33-305",
            "333-3051",
            "33-3051.4",
            "33-3051.044",
            "33_3051",
            "ab-cdef",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn prefixes_of_an_onet_code() {
        assert_eq!(
            prefixes("33-3051.04"),
            ["33", "33-3", "33-30", "33-305", "33-3051", "33-3051.04"]
        );
        assert_eq!(
            prefixes("33-3051"),
            ["33", "33-3", "33-30", "33-305", "33-3051"]
        );
        assert_eq!(major("33-3051.04"), "33");
        assert_eq!(six_digit("33-3051.04"), "33-3051");
        assert_eq!(major("3"), "3");
    }

    #[test]
    fn filters_normalize_to_prefixes() {
        assert_eq!(normalize_filter("33").unwrap(), "33");
        assert_eq!(normalize_filter("33-30").unwrap(), "33-30");
        assert_eq!(normalize_filter("33-0000").unwrap(), "33");
        assert_eq!(normalize_filter("33-3000").unwrap(), "33-3");
        assert_eq!(normalize_filter("15-1200").unwrap(), "15-12");
        assert_eq!(normalize_filter("33-3050").unwrap(), "33-305");
        assert_eq!(normalize_filter("33-3051").unwrap(), "33-3051");
        assert_eq!(normalize_filter(" 33-3051.04 ").unwrap(), "33-3051.04");
        for bad in ["3", "333", "33-", "33-30a", "x", "33-3051.4", "33-30511"] {
            assert!(normalize_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_bundled_groups_have_every_level_and_the_narrowest_is_found() {
        let g = groups();
        assert_eq!(g["29-0000"].level, GroupLevel::Major);
        assert_eq!(g["29-0000"].prefix, "29");
        for level in [
            GroupLevel::Major,
            GroupLevel::Minor,
            GroupLevel::Broad,
            GroupLevel::Detailed,
        ] {
            assert!(g.values().any(|x| x.level == level), "{level}");
        }
        let shared = narrowest_shared_group(&["29-1141.03", "29-1141.04"]).unwrap();
        assert_eq!(
            (shared.code.as_str(), shared.level),
            ("29-1141", GroupLevel::Detailed)
        );
        let shared = narrowest_shared_group(&["29-1141.03", "29-2061.00"]).unwrap();
        assert_eq!(
            (shared.code.as_str(), shared.level),
            ("29-0000", GroupLevel::Major)
        );
        assert!(narrowest_shared_group(&["29-1141.03", "33-3051.04"]).is_none());
        assert!(narrowest_shared_group(&[]).is_none());
    }
}
