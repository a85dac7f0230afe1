//! Any bytes given as a saved plan (`steward apply PLAN`): parse it, run
//! the checks apply makes (digests of the plan, the policy set and the
//! directory), then sign it as if it were genuine and apply it to the CRM
//! example in memory, so that the items themselves are exercised. Must
//! never panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use steward::Plan;
use steward::apply::{ApplyOptions, apply};
use steward::directory::store::{ImportOptions, Store};
use steward::directory::{self, Directory};
use steward::policy::PolicySet;

static PACK: LazyLock<(PolicySet, Directory)> = LazyLock::new(|| {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let set = PolicySet::load(&[root.join("policies/crm")]).unwrap_or_else(|e| panic!("{e}")).set;
    let directory = directory::load(&root.join("examples/crm.yaml"), &steward::policy::declare::standard()).unwrap_or_else(|e| panic!("{e}"));
    (set, directory)
});

fuzz_target!(|data: &[u8]| {
    let Ok(mut plan) = serde_json::from_slice::<Plan>(data) else { return };
    let (set, directory) = &*PACK;
    let Ok(mut store) = Store::in_memory() else { return };
    if store.import(directory, "crm.yaml", ImportOptions::default()).is_err() {
        return;
    }
    // As saved: refused unless every digest matches.
    let _ = apply(&mut store, set.clone(), &plan, &ApplyOptions::default());
    // As if genuine: the items are checked and applied.
    let engine = steward::Engine::new(set.clone(), directory.clone());
    plan.policy_digest = set.digest().to_owned();
    plan.directory_digest = steward::plan::directory_digest(&engine);
    plan.digest = plan.content_digest();
    let _ = apply(&mut store, set.clone(), &plan, &ApplyOptions::default());
});
