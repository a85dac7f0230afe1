//! Analysis of a policy set over a directory: complete reverse queries
//! (`who`), what a policy change does (`diff`, over the classes of
//! accounts no rule tells apart, `classes`; to a saved plan, `replan`; to
//! the decisions a service logged, `replay`), who holds which power
//! (`review`); the classes of an action on assets, on three sides
//! (`triples`).

pub mod classes;
pub mod diff;
pub mod replan;
pub mod replay;
pub mod review;
pub mod triples;
pub mod who;

pub use diff::{Diff, DiffError, DiffQuery, Example, Group, Outcome, Shape, diff};
pub use replan::{ItemChange, PlanDiff, diff_plan};
pub use replay::{Replay, ReplayGroup, Undecidable, replay};
pub use review::{EnvReview, Holder, Over, Power, PowerKind, Review, ReviewError, ReviewQuery, review};
pub use who::{WhoEntry, WhoError, WhoPage, WhoQuery, who, who_until};

use crate::Engine;
use crate::policy::{DecisionReport, Request, RequestError};

/// The decision `decide` reports for `request`. The policy's decision is
/// the verdict, but where it allows and `removes` ([`weighs_references`]):
/// the verdict then also weighs what refers to the account (rare, so the
/// impact it needs is computed only then).
pub(crate) fn report(
    engine: &Engine,
    request: &Request,
    removes: bool,
) -> Result<DecisionReport, RequestError> {
    let decision = engine.policies().decide(request, engine.directory())?;
    Ok(if decision.allowed() && removes {
        engine.decide(request)?.report
    } else {
        engine.policies().report(request, &decision)
    })
}

/// The environments asked (all of them when none is), each checked, in
/// order of id, once.
pub(crate) fn environments<'d>(
    directory: &'d crate::Directory,
    asked: &'d [String],
) -> Result<Vec<&'d str>, RequestError> {
    let mut envs: Vec<&str> = if asked.is_empty() {
        directory.environments().iter().map(|e| e.id.as_str()).collect()
    } else {
        if let Some(unknown) = asked.iter().find(|env| directory.environment(env).is_none()) {
            return Err(RequestError::UnknownEnvironment(unknown.clone()));
        }
        asked.iter().map(String::as_str).collect()
    };
    envs.sort_unstable();
    envs.dedup();
    Ok(envs)
}

/// Whether what refers to the target weighs on a decision of `action`
/// under `set`: a removal (records keep the account), or any action whose
/// lifecycle block falls back when records refer to it (`referenced ->
/// fallback`). `decide` then weighs the verdict, not the policy alone.
pub(crate) fn weighs_references(set: &crate::policy::PolicySet, action: &str) -> bool {
    set.schema().action(action).is_some_and(crate::schema::ActionDecl::removes_account)
        || set.lifecycle(action).is_some_and(|l| l.fallback.is_some())
}

/// What the built-in rules of `set` answer to `probe`: their rules when
/// they deny, `-` when none does. Accounts (or assets) that differ here
/// are in different classes.
pub(crate) fn builtin_answer(
    set: &crate::policy::PolicySet,
    probe: &Request,
    directory: &crate::Directory,
) -> String {
    match set.decide(probe, directory) {
        Ok(d) if !d.builtin_reasons.is_empty() => format!("{:?}", d.rules),
        Ok(_) => "-".to_owned(),
        Err(e) => e.to_string(),
    }
}

/// The assets of each environment, in order of id.
pub(crate) fn assets_by_env(
    directory: &crate::Directory,
) -> rustc_hash::FxHashMap<&str, Vec<&crate::directory::model::Asset>> {
    let mut assets: rustc_hash::FxHashMap<&str, Vec<&crate::directory::model::Asset>> =
        rustc_hash::FxHashMap::default();
    for asset in directory.assets() {
        assets.entry(asset.env.as_str()).or_default().push(asset);
    }
    assets.values_mut().for_each(|list| list.sort_unstable_by(|a, b| a.id.cmp(&b.id)));
    assets
}
