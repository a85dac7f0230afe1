//! Applying a plan: re-checked against the policy set and the directory it
//! was made on, then executed in one SQLite transaction with one audit entry
//! per change. Denied items are never applied; nothing is half-applied.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::Engine;
use crate::directory::audit::{Change, Head};
use crate::directory::store::{Mutation, Store};
use crate::operation::{self, DEFAULT_INVITATION_VALIDITY, Operation, OperationError, TargetKind};
use crate::plan::{Plan, PlanRequest, Target, Targets, UserRemoval, directory_digest, removed_users};
use crate::policy::{PolicySet, Request, RequestError};

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// The new owner of each asset that needs one (D3, D6, D7); an asset
    /// not listed goes to the default owner its lifecycle block names.
    pub reassign: BTreeMap<String, String>,
    /// The time recorded in the audit log.
    pub now: Option<Timestamp>,
    /// How long a new or resent invitation is valid (steward.yaml
    /// `invitation_validity`, Q3).
    pub invitation_validity: Option<jiff::SignedDuration>,
}

/// What was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Items applied (denied ones are skipped).
    pub items: usize,
    /// Changes made, each with an audit entry.
    pub changes: usize,
    /// The audit log's head after them, signed when the store has a signer.
    pub head: Option<Head>,
}

/// Why a plan is not applied. Nothing was changed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum ApplyError {
    /// The plan's content does not match its digest.
    #[error("the plan was edited after it was made: its content does not match its digest")]
    Tampered,
    /// The policy set is not the one the plan was decided with.
    #[error("the policy set changed since the plan was made")]
    #[diagnostic(help("make the plan again with the current policies"))]
    PolicyChanged,
    /// The directory is not the one the plan was computed on.
    #[error("the directory changed since the plan was made: {}", changes.join("; "))]
    #[diagnostic(help("make the plan again and review it"))]
    DirectoryChanged {
        /// What differs now.
        changes: Vec<String>,
    },
    /// Assets need a new owner and none was given.
    #[error("these assets need a new owner: {}", assets.join(", "))]
    #[diagnostic(help("give one with --reassign ASSET=USER for each"))]
    MissingOwner {
        /// The assets.
        assets: Vec<String>,
    },
    /// The policy does not allow a reassignment (D7).
    #[error("reassigning `{asset}` to `{to}` is denied: {reason}")]
    ReassignDenied {
        /// The asset.
        asset: String,
        /// The new owner.
        to: String,
        /// The rules and reasons.
        reason: String,
    },
    /// An item cannot be carried out.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Operation(#[from] OperationError),
    /// A reassignment could not be decided.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Request(#[from] RequestError),
    /// The store failed (the transaction was rolled back).
    #[error(transparent)]
    Store(#[from] crate::directory::Error),
}

/// Applies `plan` to `store`, after checking it against `policies` and the
/// stored directory.
pub fn apply(
    store: &mut Store,
    policies: PolicySet,
    plan: &Plan,
    options: &ApplyOptions,
) -> Result<Applied, ApplyError> {
    if plan.content_digest() != plan.digest {
        return Err(ApplyError::Tampered);
    }
    if policies.digest() != plan.policy_digest {
        return Err(ApplyError::PolicyChanged);
    }
    let engine = Engine::new(policies, store.load()?);
    if directory_digest(&engine) != plan.directory_digest {
        return Err(ApplyError::DirectoryChanged { changes: what_changed(&engine, plan) });
    }
    let now = options.now.unwrap_or_else(Timestamp::now);
    let validity = options.invitation_validity.unwrap_or(DEFAULT_INVITATION_VALIDITY);
    let change = |target: &str, env: &str, outcome: String| Change {
        at: now,
        actor: plan.actor.clone(),
        action: plan.action.clone(),
        target: target.to_owned(),
        env: env.to_owned(),
        outcome,
        reason: plan.reason.clone(),
        plan_digest: plan.digest.clone(),
    };
    let mut mutations = Vec::new();
    let mut audit = Vec::new();
    let mut missing = Vec::new();
    let mut items = 0;
    for item in plan.items.iter().filter(|i| i.outcome != "denied") {
        items += 1;
        let impact = item.impact.as_ref();
        for r in impact.map(|i| i.reassign.as_slice()).unwrap_or_default() {
            // A new owner given to apply wins over the policy's default.
            let Some(to) = options.reassign.get(&r.asset).or(r.default_owner.as_ref()) else {
                missing.push(r.asset.clone());
                continue;
            };
            let request = Request {
                actor: plan.actor.clone(),
                action: "reassign".into(),
                asset: Some(r.asset.clone()),
                to: Some(to.clone()),
                env: item.env.clone(),
                reason: Some(plan.reason.clone()),
                confirm: true,
                now: Some(plan.now),
                ..Request::default()
            };
            let verdict = engine.decide(&request)?;
            if !verdict.allowed() {
                let rules: Vec<String> = verdict.report.rules.iter().map(|r| r.id.clone()).collect();
                let mut reason = rules.join(", ");
                if !verdict.report.reasons.is_empty() {
                    reason = format!("{reason} ({})", verdict.report.reasons.join("; "));
                }
                return Err(ApplyError::ReassignDenied { asset: r.asset.clone(), to: to.clone(), reason });
            }
            mutations.push(Mutation::SetOwner { asset: r.asset.clone(), owner: Some(to.clone()) });
            audit.push(Change {
                action: "reassign".into(),
                ..change(&r.asset, &item.env, format!("reassigned to {to}"))
            });
        }
        for (list, verb) in
            impact.map(|i| [(&i.revoke, "revoked"), (&i.remove, "removed")]).into_iter().flatten()
        {
            for asset in list {
                mutations.push(Mutation::DeleteAsset { asset: asset.clone() });
                audit.push(change(asset, &item.env, verb.to_owned()));
            }
        }
        for asset in impact.map(|i| i.disable.as_slice()).unwrap_or_default() {
            mutations.push(Mutation::Disable { asset: asset.clone() });
            audit.push(change(asset, &item.env, "disabled".to_owned()));
        }
        let operation = Operation {
            outcome: &item.outcome,
            user: &item.target,
            env: &item.env,
            value: item.value.as_deref(),
        };
        mutations.extend(operation.mutations(engine.directory(), now, validity)?);
        audit.push(change(&item.target, &item.env, item.outcome.clone()));
    }
    // After every account the plan takes: the store removes only users
    // without accounts.
    for UserRemoval { user, env } in removed_users(&engine, &plan.items) {
        audit.push(Change {
            action: "delete_user".into(),
            ..change(&user, &env, "removed with their last account (D4)".to_owned())
        });
        mutations.push(Mutation::DeleteUser { user });
    }
    if !missing.is_empty() {
        return Err(ApplyError::MissingOwner { assets: missing });
    }
    let head = store.apply(&mutations, &audit)?;
    Ok(Applied { items, changes: audit.len(), head })
}

/// Makes the plan again on the current directory and names the items whose
/// outcome or impact differ.
fn what_changed(engine: &Engine, plan: &Plan) -> Vec<String> {
    let request = PlanRequest {
        actor: plan.actor.clone(),
        action: Some(plan.action.clone()),
        targets: if operation::action(&plan.action).is_some_and(|a| a.targets == TargetKind::Addresses) {
            Targets::Emails(plan.items.iter().map(|i| i.target.clone()).collect())
        } else {
            Targets::List(
                plan.items
                    .iter()
                    .map(|i| Target {
                        user: i.target.clone(),
                        env: Some(i.env.clone()),
                        value: i.value.clone(),
                    })
                    .collect(),
            )
        },
        env: plan.items.first().map(|i| i.env.clone()),
        value: None,
        reason: plan.reason.clone(),
        now: plan.now,
    };
    let again = match engine.plan(&request) {
        Ok(again) => again,
        Err(e) => return vec![e.to_string()],
    };
    let mut changes: Vec<String> = plan
        .items
        .iter()
        .zip(&again.items)
        .filter(|(was, now)| was != now)
        .map(|(was, now)| {
            if was.outcome != now.outcome {
                format!(
                    "`{}` in `{}` would now be {} (was {})",
                    was.target, was.env, now.outcome, was.outcome
                )
            } else {
                format!("what {} `{}` in `{}` does has changed", was.outcome, was.target, was.env)
            }
        })
        .collect();
    if changes.is_empty() {
        changes.push("accounts or assets outside the plan's items changed".to_owned());
    }
    changes
}
