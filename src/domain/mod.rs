//! The domain: framework exports and their validation, SOC codes and proficiency levels. Pure
//! code with no index and no I/O.

pub mod framework;
pub mod level;
pub mod soc;
pub mod table;
pub mod validate;

/// O*NET's job zones, from little preparation (1) to extensive preparation (5).
pub const JOB_ZONES: std::ops::RangeInclusive<u8> = 1..=5;
