//! Fuzz target: export parsing and validation never panic on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = skillmap::domain::framework::parse_export(data);
});
