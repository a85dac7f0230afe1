//! The compiled policy set: validated, indexed by action, ready to decide.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::PathBuf;

use jiff::Timestamp;
use smallvec::SmallVec;

use super::ast::{Effect, Expr, Ident, Item, LifecycleEntry};
use super::compile::{CExpr, Compiler, Const, Scope};
use super::decision::{Builtin, BuiltinReason, Decision, DecisionReport, RuleRef, RuleReport};
use super::eval::{Context, Held};
use super::load::{LoadError, Parsed, parse_paths, parse_sources};
use super::parse::parse_expr;
use super::request::{Request, RequestError};
use std::sync::Arc;

use super::schema::Consequence;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::digest::sha256_hex_of;
use crate::directory::Entities;
use crate::directory::model::Account;
use crate::schema::{Effect as ActionEffect, Schema, Subject};
use crate::source::{Sources, Span};

/// Why a policy set could not be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// Reading or parsing failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),
    /// The set parsed but does not validate.
    #[error("the policy set is invalid")]
    Invalid {
        /// The files, to render the diagnostics with.
        sources: Sources,
        /// Every finding, errors and warnings.
        diagnostics: Vec<Diagnostic>,
    },
}

impl Error {
    /// The sources and diagnostics to show, when the error has any.
    pub fn diagnostics(&self) -> Option<(&Sources, &[Diagnostic])> {
        match self {
            Error::Load(LoadError::Syntax { sources, diagnostics })
            | Error::Invalid { sources, diagnostics } => Some((sources, diagnostics)),
            Error::Load(_) => None,
        }
    }
}

/// A validated policy set and the warnings validation found.
#[derive(Debug)]
pub struct Loaded {
    /// The set.
    pub set: PolicySet,
    /// Warnings (the set is usable).
    pub warnings: Vec<Diagnostic>,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Its unique name.
    pub name: String,
    /// permit or forbid.
    pub effect: Effect,
    /// The actions it applies to.
    pub actions: Vec<String>,
    /// `because "..."`.
    pub because: Option<String>,
    /// `file:line:col` of the rule.
    pub source: String,
    /// Where the rule is.
    pub span: Span,
    condition: Option<CExpr>,
}

/// What an action does to what an account touches (a `lifecycle` block).
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleSpec {
    /// The action it describes.
    pub action: String,
    /// When records refer to the account, this action is proposed instead.
    pub fallback: Option<String>,
    /// What happens to owned assets, per kind.
    pub owns: Vec<(String, Consequence)>,
    /// `reassign to EXPR`: the default new owner, per kind.
    pub owners: Vec<(String, CExpr)>,
    /// `orphaned user -> remove`: the user record goes with their last
    /// account (D4); otherwise it stays (C1).
    pub remove_orphaned_user: bool,
}

impl LifecycleSpec {
    /// The consequence for assets of `kind`, if the block names one.
    pub fn consequence(&self, kind: &str) -> Option<Consequence> {
        self.owns.iter().find(|(k, _)| k == kind).map(|(_, c)| *c)
    }
}

/// A named selection of accounts for an action (P5).
#[derive(Debug, Clone)]
pub struct TriggerSpec {
    /// Its unique name.
    pub name: String,
    /// The action to take on every selected account.
    pub action: String,
    /// `because "..."`.
    pub because: Option<String>,
    /// Which accounts: each is `target`.
    pub selector: Selector,
}

/// A compiled condition over accounts (`--where`, triggers): each account
/// is `target`, its environment is `environment`.
#[derive(Debug, Clone)]
pub struct Selector {
    condition: CExpr,
}

impl Selector {
    /// Whether `account` is selected. `request` gives `actor` and
    /// `request.*`; the environment is the account's own.
    pub fn matches(
        &self,
        account: &Account,
        request: &Request,
        entities: &dyn Entities,
    ) -> Result<bool, super::eval::EvalError> {
        let lookup = super::eval::EvalError::Lookup;
        let Some(environment) = entities.environment(&account.env).map_err(lookup)? else {
            return Ok(false);
        };
        let actor = entities.account(&request.actor, &account.env).map_err(lookup)?;
        let ctx = Context {
            entities,
            request,
            now: request.now.unwrap_or_else(Timestamp::now),
            actor: actor.map(Held::from),
            target: Some(Held::Borrowed(account)),
            environment: environment.into(),
            asset: None,
            bound: None,
        };
        ctx.test(&self.condition)
    }
}

/// A validated, compiled policy set. Cheap to share: `Send + Sync`, every
/// method takes `&self`.
#[derive(Debug, Clone)]
pub struct PolicySet {
    sources: Sources,
    /// The model the set is written for: its declared actions' order is
    /// the dense action id `by_action` is indexed by.
    schema: Arc<Schema>,
    rules: Vec<RuleInfo>,
    /// Per action id: the rules that apply.
    by_action: Vec<Vec<u32>>,
    lifecycles: Vec<LifecycleSpec>,
    triggers: Vec<TriggerSpec>,
    roles: Vec<(String, Span)>,
    /// Per action id: what its rules can read of `asset`.
    asset_accesses: Vec<Vec<super::compile::Access>>,
    /// Per action id: the roles one of which an actor needs for any permit
    /// of the action to match, when every permit asks for one.
    permit_roles: Vec<Option<Vec<String>>>,
    digest: String,
}

impl PolicySet {
    /// Reads, parses, validates and compiles the policy files at `paths`
    /// (files, or folders of `.policy` files).
    pub fn load(paths: &[PathBuf]) -> Result<Loaded, Error> {
        Self::compile(parse_paths(paths)?)
    }

    /// Parses, validates and compiles policy text that did not come from
    /// files (tests, the HTTP service, embedding hosts).
    pub fn from_sources(sources: Sources) -> Result<Loaded, Error> {
        Self::compile(parse_sources(sources)?)
    }

    /// Validates and compiles a parsed set.
    pub fn compile(parsed: Parsed) -> Result<Loaded, Error> {
        let blocks: Vec<&crate::policy::ast::SchemaBlock> = parsed
            .files
            .iter()
            .flat_map(|(_, f)| &f.items)
            .filter_map(|item| match item {
                Item::Schema(block) => Some(block),
                _ => None,
            })
            .collect();
        let (schema, declared) = super::declare::declare(&blocks);
        let mut builder = Builder::new(schema.clone());
        builder.compiler.diagnostics = declared;
        for (_, file) in &parsed.files {
            for item in &file.items {
                builder.item(item, &parsed.sources);
            }
        }
        builder.warn_unreachable_permits();
        let Builder { compiler, rules, lifecycles, triggers, .. } = builder;
        let Compiler { diagnostics, roles, .. } = compiler;
        if diagnostics.iter().any(Diagnostic::is_error) {
            return Err(Error::Invalid { sources: parsed.sources, diagnostics });
        }
        let mut by_action = vec![Vec::new(); schema.actions.len()];
        for (index, rule) in rules.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for action in &rule.actions {
                if let Some(list) = schema.action_id(action).and_then(|id| by_action.get_mut(id)) {
                    list.push(index);
                }
            }
        }
        let asset_accesses = by_action
            .iter()
            .map(|indexes| {
                let mut accesses = Vec::new();
                for rule in indexes.iter().filter_map(|&i| rules.get(i as usize)) {
                    if let Some(condition) = &rule.condition {
                        super::compile::asset_accesses(condition, &mut accesses);
                    }
                }
                accesses
            })
            .collect();
        let permit_roles = by_action
            .iter()
            .map(|indexes| {
                let permits = indexes
                    .iter()
                    .filter_map(|&i| rules.get(i as usize))
                    .filter(|rule| rule.effect == Effect::Permit);
                let mut roles = Vec::new();
                for rule in permits {
                    roles.extend(super::compile::actor_roles(rule.condition.as_ref()?)?);
                }
                roles.sort();
                roles.dedup();
                Some(roles)
            })
            .collect();
        let digest = digest_meaning(&parsed.files, &schema);
        let set = PolicySet {
            sources: parsed.sources,
            schema,
            rules,
            by_action,
            lifecycles,
            triggers,
            roles,
            asset_accesses,
            permit_roles,
            digest,
        };
        Ok(Loaded { set, warnings: diagnostics })
    }

    /// The files of the set.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The model the set is written for (the standard one when it
    /// declares none).
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Every rule, in source order.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// The ids of the rules steward decides by besides a set's own: the
    /// built-in rules and the lifecycle's `referenced`.
    pub fn builtin_rule_ids() -> impl Iterator<Item = &'static str> {
        use super::decision::{INVALID_REQUEST, REFERENCED, SELECTOR_ERROR};
        Builtin::ALL.into_iter().map(Builtin::id).chain([REFERENCED, SELECTOR_ERROR, INVALID_REQUEST])
    }

    /// The lifecycle block of `action`, if the set has one.
    pub fn lifecycle(&self, action: &str) -> Option<&LifecycleSpec> {
        self.lifecycles.iter().find(|l| l.action == action)
    }

    /// Every lifecycle block.
    pub fn lifecycles(&self) -> &[LifecycleSpec] {
        &self.lifecycles
    }

    /// Every trigger.
    pub fn triggers(&self) -> &[TriggerSpec] {
        &self.triggers
    }

    /// The trigger called `name`.
    pub fn trigger(&self, name: &str) -> Option<&TriggerSpec> {
        self.triggers.iter().find(|t| t.name == name)
    }

    /// Warnings for roles that policies test (`has role "x"`) but no account
    /// of `directory` holds: usually a typo, or a role the directory spells
    /// differently (`steward check --directory`).
    pub fn check_roles(&self, directory: &crate::directory::Directory) -> Vec<Diagnostic> {
        let held: std::collections::BTreeSet<&str> =
            directory.accounts().iter().flat_map(|a| a.roles.iter().map(String::as_str)).collect();
        self.roles
            .iter()
            .filter(|(role, _)| !held.contains(role.as_str()))
            .map(|(role, span)| {
                let d = Diagnostic::warning("unknown-role", format!("no account holds the role `{role}`"))
                    .at(*span, "held by nobody in the directory");
                match did_you_mean(role, held.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help("the rule can only match once some account holds this role"),
                }
            })
            .collect()
    }

    /// Whether `actor` could be allowed `action` at all: `false` only when
    /// every permit of the action asks the actor for a role (`actor has
    /// role "..."` in a conjunction) and the actor has none of them. Deny
    /// by default makes such an actor's decisions all denials, so a caller
    /// looking for who may act (reassigners, D7) can skip them undecided.
    pub fn may_permit(&self, action: &str, actor: &Account) -> bool {
        match self.schema.action_id(action).and_then(|id| self.permit_roles.get(id)) {
            Some(Some(roles)) => roles.iter().any(|role| actor.has_role(role)),
            _ => true,
        }
    }

    /// A digest (SHA-256, hex) of what the set says: its files in load
    /// order, each in the canonical layout of `steward fmt` without
    /// comments. A comment or a layout change keeps it, so does the way the
    /// paths were typed (`erp` or `/abs/erp`); any change of meaning (a rule,
    /// a name, a `because`, the order of files or items) changes it.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The default new owner the lifecycle block of `request.action` names
    /// for assets of `kind` (`owns ... -> reassign to EXPR`), evaluated for
    /// `request`; `None` when it names none or it cannot be evaluated.
    pub fn default_owner(&self, kind: &str, request: &Request, entities: &dyn Entities) -> Option<String> {
        let spec = self.lifecycle(&request.action)?;
        let (_, expr) = spec.owners.iter().find(|(k, _)| k == kind)?;
        let (ctx, _) = resolve(&self.schema, request, entities).ok()?;
        ctx.user_id(expr).ok().flatten()
    }

    /// What the rules of `action` can read of `asset`, as a canonical text:
    /// two assets with equal signatures get equal decisions for the same
    /// actor and request. Lets callers share the answer to "who may reassign
    /// this?" between assets of the same kind, space type and so on.
    pub fn asset_signature(
        &self,
        action: &str,
        asset: &crate::directory::model::Asset,
        entities: &dyn Entities,
        now: Timestamp,
    ) -> Result<String, RequestError> {
        let accesses = self
            .schema
            .action_id(action)
            .and_then(|id| self.asset_accesses.get(id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let environment = entities
            .environment(&asset.env)?
            .ok_or_else(|| RequestError::UnknownEnvironment(asset.env.to_string()))?;
        let request = Request { action: action.to_owned(), env: asset.env.to_string(), ..Request::default() };
        let ctx = Context {
            entities,
            request: &request,
            now,
            actor: None,
            target: None,
            environment: environment.into(),
            asset: Some(Held::Borrowed(asset)),
            bound: None,
        };
        Ok(ctx.signature(accesses))
    }

    /// Compiles a selector expression (`--where` on the command line,
    /// `where` over HTTP): each account is `target`. Its errors are located
    /// in a source named `where`, which reads right in both.
    pub fn compile_selector(&self, text: &str) -> Result<Selector, Error> {
        Self::selector_for(self.schema.clone(), text)
    }

    /// Compiles a selector for the standard schema (a directory read
    /// without a policy set).
    pub fn standard_selector(text: &str) -> Result<Selector, Error> {
        Self::selector_for(super::declare::standard(), text)
    }

    fn selector_for(schema: Arc<Schema>, text: &str) -> Result<Selector, Error> {
        let mut sources = Sources::new();
        let file = sources.add("where", text);
        let expr = parse_expr(&sources, file).map_err(|diagnostics| {
            Error::Load(LoadError::Syntax { sources: sources.clone(), diagnostics })
        })?;
        let mut compiler = Compiler::new(schema);
        match compiler.condition(&expr, Scope::selector()) {
            Some(condition) if compiler.diagnostics.is_empty() => Ok(Selector { condition }),
            _ => Err(Error::Invalid { sources, diagnostics: compiler.diagnostics }),
        }
    }

    /// Decides `request` against `entities`. A request that cannot be
    /// decided at all (unknown action, user, environment...) is an error;
    /// everything else is a [`Decision`].
    pub fn decide(&self, request: &Request, entities: &dyn Entities) -> Result<Decision, RequestError> {
        // The action's dense id and declaration, found once.
        let (ctx, declared) = resolve(&self.schema, request, entities)?;
        if let Some((builtin, reason)) = builtin_denial(&self.schema, declared.1, request, &ctx) {
            return Ok(Decision {
                allowed: false,
                rules: SmallVec::from_buf_and_len([RuleRef::Builtin(builtin); 4], 1),
                builtin_reasons: SmallVec::from_elem(reason, 1),
                errors: SmallVec::new(),
            });
        }
        let action = declared.0;
        let mut permits: SmallVec<[RuleRef; 4]> = SmallVec::new();
        let mut forbids: SmallVec<[RuleRef; 4]> = SmallVec::new();
        let mut errors = SmallVec::new();
        for &index in self.by_action.get(action).map(Vec::as_slice).unwrap_or_default() {
            let Some(rule) = self.rules.get(index as usize) else { continue };
            let reference = RuleRef::Policy(index);
            let matched = match &rule.condition {
                None => true,
                Some(condition) => match ctx.test(condition) {
                    Ok(m) => m,
                    Err(e) => {
                        errors.push((reference, e));
                        // Fail closed: a forbid that errs matches, a permit does not.
                        rule.effect == Effect::Forbid
                    }
                },
            };
            if matched {
                match rule.effect {
                    Effect::Permit => permits.push(reference),
                    Effect::Forbid => forbids.push(reference),
                }
            }
        }
        let (allowed, rules) = if !forbids.is_empty() {
            (false, forbids)
        } else if !permits.is_empty() {
            (true, permits)
        } else {
            (false, SmallVec::from_buf_and_len([RuleRef::Builtin(Builtin::DefaultDeny); 4], 1))
        };
        Ok(Decision { allowed, rules, builtin_reasons: SmallVec::new(), errors })
    }

    /// The built-in rule that denies `action` over `ctx` before any rule
    /// is read, if one does, as `decide` finds it: what the class analysis
    /// asks of every account as a target, over entities it already holds
    /// (a whole decision per account would look both sides up by id and
    /// evaluate every rule, only to throw them away).
    pub fn builtin_denial(
        &self,
        action: &crate::schema::ActionDecl,
        request: &Request,
        ctx: &Context<'_>,
    ) -> Option<Builtin> {
        builtin_denial(&self.schema, action, request, ctx).map(|(builtin, _)| builtin)
    }

    /// The conditions of the rules of `action` (`None` for a rule without
    /// one): what the class analysis reads.
    pub fn conditions(&self, action: &str) -> impl Iterator<Item = Option<&CExpr>> {
        self.schema
            .action_id(action)
            .and_then(|id| self.by_action.get(id))
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|&index| self.rules.get(index as usize))
            .map(|rule| rule.condition.as_ref())
    }

    /// Whether `other` decides every request of `action` as this set does:
    /// the same rules for it in the same order (by name, effect and
    /// condition), the same lifecycle block, the same schema. What
    /// `steward diff` skips without deciding.
    pub fn decides_alike(&self, other: &PolicySet, action: &str) -> bool {
        let shape = |set: &PolicySet| {
            let rules: Vec<(&str, Effect, Option<&CExpr>)> = set
                .schema
                .action_id(action)
                .and_then(|id| set.by_action.get(id))
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|&i| set.rules.get(i as usize))
                .map(|r| (r.name.as_str(), r.effect, r.condition.as_ref()))
                .collect();
            format!("{rules:?}{:?}", set.lifecycle(action))
        };
        self.schema.digest() == other.schema.digest() && shape(self) == shape(other)
    }

    /// The JSON form of a decision, with rule names, sources and reasons.
    pub fn report(&self, request: &Request, decision: &Decision) -> DecisionReport {
        let mut rules = Vec::with_capacity(decision.rules.len());
        let mut reasons: Vec<String> =
            decision.builtin_reasons.iter().map(|r| r.render(request, &self.schema)).collect();
        for reference in &decision.rules {
            match reference {
                RuleRef::Policy(index) => {
                    if let Some(rule) = self.rules.get(*index as usize) {
                        rules.push(RuleReport {
                            id: rule.name.clone(),
                            effect: rule.effect.as_str().to_owned(),
                            source: rule.source.clone(),
                        });
                        if let Some(because) = &rule.because {
                            reasons.push(because.clone());
                        }
                    }
                }
                RuleRef::Builtin(builtin) => {
                    rules.push(RuleReport::builtin(*builtin));
                    if *builtin == Builtin::DefaultDeny {
                        reasons.push(format!("no rule permits `{}` here", request.action));
                    }
                }
            }
        }
        let errors = decision
            .errors
            .iter()
            .map(|(rule, error)| format!("in rule `{}`: {error}", self.rule_name(*rule)))
            .collect();
        DecisionReport {
            decision: if decision.allowed { "allow" } else { "deny" }.to_owned(),
            rules,
            reasons,
            errors,
        }
    }

    /// The name of a deciding rule.
    pub fn rule_name(&self, rule: RuleRef) -> &str {
        match rule {
            RuleRef::Policy(index) => self.rules.get(index as usize).map_or("?", |r| r.name.as_str()),
            RuleRef::Builtin(b) => b.id(),
        }
    }
}

/// Resolves the entities a request names, or says why it cannot.
fn resolve<'a, 's>(
    schema: &'s Schema,
    request: &'a Request,
    entities: &'a dyn Entities,
) -> Result<(Context<'a>, (usize, &'s crate::schema::ActionDecl)), RequestError> {
    let (id, action) = schema
        .actions
        .iter()
        .enumerate()
        .find(|(_, a)| a.name == request.action)
        .ok_or_else(|| RequestError::unknown_action(schema, &request.action))?;
    // The value is held to what the action takes, as a plan holds it.
    if let Some(value) = &request.value {
        match action.check_value(value) {
            Ok(()) => {}
            Err(crate::schema::ValueProblem::NotTaken) => {
                return Err(RequestError::Unexpected { action: request.action.clone(), field: "value" });
            }
            Err(crate::schema::ValueProblem::Invalid { value, expected }) => {
                return Err(RequestError::InvalidValue { action: request.action.clone(), value, expected });
            }
        }
    }
    let env = &request.env;
    let environment =
        entities.environment(env)?.ok_or_else(|| RequestError::UnknownEnvironment(env.clone()))?;
    let account = |user: &str| -> Result<Cow<'a, Account>, RequestError> {
        match entities.account(user, env)? {
            Some(a) => Ok(a),
            None if entities.user(user)?.is_none() => Err(RequestError::UnknownUser(user.to_owned())),
            None => Err(RequestError::NoAccount { user: user.to_owned(), env: env.clone() }),
        }
    };
    let actor = Some(account(&request.actor)?);
    let missing = |field| RequestError::Missing { action: request.action.clone(), field };
    let unexpected = |field| RequestError::Unexpected { action: request.action.clone(), field };
    let mut target = None;
    let mut asset = None;
    match action.subject {
        Subject::Account | Subject::User => {
            let user = request.target.as_deref().ok_or_else(|| missing("target"))?;
            if request.asset.is_some() {
                return Err(unexpected("asset"));
            }
            target = Some(if action.subject == Subject::User {
                home_account(user, env, entities)?
            } else {
                account(user)?
            });
        }
        Subject::Asset => {
            let id = request.asset.as_deref().ok_or_else(|| missing("asset"))?;
            if request.target.is_some() {
                return Err(unexpected("target"));
            }
            let found = entities.asset(id)?.filter(|a| a.env == *env);
            asset = Some(
                found.ok_or_else(|| RequestError::UnknownAsset { asset: id.to_owned(), env: env.clone() })?,
            );
        }
        Subject::Addresses => {
            if request.target.is_some() {
                return Err(unexpected("target"));
            }
            if request.emails.is_empty() {
                return Err(missing("emails"));
            }
        }
    }
    if let Some(to) = &request.to {
        account(to)?;
    }
    let ctx = Context {
        entities,
        request,
        now: request.now.unwrap_or_else(Timestamp::now),
        actor: actor.map(Held::from),
        target: target.map(Held::from),
        environment: environment.into(),
        asset: asset.map(Held::from),
        bound: None,
    };
    Ok((ctx, (id, action)))
}

/// For `add_guest` the target has no account in the environment yet: it is
/// seen through its account in its home environment (G4, G10).
fn home_account<'a>(
    user: &str,
    env: &str,
    entities: &'a dyn Entities,
) -> Result<Cow<'a, Account>, RequestError> {
    let found = entities.user(user)?.ok_or_else(|| RequestError::UnknownUser(user.to_owned()))?;
    if let Some(existing) = entities.account(user, env)? {
        return Ok(existing);
    }
    entities
        .account(user, &found.home)?
        .ok_or_else(|| RequestError::NoAccount { user: user.to_owned(), env: found.home.to_string() })
}

/// The built-in rules, read from the action's declaration: the statuses it
/// acts from (Q3, Q4) and an expired invitation, invitations against an
/// active identity provider (Q2), adding a member twice (G10), an address
/// another account holds (G6).
fn builtin_denial(
    schema: &Schema,
    action: &crate::schema::ActionDecl,
    request: &Request,
    ctx: &Context<'_>,
) -> Option<(Builtin, BuiltinReason)> {
    let who = request.target.as_deref().unwrap_or_default();
    let text = |builtin, reason: String| Some((builtin, BuiltinReason::Text(reason)));
    match action.subject {
        Subject::Account => {
            let target = ctx.target.as_ref()?;
            if !action.from.is_empty() && !action.from.iter().any(|s| *s == target.status) {
                let reason = BuiltinReason::Status { status: target.status.clone() };
                return Some((Builtin::StatusTransition, reason));
            }
            if matches!(action.effect, Some(ActionEffect::Move(_)))
                && schema.expires(&target.status)
                && let Some(until) = target.invited_until
                && ctx.now > until
            {
                return Some((Builtin::StatusTransition, BuiltinReason::Expired(until)));
            }
            if action.sets_email() {
                return email_in_use(ctx, request.value.as_deref()?, request.target.as_deref());
            }
            None
        }
        Subject::User => {
            let target = ctx.target.as_ref()?;
            if target.env == ctx.environment.id {
                return text(
                    Builtin::AlreadyMember,
                    format!("`{who}` already has an account in `{}`", ctx.environment.id),
                );
            }
            // The new account takes the address of the home account (G5).
            email_in_use(ctx, target.email.as_deref()?, Some(who))
        }
        Subject::Addresses => {
            // An invitation creates an account that waits on an expiry (Q3);
            // an action that creates one that may log in at once is the
            // identity provider's own provisioning (through the SCIM gateway).
            let invitation =
                matches!(&action.effect, Some(ActionEffect::Create(status)) if schema.expires(status));
            if invitation && crate::directory::conform::on_identity_provider(schema, &ctx.environment) {
                return Some((Builtin::InvitationsOrIdp, BuiltinReason::IdpActive));
            }
            request.emails.iter().find_map(|email| {
                let env = &ctx.environment.id;
                if let Ok(Some(_)) = ctx.entities.account(email, env) {
                    return text(
                        Builtin::AlreadyMember,
                        format!("`{email}` already has an account in `{env}`"),
                    );
                }
                email_in_use(ctx, email, None)
            })
        }
        Subject::Asset => None,
    }
}

/// Whether another account of the environment than `owner`'s holds
/// `email`: addresses are unique per environment, whatever their case (G6).
fn email_in_use(ctx: &Context<'_>, email: &str, owner: Option<&str>) -> Option<(Builtin, BuiltinReason)> {
    let env = &ctx.environment.id;
    let mut holder = None;
    // A failing lookup leaves the decision to the store's unique index.
    let _ = ctx.entities.for_each_account(env, &mut |account| {
        let theirs = account.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email));
        if theirs && Some(account.user.as_str()) != owner {
            holder = Some(account.user.clone());
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    let holder = holder?;
    let reason = format!("`{email}` is already the address of `{holder}` in `{env}` (G6)");
    Some((Builtin::EmailInUse, BuiltinReason::Text(reason)))
}

fn digest_meaning(files: &[(crate::source::FileId, crate::policy::ast::File)], schema: &Schema) -> String {
    let mut texts: Vec<String> =
        files.iter().map(|(_, file)| super::fmt::format_file(&without_comments(file))).collect();
    // The model decided by, which the files do not say when it is the
    // standard schema.
    texts.push(schema.digest());
    sha256_hex_of(texts.iter().flat_map(|text| [text.as_bytes(), &[0]]))
}

/// `file` with every comment left out: what it means, not how it reads.
fn without_comments(file: &crate::policy::ast::File) -> crate::policy::ast::File {
    use crate::policy::ast::{Item, LifecycleEntry};
    let mut file = file.clone();
    file.trailing_comments.clear();
    for item in &mut file.items {
        match item {
            Item::Rule(r) => {
                r.comments.clear();
                r.body_comments.clear();
            }
            Item::Trigger(t) => {
                t.comments.clear();
                t.body_comments.clear();
            }
            Item::Schema(block) => {
                block.comments.clear();
                block.body_comments.clear();
                block.declarations.iter_mut().for_each(|d| d.comments.clear());
            }
            Item::Lifecycle(l) => {
                l.comments.clear();
                l.body_comments.clear();
                for entry in &mut l.entries {
                    match entry {
                        LifecycleEntry::Referenced { comments, .. }
                        | LifecycleEntry::Orphan { comments, .. }
                        | LifecycleEntry::Owns { comments, .. } => comments.clear(),
                    }
                }
            }
        }
    }
    file
}

/// Collects rules, lifecycle blocks and triggers, validating each.
#[derive(Default)]
struct Builder {
    compiler: Compiler,
    rules: Vec<RuleInfo>,
    lifecycles: Vec<LifecycleSpec>,
    lifecycle_spans: Vec<Span>,
    triggers: Vec<TriggerSpec>,
    names: HashMap<String, Span>,
}

impl Builder {
    fn new(schema: Arc<Schema>) -> Self {
        Builder {
            compiler: Compiler::new(schema),
            rules: Vec::new(),
            lifecycles: Vec::new(),
            lifecycle_spans: Vec::new(),
            triggers: Vec::new(),
            names: HashMap::new(),
        }
    }

    fn item(&mut self, item: &Item, sources: &Sources) {
        match item {
            // Declared before any rule is compiled (`declare`).
            Item::Schema(_) => {}
            Item::Rule(rule) => {
                self.unique_name(&rule.name);
                self.warn_without_because(rule);
                let actions_ok = rule.actions.iter().all(|a| self.known_action(a, None));
                let scope =
                    Scope::for_actions(&self.compiler.schema, rule.actions.iter().map(|a| a.name.as_str()));
                let condition = match &rule.condition {
                    Some(expr) if actions_ok => {
                        let compiled = self.compiler.condition(expr, scope);
                        self.warn_never_matches(compiled.as_ref(), expr, &rule.name);
                        compiled
                    }
                    _ => None,
                };
                self.rules.push(RuleInfo {
                    name: rule.name.name.clone(),
                    effect: rule.effect,
                    actions: rule.actions.iter().map(|a| a.name.clone()).collect(),
                    because: rule.because.as_ref().map(|b| b.value.clone()),
                    source: sources.locate(rule.span),
                    span: rule.span,
                    condition,
                });
            }
            Item::Lifecycle(block) => self.lifecycle(block),
            Item::Trigger(trigger) => {
                self.unique_name(&trigger.name);
                if !self.known_action(&trigger.action, Some(Subject::Account)) {
                    return;
                }
                if let Some(condition) = self.compiler.condition(&trigger.condition, Scope::selector()) {
                    self.triggers.push(TriggerSpec {
                        name: trigger.name.name.clone(),
                        action: trigger.action.name.clone(),
                        because: trigger.because.as_ref().map(|b| b.value.clone()),
                        selector: Selector { condition },
                    });
                }
            }
        }
    }

    fn lifecycle(&mut self, block: &super::ast::Lifecycle) {
        if !self.known_action(&block.action, Some(Subject::Account)) {
            return;
        }
        if let Some(first) = self.lifecycles.iter().position(|l| l.action == block.action.name) {
            let mut d = Diagnostic::error(
                "duplicate-lifecycle",
                format!("`{}` has two lifecycle blocks", block.action.name),
            )
            .at(block.action.span, "second block")
            .with_help("merge them into one block");
            if let Some(span) = self.lifecycle_spans.get(first) {
                d = d.with_related(*span, "first block");
            }
            self.compiler.diagnostics.push(d);
            return;
        }
        let mut spec = LifecycleSpec {
            action: block.action.name.clone(),
            fallback: None,
            owns: Vec::new(),
            owners: Vec::new(),
            remove_orphaned_user: false,
        };
        let scope = Scope::for_actions(&self.compiler.schema, [block.action.name.as_str()]);
        for entry in &block.entries {
            match entry {
                LifecycleEntry::Referenced { fallback, .. } => {
                    if self.known_action(fallback, Some(Subject::Account)) {
                        spec.fallback = Some(fallback.name.clone());
                    }
                }
                LifecycleEntry::Orphan { consequence, .. } => {
                    let removes =
                        self.compiler.schema.action(&block.action.name).is_some_and(|a| a.removes_account());
                    if !removes {
                        // Only an action that removes an account leaves a
                        // user without accounts.
                        self.compiler.diagnostics.push(
                            Diagnostic::error(
                                "orphan-not-removed",
                                format!(
                                    "only a deletion leaves a user without accounts, not `{}`",
                                    block.action.name
                                ),
                            )
                            .at(consequence.span, "in a block that removes no account")
                            .with_help(
                                "move `orphaned user -> remove` to the block of an action that `removes`, such as `lifecycle delete`",
                            ),
                        );
                    } else if consequence.name == "remove" {
                        spec.remove_orphaned_user = true;
                    } else {
                        self.compiler.diagnostics.push(
                            Diagnostic::error(
                                "orphan-not-removed",
                                format!("an orphaned user can only be removed, not `{}`", consequence.name),
                            )
                            .at(consequence.span, "not `remove`")
                            .with_help(
                                "write `orphaned user -> remove`, or leave the entry out to keep the user",
                            ),
                        );
                    }
                }
                LifecycleEntry::Owns { kinds, consequence, to, .. } => {
                    let Some(consequence) = self.consequence(consequence) else { continue };
                    if consequence == Consequence::Reassign && !self.reassign_declared(kinds.first()) {
                        continue;
                    }
                    let owner = match to {
                        Some(expr) if consequence != Consequence::Reassign => {
                            self.compiler.diagnostics.push(
                                Diagnostic::error(
                                    "owner-without-reassign",
                                    "only `reassign` takes a new owner",
                                )
                                .at(expr.span, "a new owner for assets that are not reassigned")
                                .with_help("write `-> reassign to ...`, or remove `to ...`"),
                            );
                            None
                        }
                        Some(expr) => self.compiler.owner(expr, scope),
                        None => None,
                    };
                    for kind in kinds {
                        let Some(asset_kind) = self.asset_kind(kind) else { continue };
                        if spec.consequence(&asset_kind).is_some() {
                            self.compiler.diagnostics.push(
                                Diagnostic::error(
                                    "duplicate-asset-kind",
                                    format!("`{}` is named twice in this lifecycle block", kind.name),
                                )
                                .at(kind.span, "named again"),
                            );
                            continue;
                        }
                        if let Some(owner) = &owner {
                            spec.owners.push((asset_kind.clone(), owner.clone()));
                        }
                        spec.owns.push((asset_kind, consequence));
                    }
                }
            }
        }
        self.lifecycles.push(spec);
        self.lifecycle_spans.push(block.action.span);
    }

    fn unique_name(&mut self, name: &Ident) {
        if let Some(first) = self.names.get(&name.name) {
            self.compiler.diagnostics.push(
                Diagnostic::error("duplicate-name", format!("the name `{}` is used twice", name.name))
                    .at(name.span, "used again here")
                    .with_related(*first, "first used here")
                    .with_help("rule and trigger names are unique across the policy set"),
            );
        } else {
            self.names.insert(name.name.clone(), name.span);
        }
    }

    fn known_action(&mut self, action: &Ident, subject: Option<Subject>) -> bool {
        let schema = &self.compiler.schema;
        let Some(info) = schema.action(&action.name) else {
            let names: Vec<&str> = schema.action_names().collect();
            let d = super::declare::unknown("unknown-action", "action", action, names.into_iter());
            self.compiler.diagnostics.push(d);
            return false;
        };
        if let Some(subject) = subject
            && info.subject != subject
        {
            self.compiler.diagnostics.push(
                Diagnostic::error(
                    "not-an-account-action",
                    format!("`{}` does not act on an account", action.name),
                )
                .at(action.span, "needs an action on an account")
                .with_help(
                    "lifecycle blocks, fallbacks and triggers take actions such as `block` or `delete`",
                ),
            );
            return false;
        }
        true
    }

    fn asset_kind(&mut self, kind: &Ident) -> Option<String> {
        let schema = &self.compiler.schema;
        if schema.asset_kind(&kind.name).is_some() {
            return Some(kind.name.clone());
        }
        let names = schema.asset_kinds.iter().map(|k| k.name.as_str());
        let d = super::declare::unknown("unknown-asset-kind", "asset kind", kind, names);
        self.compiler.diagnostics.push(d);
        None
    }

    /// `-> reassign` asks who may take each asset as the action `reassign`
    /// on the asset: the schema must declare it so.
    fn reassign_declared(&mut self, at: Option<&Ident>) -> bool {
        let declared = self.compiler.schema.action("reassign").is_some_and(|a| a.subject == Subject::Asset);
        if !declared && let Some(at) = at {
            self.compiler.diagnostics.push(
                Diagnostic::error(
                    "reassign-undeclared",
                    "assets to reassign need the action `reassign` on assets, which the schema does not declare",
                )
                .at(at.span, "reassigned here")
                .with_help("declare `action reassign on asset` in the schema: who may take each asset is decided as it"),
            );
        }
        declared
    }

    fn consequence(&mut self, consequence: &Ident) -> Option<Consequence> {
        let found = Consequence::parse(&consequence.name);
        if found.is_none() {
            let names: Vec<&str> = Consequence::ALL.iter().map(|c| c.as_str()).collect();
            let mut d = Diagnostic::error(
                "unknown-consequence",
                format!("unknown consequence `{}`", consequence.name),
            )
            .at(consequence.span, "not a consequence");
            d = match did_you_mean(&consequence.name, names.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("the consequences are: {}", names.join(", "))),
            };
            self.compiler.diagnostics.push(d);
        }
        found
    }

    fn warn_never_matches(&mut self, compiled: Option<&CExpr>, expr: &Expr, name: &Ident) {
        if never_true(compiled) {
            self.compiler.diagnostics.push(
                Diagnostic::warning("never-matches", format!("rule `{}` can never match", name.name))
                    .at(expr.span, "this condition is always false"),
            );
        } else if let Some(both) = compiled.and_then(super::lint::contradiction) {
            self.compiler.diagnostics.push(
                Diagnostic::warning(
                    "contradiction",
                    format!("`{}` can never match: {both} cannot both hold", name.name),
                )
                .at(expr.span, "never true")
                .with_help("one of the two is a slip: `or` where `and` is written, or a value mistyped"),
            );
        }
    }

    /// A forbid that denies says why: without `because` the person denied
    /// reads only the rule's name.
    fn warn_without_because(&mut self, rule: &super::ast::Rule) {
        if rule.effect == Effect::Forbid && rule.because.is_none() {
            self.compiler.diagnostics.push(
                Diagnostic::warning(
                    "forbid-without-because",
                    format!("forbid `{}` gives no reason", rule.name.name),
                )
                .at(rule.name.span, "denies without `because`")
                .with_help("add `because \"...\"`: it is what the person denied is told"),
            );
        }
    }

    /// A permit whose every action has an unconditional forbid can never
    /// allow anything.
    fn warn_unreachable_permits(&mut self) {
        let blocked: Vec<(&str, Span, &str)> = self
            .rules
            .iter()
            .filter(|r| r.effect == Effect::Forbid && r.condition.is_none())
            .flat_map(|r| r.actions.iter().map(move |a| (a.as_str(), r.span, r.name.as_str())))
            .collect();
        let mut warnings = Vec::new();
        for rule in self.rules.iter().filter(|r| r.effect == Effect::Permit) {
            let shadows: Vec<_> =
                rule.actions.iter().filter_map(|a| blocked.iter().find(|(b, _, _)| b == a)).collect();
            if shadows.len() == rule.actions.len()
                && let Some((_, span, forbid)) = shadows.first()
            {
                warnings.push(
                    Diagnostic::warning(
                        "unreachable-permit",
                        format!("rule `{}` can never allow anything", rule.name),
                    )
                    .at(rule.span, "every action it permits is always forbidden")
                    .with_related(*span, format!("`{forbid}` forbids without a condition")),
                );
                continue;
            }
            // A forbid of every action the permit names whose condition
            // holds whenever the permit's does.
            let Some(permit) = &rule.condition else { continue };
            let broader = self.rules.iter().find(|f| {
                f.effect == Effect::Forbid
                    && rule.actions.iter().all(|a| f.actions.contains(a))
                    && f.condition.as_ref().is_some_and(|c| super::lint::implies(permit, c))
            });
            if let Some(forbid) = broader {
                warnings.push(
                    Diagnostic::warning(
                        "shadowed-permit",
                        format!(
                            "rule `{}` can never allow anything: whenever it matches, `{}` forbids",
                            rule.name, forbid.name
                        ),
                    )
                    .at(rule.span, "always overridden")
                    .with_related(forbid.span, "forbids whenever the permit matches"),
                );
            }
        }
        self.compiler.diagnostics.extend(warnings);
    }
}

fn never_true(expr: Option<&CExpr>) -> bool {
    match expr {
        Some(CExpr::Const(Const::Bool(false))) => true,
        Some(CExpr::And(operands)) => operands.iter().any(|e| never_true(Some(e))),
        Some(CExpr::Or(operands)) => operands.iter().all(|e| never_true(Some(e))),
        Some(CExpr::Not(inner)) => matches!(**inner, CExpr::Const(Const::Bool(true))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::model::{Environment, User};
    use crate::directory::{Directory, DirectoryParts};

    fn set(text: &str) -> Result<Loaded, Error> {
        let mut sources = Sources::new();
        sources.add("test.policy", text);
        PolicySet::from_sources(sources)
    }

    fn codes(text: &str) -> Vec<&'static str> {
        match set(text) {
            Ok(loaded) => loaded.warnings.iter().map(|d| d.code).collect(),
            Err(e) => e.diagnostics().map(|(_, d)| d.iter().map(|d| d.code).collect()).unwrap_or_default(),
        }
    }

    fn directory() -> Directory {
        let env = Environment {
            id: "E".into(),
            license: "1".into(),
            kind: "production".into(),
            attrs: Default::default(),
        };
        let user = |id: &str| User { id: id.into(), home: "E".into(), attrs: Default::default() };
        let account = |id: &str, roles: &[&str]| Account {
            user: id.into(),
            env: "E".into(),
            status: "active".into(),
            kind: "normal".into(),
            name: id.into(),
            email: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            invited_until: None,
            attrs: Default::default(),
        };
        Directory::new(DirectoryParts {
            environments: vec![env],
            users: vec![user("admin"), user("bob")],
            accounts: vec![account("admin", &["superuser"]), account("bob", &[])],
            ..Default::default()
        })
    }

    #[test]
    fn allowed_when_a_permit_matches_and_no_forbid_does() {
        let loaded = set(r#"rule p { permit block when actor has role "superuser" }
               rule f { forbid block when actor.user == target.user because "not yourself" }"#)
        .unwrap();
        let dir = directory();
        let ok = loaded.set.decide(&Request::new("admin", "block", "E").target("bob"), &dir).unwrap();
        assert!(ok.allowed());
        let own = loaded.set.decide(&Request::new("admin", "block", "E").target("admin"), &dir).unwrap();
        assert!(!own.allowed());
        let report = loaded.set.report(&Request::new("admin", "block", "E"), &own);
        assert_eq!(report.rules[0].id, "f");
        assert_eq!(report.reasons, ["not yourself"]);
        let none = loaded.set.decide(&Request::new("bob", "block", "E").target("admin"), &dir).unwrap();
        assert_eq!(none.rules(), [RuleRef::Builtin(Builtin::DefaultDeny)]);
    }

    /// Delegates to a directory and counts the walks over an environment.
    struct Walks<'a> {
        directory: &'a Directory,
        walks: std::cell::Cell<usize>,
    }

    impl Entities for Walks<'_> {
        fn environment(&self, id: &str) -> crate::directory::Lookup<'_, Environment> {
            Entities::environment(self.directory, id)
        }
        fn user(&self, id: &str) -> crate::directory::Lookup<'_, User> {
            Entities::user(self.directory, id)
        }
        fn account(&self, user: &str, env: &str) -> crate::directory::Lookup<'_, Account> {
            Entities::account(self.directory, user, env)
        }
        fn asset(&self, id: &str) -> crate::directory::Lookup<'_, crate::directory::model::Asset> {
            Entities::asset(self.directory, id)
        }
        fn for_each_account(
            &self,
            env: &str,
            visit: &mut dyn FnMut(&Account) -> std::ops::ControlFlow<()>,
        ) -> Result<(), crate::directory::LookupError> {
            self.walks.set(self.walks.get() + 1);
            self.directory.for_each_account(env, visit)
        }
        fn remembered_count(&self, key: u64, env: &str) -> Option<i64> {
            self.directory.remembered_count(key, env)
        }
        fn remember_count(&self, key: u64, env: &str, count: i64) {
            self.directory.remember_count(key, env, count)
        }
    }

    #[test]
    fn counts_that_read_only_the_environment_are_remembered() {
        let last = r#"rule p { permit block }
            rule last { forbid block when target has role "superuser"
              and count(accounts where account has role "superuser" and account.env == environment) <= 1 }"#;
        let per_request = r#"rule p { permit block }
            rule others { forbid block when count(accounts where account != target) < 1 }"#;
        for (text, walks) in [(last, 1), (per_request, 3)] {
            let loaded = set(text).unwrap();
            let dir = directory();
            let entities = Walks { directory: &dir, walks: Default::default() };
            for _ in 0..3 {
                let d =
                    loaded.set.decide(&Request::new("bob", "block", "E").target("admin"), &entities).unwrap();
                assert!(!d.allowed() || text == per_request, "{text}");
            }
            assert_eq!(entities.walks.get(), walks, "{text}");
        }
    }

    #[test]
    fn an_actor_without_a_role_every_permit_asks_for_is_never_allowed() {
        let restricted = set(r#"rule a { permit block when actor has role "superuser" and request.confirm }
               rule b { permit block when actor has role "auditor" or actor has role "superuser" }"#)
        .unwrap()
        .set;
        let open = set(r#"rule a { permit block when actor has role "superuser" }
               rule b { permit block when not request.bulk }"#)
        .unwrap()
        .set;
        let dir = directory();
        let (admin, bob) = (dir.account("admin", "E").unwrap(), dir.account("bob", "E").unwrap());
        assert!(restricted.may_permit("block", admin));
        assert!(!restricted.may_permit("block", bob));
        let decision = restricted.decide(&Request::new("bob", "block", "E").target("admin"), &dir).unwrap();
        assert!(!decision.allowed(), "what may_permit rules out is denied");
        assert!(open.may_permit("block", bob), "a permit without a role requirement");
        assert!(!restricted.may_permit("unblock", admin), "no permit at all: deny by default");
    }

    #[test]
    fn a_failing_forbid_denies_and_a_failing_permit_does_not_allow() {
        let loaded = set("rule p { permit delete when target.user.employment_end < request.now }\n\
             rule q { permit block }\n\
             rule f { forbid block when target.user.employment_end < request.now }")
        .unwrap();
        let dir = directory();
        let delete = loaded.set.decide(&Request::new("admin", "delete", "E").target("bob"), &dir).unwrap();
        assert!(!delete.allowed());
        assert_eq!(delete.errors().len(), 1);
        let block = loaded.set.decide(&Request::new("admin", "block", "E").target("bob"), &dir).unwrap();
        assert!(!block.allowed());
        assert_eq!(loaded.set.rule_name(block.rules()[0]), "f");
    }

    #[test]
    fn count_counts_accounts_of_the_environment() {
        let loaded = set(
            r#"rule p { permit block }
               rule last { forbid block when count(accounts where account has role "superuser") <= 1 and target has role "superuser" }"#,
        )
        .unwrap();
        let dir = directory();
        let d = loaded.set.decide(&Request::new("bob", "block", "E").target("admin"), &dir).unwrap();
        assert_eq!(loaded.set.rule_name(d.rules()[0]), "last");
    }

    #[test]
    fn validation_finds_mistakes_with_codes() {
        assert_eq!(codes("rule r { permit delet }"), ["unknown-action"]);
        assert_eq!(codes("rule r { permit block when target.stauts == \"active\" }"), ["unknown-attribute"]);
        assert_eq!(codes("rule r { permit block when target.status == \"disabled\" }"), ["unknown-value"]);
        assert_eq!(codes("rule r { permit block when request.batch_size == \"3\" }"), ["type-mismatch"]);
        assert_eq!(
            codes("rule r { permit invite when target.status == \"active\" }"),
            ["root-not-available"]
        );
        assert_eq!(
            codes("rule r { permit block }\nrule r { forbid delete because \"x\" }"),
            ["duplicate-name"]
        );
        assert_eq!(codes("rule r { permit block when false }"), ["never-matches"]);
        assert_eq!(
            codes("rule r { permit block }\nrule f { forbid block because \"x\" }"),
            ["unreachable-permit"]
        );
        assert_eq!(codes("rule f { forbid block }"), ["forbid-without-because"]);
        assert_eq!(
            codes(
                "rule r { permit block when target.status == \"active\" and target.status == \"blocked\" }"
            ),
            ["contradiction"]
        );
        assert_eq!(
            codes("rule r { permit block when request.batch_size > 3 and request.batch_size < 4 }"),
            ["contradiction"]
        );
        assert_eq!(
            codes("rule r { permit block when request.batch_size >= 3 and 3 >= request.batch_size }"),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes("rule r { permit block when target.status == \"active\" and target.status != \"active\" }"),
            ["contradiction"]
        );
        assert!(
            codes(
                "rule r { permit block when target.status != \"active\" and target.status != \"blocked\" }"
            )
            .is_empty()
        );
        assert_eq!(codes("lifecycle delete { owns spaces -> reassign }"), ["unknown-asset-kind"]);
        assert_eq!(codes("lifecycle delete { owns space -> keep }"), ["unknown-consequence"]);
        assert_eq!(codes("lifecycle delete { owns api_key -> revoke to actor }"), ["owner-without-reassign"]);
        assert_eq!(codes("lifecycle delete { owns app -> reassign to environment }"), ["type-mismatch"]);
        assert!(codes("lifecycle delete { owns app -> reassign to actor }").is_empty());
        assert!(codes("rule r { permit reassign when request.to.status == \"active\" }").is_empty());
        assert_eq!(codes("rule r { permit block when target.status }"), ["not-a-condition"]);
        assert_eq!(codes("rule r { permit block when target.name < \"b\" }"), ["type-mismatch"]);
    }

    #[test]
    fn unknown_actions_in_requests_are_errors_with_a_suggestion() {
        let loaded = set("rule r { permit block }").unwrap();
        let err =
            loaded.set.decide(&Request::new("admin", "blok", "E").target("bob"), &directory()).unwrap_err();
        assert!(matches!(err, RequestError::UnknownAction { ref help, .. } if help.contains("`block`")));
    }
}
