//! The walk of a plan's items, in order, each decided over the directory
//! the allowed items before it leave: statuses, counts, e-mail addresses in
//! use, accounts and users removed, assets reassigned. `plan` shows what the
//! walk decides; `apply` walks the same requests again under the store's
//! write lock and writes the mutations of its own walk, never a plan file's.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::{PlanError, PlanItem, Staged};
use crate::Engine;
use crate::directory::mutation::Mutation;
use crate::operation::Operation;
use crate::policy::Request;
use crate::policy::decision::{INVALID_REQUEST, SELECTOR_ERROR};
use crate::schema::{ActionDecl, Subject};

/// The outcome of an item the policy refuses.
pub const DENIED: &str = "denied";
/// The outcome of an item a trigger or selector could not be evaluated on:
/// neither selected nor left out, so that nothing drops out unseen.
pub const ERROR: &str = "error";

/// One item to decide: a user, where, with what value; or an account a
/// selector could not be evaluated on, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub user: String,
    pub env: String,
    pub value: Option<String>,
    pub error: Option<String>,
}

/// What every item of a walk shares.
pub(crate) struct Walking<'a> {
    pub actor: &'a str,
    pub spec: &'a ActionDecl,
    pub reason: &'a str,
    /// The clock every item is decided at (the plan's).
    pub now: Timestamp,
    /// The clock of what is written: when apply runs (an invitation is
    /// valid from when it is sent, Q3); the plan's own clock in a plan.
    pub written: Timestamp,
    pub validity: SignedDuration,
    /// New owners chosen by name (`--reassign ASSET=USER`); the others go
    /// to the default owner their lifecycle block names.
    pub reassign: &'a BTreeMap<String, String>,
    /// When to give up: the walk stops before the next item past it
    /// (`PlanError::Timeout`), so that a plan nobody waits for any more
    /// frees its thread.
    pub deadline: Option<std::time::Instant>,
    /// How each item is asked: part of a bulk operation of `batch` targets
    /// (the walk's own length when `None`), confirmed. A plan asks for
    /// every item in bulk and confirmed; the SCIM gateway as the identity
    /// provider asked.
    pub bulk: bool,
    pub confirm: bool,
    pub batch: Option<i64>,
}

/// One change to record in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    pub action: String,
    pub target: String,
    pub env: String,
    pub outcome: String,
}

/// What a walk decided, and what it would write.
pub(crate) struct Walked {
    pub items: Vec<PlanItem>,
    /// The mutations of every allowed item, in order.
    pub mutations: Vec<Mutation>,
    /// One note per change, in order.
    pub notes: Vec<Note>,
    /// Assets that need a new owner and have none: apply refuses until each
    /// is given one.
    pub unowned: Vec<String>,
    /// Allowed items whose action apply does not execute.
    pub unexecuted: Vec<String>,
    /// Per allowed item: the account before and after (license counts).
    pub accounts: Vec<(Option<crate::directory::model::Account>, Option<crate::directory::model::Account>)>,
    /// The directory after every allowed item, the last one's changes
    /// staged: applied when it is read ([`Staged::engine`]).
    pub after: Staged,
}

impl Engine {
    /// Decides `items` in order, each over the directory the allowed items
    /// before it leave, and computes what each does.
    pub(crate) fn walk(&self, how: &Walking<'_>, items: Vec<Item>) -> Result<Walked, PlanError> {
        let batch = how.batch.unwrap_or_else(|| i64::try_from(items.len()).unwrap_or(i64::MAX));
        let mut out = Walked {
            items: Vec::with_capacity(items.len()),
            mutations: Vec::new(),
            notes: Vec::new(),
            unowned: Vec::new(),
            unexecuted: Vec::new(),
            accounts: Vec::new(),
            after: Staged::new(self.shared()),
        };
        // Decided over this engine (and its memo) until an item changes
        // something, then over the directory the changes leave.
        let mut after = Staged::new(self.shared());
        let mut changed = false;
        for item in items {
            if how.deadline.is_some_and(|deadline| std::time::Instant::now() > deadline) {
                return Err(PlanError::Timeout { decided: out.items.len() });
            }
            let engine = if changed { after.engine() } else { self };
            let Some(step) = engine.step(how, item, batch, &mut out)?.filter(|m| !m.is_empty()) else {
                continue;
            };
            after.stage(&step);
            changed = true;
            out.mutations.extend(step);
        }
        out.after = after;
        Ok(out)
    }

    /// Decides one item over this engine's directory; pushes its plan item
    /// and notes, and returns its mutations when it is allowed and changes
    /// something.
    fn step(
        &self,
        how: &Walking<'_>,
        item: Item,
        batch: i64,
        out: &mut Walked,
    ) -> Result<Option<Vec<Mutation>>, PlanError> {
        let Item { user, env, value, error } = item;
        let refused = |outcome: &str, rules: Vec<String>, reasons: Vec<String>| PlanItem {
            target: user.clone(),
            env: env.clone(),
            value: value.clone(),
            outcome: outcome.to_owned(),
            rules,
            reasons,
            impact: None,
        };
        if let Some(error) = error {
            out.items.push(refused(ERROR, vec![SELECTOR_ERROR.to_owned()], vec![error]));
            return Ok(None);
        }
        let action = how.spec.name.as_str();
        let schema = self.policies().schema();
        let operation =
            Operation { schema, outcome: action, user: &user, env: &env, value: value.as_deref() };
        operation.check()?;
        let invite = how.spec.subject == Subject::Addresses;
        let request = Request {
            actor: how.actor.to_owned(),
            action: action.to_owned(),
            target: (!invite).then(|| user.clone()),
            emails: if invite { vec![user.clone()] } else { Vec::new() },
            value: value.clone(),
            env: env.clone(),
            reason: Some(how.reason.to_owned()),
            confirm: how.confirm,
            bulk: how.bulk,
            batch_size: Some(batch),
            now: Some(how.now),
            ..Request::default()
        };
        // A request that cannot be decided (the actor has no account in
        // that environment) is a denied item with its reason, not a failed
        // plan: the reviewer sees it, apply skips it.
        let verdict = match self.decide(&request) {
            Ok(verdict) => verdict,
            Err(e) => {
                out.items.push(refused(DENIED, vec![INVALID_REQUEST.to_owned()], vec![e.to_string()]));
                return Ok(None);
            }
        };
        let outcome = match (&verdict.fallback, verdict.allowed()) {
            (_, true) => action.to_owned(),
            (Some(fallback), false) if fallback.decision == "allow" => fallback.action.clone(),
            _ => DENIED.to_owned(),
        };
        let rules: Vec<String> = verdict.report.rules.iter().map(|r| r.id.clone()).collect();
        let mut impact = verdict.impact;
        if outcome == DENIED {
            out.items.push(PlanItem {
                target: user,
                env,
                value,
                outcome,
                rules,
                reasons: verdict.report.reasons,
                impact,
            });
            return Ok(None);
        }
        let note = |action: &str, target: &str, outcome: String| Note {
            action: action.to_owned(),
            target: target.to_owned(),
            env: env.clone(),
            outcome,
        };
        let mut mutations = Vec::new();
        let mut notes = Vec::new();
        let mut unowned = Vec::new();
        for r in impact.iter_mut().flat_map(|i| i.reassign.iter_mut()) {
            let given = how.reassign.get(&r.asset);
            r.new_owner = given.or(r.default_owner.as_ref()).cloned();
            let Some(to) = r.new_owner.clone() else {
                unowned.push(r.asset.clone());
                continue;
            };
            // The owner the plan names is decided now, as apply will: an
            // item apply would have to refuse is denied here, with the rule.
            let asked = Request {
                actor: how.actor.to_owned(),
                action: "reassign".into(),
                asset: Some(r.asset.clone()),
                to: Some(to.clone()),
                env: env.clone(),
                reason: Some(how.reason.to_owned()),
                confirm: how.confirm,
                now: Some(how.now),
                ..Request::default()
            };
            let decided = self.decide(&asked);
            let (allowed, rules, mut reasons) = match decided {
                Ok(v) => {
                    (v.allowed(), v.report.rules.iter().map(|r| r.id.clone()).collect(), v.report.reasons)
                }
                Err(e) => (false, vec![INVALID_REQUEST.to_owned()], vec![e.to_string()]),
            };
            if !allowed {
                let whose = if given.is_some() { "the owner given" } else { "the default owner" };
                reasons.insert(0, format!("reassigning `{}` to `{to}` ({whose}) is denied", r.asset));
                out.items.push(PlanItem {
                    target: user,
                    env,
                    value,
                    outcome: DENIED.to_owned(),
                    rules,
                    reasons,
                    impact,
                });
                return Ok(None);
            }
            mutations.push(Mutation::SetOwner { asset: r.asset.clone(), owner: Some(to.clone()) });
            notes.push(note("reassign", &r.asset, format!("reassigned to {to}")));
        }
        for (list, verb) in impact
            .iter()
            .flat_map(|i| [(&i.revoke, "revoked"), (&i.remove, "removed"), (&i.disable, "disabled")])
        {
            for asset in list {
                mutations.push(match verb {
                    "disabled" => Mutation::Disable { asset: asset.clone() },
                    _ => Mutation::DeleteAsset { asset: asset.clone() },
                });
                notes.push(note(action, asset, verb.to_owned()));
            }
        }
        for asset in impact.iter().flat_map(|i| i.left_without_owner.iter()) {
            notes.push(note(action, asset, "left without owner".to_owned()));
        }
        let operation = Operation { outcome: &outcome, ..operation };
        let change = operation.preview(self.directory(), how.written, how.validity)?;
        out.accounts.push((change.before.cloned(), change.after));
        let spec = schema.action(&outcome);
        if spec.is_some_and(ActionDecl::executed) {
            mutations.extend(operation.mutations(self.directory(), how.written, how.validity)?);
        } else {
            out.unexecuted.push(outcome.clone());
        }
        notes.push(note(action, &user, outcome.clone()));
        // Whether a deletion or a revoked invitation (Q3, Q7) takes a user's
        // last account, nothing identifying them stays when the lifecycle
        // block says `orphaned user -> remove` (D4); the items before have
        // taken their other accounts already.
        // The pack says it once, in the block of an action that removes
        // accounts; it holds for every action that takes the last one.
        let removes_account = spec.is_some_and(ActionDecl::removes_account);
        let removes_user = removes_account
            && self.policies().lifecycles().iter().any(|l| l.remove_orphaned_user)
            && self.directory().accounts_of(&user).all(|a| a.env == env);
        if let Some(impact) = impact.as_mut() {
            impact.removes_user = removes_user;
        }
        if removes_user {
            notes.push(Note {
                action: "delete_user".into(),
                ..note(action, &user, "removed with their last account (D4)".to_owned())
            });
            mutations.push(Mutation::DeleteUser { user: user.clone() });
        }
        out.unowned.extend(unowned);
        out.notes.extend(notes);
        out.items.push(PlanItem {
            target: user,
            env,
            value,
            outcome,
            rules,
            reasons: verdict.report.reasons,
            impact,
        });
        Ok(Some(mutations))
    }
}
