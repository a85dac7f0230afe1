//! Applying a plan. A plan file is trusted for nothing but its requests:
//! who acts, the action, the targets in their order with their values, the
//! reason, the clock and the new owners chosen by name. Under the store's
//! write lock, held from the first read to the commit, every item is decided
//! again over the stored directory, exactly as `plan` decided it; the plan
//! is applied only when that walk shows what the file shows, and what is
//! written is the walk's own mutations. Denied items are never applied;
//! nothing is half-applied.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use crate::Engine;
use crate::directory::audit::{Change, Head};
use crate::directory::store::Store;
use crate::operation::{DEFAULT_INVITATION_VALIDITY, OperationError};
use crate::plan::{DENIED, ERROR, Plan, PlanError, PlanItem, Walking, directory_digest};
use crate::policy::PolicySet;
use crate::schema::ActionDecl;

/// How far a plan's clock may be ahead of apply's: clocks of two machines
/// differ a little.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// The new owner of each asset that needs one (D3, D6, D7), over the
    /// plan's own choices; an asset not named goes to the default owner the
    /// plan shows. Each is checked: an asset the plan reassigns, a user who
    /// may own it.
    pub reassign: BTreeMap<String, String>,
    /// The time recorded in the audit log.
    pub now: Option<Timestamp>,
    /// How long a new or resent invitation is valid (steward.yaml
    /// `invitation_validity`, Q3).
    pub invitation_validity: Option<jiff::SignedDuration>,
    /// Apply a plan with `error` items (accounts a selector could not be
    /// evaluated on), leaving them out.
    pub skip_errors: bool,
    /// How long to wait for another writer of the database (default 30 s).
    pub busy_timeout: Option<Duration>,
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
    /// The plan's clock is ahead of the clock apply runs at: its items would
    /// be decided at a time that has not come (an expiry or an end date
    /// that has not passed).
    #[error("the plan is decided at {at}, which is later than now ({now})")]
    #[diagnostic(help("make the plan again without --now, or with a time that has passed"))]
    FromTheFuture {
        /// The plan's clock.
        at: Timestamp,
        /// The clock of apply.
        now: Timestamp,
    },
    /// The plan was applied already.
    #[error("this plan was applied already: audit entry {seq}, at {at}")]
    #[diagnostic(help("`steward audit` shows what it did; make a new plan for a new change"))]
    AlreadyApplied {
        /// The first audit entry of the plan.
        seq: i64,
        /// When.
        at: String,
    },
    /// The directory is not the one the plan was computed on.
    #[error("the plan was made for another directory: it acts in `{env}`, which this one does not have")]
    #[diagnostic(help("apply it to the database it was made over, or make a plan over this one"))]
    OtherDirectory {
        /// An environment of the plan's items that the directory lacks.
        env: String,
    },
    /// The directory changed since the plan was made.
    #[error("the directory changed since the plan was made: {}", changes.join("; "))]
    #[diagnostic(help("make the plan again and review it"))]
    DirectoryChanged {
        /// What differs now.
        changes: Vec<String>,
    },
    /// The plan does not show what its requests decide: it was edited (and
    /// its digest made again), or made by another build or policy.
    #[error("the plan does not show what its requests decide now: {}", items.join("; "))]
    #[diagnostic(help("nothing was changed; make the plan again with `steward plan` and review it"))]
    Differs {
        /// What differs.
        items: Vec<String>,
    },
    /// The plan has items a selector could not be evaluated on.
    #[error("the plan has {count} item(s) a selector could not be evaluated on, for example `{example}`")]
    #[diagnostic(help("mend the selector or the directory and plan again, or apply with --skip-errors"))]
    Errors {
        /// How many.
        count: usize,
        /// The first.
        example: String,
    },
    /// Assets need a new owner and none was given.
    #[error("these assets need a new owner: {}", assets.join(", "))]
    #[diagnostic(help("give one with --reassign ASSET=USER for each"))]
    MissingOwner {
        /// The assets.
        assets: Vec<String>,
    },
    /// The plan's requests cannot be decided again (a value, a name).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(#[from] PlanError),
    /// An item cannot be carried out.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Operation(#[from] OperationError),
    /// The store failed (the transaction was rolled back).
    #[error(transparent)]
    Store(#[from] crate::directory::Error),
}

/// Applies `plan` to `store`: decides its requests again over the stored
/// directory under the write lock, and writes what that decides when it is
/// what the plan shows.
pub fn apply(
    store: &mut Store,
    policies: PolicySet,
    plan: &Plan,
    options: &ApplyOptions,
) -> Result<Applied, ApplyError> {
    // Catches accidents (a truncated or hand-edited file); anyone can
    // compute it again, so nothing below trusts the plan because of it.
    if plan.content_digest() != plan.digest {
        return Err(ApplyError::Tampered);
    }
    if policies.digest() != plan.policy_digest {
        return Err(ApplyError::PolicyChanged);
    }
    let schema = policies.schema().clone();
    let spec = schema
        .action(&plan.action)
        .ok_or_else(|| ApplyError::Differs { items: vec![format!("`{}` is not an action", plan.action)] })?;
    let errors: Vec<&PlanItem> = plan.items.iter().filter(|i| i.outcome == ERROR).collect();
    if let Some(first) = errors.first().filter(|_| !options.skip_errors) {
        return Err(ApplyError::Errors {
            count: errors.len(),
            example: format!("{} in {}", first.target, first.env),
        });
    }
    let mut reassign = plan.reassign.clone();
    reassign.extend(options.reassign.iter().map(|(a, u)| (a.clone(), u.clone())));
    let now = options.now.unwrap_or_else(Timestamp::now);
    // A clock edited forward would make rules on dates (an invitation that
    // expired, an employment that ended) decide what has not happened yet.
    if plan.now > now.checked_add(CLOCK_SKEW).unwrap_or(now) {
        return Err(ApplyError::FromTheFuture { at: plan.now, now });
    }
    let busy = options.busy_timeout.unwrap_or(Duration::from_secs(30));
    store
        .write_locked(busy, |directory, locked| {
            if let Some((seq, at)) = locked.first_entry_of_plan(&plan.digest)? {
                return Err(ApplyError::AlreadyApplied { seq, at });
            }
            if let Some(item) = plan.items.iter().find(|i| directory.environment(&i.env).is_none()) {
                return Err(ApplyError::OtherDirectory { env: item.env.clone() });
            }
            let engine = Engine::new(policies, directory);
            let walking = Walking {
                actor: &plan.actor,
                spec,
                reason: &plan.reason,
                // Decided at apply's own clock, not the file's: a plan made
                // for another time (`--now`), or before an invitation
                // expired, is applied only when its items still come out
                // as it shows them now.
                now,
                written: now,
                validity: options.invitation_validity.unwrap_or(DEFAULT_INVITATION_VALIDITY),
                reassign: &reassign,
                deadline: None,
                bulk: true,
                confirm: true,
                batch: None,
            };
            let (again, walked) = engine.plan_items(&walking, plan.requests(spec))?;
            if directory_digest(&engine) != plan.directory_digest {
                return Err(ApplyError::DirectoryChanged { changes: what_changed(plan, &again) });
            }
            let differs = differences(plan, &again, &options.reassign);
            if !differs.is_empty() {
                return Err(ApplyError::Differs { items: differs });
            }
            if let Some(action) = walked.unexecuted.first() {
                return Err(OperationError::Unsupported {
                    action: action.clone(),
                    executed: schema.action_list(ActionDecl::executed),
                }
                .into());
            }
            if !walked.unowned.is_empty() {
                return Err(ApplyError::MissingOwner { assets: walked.unowned });
            }
            let audit: Vec<Change> = walked
                .notes
                .into_iter()
                .map(|n| Change {
                    at: now,
                    actor: plan.actor.clone(),
                    action: n.action,
                    target: n.target,
                    env: n.env,
                    outcome: n.outcome,
                    reason: plan.reason.clone(),
                    plan_digest: plan.digest.clone(),
                })
                .collect();
            let items = again.items.iter().filter(|i| i.outcome != DENIED && i.outcome != ERROR).count();
            let applied = Applied { items, changes: audit.len(), head: None };
            Ok((walked.mutations, audit, applied))
        })
        .map(|(applied, head)| Applied { head, ..applied })
}

/// Where the plan made again differs from the plan file, item by item and
/// then in its summary; owners chosen only now (`--reassign`) aside.
fn differences(plan: &Plan, again: &Plan, chosen_now: &BTreeMap<String, String>) -> Vec<String> {
    let mut shown = plan.clone();
    shown.reassign.extend(chosen_now.iter().map(|(a, u)| (a.clone(), u.clone())));
    for r in shown.items.iter_mut().filter_map(|i| i.impact.as_mut()).flat_map(|i| i.reassign.iter_mut()) {
        if let Some(owner) = chosen_now.get(&r.asset) {
            r.new_owner = Some(owner.clone());
        }
    }
    let mut out = changed_items(&shown.items, &again.items);
    if shown.items.len() != again.items.len() {
        out.push(format!("{} items in the plan, {} decided", shown.items.len(), again.items.len()));
    }
    if out.is_empty() && json(&shown.summary) != json(&again.summary) {
        out.push("its summary".to_owned());
    }
    if shown.requires_confirmation != again.requires_confirmation {
        out.push("whether it requires confirmation".to_owned());
    }
    out
}

/// A part of a plan as JSON, for comparisons: what a reviewer reads, not
/// how it is held in memory.
fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

fn describe(was: &PlanItem, now: &PlanItem) -> String {
    if was.outcome != now.outcome {
        let mut why = now.reasons.join("; ");
        if !now.rules.is_empty() {
            why = format!("{why} (rules: {})", now.rules.join(", "));
        }
        format!("`{}` in `{}` is {} (the plan says {}): {why}", was.target, was.env, now.outcome, was.outcome)
    } else {
        format!("what {} `{}` in `{}` does is not what the plan shows", was.outcome, was.target, was.env)
    }
}

/// The items whose outcome or impact differ on the current directory.
fn what_changed(plan: &Plan, again: &Plan) -> Vec<String> {
    let mut changes = changed_items(&plan.items, &again.items);
    if changes.is_empty() {
        changes.push("accounts or assets outside the plan's items changed".to_owned());
    }
    changes
}

/// Each item that reads otherwise when decided again, said in words.
fn changed_items(shown: &[PlanItem], again: &[PlanItem]) -> Vec<String> {
    shown
        .iter()
        .zip(again)
        .filter(|(was, now)| json(was) != json(now))
        .map(|(was, now)| describe(was, now))
        .collect()
}
