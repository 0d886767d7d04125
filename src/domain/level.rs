//! The four proficiency levels of a framework, and the per-level values that travel with them:
//! scores (a distribution over the levels) and counts (statements per level).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the four ordered proficiency levels of a framework.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Emerging,
    Developing,
    Proficient,
    Advanced,
}

impl Level {
    /// All levels, lowest first.
    pub const ALL: [Level; 4] = [
        Level::Emerging,
        Level::Developing,
        Level::Proficient,
        Level::Advanced,
    ];

    /// The level's name as it appears in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Emerging => "emerging",
            Level::Developing => "developing",
            Level::Proficient => "proficient",
            Level::Advanced => "advanced",
        }
    }

    /// 1 (emerging) to 4 (advanced).
    pub fn ordinal(self) -> u64 {
        self as u64 + 1
    }

    /// The level with the given ordinal (1-4).
    pub fn from_ordinal(ordinal: u64) -> Option<Level> {
        Level::ALL.get((ordinal as usize).checked_sub(1)?).copied()
    }

    /// 0-based index into [`Level::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == lower)
            .ok_or_else(|| {
                format!("unknown level `{s}`; expected one of emerging, developing, proficient, advanced")
            })
    }
}

/// A score for each level, summing to 1.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelScores {
    pub emerging: f32,
    pub developing: f32,
    pub proficient: f32,
    pub advanced: f32,
}

impl From<[f32; 4]> for LevelScores {
    fn from(s: [f32; 4]) -> Self {
        LevelScores {
            emerging: s[0],
            developing: s[1],
            proficient: s[2],
            advanced: s[3],
        }
    }
}

/// A count for each level (statements, matches), all four present.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelCounts {
    pub emerging: u64,
    pub developing: u64,
    pub proficient: u64,
    pub advanced: u64,
}

impl LevelCounts {
    /// The count of one level, for adding to.
    pub fn get_mut(&mut self, level: Level) -> &mut u64 {
        match level {
            Level::Emerging => &mut self.emerging,
            Level::Developing => &mut self.developing,
            Level::Proficient => &mut self.proficient,
            Level::Advanced => &mut self.advanced,
        }
    }

    /// The count of one level.
    pub fn get(&self, level: Level) -> u64 {
        match level {
            Level::Emerging => self.emerging,
            Level::Developing => self.developing,
            Level::Proficient => self.proficient,
            Level::Advanced => self.advanced,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_order_and_round_trip() {
        for (i, l) in Level::ALL.into_iter().enumerate() {
            assert_eq!(l.index(), i);
            assert_eq!(Level::from_ordinal(l.ordinal()), Some(l));
            assert_eq!(l.as_str().parse::<Level>(), Ok(l));
            assert_eq!(
                format!(" {} ", l.as_str().to_uppercase()).parse::<Level>(),
                Ok(l)
            );
        }
        assert_eq!(Level::from_ordinal(0), None);
        assert_eq!(Level::from_ordinal(5), None);
        assert!(
            "expert"
                .parse::<Level>()
                .unwrap_err()
                .contains("emerging, developing")
        );
        assert!(Level::Emerging < Level::Advanced);
    }

    #[test]
    fn counts_serialise_in_level_order() {
        let mut c = LevelCounts::default();
        *c.get_mut(Level::Advanced) += 2;
        *c.get_mut(Level::Emerging) += 1;
        assert_eq!((c.get(Level::Advanced), c.get(Level::Developing)), (2, 0));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"emerging":1,"developing":0,"proficient":0,"advanced":2}"#
        );
        let s = LevelScores::from([0.1, 0.2, 0.3, 0.4]);
        assert_eq!(s.advanced, 0.4);
    }
}
