//! Any text given as a directory file: load and validate it. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = steward::directory::yaml::parse("fuzz.yaml", &text, &steward::policy::declare::standard());
});
