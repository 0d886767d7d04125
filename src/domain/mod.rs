//! The domain: framework exports and their validation, SOC codes and proficiency levels. Pure
//! code with no index and no I/O.

pub mod framework;
pub mod level;
pub mod soc;
