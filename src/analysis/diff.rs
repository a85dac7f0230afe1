//! What a policy change does to the directory: every request whose decision
//! differs between two policy sets, over every actor and target account of
//! each environment, for each action and request shape asked.
//!
//! Exact, and not by deciding every pair: accounts the rules of both sets
//! cannot tell apart are decided once per block of classes (`classes.rs`),
//! and only the pairs a comparison of the two sides singles out are decided
//! one by one. `tests/diff.rs` checks the counts against deciding every
//! request under both sets.

use std::fmt;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::classes::{Atoms, Partition, on_both_sides};
use super::triples::{Parties, Triples, Unit};
use crate::Engine;
use crate::directory::model::{Account, Asset, Id};
use crate::policy::compile::{CExpr, Root};
use crate::policy::schema::Field;
use crate::policy::{PolicySet, Request, RequestError};
use crate::schema::Subject;

/// How the requests compared are asked: besides actor, action, target and
/// environment, what a rule may read of the request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Shape {
    /// Part of a bulk operation.
    pub bulk: bool,
    /// Confirmed.
    pub confirm: bool,
    /// With this reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Shape {
    /// The shapes compared when none is asked for: single and bulk, each
    /// plain and confirmed with a reason.
    pub fn defaults() -> Vec<Shape> {
        let reason = Some("policy review".to_owned());
        vec![
            Shape::default(),
            Shape { bulk: true, ..Shape::default() },
            Shape { confirm: true, reason: reason.clone(), ..Shape::default() },
            Shape { bulk: true, confirm: true, reason },
        ]
    }

    /// Reads `single`, `bulk`, `confirm`, `reason=TEXT`, joined by commas
    /// (`bulk,confirm,reason=left`).
    pub fn parse(text: &str) -> Result<Shape, String> {
        let mut shape = Shape::default();
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.contains(&"single") && parts.contains(&"bulk") {
            return Err(format!(
                "`{text}` is both single and bulk: give two shapes, `--request-shape single --request-shape bulk`"
            ));
        }
        for part in parts {
            match part {
                "" => {
                    return Err(format!(
                        "`{text}` has an empty part: write `single` or `bulk`, `confirm`, `reason=TEXT`, joined by commas"
                    ));
                }
                "single" => shape.bulk = false,
                "bulk" => shape.bulk = true,
                "confirm" | "confirmed" => shape.confirm = true,
                _ => match part.strip_prefix("reason=") {
                    Some(reason) if !reason.trim().is_empty() => shape.reason = Some(reason.to_owned()),
                    _ => {
                        return Err(format!(
                            "`{part}` is not part of a request shape: write `single` or `bulk`, `confirm`, `reason=TEXT`, joined by commas"
                        ));
                    }
                },
            }
        }
        Ok(shape)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.bulk { "bulk" } else { "single" })?;
        if self.confirm {
            f.write_str(", confirmed")?;
        }
        if let Some(reason) = &self.reason {
            write!(f, ", reason {reason:?}")?;
        }
        Ok(())
    }
}

/// What to compare.
#[derive(Debug, Clone)]
pub struct DiffQuery {
    /// The actions; every action on accounts the schemas of both sets
    /// declare when empty.
    pub actions: Vec<String>,
    /// The environments; all of them when empty.
    pub envs: Vec<String>,
    /// The request shapes; [`Shape::defaults`] when empty.
    pub shapes: Vec<Shape>,
    /// The clock every request is decided at.
    pub now: jiff::Timestamp,
}

/// A decision as the diff compares it: the answer and the deciding rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Outcome {
    /// `allow` or `deny`.
    pub decision: String,
    /// The deciding rules' ids.
    pub rules: Vec<String>,
}

impl Outcome {
    /// Whether it allows.
    pub fn allowed(&self) -> bool {
        self.decision == "allow"
    }
}

/// One request of the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    /// The environment.
    pub env: String,
    /// The actor.
    pub actor: String,
    /// The target (empty for an action on assets).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// The asset, for an action on assets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The new owner, for an action on assets (`request.to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// How it was asked.
    pub shape: Shape,
}

/// Requests of one action decided alike under each set, and differently
/// between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The action.
    pub action: String,
    /// Under the base set.
    pub before: Outcome,
    /// Under the new set.
    pub after: Outcome,
    /// How many requests.
    pub requests: u64,
    /// The first few, in order.
    pub examples: Vec<Example>,
}

impl Group {
    /// Whether the answer changes (not only the deciding rules).
    pub fn answer_changes(&self) -> bool {
        self.before.allowed() != self.after.allowed()
    }
}

/// Changed requests of one block: its pairs, or one pair.
#[derive(Debug)]
struct Block {
    group: usize,
    env: Arc<EnvAccounts>,
    shape: usize,
    pairs: Pairs,
}

#[derive(Debug)]
enum Pairs {
    Classes(u32, u32),
    One(u32, u32),
    /// Of an action on assets.
    Triples(Unit),
}

impl Block {
    /// The requests of the block, in order.
    fn examples<'b>(&'b self, shape: &'b Shape) -> Box<dyn Iterator<Item = Example> + 'b> {
        let env = &self.env;
        let example = move |(a, t): (u32, u32)| {
            let (actor, target) = (env.users.get(a as usize)?, env.users.get(t as usize)?);
            Some(Example {
                env: env.env.clone(),
                actor: actor.to_string(),
                target: target.to_string(),
                asset: None,
                to: None,
                shape: shape.clone(),
            })
        };
        let triple = move |(a, s, o): (u32, u32, u32)| {
            let (actor, asset, to) =
                (env.users.get(a as usize)?, env.assets.get(s as usize)?, env.users.get(o as usize)?);
            Some(Example {
                env: env.env.clone(),
                actor: actor.to_string(),
                target: String::new(),
                asset: Some(asset.to_string()),
                to: Some(to.to_string()),
                shape: shape.clone(),
            })
        };
        match (self.pairs.clone(), &env.partition, &env.triples) {
            (Pairs::One(a, t), ..) => Box::new(example((a, t)).into_iter()),
            (Pairs::Classes(ca, ct), Some(partition), _) => {
                Box::new(partition.pairs(ca, ct).filter_map(example))
            }
            (Pairs::Triples(Unit::One(a, s, o)), ..) => Box::new(triple((a, s, o)).into_iter()),
            (Pairs::Triples(unit), _, Some(triples)) => Box::new(triples.triples(unit).filter_map(triple)),
            (Pairs::Classes(..) | Pairs::Triples(_), ..) => Box::new(std::iter::empty()),
        }
    }
}

/// One environment's accounts, in order of user id, its assets, in order
/// of id, and how they split for one action (`None`: decided pair by pair,
/// or triple by triple).
#[derive(Debug)]
struct EnvAccounts {
    env: String,
    users: Arc<[Id]>,
    assets: Arc<[Id]>,
    partition: Option<Partition>,
    triples: Option<Triples>,
}

/// The answer.
#[derive(Debug)]
pub struct Diff {
    /// The actions compared.
    pub actions: Vec<String>,
    /// The shapes compared.
    pub shapes: Vec<Shape>,
    /// How many environments.
    pub environments: usize,
    /// How many requests were compared.
    pub compared: u64,
    /// How many decisions that took (under both sets).
    pub decisions: u64,
    /// What changed, by action, then by the outcome before and after.
    pub groups: Vec<Group>,
    /// Actions decided pair by pair, and why.
    pub one_by_one: Vec<(String, String)>,
    /// Actions only one set declares, and which (`base` or `new`): the
    /// other set's requests of them are compared as denied ([`UNDECLARED`]).
    pub declared_by_one: Vec<(String, &'static str)>,
    /// The actions compared that act on assets: their requests are
    /// (actor, asset, new owner).
    pub on_assets: Vec<String>,
    /// Actions on assets compared where the environments hold no asset:
    /// they have no request to compare.
    pub without_assets: Vec<String>,
    blocks: Vec<Block>,
}

/// Why two sets cannot be compared.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum DiffError {
    /// A request of the comparison is not one steward can decide.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Request(#[from] RequestError),
    /// A saved plan's requests cannot be walked again.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// An action that acts on no account, a plan edited by hand, a line of
    /// a decision log that cannot be read.
    #[error("{0}")]
    Query(String),
}

/// How many examples a group keeps.
const EXAMPLES: usize = 3;

impl Diff {
    /// How many requests change their answer.
    pub fn changed_answers(&self) -> u64 {
        self.groups.iter().filter(|g| g.answer_changes()).map(|g| g.requests).sum()
    }

    /// How many requests are decided by other rules, with the same answer.
    pub fn changed_rules(&self) -> u64 {
        self.groups.iter().filter(|g| !g.answer_changes()).map(|g| g.requests).sum()
    }

    /// Every changed request, with its group, in a stable order: by
    /// action, environment, shape, then class and pair; until `f` says
    /// `false` (a reader that went away).
    pub fn for_each_change(&self, f: &mut dyn FnMut(&Group, Example) -> bool) {
        for block in &self.blocks {
            let (Some(group), Some(shape)) = (self.groups.get(block.group), self.shapes.get(block.shape))
            else {
                continue;
            };
            for example in block.examples(shape) {
                if !f(group, example) {
                    return;
                }
            }
        }
    }
}

/// Compares `base` with `new` (two engines over the same directory).
pub fn diff(base: &Engine, new: &Engine, query: &DiffQuery) -> Result<Diff, DiffError> {
    let directory = new.directory();
    let actions = actions(base.policies(), new.policies(), &query.actions)?;
    // A shape asked twice is compared once, as an action or environment is.
    let mut shapes: Vec<Shape> = Vec::new();
    for shape in if query.shapes.is_empty() { Shape::defaults() } else { query.shapes.clone() } {
        if !shapes.contains(&shape) {
            shapes.push(shape);
        }
    }
    let envs = super::environments(directory, &query.envs)?;

    let mut one_by_one = Vec::new();
    let mut plans = Vec::with_capacity(actions.len());
    for action in &actions {
        let assets = [base.policies(), new.policies()]
            .iter()
            .filter_map(|set| set.schema().action(action))
            .any(|a| a.subject == Subject::Asset);
        if base.policies().decides_alike(new.policies(), action) {
            plans.push(Plan { how: How::Alike, shape_of: (0..shapes.len()).collect(), assets });
            continue;
        }
        let conditions =
            || [base.policies(), new.policies()].into_iter().flat_map(|set| set.conditions(action)).flatten();
        let mut atoms = if assets { Atoms::on_assets() } else { Atoms::default() };
        let how = match conditions().try_for_each(|condition| atoms.split(condition)) {
            Ok(()) => How::Classes(atoms),
            Err(why) => {
                one_by_one.push((action.clone(), why.to_owned()));
                How::PairByPair
            }
        };
        // Shapes the rules cannot tell apart (they read none of what
        // differs between them) share their decisions.
        let reads = |field| conditions().any(|c| reads_request(c, field));
        let (bulk, confirm, reason) =
            (reads(Field::RequestBulk), reads(Field::RequestConfirm), reads(Field::RequestReason));
        let key =
            |s: &Shape| (bulk && s.bulk, confirm && s.confirm, if reason { s.reason.clone() } else { None });
        let shape_of = shapes
            .iter()
            .map(|shape| shapes.iter().position(|other| key(other) == key(shape)).unwrap_or_default())
            .collect();
        plans.push(Plan { how, shape_of, assets });
    }

    // The environments split between the cores; each one's answer is
    // merged in order, so the result does not depend on how many there are.
    let workers = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, envs.len().max(1));
    let chunk = envs.len().div_ceil(workers).max(1);
    // Who records refer to, per environment: read once, not per environment.
    let mut referenced: FxHashMap<&str, FxHashSet<&str>> = FxHashMap::default();
    for reference in directory.references() {
        referenced.entry(reference.env.as_str()).or_default().insert(reference.user.as_str());
    }
    // The assets of each environment, in order of id, when an action on
    // assets is compared (counted, if not decided).
    let assets = match plans.iter().any(|p| p.assets) {
        true => super::assets_by_env(directory),
        false => FxHashMap::default(),
    };
    let job = Job {
        base,
        new,
        actions: &actions,
        plans: &plans,
        shapes: &shapes,
        now: query.now,
        referenced,
        assets,
    };
    let results: Vec<Result<Vec<EnvResult>, DiffError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = envs
            .chunks(chunk)
            .map(|part| {
                let job = &job;
                scope
                    .spawn(move || part.iter().map(|env| job.env(env)).collect::<Result<Vec<_>, DiffError>>())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(DiffError::Query("a worker of the comparison stopped".into())))
            })
            .collect()
    });

    let mut groups: Vec<Group> = Vec::new();
    let mut index: FxHashMap<(usize, Outcome, Outcome), usize> = FxHashMap::default();
    let mut blocks = Vec::new();
    let (mut compared, mut decisions) = (0, 0);
    let mut results: Vec<EnvResult> =
        results.into_iter().collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect();
    // Groups in order of action, then as first met; blocks likewise.
    results.sort_by(|a, b| a.env.cmp(&b.env));
    for action in 0..actions.len() {
        for result in &mut results {
            compared += result.compared.get(action).copied().unwrap_or_default();
            decisions += result.decisions.get(action).copied().unwrap_or_default();
            for change in result.changes.iter().filter(|c| c.action == action) {
                let key = (action, change.before.clone(), change.after.clone());
                let group = *index.entry(key).or_insert_with(|| {
                    groups.push(Group {
                        action: actions.get(action).cloned().unwrap_or_default(),
                        before: change.before.clone(),
                        after: change.after.clone(),
                        requests: 0,
                        examples: Vec::new(),
                    });
                    groups.len() - 1
                });
                if let Some(g) = groups.get_mut(group) {
                    g.requests += change.requests;
                }
                blocks.push(Block {
                    group,
                    env: change.env.clone(),
                    shape: change.shape,
                    pairs: change.pairs.clone(),
                });
            }
        }
    }
    let declared_by_one = actions
        .iter()
        .filter_map(|a| match (base.policies().schema().action(a), new.policies().schema().action(a)) {
            (Some(_), None) => Some((a.clone(), "base")),
            (None, Some(_)) => Some((a.clone(), "new")),
            _ => None,
        })
        .collect();
    let held = directory.assets().iter().any(|a| envs.binary_search(&a.env.as_str()).is_ok());
    let without_assets =
        actions.iter().zip(&plans).filter(|(_, p)| p.assets && !held).map(|(a, _)| a.clone()).collect();
    let on_assets = actions.iter().zip(&plans).filter(|(_, p)| p.assets).map(|(a, _)| a.clone()).collect();
    let mut diff = Diff {
        on_assets,
        without_assets,
        actions,
        shapes,
        environments: envs.len(),
        compared,
        decisions,
        groups,
        one_by_one,
        declared_by_one,
        blocks,
    };
    // The first few of each group, from its first blocks: a group can
    // cover millions of requests, and the examples need three.
    for block in &diff.blocks {
        let Some(group) = diff.groups.get_mut(block.group) else { continue };
        if group.examples.len() >= EXAMPLES {
            continue;
        }
        let Some(shape) = diff.shapes.get(block.shape) else { continue };
        let wanted = EXAMPLES - group.examples.len();
        group.examples.extend(block.examples(shape).take(wanted));
    }
    Ok(diff)
}

/// The actions asked, checked against both sets, or every action on
/// accounts either declares and every action on assets either has a rule
/// for.
fn actions(base: &PolicySet, new: &PolicySet, asked: &[String]) -> Result<Vec<String>, DiffError> {
    if asked.is_empty() {
        // Every action on accounts either set declares: one that only one
        // declares is a change too (a new power, or one taken away). An
        // action on assets no rule names is denied alike by both: its
        // requests (accounts² × assets) would only swell the count.
        let mut actions: Vec<String> = Vec::new();
        for set in [new, base] {
            for a in set.schema().actions.iter() {
                let ruled = || [new, base].iter().any(|s| s.conditions(&a.name).next().is_some());
                let compared = match a.subject {
                    Subject::Account => true,
                    Subject::Asset => ruled(),
                    Subject::User | Subject::Addresses => false,
                };
                if compared && !actions.contains(&a.name) {
                    actions.push(a.name.clone());
                }
            }
        }
        return Ok(actions);
    }
    let mut actions = Vec::new();
    for name in asked {
        let declared: Vec<_> = [new, base].into_iter().filter_map(|set| set.schema().action(name)).collect();
        if declared.is_empty() {
            return Err(RequestError::unknown_action(new.schema(), name).into());
        }
        if let Some(other) = declared.iter().find(|a| !matches!(a.subject, Subject::Account | Subject::Asset))
        {
            return Err(DiffError::Query(format!(
                "`{name}` acts on {}, not on an account or an asset of the environment: `diff` compares actions on accounts and on assets",
                other.subject.noun()
            )));
        }
        if declared
            .iter()
            .any(|a| a.subject != declared.iter().map(|d| d.subject).next().unwrap_or(a.subject))
        {
            return Err(DiffError::Query(format!(
                "`{name}` acts on accounts in one set and on assets in the other: they cannot be compared"
            )));
        }
        if !actions.contains(name) {
            actions.push(name.clone());
        }
    }
    Ok(actions)
}

/// The deciding rule of a request of an action the set does not declare:
/// compared with what the other set decides, as a denial.
pub const UNDECLARED: &str = "undeclared-action";

struct Job<'q> {
    base: &'q Engine,
    new: &'q Engine,
    actions: &'q [String],
    plans: &'q [Plan<'q>],
    shapes: &'q [Shape],
    now: jiff::Timestamp,
    referenced: FxHashMap<&'q str, FxHashSet<&'q str>>,
    assets: FxHashMap<&'q str, Vec<&'q Asset>>,
}

/// How an action is compared.
struct Plan<'p> {
    how: How<'p>,
    /// Per shape, the first shape decided alike: its decisions serve.
    shape_of: Vec<usize>,
    /// Whether it acts on assets: its requests are (actor, asset, new owner).
    assets: bool,
}

enum How<'p> {
    /// Both sets decide it alike: nothing to decide.
    Alike,
    /// Over classes of accounts.
    Classes(Atoms<'p>),
    /// Every pair.
    PairByPair,
}

/// Whether `expr` reads `field` of the request.
fn reads_request(expr: &CExpr, field: Field) -> bool {
    match expr {
        CExpr::Path(access) | CExpr::Has(access) => {
            access.root == Root::Request && access.fields.first() == Some(&field)
        }
        CExpr::Const(_) => false,
        CExpr::List(items) | CExpr::And(items) | CExpr::Or(items) => {
            items.iter().any(|e| reads_request(e, field))
        }
        CExpr::Not(e) => reads_request(e, field),
        CExpr::Count(aggregate) => aggregate.condition.as_ref().is_some_and(|c| reads_request(c, field)),
        CExpr::Cmp(_, a, b) | CExpr::In(a, b) | CExpr::Contains(a, b) | CExpr::HasRole(a, b) => {
            reads_request(a, field) || reads_request(b, field)
        }
    }
}

/// What one environment gave.
struct EnvResult {
    env: String,
    compared: Vec<u64>,
    decisions: Vec<u64>,
    changes: Vec<Change>,
}

#[derive(Clone)]
struct Change {
    env: Arc<EnvAccounts>,
    action: usize,
    shape: usize,
    before: Outcome,
    after: Outcome,
    requests: u64,
    pairs: Pairs,
}

impl Clone for Pairs {
    fn clone(&self) -> Self {
        match *self {
            Pairs::Classes(a, t) => Pairs::Classes(a, t),
            Pairs::One(a, t) => Pairs::One(a, t),
            Pairs::Triples(unit) => Pairs::Triples(unit),
        }
    }
}

impl Job<'_> {
    fn env(&self, env_id: &str) -> Result<EnvResult, DiffError> {
        let directory = self.new.directory();
        let environment = directory
            .environment(env_id)
            .ok_or_else(|| RequestError::UnknownEnvironment(env_id.to_owned()))?;
        let mut accounts: Vec<&Account> = directory.accounts_in(env_id).collect();
        accounts.sort_unstable_by(|a, b| a.user.cmp(&b.user));
        let assets: &[&Asset] = self.assets.get(env_id).map(Vec::as_slice).unwrap_or_default();
        let referenced = self.referenced.get(env_id);
        let users: Arc<[Id]> = accounts.iter().map(|a| a.user.clone()).collect();
        let asset_ids: Arc<[Id]> = assets.iter().map(|a| a.id.clone()).collect();
        let n = accounts.len() as u64;
        let m = assets.len() as u64;
        let mut result = EnvResult {
            env: env_id.to_owned(),
            compared: vec![0; self.actions.len()],
            decisions: vec![0; self.actions.len()],
            changes: Vec::new(),
        };
        for (a, (action, plan)) in self.actions.iter().zip(self.plans).enumerate() {
            if let Some(c) = result.compared.get_mut(a) {
                let per_shape = if plan.assets { n * m * n } else { n * n };
                *c += per_shape * self.shapes.len() as u64;
            }
            if matches!(plan.how, How::Alike) {
                continue;
            }
            // What refers to an asset's new owner weighs on nothing: the
            // verdict of an action on assets is the policy's.
            let removes = !plan.assets
                && [self.base, self.new].iter().any(|e| super::weighs_references(e.policies(), action));
            // A request of the action: (actor, target) on accounts,
            // (actor, asset, new owner) on assets.
            let request = |actor: &str, target: &str, to: Option<&str>, shape: &Shape| {
                let (target, asset) = match plan.assets {
                    false => (Some(target.to_owned()), None),
                    true => (None, Some(target.to_owned())),
                };
                Request {
                    actor: actor.to_owned(),
                    action: action.clone(),
                    target,
                    asset,
                    to: to.map(str::to_owned),
                    env: env_id.to_owned(),
                    reason: shape.reason.clone(),
                    confirm: shape.confirm,
                    bulk: shape.bulk,
                    now: Some(self.now),
                    ..Request::default()
                }
            };
            // What a decision reads beyond the rules: the built-in rules'
            // answer to `probe` under each set.
            let builtins = |probe: &Request| -> String {
                let mut sig = String::new();
                for set in [self.base.policies(), self.new.policies()] {
                    sig.push_str(&super::builtin_answer(set, probe, directory));
                    sig.push('\u{1f}');
                }
                sig
            };
            let plain = Shape::default();
            let context = |account, probe| on_both_sides(directory, probe, self.now, account, environment);
            let (partition, triples) = match (&plan.how, plan.assets) {
                (How::Classes(atoms), false) => {
                    // What the decision reads of the target beyond the rules:
                    // the built-in rules' answer under each set, and whether
                    // records refer to it (a removal the policy allows is
                    // then denied by `referenced`).
                    let extra = |target: &Account| -> String {
                        let mut sig = builtins(&request(&target.user, &target.user, None, &plain));
                        if removes && referenced.is_some_and(|r| r.contains(target.user.as_str())) {
                            sig.push('r');
                        }
                        sig
                    };
                    // The atoms read no part of the request that differs
                    // between shapes with a side: one partition serves all.
                    let probe = request("", "", None, &plain);
                    let context = |account| context(account, &probe);
                    (Some(Partition::build(&accounts, atoms, &context, &extra)), None)
                }
                (How::Classes(atoms), true) => {
                    let parties =
                        Parties { directory, environment, accounts: &accounts, assets, now: self.now };
                    let request =
                        |actor: &str, asset: &str, to: Option<&str>| request(actor, asset, to, &plain);
                    (None, Some(Triples::of_action(&parties, atoms, &request, &builtins)))
                }
                _ => (None, None),
            };
            let split = Arc::new(EnvAccounts {
                env: env_id.to_owned(),
                users: users.clone(),
                assets: asset_ids.clone(),
                partition,
                triples,
            });
            for (s, shape) in self.shapes.iter().enumerate() {
                // A shape decided alike with an earlier one: its changes are
                // that one's, asked this way.
                if let Some(&first) = plan.shape_of.get(s)
                    && first != s
                {
                    let same: Vec<Change> = result
                        .changes
                        .iter()
                        .filter(|c| c.action == a && c.shape == first)
                        .map(|c| Change { shape: s, ..c.clone() })
                        .collect();
                    result.changes.extend(same);
                    continue;
                }
                let mut decide = |r: Request, requests: u64, pairs: Pairs| -> Result<(), RequestError> {
                    let (before, after) = (outcome(self.base, &r, removes)?, outcome(self.new, &r, removes)?);
                    if let Some(d) = result.decisions.get_mut(a) {
                        *d += 2;
                    }
                    if before != after {
                        result.changes.push(Change {
                            action: a,
                            shape: s,
                            before,
                            after,
                            requests,
                            pairs,
                            env: split.clone(),
                        });
                    }
                    Ok(())
                };
                let user = |x: u32| accounts.get(x as usize).map(|a| a.user.as_str());
                let pair = |(x, y): (u32, u32)| Some(request(user(x)?, user(y)?, None, shape));
                let triple = |(x, t, y): (u32, u32, u32)| {
                    Some(request(user(x)?, assets.get(t as usize)?.id.as_str(), Some(user(y)?), shape))
                };
                match (&split.partition, &split.triples) {
                    (Some(partition), _) => {
                        for ca in 0..partition.actors.len() as u32 {
                            for ct in 0..partition.targets.len() as u32 {
                                if let Some((size, one)) = partition.block(ca, ct)
                                    && let Some(r) = pair(one)
                                {
                                    decide(r, size, Pairs::Classes(ca, ct))?;
                                }
                            }
                        }
                        for one in partition.exceptions() {
                            if let Some(r) = pair(one) {
                                decide(r, 1, Pairs::One(one.0, one.1))?;
                            }
                        }
                    }
                    (None, Some(triples)) => {
                        for &(unit, size, one) in triples.each() {
                            if let Some(r) = triple(one) {
                                decide(r, size, Pairs::Triples(unit))?;
                            }
                        }
                    }
                    (None, None) if plan.assets => {
                        for x in 0..n as u32 {
                            for t in 0..m as u32 {
                                for y in 0..n as u32 {
                                    if let Some(r) = triple((x, t, y)) {
                                        decide(r, 1, Pairs::Triples(Unit::One(x, t, y)))?;
                                    }
                                }
                            }
                        }
                    }
                    (None, None) => {
                        for x in 0..n as u32 {
                            for y in 0..n as u32 {
                                if let Some(r) = pair((x, y)) {
                                    decide(r, 1, Pairs::One(x, y))?;
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(result)
    }
}

/// The decision `engine` gives, as `decide` reports it (a removal the
/// policy allows weighed against what refers to the account).
fn outcome(engine: &Engine, request: &Request, removes: bool) -> Result<Outcome, RequestError> {
    if engine.policies().schema().action(&request.action).is_none() {
        return Ok(Outcome { decision: "deny".into(), rules: vec![UNDECLARED.into()] });
    }
    let report = super::report(engine, request, removes)?;
    Ok(Outcome { decision: report.decision, rules: report.rules.into_iter().map(|r| r.id).collect() })
}
