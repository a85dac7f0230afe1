//! Plans: the dry run of a bulk change (C3). Every target is decided as
//! part of one bulk, confirmed request (C2, C5, Q7, D8), with its impact; the
//! summary adds up outcomes, license counts after the whole plan, the assets
//! to reassign and the warnings. A plan carries digests of the policy set,
//! the directory and its own content, so that it can be checked later.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::digest::sha256_hex;
use crate::directory::model::{Account, Status};
use crate::graph::impact::{ACTIVE_ELSEWHERE, active_elsewhere};
use crate::graph::{Impact, LicenseChange, Warning};
use crate::operation::{
    self, ActionSpec, DEFAULT_INVITATION_VALIDITY, Effect, Operation, OperationError, TargetKind,
};
use crate::policy::diagnostic::did_you_mean;
use crate::policy::{PolicySet, Request, RequestError};

/// Which accounts a plan acts on.
#[derive(Debug, Clone)]
pub enum Targets {
    /// Listed users, each in the given environment or in `--env`, each with
    /// its own value or the plan's.
    List(Vec<Target>),
    /// Addresses to invite (Q3): one new pending account each.
    Emails(Vec<String>),
    /// Accounts an expression of the policy language selects.
    Where(String),
    /// Accounts a trigger of the policy set selects (P5).
    Trigger(String),
}

/// One listed target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The user.
    pub user: String,
    /// The environment, when the list gives one.
    pub env: Option<String>,
    /// The value for this user (`edit_email`, `edit_name`, `add_guest`).
    pub value: Option<String>,
}

impl Target {
    /// `user`, in the plan's environment, with the plan's value.
    pub fn user(user: impl Into<String>) -> Self {
        Target { user: user.into(), ..Target::default() }
    }

    /// `user` in `env`.
    pub fn in_env(user: impl Into<String>, env: impl Into<String>) -> Self {
        Target { user: user.into(), env: Some(env.into()), value: None }
    }
}

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Who acts.
    pub actor: String,
    /// The action; `None` takes the trigger's.
    pub action: Option<String>,
    /// On whom.
    pub targets: Targets,
    /// Only accounts of this environment (and the environment of listed users without one).
    pub env: Option<String>,
    /// The value of every item that does not bring its own (`edit_email`,
    /// `edit_name`, `add_guest`).
    pub value: Option<String>,
    /// Why (C2).
    pub reason: String,
    /// The clock.
    pub now: Timestamp,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum PlanError {
    /// The selector does not compile.
    #[error("the selector is invalid")]
    Selector(#[source] crate::policy::Error),
    /// The policy set has no such trigger.
    #[error("no trigger `{0}` in the policy set")]
    UnknownTrigger(String),
    /// The action is missing, or differs from the trigger's.
    #[error("{0}")]
    Action(String),
    /// No target is given, or a listed user has no environment, or no
    /// account there.
    #[error("{0}")]
    Target(String),
    /// A request cannot be decided (an unknown action, user or environment).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Request(#[from] RequestError),
    /// An item's operation cannot be carried out (a missing or invalid value).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Operation(#[from] OperationError),
}

/// One target of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The user.
    pub target: String,
    /// The environment.
    pub env: String,
    /// The new e-mail or name, or how a guest is added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What apply would do: the action, the fallback action when the action
    /// falls back (P3), or `denied`.
    pub outcome: String,
    /// The deciding rules.
    pub rules: Vec<String>,
    /// Why.
    pub reasons: Vec<String>,
    /// What the outcome does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
}

/// The totals of a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// How many items per outcome.
    pub outcomes: BTreeMap<String, usize>,
    /// Per license touched, the count before and after the whole plan.
    pub licenses: Vec<LicenseChange>,
    /// Every asset that needs a new owner.
    pub reassign: Vec<String>,
    /// Every warning, with the item it belongs to.
    pub warnings: Vec<ItemWarning>,
    /// Users whose record goes too, because the plan takes their last
    /// account (D4); left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_users: Vec<String>,
}

/// A warning of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemWarning {
    /// The user.
    pub target: String,
    /// The environment.
    pub env: String,
    /// The warning.
    #[serde(flatten)]
    pub warning: Warning,
}

/// A plan: reviewable, saveable, checkable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Who acts.
    pub actor: String,
    /// The action.
    pub action: String,
    /// Why.
    pub reason: String,
    /// The clock the plan was decided at.
    pub now: Timestamp,
    /// `apply` asks for confirmation (C2): the plan was decided as confirmed.
    pub requires_confirmation: bool,
    /// The policy set's digest.
    pub policy_digest: String,
    /// A digest of the directory the plan was computed on.
    pub directory_digest: String,
    /// One item per target, in the order given (denied items are listed first
    /// by the human output, not here).
    pub items: Vec<PlanItem>,
    /// The totals.
    pub summary: Summary,
    /// A digest of everything above.
    pub digest: String,
}

impl Plan {
    /// The digest of the plan's content (everything but `digest`).
    pub fn content_digest(&self) -> String {
        let mut unsigned = self.clone();
        unsigned.digest = String::new();
        let bytes = serde_json::to_vec(&unsigned).unwrap_or_default();
        sha256_hex(bytes)
    }
}

/// A digest of the directory's content: any change to it changes the digest.
pub fn directory_digest(engine: &Engine) -> String {
    let yaml = crate::directory::export::to_yaml(engine.directory()).unwrap_or_default();
    sha256_hex(yaml)
}

/// A user whose record goes with their last account, and the environment
/// of the item that takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRemoval {
    /// The user.
    pub user: String,
    /// Where the plan takes their last account.
    pub env: String,
}

/// The users `items` leave without any account, when the policy set's
/// `lifecycle delete` says `orphaned user -> remove` (D4): whether a
/// deletion or a revoked invitation (Q3, Q7) takes the last account, nothing
/// identifying the user stays. Decided from the accounts the whole plan
/// leaves, so that two items taking a user's last two accounts remove the
/// user once, with the later item; the plan shows it and `apply` does it.
pub fn removed_users(engine: &Engine, items: &[PlanItem]) -> Vec<UserRemoval> {
    if !engine.policies().lifecycle("delete").is_some_and(|l| l.remove_orphaned_user) {
        return Vec::new();
    }
    left_without_accounts(engine.directory(), items)
}

/// The users whose every account an item of `items` takes, each with the
/// environment of the last such item, in the order of those items.
fn left_without_accounts(directory: &crate::directory::Directory, items: &[PlanItem]) -> Vec<UserRemoval> {
    let removes_account = |i: &&PlanItem| {
        operation::action(&i.outcome).is_some_and(|a| a.effect == Some(Effect::RemoveAccount))
    };
    let taken: HashSet<(&str, &str)> =
        items.iter().filter(removes_account).map(|i| (i.target.as_str(), i.env.as_str())).collect();
    let mut seen = HashSet::new();
    let mut left: Vec<UserRemoval> = Vec::new();
    for item in items.iter().rev().filter(removes_account) {
        let user = item.target.as_str();
        if seen.insert(user) && directory.accounts_of(user).all(|a| taken.contains(&(user, &*a.env))) {
            left.push(UserRemoval { user: user.to_owned(), env: item.env.clone() });
        }
    }
    left.reverse();
    left
}

/// The accounts a plan's allowed items block or remove: where their users
/// no longer work once the plan is applied (P7).
fn stopped_accounts(items: &[PlanItem]) -> HashSet<(&str, &str)> {
    let stops = |i: &&PlanItem| {
        operation::action(&i.outcome).is_some_and(|a| {
            matches!(a.effect, Some(Effect::RemoveAccount | Effect::SetStatus(Status::Blocked)))
        })
    };
    items.iter().filter(stops).map(|i| (i.target.as_str(), i.env.as_str())).collect()
}

/// Per item, its `active_in_other_environments` warning said again of the
/// directory the whole plan leaves (P7): `None` for an item without one,
/// `Some(None)` when the user is then active nowhere else.
fn active_after_plan(
    directory: &crate::directory::Directory,
    items: &[PlanItem],
) -> Vec<Option<Option<Warning>>> {
    let stopped = stopped_accounts(items);
    let stays = |a: &Account| !stopped.contains(&(a.user.as_str(), a.env.as_str()));
    items
        .iter()
        .map(|item| {
            let impact = item.impact.as_ref().filter(|_| item.outcome != "denied")?;
            if !impact.warnings.iter().any(|w| w.code == ACTIVE_ELSEWHERE) {
                return None;
            }
            let account = directory.account(&item.target, &item.env)?;
            Some(active_elsewhere(directory, account, stays))
        })
        .collect()
}

/// The address an account takes that it did not have (lowercase: addresses
/// are unique per environment whatever their case, G6).
fn new_address(change: &crate::operation::AccountChange<'_>) -> Option<String> {
    let after = change.after.as_ref()?.email.as_deref()?.to_lowercase();
    let before = change.before.and_then(|a| a.email.as_deref()).map(str::to_lowercase);
    (before.as_deref() != Some(after.as_str())).then_some(after)
}

impl Engine {
    /// Decides every target of `request` as one bulk, confirmed change and
    /// sums up what it would do. Nothing is changed.
    pub fn plan(&self, request: &PlanRequest) -> Result<Plan, PlanError> {
        let (spec, targets) = self.targets(request)?;
        let action = spec.name.to_owned();
        let batch = i64::try_from(targets.len()).unwrap_or(i64::MAX);
        let mut items = Vec::with_capacity(targets.len());
        let mut changes = Vec::new();
        // Addresses the items so far take, per environment, and by whom.
        let mut claimed: std::collections::HashMap<(String, String), String> =
            std::collections::HashMap::new();
        for Item { user, env, value } in targets {
            let operation = Operation { outcome: &action, user: &user, env: &env, value: value.as_deref() };
            operation.check()?;
            let invite = spec.targets == TargetKind::Addresses;
            let decided = Request {
                actor: request.actor.clone(),
                action: action.clone(),
                target: (!invite).then(|| user.clone()),
                emails: if invite { vec![user.clone()] } else { Vec::new() },
                value: value.clone(),
                env: env.clone(),
                reason: Some(request.reason.clone()),
                confirm: true,
                bulk: true,
                batch_size: Some(batch),
                now: Some(request.now),
                ..Request::default()
            };
            // A request that cannot be decided (the actor has no account in
            // that environment) is a denied item with its reason, not a
            // failed plan: the reviewer sees it, apply skips it.
            let verdict = match self.decide(&decided) {
                Ok(verdict) => verdict,
                Err(e) => {
                    items.push(PlanItem {
                        target: user,
                        env,
                        value,
                        outcome: "denied".to_owned(),
                        rules: vec!["invalid-request".to_owned()],
                        reasons: vec![e.to_string()],
                        impact: None,
                    });
                    continue;
                }
            };
            let outcome = match (&verdict.fallback, verdict.allowed()) {
                (_, true) => action.clone(),
                (Some(fallback), false) if fallback.decision == "allow" => fallback.action.clone(),
                _ => "denied".to_owned(),
            };
            if outcome != "denied" {
                let operation = Operation { outcome: &outcome, ..operation };
                let change = operation.preview(self.directory(), request.now, DEFAULT_INVITATION_VALIDITY)?;
                // Each decision saw the directory before the plan: an address
                // an earlier item of this plan takes is in use too (G6).
                if let Some(taken) = new_address(&change)
                    && let Some(holder) = claimed.get(&(env.clone(), taken.clone())).filter(|h| **h != user)
                {
                    items.push(PlanItem {
                        reasons: vec![format!(
                            "`{taken}` is taken by `{holder}` earlier in this plan, in `{env}` (G6)"
                        )],
                        target: user,
                        env,
                        value,
                        outcome: "denied".to_owned(),
                        rules: vec!["email-in-use".to_owned()],
                        impact: None,
                    });
                    continue;
                }
                if let Some(taken) = new_address(&change) {
                    claimed.insert((env.clone(), taken), user.clone());
                }
                changes.push((change.before, change.after));
            }
            items.push(PlanItem {
                target: user,
                env,
                value,
                outcome,
                rules: verdict.report.rules.iter().map(|r| r.id.clone()).collect(),
                reasons: verdict.report.reasons,
                impact: verdict.impact,
            });
        }
        // Each impact saw the directory before the plan: whether a user
        // goes with their last account, or stays active elsewhere (P7), is
        // decided for the plan as a whole.
        let removals = removed_users(self, &items);
        let removed: HashSet<(&str, &str)> =
            removals.iter().map(|r| (r.user.as_str(), r.env.as_str())).collect();
        let active = active_after_plan(self.directory(), &items);
        for (item, active) in items.iter_mut().zip(active).filter(|(i, _)| i.outcome != "denied") {
            let Some(impact) = &mut item.impact else { continue };
            impact.removes_user = removed.contains(&(item.target.as_str(), item.env.as_str()));
            if let Some(mut still) = active {
                impact.warnings = std::mem::take(&mut impact.warnings)
                    .into_iter()
                    .filter_map(|w| if w.code == ACTIVE_ELSEWHERE { still.take() } else { Some(w) })
                    .collect();
            }
        }
        let mut summary = summarise(self, &items, &changes);
        summary.remove_users = removals.into_iter().map(|r| r.user).collect();
        let mut plan = Plan {
            actor: request.actor.clone(),
            action,
            reason: request.reason.clone(),
            now: request.now,
            requires_confirmation: true,
            policy_digest: self.policies().digest().to_owned(),
            directory_digest: directory_digest(self),
            items,
            summary,
            digest: String::new(),
        };
        plan.digest = plan.content_digest();
        Ok(plan)
    }

    /// The action and the items a plan request names.
    fn targets(&self, request: &PlanRequest) -> Result<(&'static ActionSpec, Vec<Item>), PlanError> {
        let directory = self.directory();
        let in_env = |a: &&Account| request.env.as_deref().is_none_or(|e| e == a.env);
        let probe = Request { actor: request.actor.clone(), now: Some(request.now), ..Request::default() };
        let item = |user: &str, env: &str| Item {
            user: user.to_owned(),
            env: env.to_owned(),
            value: request.value.clone(),
        };
        let select = |selector: &crate::policy::Selector| -> Vec<Item> {
            directory
                .accounts()
                .iter()
                .filter(in_env)
                .filter(|a| selector.matches(a, &probe, directory).unwrap_or(false))
                .map(|a| item(&a.user, &a.env))
                .collect()
        };
        let plan_env = |what: &str| {
            request.env.clone().ok_or_else(|| {
                PlanError::Target(format!("`{what}` has no environment: give an `env` column or --env"))
            })
        };
        let action = match (&request.action, &request.targets) {
            (Some(action), _) => action.clone(),
            (None, Targets::Emails(_)) => "invite".to_owned(),
            (None, Targets::Trigger(name)) => self.trigger(name)?.action.clone(),
            (None, _) => return Err(PlanError::Action("a plan needs an action".into())),
        };
        let spec = spec(&action)?;
        let on_accounts = |how: &str| match spec.targets {
            TargetKind::Account | TargetKind::User => Ok(()),
            TargetKind::Addresses => {
                Err(PlanError::Action(format!("`{action}` takes e-mail addresses (--emails), not {how}")))
            }
            TargetKind::Nothing => Err(PlanError::Action(format!(
                "`{action}` acts on assets, not accounts: plan the action that leaves them without owner \
                 and give apply their new owners (--reassign ASSET=USER)"
            ))),
        };
        let items = match &request.targets {
            Targets::List(list) => {
                on_accounts("existing users")?;
                if list.is_empty() {
                    return Err(PlanError::Target("the list of targets names no user".into()));
                }
                let mut items = Vec::with_capacity(list.len());
                for target in list {
                    let env = match &target.env {
                        Some(env) => env.clone(),
                        None => plan_env(&target.user)?,
                    };
                    // A guest is added where they have no account yet: the
                    // decision says whether they already have one (G10).
                    if spec.targets == TargetKind::User {
                        if directory.user(&target.user).is_none() {
                            return Err(PlanError::Target(format!("unknown user `{}`", target.user)));
                        }
                    } else if directory.account(&target.user, &env).is_none() {
                        return Err(PlanError::Target(format!(
                            "`{}` has no account in `{env}`",
                            target.user
                        )));
                    }
                    let value = target.value.clone().or_else(|| request.value.clone());
                    items.push(Item { user: target.user.clone(), env, value });
                }
                items
            }
            Targets::Emails(emails) => {
                if spec.targets != TargetKind::Addresses {
                    return Err(PlanError::Action(format!("e-mail addresses are invited, not `{action}`")));
                }
                if emails.is_empty() {
                    return Err(PlanError::Target(
                        "no e-mail address to invite: give one or more, separated by commas or spaces".into(),
                    ));
                }
                let env = plan_env("the invitation")?;
                let mut seen = std::collections::BTreeSet::new();
                // The same address twice in one invitation is one invitation.
                let unique = emails.iter().map(|e| e.to_lowercase()).filter(|e| seen.insert(e.clone()));
                unique.map(|email| item(&email, &env)).collect()
            }
            Targets::Where(text) => {
                on_accounts("accounts a selector picks")?;
                let selector = PolicySet::compile_selector(text).map_err(PlanError::Selector)?;
                select(&selector)
            }
            Targets::Trigger(name) => {
                let trigger = self.trigger(name)?;
                if action != trigger.action {
                    return Err(PlanError::Action(format!(
                        "trigger `{name}` is for `{}`, not `{action}`",
                        trigger.action
                    )));
                }
                select(&trigger.selector)
            }
        };
        Ok((spec, items))
    }

    fn trigger(&self, name: &str) -> Result<&crate::policy::TriggerSpec, PlanError> {
        self.policies().trigger(name).ok_or_else(|| PlanError::UnknownTrigger(name.to_owned()))
    }
}

/// The row of `action`; an action the schema does not know is refused
/// before anything is decided.
fn spec(action: &str) -> Result<&'static ActionSpec, PlanError> {
    operation::action(action).ok_or_else(|| {
        let help = match did_you_mean(action, operation::ACTIONS.iter().map(|a| a.name)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "the actions are: {}",
                operation::ACTIONS.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
            ),
        };
        PlanError::Request(RequestError::UnknownAction { action: action.to_owned(), help })
    })
}

/// One item to decide: a user, where, with what value.
struct Item {
    user: String,
    env: String,
    value: Option<String>,
}

fn summarise(
    engine: &Engine,
    items: &[PlanItem],
    changes: &[(Option<&Account>, Option<Account>)],
) -> Summary {
    let mut summary = Summary::default();
    for item in items {
        *summary.outcomes.entry(item.outcome.clone()).or_default() += 1;
        if let Some(impact) = &item.impact
            && item.outcome != "denied"
        {
            summary.reassign.extend(impact.reassign.iter().map(|r| r.asset.clone()));
            summary.warnings.extend(impact.warnings.iter().map(|w| ItemWarning {
                target: item.target.clone(),
                env: item.env.clone(),
                warning: w.clone(),
            }));
        }
    }
    summary.licenses = engine
        .licenses()
        .after_changes(engine.directory(), changes.iter().map(|(before, after)| (*before, after.as_ref())))
        .into_iter()
        .map(|(license, before, after)| LicenseChange { license, before, after })
        .collect();
    summary
}
