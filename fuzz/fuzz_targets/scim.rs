//! Any text given as SCIM lists (the Users list, then after a NUL byte the
//! Groups list): read, check and map them. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward::directory::scim::{File, Options, parse};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (users, groups) = match text.split_once('\0') {
        Some((users, groups)) => (users, Some(File { name: "groups.json", text: groups })),
        None => (&*text, None),
    };
    let options = Options { env: "E".into(), ..Options::default() };
    let _ = parse(
        File { name: "users.json", text: users },
        groups,
        &steward::policy::declare::standard(),
        &options,
    );
});
