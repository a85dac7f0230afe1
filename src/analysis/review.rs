//! The access review: for each environment, who holds which power over how
//! many accounts (or assets), and by which rules. A power is an action on
//! accounts or on assets the schema declares; an account holds it over
//! every account of the environment it may do it to, or over every asset
//! it may give some account of the environment as the new owner, decided
//! as `decide` decides.
//!
//! Exact, and not by deciding every pair: the accounts split into classes
//! no rule tells apart (`classes.rs`); each block of an actor class and a
//! target class is decided once, and an actor's count is the sum of the
//! target classes its blocks allow, less its exceptions in them (the pairs
//! a comparison of the two sides singles out), plus the exceptions allowed
//! alone. An action on assets is decided once per unit of the classes of
//! its three sides (`triples.rs`), which also gives each actor's assets.
//! `tests/review.rs` checks both against deciding every request.

use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::Shape;
use super::classes::{Atoms, Partition, on_both_sides};
use super::triples::{Parties, Triples};
use crate::Engine;
use crate::directory::model::{Account, Asset, Environment};
use crate::policy::{PolicySet, Request, RequestError};
use crate::schema::{ActionDecl, Effect, Subject};

/// What to review.
#[derive(Debug, Clone)]
pub struct ReviewQuery {
    /// The environments; all of them when empty.
    pub envs: Vec<String>,
    /// How every request is asked ([`ReviewQuery::default_shape`] is the
    /// most an administrator can do).
    pub shape: Shape,
    /// The clock every request is decided at.
    pub now: jiff::Timestamp,
}

impl ReviewQuery {
    /// The shape a review asks by default: single, confirmed, with a
    /// reason, so that a rule that asks for either does not hide a power.
    pub fn default_shape() -> Shape {
        Shape { bulk: false, confirm: true, reason: Some("access review".to_owned()) }
    }
}

/// How privileged a power is, in the order the review lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerKind {
    /// The action removes the account (`delete`).
    Removes,
    /// It moves the account's status (`block`, `unblock`).
    Status,
    /// It creates or renews access (an invitation renewed).
    Creates,
    /// Anything else (`edit_rights`, `assign_role`, `login`).
    Other,
}

impl PowerKind {
    /// The kind of a declared action.
    pub fn of(action: &ActionDecl) -> PowerKind {
        match &action.effect {
            Some(Effect::Remove) => PowerKind::Removes,
            Some(Effect::Move(_)) => PowerKind::Status,
            Some(Effect::Create(_) | Effect::Renew) => PowerKind::Creates,
            Some(Effect::Set(_)) | None => PowerKind::Other,
        }
    }

    /// How the review reads it.
    pub const fn describe(self) -> &'static str {
        match self {
            PowerKind::Removes => "removes an account",
            PowerKind::Status => "moves an account's status",
            PowerKind::Creates => "creates or renews access",
            PowerKind::Other => "other",
        }
    }
}

/// Over how much of the environment a power is held: accounts for an
/// action on accounts (themselves included), assets for an action on
/// assets (each one they may give some account of it as the new owner).
/// In JSON, the holder's `accounts` or `assets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Over {
    /// Accounts of the environment.
    Accounts(u64),
    /// Assets of the environment.
    Assets(u64),
}

impl Over {
    /// How many.
    pub const fn count(self) -> u64 {
        match self {
            Over::Accounts(n) | Over::Assets(n) => n,
        }
    }

    /// What is counted, singular.
    pub const fn noun(self) -> &'static str {
        match self {
            Over::Accounts(_) => "account",
            Over::Assets(_) => "asset",
        }
    }
}

/// One account holding a power.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// The user.
    pub user: String,
    /// Over how many accounts, or assets, of the environment.
    #[serde(flatten)]
    pub over: Over,
    /// The rules that decided `allow` for those requests, sorted.
    pub rules: Vec<String>,
}

/// One power in one environment and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Power {
    /// The action.
    pub action: String,
    /// How privileged it is.
    pub kind: PowerKind,
    /// Every holder, by how many accounts or assets (most first), then by
    /// user id.
    pub holders: Vec<Holder>,
}

/// One environment's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvReview {
    /// The environment.
    pub env: String,
    /// How many accounts it has.
    pub accounts: u64,
    /// How many of them hold no power at all (not listed).
    pub without_power: u64,
    /// Every power, privileged first.
    pub powers: Vec<Power>,
}

/// An action the review does not cover, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotReviewed {
    /// The action.
    pub action: String,
    /// Why.
    pub why: String,
}

/// An action decided pair by pair, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OneByOne {
    /// The action.
    pub action: String,
    /// What its rules read that classes cannot follow.
    pub why: String,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    /// The powers reviewed, privileged first.
    pub actions: Vec<String>,
    /// How every request was asked.
    pub shape: Shape,
    /// The clock.
    pub now: jiff::Timestamp,
    /// How many accounts the environments reviewed have.
    pub accounts: u64,
    /// How many of them hold no power at all.
    pub without_power: u64,
    /// How many requests the review answers (per action on accounts
    /// accounts², on assets accounts² × assets).
    pub requests: u64,
    /// How many decisions that took.
    pub decisions: u64,
    /// Actions decided pair by pair.
    pub one_by_one: Vec<OneByOne>,
    /// Actions the schema declares that act on no account nor asset of
    /// the environment.
    pub not_reviewed: Vec<NotReviewed>,
    /// Each environment, in order of id.
    pub environments: Vec<EnvReview>,
}

/// Why a review cannot be made.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum ReviewError {
    /// A request of the review is not one steward can decide (an unknown
    /// environment among them).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Request(#[from] RequestError),
    /// A worker of the review stopped.
    #[error("{0}")]
    Query(String),
}

/// Reviews every power in the environments asked over the engine's directory.
pub fn review(engine: &Engine, query: &ReviewQuery) -> Result<Review, ReviewError> {
    let (policies, directory) = (engine.policies(), engine.directory());
    let schema = policies.schema();
    let envs = super::environments(directory, &query.envs)?;

    let reviewed = |a: &&ActionDecl| matches!(a.subject, Subject::Account | Subject::Asset);
    let mut actions: Vec<&ActionDecl> = schema.actions.iter().filter(reviewed).collect();
    // Stable: within a kind, the schema's order.
    actions.sort_by_key(|a| PowerKind::of(a));
    let not_reviewed = schema
        .actions
        .iter()
        .filter(|a| !reviewed(a))
        .map(|a| NotReviewed { action: a.name.clone(), why: not_reviewed_why(a.subject).to_owned() })
        .collect();

    let mut one_by_one = Vec::new();
    let mut atoms_of = Vec::with_capacity(actions.len());
    for action in &actions {
        let mut atoms = if action.subject == Subject::Asset { Atoms::on_assets() } else { Atoms::default() };
        match policies.conditions(&action.name).flatten().try_for_each(|c| atoms.split(c)) {
            Ok(()) => atoms_of.push(Some(atoms)),
            Err(why) => {
                one_by_one.push(OneByOne { action: action.name.clone(), why: why.to_owned() });
                atoms_of.push(None);
            }
        }
    }
    // Who records refer to, per environment: a removal the policy allows
    // is denied by `referenced` for them, so it splits the target classes.
    let mut referenced: FxHashMap<&str, FxHashSet<&str>> = FxHashMap::default();
    for reference in directory.references() {
        referenced.entry(reference.env.as_str()).or_default().insert(reference.user.as_str());
    }

    // The environments split between the cores, merged in order: the
    // answer does not depend on how many there are.
    let workers = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, envs.len().max(1));
    let chunk = envs.len().div_ceil(workers).max(1);
    let empty = FxHashSet::default();
    // Only where a rule could allow one: with none, nobody holds it.
    let ruled = |a: &&&ActionDecl| policies.conditions(&a.name).next().is_some();
    let assets = match actions.iter().filter(ruled).any(|a| a.subject == Subject::Asset) {
        true => super::assets_by_env(directory),
        false => FxHashMap::default(),
    };
    // How many assets each environment has: the requests of an action on
    // assets are counted whether or not they are decided.
    let mut asset_counts: FxHashMap<&str, u64> = FxHashMap::default();
    if actions.iter().any(|a| a.subject == Subject::Asset) {
        for asset in directory.assets() {
            *asset_counts.entry(asset.env.as_str()).or_default() += 1;
        }
    }
    let job = Job {
        asset_counts: &asset_counts,
        assets: &assets,
        engine,
        actions: &actions,
        atoms: &atoms_of,
        shape: &query.shape,
        now: query.now,
        referenced: &referenced,
        empty: &empty,
    };
    let results: Vec<Result<Vec<EnvResult>, ReviewError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = envs
            .chunks(chunk)
            .map(|part| {
                let job = &job;
                scope.spawn(move || part.iter().map(|env| job.env(env)).collect::<Result<Vec<_>, _>>())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| Err(ReviewError::Query("a worker of the review stopped".into())))
            })
            .collect()
    });
    let mut review = Review {
        actions: actions.iter().map(|a| a.name.clone()).collect(),
        shape: query.shape.clone(),
        now: query.now,
        accounts: 0,
        without_power: 0,
        requests: 0,
        decisions: 0,
        one_by_one,
        not_reviewed,
        environments: Vec::with_capacity(envs.len()),
    };
    for result in results {
        for EnvResult { env, requests, decisions } in result? {
            review.accounts += env.accounts;
            review.without_power += env.without_power;
            review.requests += requests;
            review.decisions += decisions;
            review.environments.push(env);
        }
    }
    Ok(review)
}

impl Review {
    /// How many (account, power) pairs hold, over every environment.
    pub fn holdings(&self) -> usize {
        self.environments.iter().flat_map(|e| &e.powers).map(|p| p.holders.len()).sum()
    }
}

fn not_reviewed_why(subject: Subject) -> &'static str {
    match subject {
        Subject::Addresses => "acts on e-mail addresses, not on accounts of the environment",
        Subject::User => "acts on users without an account in the environment, not on its accounts",
        Subject::Account | Subject::Asset => "",
    }
}

/// What the built-in rules and `referenced` read of an action: two
/// actions alike here split the targets alike.
fn builtin_key<'a>(policies: &PolicySet, action: &'a ActionDecl) -> (&'a [String], bool, bool, bool) {
    (
        &action.from,
        matches!(action.effect, Some(Effect::Move(_))),
        action.sets_email(),
        super::weighs_references(policies, &action.name),
    )
}

struct Job<'q> {
    engine: &'q Engine,
    actions: &'q [&'q ActionDecl],
    atoms: &'q [Option<Atoms<'q>>],
    shape: &'q Shape,
    now: jiff::Timestamp,
    referenced: &'q FxHashMap<&'q str, FxHashSet<&'q str>>,
    empty: &'q FxHashSet<&'q str>,
    /// The assets of each environment, when an action on assets is reviewed.
    assets: &'q FxHashMap<&'q str, Vec<&'q Asset>>,
    /// How many assets each environment has.
    asset_counts: &'q FxHashMap<&'q str, u64>,
}

/// One environment's review, how many requests it answers and how many
/// decisions that took.
struct EnvResult {
    env: EnvReview,
    requests: u64,
    decisions: u64,
}

/// The rule lists the decisions of one action gave, each kept once.
#[derive(Default)]
struct RuleLists {
    lists: Vec<Arc<[String]>>,
    index: FxHashMap<Arc<[String]>, u32>,
}

impl RuleLists {
    fn intern(&mut self, rules: Vec<String>) -> u32 {
        let rules: Arc<[String]> = rules.into();
        if let Some(&id) = self.index.get(&rules) {
            return id;
        }
        let id = u32::try_from(self.lists.len()).unwrap_or(u32::MAX);
        self.lists.push(rules.clone());
        self.index.insert(rules, id);
        id
    }

    /// The union of the lists, sorted.
    fn union(&self, ids: &[u32]) -> Vec<String> {
        let mut rules: Vec<String> = ids
            .iter()
            .filter_map(|&id| self.lists.get(id as usize))
            .flat_map(|list| list.iter().cloned())
            .collect();
        rules.sort_unstable();
        rules.dedup();
        rules
    }
}

impl Job<'_> {
    /// One environment.
    fn env(&self, env_id: &str) -> Result<EnvResult, ReviewError> {
        let directory = self.engine.directory();
        let environment = directory
            .environment(env_id)
            .ok_or_else(|| RequestError::UnknownEnvironment(env_id.to_owned()))?;
        let mut accounts: Vec<&Account> = directory.accounts_in(env_id).collect();
        accounts.sort_unstable_by(|a, b| a.user.cmp(&b.user));
        let referenced = self.referenced.get(env_id).unwrap_or(self.empty);
        let n = accounts.len();
        let mut has_power = vec![false; n];
        let (mut requests, mut decisions) = (0u64, 0u64);
        let mut powers = Vec::with_capacity(self.actions.len());
        let mut built: Vec<(usize, Rc<Partition>)> = Vec::new();
        for (a, action) in self.actions.iter().enumerate() {
            if action.subject == Subject::Asset {
                let mut lists = RuleLists::default();
                let assets = self.assets.get(env_id).map(Vec::as_slice).unwrap_or_default();
                let parties = Parties { directory, environment, accounts: &accounts, assets, now: self.now };
                let (reach, decided) = self.on_assets(&parties, action, self.atoms.get(a), &mut lists)?;
                requests +=
                    (n as u64) * (n as u64) * self.asset_counts.get(env_id).copied().unwrap_or_default();
                decisions += decided;
                let holders = accounts
                    .iter()
                    .zip(reach)
                    .zip(has_power.iter_mut())
                    .filter(|((_, (count, _)), _)| *count > 0)
                    .map(|((account, (count, ids)), power)| {
                        *power = true;
                        Holder {
                            user: account.user.to_string(),
                            over: Over::Assets(count),
                            rules: lists.union(&ids),
                        }
                    });
                powers.push(power(action, holders.collect()));
                continue;
            }
            let removes = super::weighs_references(self.engine.policies(), &action.name);
            let request = |actor: &str, target: &str| Request {
                actor: actor.to_owned(),
                action: action.name.clone(),
                target: Some(target.to_owned()),
                env: env_id.to_owned(),
                reason: self.shape.reason.clone(),
                confirm: self.shape.confirm,
                bulk: self.shape.bulk,
                now: Some(self.now),
                ..Request::default()
            };
            let mut lists = RuleLists::default();
            // The rules of an allowed pair, interned; `None` when denied.
            let mut decide = |x: u32, y: u32| -> Result<Option<u32>, RequestError> {
                let (Some(actor), Some(target)) = (accounts.get(x as usize), accounts.get(y as usize)) else {
                    return Ok(None);
                };
                decisions += 1;
                let report = super::report(self.engine, &request(&actor.user, &target.user), removes)?;
                Ok((report.decision == "allow")
                    .then(|| lists.intern(report.rules.into_iter().map(|r| r.id).collect())))
            };
            // Per account as actor: over how many targets, by which rule lists.
            let mut counts = vec![0u64; n];
            let mut rules: Vec<Vec<u32>> = vec![Vec::new(); n];
            match self.atoms.get(a) {
                Some(Some(atoms)) => {
                    // One rule's condition read for several actions (the twelve
                    // of `administrators_maintain_users`) splits the accounts
                    // alike: built once, when the built-in rules read alike too.
                    let earlier = (!atoms.reads_request())
                        .then(|| {
                            built.iter().find(|(b, _)| {
                                self.atoms.get(*b).and_then(Option::as_ref).is_some_and(|other| {
                                    other.same_as(atoms)
                                        && self.actions.get(*b).is_some_and(|o| {
                                            builtin_key(self.engine.policies(), o)
                                                == builtin_key(self.engine.policies(), action)
                                        })
                                })
                            })
                        })
                        .flatten()
                        .map(|(_, p)| p.clone());
                    let partition = match earlier {
                        Some(partition) => partition,
                        None => {
                            let partition = Rc::new(self.partition(
                                &accounts,
                                atoms,
                                action,
                                environment,
                                referenced,
                                &request,
                            ));
                            built.push((a, partition.clone()));
                            partition
                        }
                    };
                    // Each block decided once: the allowed ones, with their rules.
                    let mut allowed: FxHashMap<(u32, u32), u32> = FxHashMap::default();
                    let mut base: Vec<(u64, Vec<u32>)> = Vec::with_capacity(partition.actors.len());
                    for ca in 0..partition.actors.len() as u32 {
                        let (mut count, mut ids) = (0u64, Vec::new());
                        for ct in 0..partition.targets.len() as u32 {
                            let Some((_, (x, y))) = partition.block(ca, ct) else { continue };
                            if let Some(id) = decide(x, y)? {
                                allowed.insert((ca, ct), id);
                                count += partition.targets.get(ct as usize).map_or(0, |t| t.len() as u64);
                                ids.push(id);
                            }
                        }
                        ids.sort_unstable();
                        ids.dedup();
                        base.push((count, ids));
                    }
                    for (members, (count, ids)) in partition.actors.iter().zip(&base) {
                        for &x in members {
                            if let Some(c) = counts.get_mut(x as usize) {
                                *c = *count;
                            }
                            if let Some(r) = rules.get_mut(x as usize) {
                                r.clone_from(ids);
                            }
                        }
                    }
                    // Each actor's exceptions: taken out of the blocks they
                    // sit in, decided alone.
                    let exceptions = partition.exceptions();
                    for run in exceptions.chunk_by(|p, q| p.0 == q.0) {
                        let Some(&(x, _)) = run.first() else { continue };
                        let Some(ca) = partition.actor_class(x) else { continue };
                        let mut taken: FxHashMap<u32, u64> = FxHashMap::default();
                        let mut alone = Vec::new();
                        let mut count = counts.get(x as usize).copied().unwrap_or_default();
                        for &(_, y) in run {
                            let Some(ct) = partition.target_class(y) else { continue };
                            if allowed.contains_key(&(ca, ct)) {
                                count = count.saturating_sub(1);
                                *taken.entry(ct).or_default() += 1;
                            }
                            if let Some(id) = decide(x, y)? {
                                count += 1;
                                alone.push(id);
                            }
                        }
                        // A block whose every pair for this actor is an
                        // exception grants it nothing: its rules go.
                        let mut ids: Vec<u32> = (0..partition.targets.len() as u32)
                            .filter_map(|ct| {
                                let id = allowed.get(&(ca, ct))?;
                                let size = partition.targets.get(ct as usize).map_or(0, |t| t.len() as u64);
                                (size > taken.get(&ct).copied().unwrap_or_default()).then_some(*id)
                            })
                            .chain(alone)
                            .collect();
                        ids.sort_unstable();
                        ids.dedup();
                        if let Some(c) = counts.get_mut(x as usize) {
                            *c = count;
                        }
                        if let Some(r) = rules.get_mut(x as usize) {
                            *r = ids;
                        }
                    }
                }
                _ => {
                    for x in 0..n as u32 {
                        let mut ids = Vec::new();
                        for y in 0..n as u32 {
                            if let Some(id) = decide(x, y)? {
                                ids.push(id);
                                if let Some(c) = counts.get_mut(x as usize) {
                                    *c += 1;
                                }
                            }
                        }
                        ids.sort_unstable();
                        ids.dedup();
                        if let Some(r) = rules.get_mut(x as usize) {
                            *r = ids;
                        }
                    }
                }
            }
            requests += (n as u64) * (n as u64);
            let mut holders: Vec<Holder> = Vec::new();
            for ((account, count), (ids, power)) in
                accounts.iter().zip(&counts).zip(rules.iter().zip(has_power.iter_mut()))
            {
                if *count > 0 {
                    *power = true;
                    holders.push(Holder {
                        user: account.user.to_string(),
                        over: Over::Accounts(*count),
                        rules: lists.union(ids),
                    });
                }
            }
            powers.push(power(action, holders));
        }
        let without_power = has_power.iter().filter(|h| !**h).count() as u64;
        let env = EnvReview { env: env_id.to_owned(), accounts: n as u64, without_power, powers };
        Ok(EnvResult { env, requests, decisions })
    }

    /// Per account, over how many assets of the environment it may do an
    /// action on assets, and by which rule lists; and how many decisions
    /// that took. Decided once per unit of the three sides' classes, or
    /// triple by triple where `atoms` is `None` (a `count` over two sides).
    fn on_assets(
        &self,
        parties: &Parties<'_>,
        action: &ActionDecl,
        atoms: Option<&Option<Atoms<'_>>>,
        lists: &mut RuleLists,
    ) -> Result<(Vec<Reach>, u64), ReviewError> {
        let (accounts, assets) = (parties.accounts, parties.assets);
        let policies = self.engine.policies();
        // Without a rule, deny by default answers every request alike.
        if assets.is_empty() || policies.conditions(&action.name).next().is_none() {
            return Ok((vec![(0, Vec::new()); accounts.len()], 0));
        }
        let env = parties.environment.id.as_str();
        let request = |actor: &str, asset: &str, to: Option<&str>| Request {
            actor: actor.to_owned(),
            action: action.name.clone(),
            asset: Some(asset.to_owned()),
            to: to.map(str::to_owned),
            env: env.to_owned(),
            reason: self.shape.reason.clone(),
            confirm: self.shape.confirm,
            bulk: self.shape.bulk,
            now: Some(self.now),
            ..Request::default()
        };
        let mut decisions = 0u64;
        let mut decide = |(x, t, y): (u32, u32, u32)| -> Result<Option<u32>, RequestError> {
            let (Some(actor), Some(asset), Some(to)) =
                (accounts.get(x as usize), assets.get(t as usize), accounts.get(y as usize))
            else {
                return Ok(None);
            };
            decisions += 1;
            // What refers to the new owner weighs on nothing: the verdict
            // of an action on assets is the policy's.
            let report = super::report(self.engine, &request(&actor.user, &asset.id, Some(&to.user)), false)?;
            Ok((report.decision == "allow")
                .then(|| lists.intern(report.rules.into_iter().map(|r| r.id).collect())))
        };
        let reach = match atoms {
            Some(Some(atoms)) => {
                let builtins = |probe: &Request| super::builtin_answer(policies, probe, parties.directory);
                let triples = Triples::of_action(parties, atoms, &request, &builtins);
                let allowed =
                    triples.each().iter().map(|&(_, _, one)| decide(one)).collect::<Result<Vec<_>, _>>()?;
                triples.reach(&allowed)
            }
            _ => {
                let mut reach = Vec::with_capacity(accounts.len());
                for x in 0..accounts.len() as u32 {
                    let (mut count, mut ids) = (0u64, Vec::new());
                    for t in 0..assets.len() as u32 {
                        let mut any = false;
                        for y in 0..accounts.len() as u32 {
                            if let Some(id) = decide((x, t, y))? {
                                any = true;
                                ids.push(id);
                            }
                        }
                        count += u64::from(any);
                    }
                    ids.sort_unstable();
                    ids.dedup();
                    reach.push((count, ids));
                }
                reach
            }
        };
        Ok((reach, decisions))
    }

    /// The environment's accounts split for one action, as `diff` splits
    /// them: what the rules read of each side, and of the target what the
    /// built-in rules answer and whether records refer to it.
    fn partition(
        &self,
        accounts: &[&Account],
        atoms: &Atoms<'_>,
        action: &ActionDecl,
        environment: &Environment,
        referenced: &FxHashSet<&str>,
        request: &dyn Fn(&str, &str) -> Request,
    ) -> Partition {
        let removes = super::weighs_references(self.engine.policies(), &action.name);
        let directory = self.engine.directory();
        let policies = self.engine.policies();
        // The atoms read the request only where it is the same for every
        // pair (the shape, the clock): one probe serves all.
        let probe = request("", "");
        let context = |account| on_both_sides(directory, &probe, self.now, account, environment);
        let extra = |target: &Account| -> String {
            let ctx = on_both_sides(directory, &probe, self.now, target, environment);
            let mut sig = match policies.builtin_denial(action, &probe, &ctx) {
                Some(builtin) => format!("{builtin:?}"),
                None => "-".to_owned(),
            };
            if removes && referenced.contains(target.user.as_str()) {
                sig.push_str("\u{1f}r");
            }
            sig
        };
        Partition::build(accounts, atoms, &context, &extra)
    }
}

/// Per account: over how many assets, by which rule lists.
type Reach = (u64, Vec<u32>);

/// A power with its holders, most first: they come in order of user id,
/// and a stable sort keeps it among equals.
fn power(action: &ActionDecl, mut holders: Vec<Holder>) -> Power {
    holders.sort_by_key(|h| std::cmp::Reverse(h.over.count()));
    Power { action: action.name.clone(), kind: PowerKind::of(action), holders }
}
