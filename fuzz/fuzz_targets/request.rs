//! Any bytes given as a request's JSON (`steward decide`, `POST /v1/decide`):
//! parse it, and decide it over the CRM example with its pack. Must never
//! panic; a request that parses prints back to the same request.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use steward::Engine;
use steward::policy::Request;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Engine::load_paths(&[root.join("policies/crm")], &root.join("examples/crm.yaml"))
        .unwrap_or_else(|e| panic!("the CRM example does not load: {e}"))
});

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<Request>(data) else { return };
    let printed = serde_json::to_string(&request).unwrap_or_default();
    let again: Request = serde_json::from_str(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
    assert_eq!(again, request, "a request prints back to itself");
    let _ = ENGINE.decide(&request);
});
