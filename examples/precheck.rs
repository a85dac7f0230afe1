//! An admin tool that checks a bulk deletion with steward before doing it:
//! every account is decided as part of one confirmed bulk (C2, C5), accounts
//! that records still refer to fall back to a block (P3), and the tool only
//! goes ahead when nothing is denied.
//!
//! ```sh
//! cargo run --example precheck                       # the ERP example
//! cargo run --example precheck -- POLICY DIRECTORY ACTOR ENV USER...
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use steward::{Engine, PlanRequest, Target, Targets};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (policy, directory, actor, env, users) = match args.as_slice() {
        [] => (
            root.join("policies/erp"),
            root.join("examples/erp.yaml"),
            "12345.Admin".to_owned(),
            "O12345AA".to_owned(),
            vec!["12345.JJansen".to_owned(), "12345.Leaver".to_owned(), "12345.Admin".to_owned()],
        ),
        [policy, directory, actor, env, users @ ..] if !users.is_empty() => {
            (policy.into(), directory.into(), actor.clone(), env.clone(), users.to_vec())
        }
        _ => {
            eprintln!("usage: precheck [POLICY DIRECTORY ACTOR ENV USER...]");
            return ExitCode::FAILURE;
        }
    };
    let engine = match Engine::load_paths(&[policy], &directory) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let plan = engine.plan(&PlanRequest {
        actor,
        action: Some("delete".into()),
        targets: Targets::List(users.into_iter().map(Target::user).collect()),
        env: Some(env),
        value: None,
        reason: "precheck before a bulk deletion".into(),
        now: jiff::Timestamp::now(),
        reassign: Default::default(),
    });
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for item in &plan.items {
        let why = item.reasons.first().map(String::as_str).unwrap_or_default();
        println!("{:<16} {:<8} {why}", item.target, item.outcome);
    }
    for license in &plan.summary.licenses {
        println!("license {}: {} users now, {} after", license.license, license.before, license.after);
    }
    if plan.items.iter().any(|i| i.outcome == "denied") {
        println!("steward denies part of this deletion: nothing was done");
        return ExitCode::from(2);
    }
    // The tool's own deletion would run here, item by item, using each
    // outcome (delete, or block where records remain).
    println!("steward allows every item (plan {}); going ahead", plan.digest);
    ExitCode::SUCCESS
}
