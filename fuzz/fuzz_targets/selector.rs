//! Any text given as a selector (`--where`, a plan's `where`): compile it,
//! and evaluate it on every account of the CRM example. Must never panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use steward::directory::{self, Directory};
use steward::policy::{PolicySet, Request};

static DIRECTORY: LazyLock<Directory> = LazyLock::new(|| {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    directory::load(&root.join("examples/crm.yaml"), &steward::policy::declare::standard()).unwrap_or_else(|e| panic!("{e}"))
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(selector) = PolicySet::standard_selector(&text) else { return };
    let mut request = Request::new("crm.Ada", "block", "CRM1");
    request.now = "2026-11-23T09:00:00Z".parse().ok();
    for account in DIRECTORY.accounts() {
        let _ = selector.matches(account, &request, &*DIRECTORY);
    }
});
