//! `steward diff --plan`: which items of a saved plan a new policy set
//! decides otherwise. The plan's requests are walked again as `apply`
//! walks them (each item over the directory the allowed items before it
//! leave), at the plan's own clock, so that only the policy differs.

use serde::Serialize;

use super::DiffError;
use crate::Engine;
use crate::operation::DEFAULT_INVITATION_VALIDITY;
use crate::plan::{Plan, Walking, directory_digest};
use crate::policy::RequestError;

/// One item decided otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemChange {
    /// Its place in the plan, from 1.
    pub item: usize,
    /// The user.
    pub target: String,
    /// The environment.
    pub env: String,
    /// The plan's outcome (the action, its fallback, `denied`).
    pub before: String,
    /// The plan's deciding rules.
    pub before_rules: Vec<String>,
    /// The outcome under the new set.
    pub after: String,
    /// Its deciding rules.
    pub after_rules: Vec<String>,
    /// Its reasons.
    pub reasons: Vec<String>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanDiff {
    /// The plan's action.
    pub action: String,
    /// How many items the plan has.
    pub items: usize,
    /// The items decided otherwise, in order.
    pub changed: Vec<ItemChange>,
    /// The new set is the plan's own: nothing can differ but the directory.
    pub same_policy: bool,
    /// The directory is not the one the plan was made on: a change may come
    /// from the data, not from the policy.
    pub directory_changed: bool,
}

/// Walks `plan`'s requests again under `engine`'s policy set and directory.
pub fn diff_plan(engine: &Engine, plan: &Plan) -> Result<PlanDiff, DiffError> {
    // A plan edited by hand is not what a plan said: refused, as apply refuses it.
    if plan.content_digest() != plan.digest {
        return Err(DiffError::Query(
            "the plan was edited after it was made: its content does not match its digest".into(),
        ));
    }
    // A plan of another directory: its items would all be denied as
    // unknown here, which says nothing about the policy.
    if let Some(item) = plan.items.iter().find(|i| engine.directory().environment(&i.env).is_none()) {
        return Err(DiffError::Query(format!(
            "the plan's environment `{}` is not in this directory: compare the plan over the directory it was made on",
            item.env
        )));
    }
    let schema = engine.policies().schema();
    let spec =
        schema.action(&plan.action).ok_or_else(|| RequestError::unknown_action(schema, &plan.action))?;
    let walking = Walking {
        actor: &plan.actor,
        spec,
        reason: &plan.reason,
        now: plan.now,
        written: plan.now,
        validity: DEFAULT_INVITATION_VALIDITY,
        reassign: &plan.reassign,
        deadline: None,
        bulk: true,
        confirm: true,
        batch: None,
    };
    let (again, _) = engine.plan_items(&walking, plan.requests(spec))?;
    let changed = plan
        .items
        .iter()
        .zip(&again.items)
        .enumerate()
        .filter(|(_, (was, now))| was.outcome != now.outcome || was.rules != now.rules)
        .map(|(i, (was, now))| ItemChange {
            item: i + 1,
            target: was.target.clone(),
            env: was.env.clone(),
            before: was.outcome.clone(),
            before_rules: was.rules.clone(),
            after: now.outcome.clone(),
            after_rules: now.rules.clone(),
            reasons: now.reasons.clone(),
        })
        .collect();
    Ok(PlanDiff {
        action: plan.action.clone(),
        items: plan.items.len(),
        changed,
        same_policy: engine.policies().digest() == plan.policy_digest,
        directory_changed: directory_digest(engine) != plan.directory_digest,
    })
}
