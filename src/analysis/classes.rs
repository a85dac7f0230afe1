//! Accounts that no rule can tell apart, decided once.
//!
//! A decision of an action on an account reads a few things of the actor
//! and of the target: the values of the expressions of its rules that read
//! one side only (a role, a status, a count of the target's accounts), and
//! what the built-in rules read of the target. Accounts with the same
//! values of all of them form a *class* on that side, and every pair of an
//! actor class and a target class gets one decision, whoever is picked.
//!
//! Expressions that compare the two sides (`actor.user == target.user`)
//! would split every class down to one account if their values went into
//! the classes. They go in as *keys* instead: pairs with different keys
//! compare unequal, alike for the whole block; pairs with the same key are
//! the *exceptions* of their block (found by a join on the key, not by
//! trying every pair), and each is decided alone. A key may match where the
//! values are not equal (an account's user against a user): the pair is
//! then decided alone, which costs a decision and never exactness.
//!
//! A count per actor (the access review) is then the sum of the sizes of
//! the target classes whose block allows, less the actor's exceptions in
//! them, plus those of its exceptions that are allowed alone.
//!
//! An expression that reads both sides in any other way (a `count` whose
//! condition names the actor and the target) cannot be split: the action is
//! then decided pair by pair, and [`Atoms::split`] says why.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::directory::model::Account;
use crate::policy::compile::{CExpr, CmpOp, Root};
use crate::policy::eval::{Context, Held, Observed};
use crate::policy::schema::Field;

/// A side of a request that classes split: the actor and the target of an
/// action on accounts; the actor, the asset and the new owner
/// (`request.to`) of an action on assets (`triples.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// `actor`.
    Actor,
    /// `target`.
    Target,
    /// `asset`.
    Asset,
    /// `request.to`, the new owner.
    Owner,
}

/// What the rules of one action read, split by side.
#[derive(Debug, Default)]
pub struct Atoms<'p> {
    /// Whether the action acts on assets: `request.to` is then a side of
    /// its own; on accounts it is part of the request, alike for every pair.
    assets: bool,
    /// Expressions that read one side (and nothing of another, nor of how
    /// the request is asked).
    one: Vec<(Side, &'p CExpr)>,
    /// `==` and `!=` between two sides: (the lower side, its operand, the
    /// other side, its operand).
    keyed: Vec<(Side, &'p CExpr, Side, &'p CExpr)>,
}

/// Which sides an expression reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sides(u8);

impl Sides {
    fn of(expr: &CExpr, assets: bool) -> Sides {
        let mut sides = Sides::default();
        sides.add(expr, assets);
        sides
    }

    fn add(&mut self, expr: &CExpr, assets: bool) {
        match expr {
            CExpr::Path(access) | CExpr::Has(access) => {
                let side = match access.root {
                    Root::Actor => Some(Side::Actor),
                    // An action on assets has no target: alike for every request.
                    Root::Target if !assets => Some(Side::Target),
                    Root::Asset if assets => Some(Side::Asset),
                    Root::Request if assets && access.fields.first() == Some(&Field::RequestTo) => {
                        Some(Side::Owner)
                    }
                    _ => None,
                };
                if let Some(side) = side {
                    self.0 |= 1 << side as u8;
                }
            }
            CExpr::Const(_) => {}
            CExpr::List(items) | CExpr::And(items) | CExpr::Or(items) => {
                items.iter().for_each(|e| self.add(e, assets))
            }
            CExpr::Not(e) => self.add(e, assets),
            CExpr::Count(aggregate) => {
                if let Some(condition) = &aggregate.condition {
                    self.add(condition, assets);
                }
            }
            CExpr::Cmp(_, a, b) | CExpr::In(a, b) | CExpr::Contains(a, b) | CExpr::HasRole(a, b) => {
                self.add(a, assets);
                self.add(b, assets);
            }
        }
    }

    /// The side, when it reads exactly one.
    fn one(self) -> Option<Side> {
        [Side::Actor, Side::Target, Side::Asset, Side::Owner].into_iter().find(|&s| self.0 == 1 << s as u8)
    }
}

impl<'p> Atoms<'p> {
    /// The atoms of an action on assets: the actor, the asset and the new
    /// owner are its sides.
    pub fn on_assets() -> Atoms<'p> {
        Atoms { assets: true, ..Atoms::default() }
    }

    /// Adds what `condition` reads. An expression that reads one side is
    /// an atom of that side; one that reads more, or one side and how the
    /// request is asked (a reason, a confirmation: a partition serves every
    /// shape), is split into its operands, which is exact: an expression
    /// is a function of them. `Err` names what cannot be split (a `count`
    /// whose condition reads more than one side), as written in the rule.
    pub fn split(&mut self, condition: &'p CExpr) -> Result<(), &'static str> {
        let sides = Sides::of(condition, self.assets);
        let asked = reads_request(condition, self.assets);
        if sides.0 == 0 {
            return Ok(());
        }
        if !asked && let Some(side) = sides.one() {
            self.one.push((side, condition));
            return Ok(());
        }
        match condition {
            CExpr::Cmp(CmpOp::Eq | CmpOp::Ne, a, b) if !asked => {
                let (left, right) = (Sides::of(a, self.assets).one(), Sides::of(b, self.assets).one());
                match (left, right) {
                    (Some(x), Some(y)) if x < y => self.keyed.push((x, a, y, b)),
                    (Some(x), Some(y)) if y < x => self.keyed.push((y, b, x, a)),
                    _ => {
                        self.split(a)?;
                        self.split(b)?;
                    }
                }
                Ok(())
            }
            CExpr::Count(_) if sides.one().is_some() => {
                Err("a `count` that reads a side and how the request is asked")
            }
            CExpr::Count(_) if self.assets => {
                Err("a `count` that reads more than one of the actor, the asset and the new owner")
            }
            CExpr::Count(_) => Err("a `count` that reads both the actor and the target"),
            CExpr::Path(_) | CExpr::Has(_) | CExpr::Const(_) => Ok(()),
            CExpr::Not(e) => self.split(e),
            CExpr::List(items) | CExpr::And(items) | CExpr::Or(items) => {
                items.iter().try_for_each(|e| self.split(e))
            }
            CExpr::Cmp(_, a, b) | CExpr::In(a, b) | CExpr::Contains(a, b) | CExpr::HasRole(a, b) => {
                self.split(a)?;
                self.split(b)
            }
        }
    }

    /// The expressions that read `side` alone.
    pub(super) fn of(&self, side: Side) -> impl Iterator<Item = &'p CExpr> + '_ {
        self.one.iter().filter(move |(s, _)| *s == side).map(|(_, e)| *e)
    }

    /// The comparisons of `a` and `b` (`a` < `b`): their operands, in that order.
    pub(super) fn keyed(&self, a: Side, b: Side) -> impl Iterator<Item = (&'p CExpr, &'p CExpr)> + '_ {
        self.keyed.iter().filter(move |(x, _, y, _)| (*x, *y) == (a, b)).map(|(_, e, _, f)| (*e, *f))
    }

    /// Whether nothing is read of any side.
    pub fn is_empty(&self) -> bool {
        self.one.is_empty() && self.keyed.is_empty()
    }

    /// Whether `other` holds the very same expressions, in the same order
    /// (one rule's condition read for two of its actions): over the same
    /// accounts they give the same classes, unless they read the request,
    /// whose action differs between the two ([`Atoms::reads_request`]).
    pub fn same_as(&self, other: &Atoms<'_>) -> bool {
        self.assets == other.assets
            && self.one.len() == other.one.len()
            && self.one.iter().zip(&other.one).all(|((s, a), (t, b))| s == t && std::ptr::eq(*a, *b))
            && self.keyed.len() == other.keyed.len()
            && self.keyed.iter().zip(&other.keyed).all(|((s, a, t, b), (u, c, v, d))| {
                s == u && t == v && std::ptr::eq(*a, *c) && std::ptr::eq(*b, *d)
            })
    }

    /// Whether an expression reads the request (`request.action`, a reason).
    pub fn reads_request(&self) -> bool {
        self.one
            .iter()
            .map(|(_, e)| *e)
            .chain(self.keyed.iter().flat_map(|(_, a, _, b)| [*a, *b]))
            .any(|e| reads_request(e, self.assets))
    }
}

/// Whether `expr` reads a path of the request (but the new owner of an
/// action on assets, a side of its own).
fn reads_request(expr: &CExpr, assets: bool) -> bool {
    match expr {
        CExpr::Path(access) | CExpr::Has(access) => {
            access.root == Root::Request && !(assets && access.fields.first() == Some(&Field::RequestTo))
        }
        CExpr::Const(_) => false,
        CExpr::List(items) | CExpr::And(items) | CExpr::Or(items) => {
            items.iter().any(|e| reads_request(e, assets))
        }
        CExpr::Not(e) => reads_request(e, assets),
        CExpr::Count(aggregate) => aggregate.condition.as_ref().is_some_and(|c| reads_request(c, assets)),
        CExpr::Cmp(_, a, b) | CExpr::In(a, b) | CExpr::Contains(a, b) | CExpr::HasRole(a, b) => {
            reads_request(a, assets) || reads_request(b, assets)
        }
    }
}

/// The accounts of one environment split into classes on each side, and
/// the exceptions of each block.
#[derive(Debug)]
pub struct Partition {
    /// Each class's accounts, by position in the accounts given, ascending.
    pub actors: Vec<Vec<u32>>,
    /// The same for targets.
    pub targets: Vec<Vec<u32>>,
    /// Each account's actor class, by position.
    actor_class: Vec<u32>,
    /// Each account's target class, by position.
    target_class: Vec<u32>,
    /// Pairs (actor, target) whose keys meet: decided one by one.
    exceptions: FxHashSet<(u32, u32)>,
    /// How many exceptions each block (actor class, target class) holds.
    per_block: FxHashMap<(u32, u32), u64>,
}

impl Partition {
    /// Splits `accounts`; `context(account)` is a context with the account
    /// on both sides, `extra(account)` what else of the target the decision
    /// reads (the built-in rules' inputs).
    pub fn build<'a>(
        accounts: &[&'a Account],
        atoms: &Atoms<'_>,
        context: &dyn Fn(&'a Account) -> Context<'a>,
        extra: &dyn Fn(&'a Account) -> String,
    ) -> Partition {
        let mut actor_ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut target_ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut actors: Vec<Vec<u32>> = Vec::new();
        let mut targets: Vec<Vec<u32>> = Vec::new();
        let mut actor_class = Vec::with_capacity(accounts.len());
        let mut target_class = Vec::with_capacity(accounts.len());
        // Per keyed comparison: each account's actor key, and the targets by key.
        let mut actor_keys: Vec<Vec<Option<String>>> =
            vec![Vec::with_capacity(accounts.len()); atoms.keyed.len()];
        let mut target_keys: Vec<FxHashMap<String, Vec<u32>>> = vec![FxHashMap::default(); atoms.keyed.len()];
        // Each account's observations of each side, and of each keyed
        // comparison's two sides.
        let mut seen: Vec<Seen> = Vec::with_capacity(accounts.len());
        for account in accounts {
            let ctx = context(account);
            let (mut actor_sig, mut target_sig) = (String::new(), extra(account));
            for expr in atoms.of(Side::Actor) {
                push(&mut actor_sig, ctx.observe(expr, false));
            }
            for expr in atoms.of(Side::Target) {
                push(&mut target_sig, ctx.observe(expr, false));
            }
            let keyed = atoms
                .keyed(Side::Actor, Side::Target)
                .map(|(a, t)| (ctx.observe(a, true), ctx.observe(t, true)))
                .collect();
            seen.push((actor_sig, target_sig, keyed));
        }
        // A comparison whose keys are few (home environments, kinds) splits
        // the classes by its keys: a join would single out most pairs.
        let joined: Vec<bool> = (0..atoms.keyed.len())
            .map(|k| {
                let mut keys: FxHashSet<&str> = FxHashSet::default();
                for (_, _, keyed) in &seen {
                    if let Some((a, t)) = keyed.get(k) {
                        for side in [a, t] {
                            if let Observed::Key(key) = side {
                                keys.insert(key);
                            }
                        }
                    }
                }
                keys.len() > INLINE_KEYS
            })
            .collect();
        for (at, (mut actor_sig, mut target_sig, keyed)) in (0u32..).zip(seen) {
            for (k, (actor_side, target_side)) in keyed.into_iter().enumerate() {
                if !joined.get(k).copied().unwrap_or_default() {
                    push(&mut actor_sig, actor_side);
                    push(&mut target_sig, target_side);
                    continue;
                }
                let key = match actor_side {
                    Observed::Key(key) => {
                        actor_sig.push_str("j\u{1f}");
                        Some(key)
                    }
                    plain => {
                        push(&mut actor_sig, plain);
                        None
                    }
                };
                if let Some(keys) = actor_keys.get_mut(k) {
                    keys.push(key);
                }
                match target_side {
                    Observed::Key(key) => {
                        target_sig.push_str("j\u{1f}");
                        if let Some(map) = target_keys.get_mut(k) {
                            map.entry(key).or_default().push(at);
                        }
                    }
                    plain => push(&mut target_sig, plain),
                }
            }
            actor_class.push(intern(&mut actor_ids, &mut actors, actor_sig, at));
            target_class.push(intern(&mut target_ids, &mut targets, target_sig, at));
        }
        let mut exceptions = FxHashSet::default();
        for (keys, by_key) in actor_keys.iter().zip(&target_keys) {
            for (actor, key) in (0u32..).zip(keys) {
                let Some(matching) = key.as_ref().and_then(|k| by_key.get(k)) else { continue };
                exceptions.extend(matching.iter().map(|&target| (actor, target)));
            }
        }
        let mut per_block: FxHashMap<(u32, u32), u64> = FxHashMap::default();
        for &(actor, target) in &exceptions {
            let block = (
                actor_class.get(actor as usize).copied().unwrap_or_default(),
                target_class.get(target as usize).copied().unwrap_or_default(),
            );
            *per_block.entry(block).or_default() += 1;
        }
        Partition { actors, targets, actor_class, target_class, exceptions, per_block }
    }

    /// The pairs of block (actor class, target class) decided together:
    /// its size without its exceptions, and a pair of it, if any is left.
    pub fn block(&self, actor_class: u32, target_class: u32) -> Option<(u64, (u32, u32))> {
        let actors = self.actors.get(actor_class as usize)?;
        let targets = self.targets.get(target_class as usize)?;
        let size = actors.len() as u64 * targets.len() as u64;
        let excepted = self.per_block.get(&(actor_class, target_class)).copied().unwrap_or_default();
        if size == excepted {
            return None;
        }
        // At most `excepted` pairs are skipped before one is found.
        let pair = actors
            .iter()
            .flat_map(|&a| targets.iter().map(move |&t| (a, t)))
            .find(|pair| !self.exceptions.contains(pair))?;
        Some((size - excepted, pair))
    }

    /// The pairs of a block, without its exceptions, in order.
    pub fn pairs(&self, actor_class: u32, target_class: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        let actors = self.actors.get(actor_class as usize).map(Vec::as_slice).unwrap_or_default();
        let targets = self.targets.get(target_class as usize).map(Vec::as_slice).unwrap_or_default();
        actors
            .iter()
            .flat_map(move |&a| targets.iter().map(move |&t| (a, t)))
            .filter(|pair| !self.exceptions.contains(pair))
    }

    /// The actor class of the account at `position`.
    pub fn actor_class(&self, position: u32) -> Option<u32> {
        self.actor_class.get(position as usize).copied()
    }

    /// The target class of the account at `position`.
    pub fn target_class(&self, position: u32) -> Option<u32> {
        self.target_class.get(position as usize).copied()
    }

    /// Every exception, in order of actor and target: an actor's
    /// exceptions are one run, which is what a count per actor (the
    /// access review) subtracts from the blocks it sums.
    pub fn exceptions(&self) -> Vec<(u32, u32)> {
        let mut pairs: Vec<(u32, u32)> = self.exceptions.iter().copied().collect();
        pairs.sort_unstable();
        pairs
    }
}

/// One account's actor and target signatures so far, and what it shows
/// each keyed comparison on each side.
type Seen = (String, String, Vec<(Observed, Observed)>);

/// Up to this many keys, a comparison of the two sides splits the classes
/// instead of being joined.
pub(super) const INLINE_KEYS: usize = 64;

/// The class of signature `sig` (a new one when no member had it yet),
/// with `at` added to its members.
pub(super) fn intern(
    ids: &mut FxHashMap<String, u32>,
    members: &mut Vec<Vec<u32>>,
    sig: String,
    at: u32,
) -> u32 {
    let next = u32::try_from(members.len()).unwrap_or(u32::MAX);
    let class = *ids.entry(sig).or_insert(next);
    if class == next {
        members.push(Vec::new());
    }
    if let Some(list) = members.get_mut(class as usize) {
        list.push(at);
    }
    class
}

/// Appends an observation, tagged so that a key never reads as a value.
pub(super) fn push(sig: &mut String, observed: Observed) {
    let (tag, text) = match &observed {
        Observed::Key(key) => ('k', key),
        Observed::Plain(text) => ('p', text),
    };
    sig.push(tag);
    sig.push_str(text);
    sig.push('\u{1f}');
}

/// A context with `account` on both sides, every entity borrowed: what the
/// classes read of each account, nothing looked up by id.
pub(super) fn on_both_sides<'a>(
    directory: &'a crate::Directory,
    request: &'a crate::policy::Request,
    now: jiff::Timestamp,
    account: &'a Account,
    environment: &'a crate::directory::model::Environment,
) -> Context<'a> {
    Context {
        entities: directory,
        request,
        now,
        actor: Some(Held::Borrowed(account)),
        target: Some(Held::Borrowed(account)),
        environment: Held::Borrowed(environment),
        asset: None,
        bound: None,
    }
}
