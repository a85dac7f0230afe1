//! Any JSON given as the body of a SCIM write the gateway reads: a PATCH,
//! a PUT against an account steward holds, a POST. Must never panic, and
//! whatever it reads, a change of the steward user id is never let through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward::directory::model::Account;
use steward::directory::scim::IdSource;
use steward::gateway::mapping::{new_user, patched, replaced};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let account = Account {
        user: "ada".into(),
        env: "E".into(),
        status: "active".into(),
        kind: "normal".into(),
        name: "Ada".into(),
        email: Some("ada@example.com".into()),
        roles: Vec::new(),
        invited_until: None,
        attrs: Default::default(),
    };
    for source in [IdSource::UserName, IdSource::ExternalId, IdSource::Id] {
        let _ = patched(&body, "ada", source);
        let _ = replaced(&body, "ada", &account, source);
        let _ = new_user(&body, source);
    }
});
