//! Plans: the dry run of a bulk change (C3). Every target is decided as
//! part of one bulk, confirmed request (C2, C5, Q7, D8), with its impact; the
//! summary adds up outcomes, license counts after the whole plan, the assets
//! to reassign and the warnings. A plan carries digests of the policy set,
//! the directory and its own content, so that it can be checked later.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

mod body;
mod staged;
mod walk;

pub use body::PlanBody;

pub(crate) use staged::Staged;
pub use walk::{DENIED, ERROR};
pub(crate) use walk::{Item, Walked, Walking};

use crate::Engine;
use crate::diagnostic::did_you_mean;
use crate::digest::sha256_hex;
use crate::directory::model::Account;
use crate::graph::impact::{ACTIVE_ELSEWHERE, active_elsewhere};
use crate::graph::{Impact, LicenseChange, Warning};
use crate::operation::{DEFAULT_INVITATION_VALIDITY, OperationError};
use crate::policy::{Request, RequestError};
use crate::schema::{ActionDecl, Subject};

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
    /// New owners chosen by name (`ASSET=USER`) for assets the plan leaves
    /// without owner; the others go to their default owner.
    pub reassign: BTreeMap<String, String>,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum PlanError {
    /// The selector does not compile.
    #[error("the selector is invalid")]
    Selector(#[source] crate::policy::Error),
    /// The policy set has no such trigger.
    #[error("no trigger `{name}` in the policy set{}", near.as_ref().map(|n| format!(": did you mean `{n}`?")).unwrap_or_default())]
    UnknownTrigger {
        /// The name asked for.
        name: String,
        /// The closest trigger's name.
        near: Option<String>,
    },
    /// The action is missing, or differs from the trigger's.
    #[error("{0}")]
    Action(String),
    /// No target is given, or a listed user has no environment, or no
    /// account there.
    #[error("{0}")]
    Target(String),
    /// The plan was given up at its deadline, after `decided` items.
    #[error("the plan was given up at its deadline after {decided} items")]
    Timeout {
        /// How many items were decided by then.
        decided: usize,
    },
    /// New owners given by name that the plan cannot use: nothing is
    /// decided with a name that was not checked.
    #[error("{}", .0.join("; "))]
    #[diagnostic(help(
        "name an asset the plan reassigns, and one of its candidates (`steward plan` lists both)"
    ))]
    Reassign(Vec<String>),
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
    /// The new owners chosen by name when the plan was made.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reassign: BTreeMap<String, String>,
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

    /// What a plan file is trusted for: its requests, in order, read as
    /// `plan` reads its targets (an address in lower case, an account
    /// once), so that an item no plan could hold is a difference, never
    /// applied as written. `apply` and `diff --plan` walk these again.
    pub(crate) fn requests(&self, spec: &ActionDecl) -> Vec<Item> {
        let mut seen = std::collections::HashSet::new();
        self.items
            .iter()
            .map(|i| Item {
                user: if spec.subject == Subject::Addresses {
                    invited_address(&i.target)
                } else {
                    i.target.clone()
                },
                env: i.env.clone(),
                value: i.value.clone(),
                // An account a selector could not be evaluated on stays what
                // it was: an item of its own, never applied.
                error: (i.outcome == ERROR).then(|| i.reasons.join("; ")),
            })
            .filter(|item| seen.insert((item.user.clone(), item.env.clone())))
            .collect()
    }
}

/// A digest of the directory's content: any change to it changes the digest.
pub fn directory_digest(engine: &Engine) -> String {
    let yaml =
        crate::directory::export::to_yaml(engine.directory(), engine.policies().schema()).unwrap_or_default();
    sha256_hex(yaml)
}

impl Engine {
    /// Decides every target of `request` as one bulk, confirmed change, in
    /// order, each over the directory the allowed items before it leave,
    /// and sums up what it would do. Nothing is changed.
    pub fn plan(&self, request: &PlanRequest) -> Result<Plan, PlanError> {
        Ok(self.plan_preview(request)?.0)
    }

    /// [`Engine::plan`], given up at `deadline` with [`PlanError::Timeout`]
    /// (checked between items): what a service that stops waiting uses.
    pub fn plan_until(&self, request: &PlanRequest, deadline: std::time::Instant) -> Result<Plan, PlanError> {
        Ok(self.plan_walked(request, Some(deadline))?.0)
    }

    /// [`Engine::plan`], with the directory as the plan's allowed items
    /// leave it: what the store holds after `apply` (a property test holds
    /// the two equal).
    pub fn plan_preview(
        &self,
        request: &PlanRequest,
    ) -> Result<(Plan, crate::directory::Directory), PlanError> {
        self.plan_walked(request, None)
    }

    fn plan_walked(
        &self,
        request: &PlanRequest,
        deadline: Option<std::time::Instant>,
    ) -> Result<(Plan, crate::directory::Directory), PlanError> {
        let (spec, items) = self.targets(request)?;
        let walking = Walking {
            actor: &request.actor,
            spec,
            reason: &request.reason,
            now: request.now,
            written: request.now,
            validity: DEFAULT_INVITATION_VALIDITY,
            reassign: &request.reassign,
            deadline,
            bulk: true,
            confirm: true,
            batch: None,
        };
        let (plan, walked) = self.plan_items(&walking, items)?;
        Ok((plan, walked.after.into_engine().into_directory()))
    }

    /// The plan of `items`, and the walk it was made from (what `apply`
    /// writes).
    pub(crate) fn plan_items(
        &self,
        how: &Walking<'_>,
        items: Vec<Item>,
    ) -> Result<(Plan, Walked), PlanError> {
        let mut walked = self.walk(how, items)?;
        check_reassign(self.directory(), how.reassign, &walked.items)?;
        let mut items = walked.items.clone();
        // Each impact saw the directory its item was decided over: where a
        // user stays active (P7) is said of the directory the whole plan
        // leaves, built only when a warning needs it.
        let warned = |i: &PlanItem| {
            i.outcome != DENIED
                && i.outcome != ERROR
                && i.impact.as_ref().is_some_and(|m| m.warnings.iter().any(|w| w.code == ACTIVE_ELSEWHERE))
        };
        let after = items.iter().any(warned).then(|| walked.after.engine().directory());
        for item in items.iter_mut().filter(|i| warned(i)) {
            let (Some(impact), Some(after)) = (&mut item.impact, after) else { continue };
            let Some(account) = self.directory().account(&item.target, &item.env) else { continue };
            let schema = self.policies().schema();
            let stays =
                |a: &Account| after.account(&a.user, &a.env).is_some_and(|now| schema.login(&now.status));
            let mut still = active_elsewhere(self.directory(), schema, account, stays);
            impact.warnings = std::mem::take(&mut impact.warnings)
                .into_iter()
                .filter_map(|w| if w.code == ACTIVE_ELSEWHERE { still.take() } else { Some(w) })
                .collect();
        }
        let mut summary = summarise(self, &items, &walked.accounts);
        summary.remove_users =
            walked.notes.iter().filter(|n| n.action == "delete_user").map(|n| n.target.clone()).collect();
        let mut plan = Plan {
            actor: how.actor.to_owned(),
            action: how.spec.name.to_owned(),
            reason: how.reason.to_owned(),
            now: how.now,
            requires_confirmation: true,
            policy_digest: self.policies().digest().to_owned(),
            directory_digest: directory_digest(self),
            reassign: how.reassign.clone(),
            items,
            summary,
            digest: String::new(),
        };
        plan.digest = plan.content_digest();
        Ok((plan, walked))
    }

    /// The action and the items a plan request names.
    fn targets(&self, request: &PlanRequest) -> Result<(&ActionDecl, Vec<Item>), PlanError> {
        let schema = self.policies().schema();
        let directory = self.directory();
        let in_env = |a: &&Account| request.env.as_deref().is_none_or(|e| e == a.env);
        let probe = Request { actor: request.actor.clone(), now: Some(request.now), ..Request::default() };
        let item = |user: &str, env: &str| Item {
            user: user.to_owned(),
            env: env.to_owned(),
            value: request.value.clone(),
            error: None,
        };
        // In directory order. An account the selector cannot be evaluated
        // on is an item of its own, with the reason: nothing drops out of a
        // plan unseen.
        let select = |selector: &crate::policy::Selector| -> Vec<Item> {
            directory
                .accounts()
                .iter()
                .filter(in_env)
                .filter_map(|a| match selector.matches(a, &probe, directory) {
                    Ok(true) => Some(item(&a.user, &a.env)),
                    Ok(false) => None,
                    Err(e) => Some(Item { error: Some(selector_error(&e)), ..item(&a.user, &a.env) }),
                })
                .collect()
        };
        let plan_env = |what: &str| {
            request.env.clone().ok_or_else(|| {
                PlanError::Target(format!("`{what}` has no environment: give an `env` column or --env"))
            })
        };
        let action = match (&request.action, &request.targets) {
            (Some(action), _) => action.clone(),
            (None, Targets::Emails(_)) => {
                match schema.actions.iter().find(|a| a.subject == Subject::Addresses) {
                    Some(invite) => invite.name.clone(),
                    None => {
                        return Err(PlanError::Action("the schema declares no action on addresses".into()));
                    }
                }
            }
            (None, Targets::Trigger(name)) => self.trigger(name)?.action.clone(),
            (None, _) => return Err(PlanError::Action("a plan needs an action".into())),
        };
        let spec = schema
            .action(&action)
            .ok_or_else(|| PlanError::Request(RequestError::unknown_action(schema, &action)))?;
        let on_accounts = |how: &str| match spec.subject {
            Subject::Account | Subject::User => Ok(()),
            Subject::Addresses => {
                Err(PlanError::Action(format!("`{action}` takes e-mail addresses (--emails), not {how}")))
            }
            Subject::Asset => Err(PlanError::Action(format!(
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
                let mut seen = HashSet::new();
                for target in list {
                    let env = match (&target.env, &request.env) {
                        (Some(env), _) | (None, Some(env)) => env.clone(),
                        (None, None) => only_account(directory, &target.user)?,
                    };
                    // The same account twice is one item: once decided,
                    // once applied, once audited.
                    if !seen.insert((target.user.clone(), env.clone())) {
                        continue;
                    }
                    // A guest is added where they have no account yet: the
                    // decision says whether they already have one (G10).
                    if spec.subject == Subject::User {
                        if directory.user(&target.user).is_none() {
                            return Err(PlanError::Target(unknown_user(directory, &target.user)));
                        }
                    } else if directory.account(&target.user, &env).is_none() {
                        return Err(PlanError::Target(no_account(directory, &target.user, &env)));
                    }
                    let value = target.value.clone().or_else(|| request.value.clone());
                    items.push(Item { user: target.user.clone(), env, value, error: None });
                }
                items
            }
            Targets::Emails(emails) => {
                if spec.subject != Subject::Addresses {
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
                let unique = emails.iter().map(|e| invited_address(e)).filter(|e| seen.insert(e.clone()));
                unique.map(|email| item(&email, &env)).collect()
            }
            Targets::Where(text) => {
                on_accounts("accounts a selector picks")?;
                let selector = self.policies().compile_selector(text).map_err(PlanError::Selector)?;
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
        self.policies().trigger(name).ok_or_else(|| PlanError::UnknownTrigger {
            name: name.to_owned(),
            near: did_you_mean(name, self.policies().triggers().iter().map(|t| t.name.as_str()))
                .map(str::to_owned),
        })
    }
}

/// The id an invited address is planned under: in lower case, ASCII only,
/// as addresses are compared (G6).
pub fn invited_address(email: &str) -> String {
    email.to_ascii_lowercase()
}

/// Why a selector could not be evaluated on an account, and how to mend it.
fn selector_error(e: &crate::policy::eval::EvalError) -> String {
    use crate::policy::eval::EvalError;
    let mend = match e {
        EvalError::Unset(_) => "guard it with `has` (`target.user.attrs has NAME` for a free-form attribute)",
        EvalError::Type(_) => {
            "free-form attributes (`attrs.NAME`) are untyped: a date written there is a string, and strings \
             are neither dates nor ordered; compare it with `==` or `in`, or declare it with its type \
             (`attribute user.NAME: date`)"
        }
        EvalError::Missing(_) | EvalError::Lookup(_) => "mend the directory, or narrow the selector",
    };
    format!("the selector cannot be evaluated on this account: {e}; {mend}")
}

/// The environment of a listed user given without one: their only account's.
fn only_account(directory: &crate::directory::Directory, user: &str) -> Result<String, PlanError> {
    let envs: Vec<&str> = directory.accounts_of(user).map(|a| a.env.as_str()).collect();
    match envs.as_slice() {
        [env] => Ok((*env).to_owned()),
        [] if directory.user(user).is_none() => Err(PlanError::Target(unknown_user(directory, user))),
        [] => Err(PlanError::Target(format!("`{user}` has no account"))),
        many => Err(PlanError::Target(format!(
            "`{user}` has accounts in {}: give an `env` column or --env",
            many.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn unknown_user(directory: &crate::directory::Directory, user: &str) -> String {
    match did_you_mean(user, directory.users().iter().map(|u| u.id.as_str())) {
        Some(near) => format!("unknown user `{user}`: did you mean `{near}`?"),
        None => format!("unknown user `{user}`"),
    }
}

fn no_account(directory: &crate::directory::Directory, user: &str, env: &str) -> String {
    if directory.user(user).is_none() {
        return unknown_user(directory, user);
    }
    if directory.environment(env).is_none() {
        return match did_you_mean(env, directory.environments().iter().map(|e| e.id.as_str())) {
            Some(near) => format!("unknown environment `{env}`: did you mean `{near}`?"),
            None => format!("unknown environment `{env}`"),
        };
    }
    format!("`{user}` has no account in `{env}`")
}

fn summarise(
    engine: &Engine,
    items: &[PlanItem],
    accounts: &[(Option<Account>, Option<Account>)],
) -> Summary {
    let mut summary = Summary::default();
    for item in items {
        *summary.outcomes.entry(item.outcome.clone()).or_default() += 1;
        if let Some(impact) = &item.impact
            && item.outcome != DENIED
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
        .after_changes(
            engine.directory(),
            engine.policies().schema(),
            accounts.iter().map(|(before, after)| (before.as_ref(), after.as_ref())),
        )
        .into_iter()
        .map(|(license, before, after)| LicenseChange { license, before, after })
        .collect();
    summary
}

/// Every new owner given by name is checked: the asset is one an allowed
/// item of the plan leaves without owner, and the user one of its
/// candidates (active in its environment, not the one leaving).
fn check_reassign(
    directory: &crate::directory::Directory,
    given: &BTreeMap<String, String>,
    items: &[PlanItem],
) -> Result<(), PlanError> {
    // Every item that leaves the asset without owner, with its target: an
    // asset can need a new owner twice (its first new owner leaves in a
    // later item), and a name given once is checked against each.
    let reassigned: Vec<(&PlanItem, &crate::graph::Reassignment)> = items
        .iter()
        .flat_map(|i| i.impact.iter().flat_map(move |impact| impact.reassign.iter().map(move |r| (i, r))))
        .collect();
    let mut problems = Vec::new();
    for (asset, user) in given {
        let of_asset: Vec<&(&PlanItem, &crate::graph::Reassignment)> =
            reassigned.iter().filter(|(_, r)| r.asset == *asset).collect();
        if of_asset.is_empty() {
            let near = did_you_mean(asset, reassigned.iter().map(|(_, r)| r.asset.as_str()));
            problems.push(match (near, reassigned.is_empty()) {
                (Some(near), _) => format!("the plan reassigns no `{asset}`: did you mean `{near}`?"),
                (None, true) => {
                    format!("the plan reassigns no `{asset}`: no item leaves an asset without owner")
                }
                (None, false) => format!(
                    "the plan reassigns no `{asset}`; it reassigns {}",
                    reassigned.iter().map(|(_, r)| format!("`{}`", r.asset)).collect::<Vec<_>>().join(", ")
                ),
            });
            continue;
        }
        let Some((item, r)) = of_asset.into_iter().find(|(_, r)| !r.candidates.contains(user)) else {
            continue;
        };
        let some: Vec<String> = r.candidates.iter().take(5).map(|c| format!("`{c}`")).collect();
        let candidates = match some.is_empty() {
            true => "there is none".to_owned(),
            false => format!("candidates: {}", some.join(", ")),
        };
        problems.push(match directory.user(user) {
            None => match did_you_mean(user, r.candidates.iter().map(String::as_str)) {
                Some(near) => format!("unknown user `{user}` for `{asset}`: did you mean `{near}`?"),
                None => format!("unknown user `{user}` for `{asset}` ({candidates})"),
            },
            Some(_) if *user == item.target => format!(
                "`{user}` cannot own `{asset}`: the plan's item for `{user}` leaves it without owner again \
                 ({candidates})"
            ),
            Some(_) => format!(
                "`{user}` cannot own `{asset}`: only an active member of its environment other than \
                 the one leaving can ({candidates})"
            ),
        });
    }
    if problems.is_empty() { Ok(()) } else { Err(PlanError::Reassign(problems)) }
}
