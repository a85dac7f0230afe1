//! Any text given as a policy file: parse, validate and format it. Must
//! never panic; the formatted output must parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward::policy::fmt::format_file;
use steward::policy::parse::parse_file;
use steward::policy::{PolicySet, Sources};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut sources = Sources::new();
    let id = sources.add("fuzz.policy", text.as_ref());
    if let Ok(file) = parse_file(&sources, id) {
        let formatted = format_file(&file);
        let mut again = Sources::new();
        let id = again.add("formatted.policy", formatted);
        assert!(parse_file(&again, id).is_ok(), "formatted output does not parse");
    }
    let _ = PolicySet::from_sources(sources);
});
