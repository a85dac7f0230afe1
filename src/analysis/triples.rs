//! The requests of an action on assets (`reassign`), decided once per
//! block of classes on three sides.
//!
//! A request of an action on assets has three sides: the actor's account,
//! the asset and the new owner's account (`request.to`). As `classes.rs`
//! splits accounts, the accounts split into actor classes and owner
//! classes, and the assets into asset classes, by what the rules read of
//! each side alone (and what the built-in rules read). Comparisons of two
//! sides (`request.to.user == actor.user`, `asset.owner == actor`) with few
//! values split the classes; with many they are joined on their keys, and
//! the pairs of two sides whose keys meet are singled out. A triple is then
//! decided with its block: the triple of classes, when none of its three
//! pairs is singled out; the pair and the third side's class, when one is
//! (the third side is then seen only through its class); alone, when two
//! or three are.

use rustc_hash::{FxHashMap, FxHashSet};

use super::classes::{Atoms, INLINE_KEYS, Side, intern, on_both_sides, push};
use crate::directory::model::{Account, Asset, Environment};
use crate::policy::Request;
use crate::policy::eval::{Context, Held, Observed};

/// One environment's sides of an action on assets: its accounts (actors
/// and new owners) and its assets, each in a stable order, and the clock.
#[derive(Clone, Copy)]
pub struct Parties<'a> {
    /// The directory they are read in.
    pub directory: &'a crate::Directory,
    /// The environment.
    pub environment: &'a Environment,
    /// Its accounts.
    pub accounts: &'a [&'a Account],
    /// Its assets.
    pub assets: &'a [&'a Asset],
    /// The clock the requests are decided at.
    pub now: jiff::Timestamp,
}

/// A set of triples decided together: (actor, asset, owner) are positions
/// in the accounts, the assets and the accounts given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// An actor class, an asset class and an owner class, without the
    /// triples a pair of them singles out.
    Block(u32, u32, u32),
    /// An actor and an owner singled out, with an asset class.
    ActorOwner(u32, u32, u32),
    /// An actor and an asset singled out, with an owner class.
    ActorAsset(u32, u32, u32),
    /// An asset and an owner singled out, with an actor class.
    AssetOwner(u32, u32, u32),
    /// One triple, two of whose pairs are singled out.
    One(u32, u32, u32),
}

/// The classes of the three sides, the pairs singled out, and the units of
/// triples decided once.
#[derive(Debug)]
pub struct Triples {
    /// Per side (actor, asset, owner), each class's members, ascending.
    classes: [Vec<Vec<u32>>; 3],
    /// Per side, each member's class.
    class_of: [Vec<u32>; 3],
    /// Pairs singled out by a join: (actor, asset), (actor, owner), (asset, owner).
    singled: [FxHashSet<(u32, u32)>; 3],
    /// Triples with two or three pairs singled out.
    ones: FxHashSet<(u32, u32, u32)>,
    /// Every unit with a triple left, its size and one of its triples.
    units: Vec<(Unit, u64, (u32, u32, u32))>,
}

/// What one side's member shows: its signature so far, and per comparison
/// of that side with another, what it shows the comparison.
type Seen = (String, Vec<Observed>);

/// The sides in their order here: actor, asset, owner.
const SIDES: [Side; 3] = [Side::Actor, Side::Asset, Side::Owner];

/// The pairs of sides, in the order of [`Triples::singled`].
const PAIRS: [(usize, usize); 3] = [(0, 1), (0, 2), (1, 2)];

impl Triples {
    /// The triples of one environment's requests of an action on assets:
    /// `request(actor, asset, to)` is a request of it as the rules read
    /// it (the shape is one no rule tells apart from the others),
    /// `builtins(request)` what the built-in rules answer to it.
    pub fn of_action(
        parties: &Parties<'_>,
        atoms: &Atoms<'_>,
        request: &dyn Fn(&str, &str, Option<&str>) -> Request,
        builtins: &dyn Fn(&Request) -> String,
    ) -> Triples {
        let Parties { directory, environment, accounts, assets, now } = *parties;
        // Each account as the new owner too: `request.to` is its own.
        let probes: Vec<Request> =
            accounts.iter().map(|account| request(&account.user, "", Some(&account.user))).collect();
        let probe = request("", "", None);
        let context = |account, probe| on_both_sides(directory, probe, now, account, environment);
        // No target, as in the requests decided.
        let account = |i: usize| Some(Context { target: None, ..context(accounts.get(i)?, probes.get(i)?) });
        let asset = |j: usize| {
            Some(Context {
                asset: Some(Held::Borrowed(*assets.get(j)?)),
                actor: None,
                target: None,
                ..context(accounts.first()?, &probe)
            })
        };
        // The built-in rules' answer, one side varied at a time (they read
        // one side each).
        let (first, first_asset) = (accounts.first(), assets.first());
        let extra = |side: Side, i: usize| -> String {
            let (actor, asset, to) = match side {
                Side::Asset => (first, assets.get(i), first),
                _ => (accounts.get(i), first_asset, accounts.get(i)),
            };
            let (Some(actor), Some(asset), Some(to)) = (actor, asset, to) else {
                return String::new();
            };
            builtins(&request(&actor.user, &asset.id, Some(&to.user)))
        };
        Triples::build(accounts, assets, atoms, &account, &asset, &extra)
    }

    /// Splits `accounts` (as actors and as new owners) and `assets`:
    /// `account(i)` is a context with account `i` as the actor and the new
    /// owner, `asset(j)` one with asset `j`; `extra` what else of a side
    /// the decision reads (the built-in rules' inputs), per side.
    pub fn build<'a>(
        accounts: &[&'a Account],
        assets: &[&'a Asset],
        atoms: &Atoms<'_>,
        account: &dyn Fn(usize) -> Option<Context<'a>>,
        asset: &dyn Fn(usize) -> Option<Context<'a>>,
        extra: &dyn Fn(Side, usize) -> String,
    ) -> Triples {
        let sizes = [accounts.len(), assets.len(), accounts.len()];
        // The comparisons of two sides, each with the pair it compares.
        let keyed: Vec<(usize, _, _)> = PAIRS
            .iter()
            .enumerate()
            .flat_map(|(p, &(x, y))| {
                let (sx, sy) = (side(x), side(y));
                atoms.keyed(sx, sy).map(move |(a, b)| (p, a, b))
            })
            .collect();
        let mut seen: [Vec<Seen>; 3] = Default::default();
        for (s, seen) in seen.iter_mut().enumerate() {
            let context = |i: usize| if s == 1 { asset(i) } else { account(i) };
            for i in 0..sizes.get(s).copied().unwrap_or_default() {
                let mut sig = extra(side(s), i);
                let Some(ctx) = context(i) else {
                    seen.push((sig, Vec::new()));
                    continue;
                };
                for expr in atoms.of(side(s)) {
                    push(&mut sig, ctx.observe(expr, false));
                }
                // This side's operand of each comparison that reads it.
                let observed = keyed
                    .iter()
                    .filter_map(|&(p, a, b)| {
                        let (x, y) = PAIRS.get(p).copied()?;
                        (x == s).then_some(a).or((y == s).then_some(b)).map(|e| ctx.observe(e, true))
                    })
                    .collect();
                seen.push((sig, observed));
            }
        }
        // The position of comparison `k` in the observations of side `s`.
        let slot = |s: usize, k: usize| {
            keyed
                .iter()
                .take(k)
                .filter(|(p, _, _)| PAIRS.get(*p).is_some_and(|&(x, y)| x == s || y == s))
                .count()
        };
        let mut singled: [FxHashSet<(u32, u32)>; 3] = Default::default();
        for (k, &(p, _, _)) in keyed.iter().enumerate() {
            let Some((x, y)) = PAIRS.get(p).copied() else { continue };
            let (at_x, at_y) = (slot(x, k), slot(y, k));
            let key = |s: usize, at: usize, i: usize| match seen.get(s)?.get(i)?.1.get(at)? {
                Observed::Key(key) => Some(key.clone()),
                Observed::Plain(_) => None,
            };
            // Per key, how many members of each side show it.
            let mut keys: FxHashMap<String, (u64, u64)> = FxHashMap::default();
            for (s, at) in [(x, at_x), (y, at_y)] {
                for i in 0..sizes.get(s).copied().unwrap_or_default() {
                    if let Some(k) = key(s, at, i) {
                        let counts = keys.entry(k).or_default();
                        if s == x { counts.0 += 1 } else { counts.1 += 1 }
                    }
                }
            }
            // Joined when the pairs it singles out are few (yourself, an
            // asset's owner): a split would multiply two sides' classes by
            // the keys, and so the blocks of three. Split when the keys are
            // few and each meets many (home environments), as two sides do.
            let met: u64 = keys.values().map(|(a, b)| a * b).sum();
            let members =
                sizes.get(x).copied().unwrap_or_default() + sizes.get(y).copied().unwrap_or_default();
            let joined = keys.len() > INLINE_KEYS || met <= members as u64;
            // The members of `y` by key, to join `x`'s on.
            let mut by_key: FxHashMap<String, Vec<u32>> = FxHashMap::default();
            for (s, at) in [(y, at_y), (x, at_x)] {
                let Some(members) = seen.get_mut(s) else { continue };
                for (i, (sig, observed)) in (0u32..).zip(members.iter_mut()) {
                    let Some(o) = observed.get(at) else { continue };
                    match o {
                        Observed::Key(key) if joined => {
                            sig.push_str("j\u{1f}");
                            if s == y {
                                by_key.entry(key.clone()).or_default().push(i);
                            } else if let Some(matching) = by_key.get(key) {
                                singled.get_mut(p).into_iter().for_each(|set| {
                                    set.extend(matching.iter().map(|&j| (i, j)));
                                });
                            }
                        }
                        other => push(sig, other.clone()),
                    }
                }
            }
        }
        let mut classes: [Vec<Vec<u32>>; 3] = Default::default();
        let mut class_of: [Vec<u32>; 3] = Default::default();
        for (s, members) in seen.into_iter().enumerate() {
            let mut ids: FxHashMap<String, u32> = FxHashMap::default();
            let (Some(list), Some(of)) = (classes.get_mut(s), class_of.get_mut(s)) else { continue };
            for (i, (sig, _)) in (0u32..).zip(members) {
                of.push(intern(&mut ids, list, sig, i));
            }
        }
        let mut triples =
            Triples { classes, class_of, singled, ones: FxHashSet::default(), units: Vec::new() };
        triples.units();
        triples
    }

    /// The units with a triple left, in a stable order: the blocks of
    /// classes, then the pairs singled out with a class, then the triples
    /// alone; each with its size and a triple of it.
    pub fn each(&self) -> &[(Unit, u64, (u32, u32, u32))] {
        &self.units
    }

    /// The triples of a unit, in order of actor, asset and owner.
    pub fn triples(&self, unit: Unit) -> Box<dyn Iterator<Item = (u32, u32, u32)> + '_> {
        let members = |s: usize, c: u32| self.members(s, c).iter().copied();
        match unit {
            Unit::Block(ca, cs, co) => Box::new(members(0, ca).flat_map(move |a| {
                members(1, cs)
                    .filter(move |&s| !self.is(0, a, s))
                    .flat_map(move |s| members(2, co).map(move |o| (a, s, o)))
                    .filter(move |&(a, s, o)| !self.is(1, a, o) && !self.is(2, s, o))
            })),
            Unit::ActorOwner(a, o, cs) => {
                Box::new(members(1, cs).map(move |s| (a, s, o)).filter(move |t| !self.ones.contains(t)))
            }
            Unit::ActorAsset(a, s, co) => {
                Box::new(members(2, co).map(move |o| (a, s, o)).filter(move |t| !self.ones.contains(t)))
            }
            Unit::AssetOwner(s, o, ca) => {
                Box::new(members(0, ca).map(move |a| (a, s, o)).filter(move |t| !self.ones.contains(t)))
            }
            Unit::One(a, s, o) => Box::new(std::iter::once((a, s, o))),
        }
    }

    /// Per actor, in order: over how many assets some allowed triple of
    /// theirs gives a new owner, and the rule lists of the units that
    /// allow one. `allowed` is, per unit of [`Triples::each`] in order, its
    /// rule list when it allows. Exact without walking the triples: a block
    /// allows an actor its asset class but the assets their pairs single
    /// out, and those the block leaves no owner for (every owner of its
    /// class singled out with the actor or the asset); a unit singled out
    /// allows its asset, or its class less what is singled out again.
    pub fn reach(&self, allowed: &[Option<u32>]) -> Vec<(u64, Vec<u32>)> {
        let actors = self.class_of.first().map_or(0, Vec::len);
        let [singled_as, singled_ao, singled_so] = &self.singled;
        // What each member has singled out: an actor its assets and its
        // owners, an owner the assets it is singled out with.
        let mut assets_of: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut owners_of: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut owned: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut per_asset: FxHashMap<u32, usize> = FxHashMap::default();
        for &(a, s) in singled_as {
            assets_of.entry(a).or_default().push(s);
        }
        for &(a, o) in singled_ao {
            owners_of.entry(a).or_default().push(o);
        }
        for &(s, o) in singled_so {
            owned.entry(o).or_default().push(s);
            *per_asset.entry(s).or_default() += 1;
        }
        // The most owners one asset is singled out with.
        let most = per_asset.values().copied().max().unwrap_or_default();
        // The allowed units, by what they belong to.
        let mut blocks: FxHashMap<u32, Vec<(u32, u32, u32)>> = FxHashMap::default();
        let mut to_owner: FxHashMap<u32, Vec<(u32, u32, u32)>> = FxHashMap::default();
        let mut own: FxHashMap<u32, Vec<(u32, u32)>> = FxHashMap::default();
        // Per actor class: each asset an (asset, owner) unit allows, with
        // the owners and rules; per asset class how many; every rule's units.
        let mut by_asset: FxHashMap<u32, Pairwise> = FxHashMap::default();
        for (&(unit, _, _), id) in self.units.iter().zip(allowed) {
            let Some(id) = *id else { continue };
            match unit {
                Unit::Block(ca, cs, co) => blocks.entry(ca).or_default().push((cs, co, id)),
                Unit::ActorOwner(a, o, cs) => to_owner.entry(a).or_default().push((o, cs, id)),
                Unit::ActorAsset(a, s, _) | Unit::One(a, s, _) => own.entry(a).or_default().push((s, id)),
                Unit::AssetOwner(s, o, ca) => {
                    let pairwise = by_asset.entry(ca).or_default();
                    let owners = pairwise.owners.entry(s).or_default();
                    if owners.is_empty() {
                        *pairwise.per_class.entry(self.class(1, s)).or_default() += 1;
                    }
                    owners.push((o, id));
                    *pairwise.units_of.entry(id).or_default() += 1;
                }
            }
        }
        let (none, no_units): (Vec<u32>, Vec<(u32, u32, u32)>) = (Vec::new(), Vec::new());
        let nothing = Pairwise::default();
        let mut reach = Vec::with_capacity(actors);
        for a in 0..actors as u32 {
            let ca = self.class(0, a);
            let (blocks, to_owner, own) = (
                blocks.get(&ca).unwrap_or(&no_units),
                to_owner.get(&a).unwrap_or(&no_units),
                own.get(&a).map(Vec::as_slice).unwrap_or_default(),
            );
            let pairwise = by_asset.get(&ca).unwrap_or(&nothing);
            if blocks.is_empty() && to_owner.is_empty() && own.is_empty() && pairwise.owners.is_empty() {
                reach.push((0, Vec::new()));
                continue;
            }
            let (mine, owners) = (assets_of.get(&a).unwrap_or(&none), owners_of.get(&a).unwrap_or(&none));
            let mine_in = |cs: u32| mine.iter().copied().filter(move |&s| self.class(1, s) == cs);
            // Per asset class allowed whole: the assets it is allowed but
            // (sorted), the intersection of what each unit leaves out.
            let mut whole: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
            let mut rules = Vec::new();
            let mut allow = |cs: u32, mut but: Vec<u32>, id: u32| {
                but.sort_unstable();
                but.dedup();
                if self.members(1, cs).len() <= but.len() {
                    return;
                }
                rules.push(id);
                match whole.get_mut(&cs) {
                    Some(left) => left.retain(|s| but.binary_search(s).is_ok()),
                    None => {
                        whole.insert(cs, but);
                    }
                }
            };
            for &(cs, co, id) in blocks {
                let class = self.members(2, co);
                // The owners of the class left to this actor; an asset is
                // left none when it is singled out with all of them.
                let without: Vec<u32> = match class.len() > owners.len() + most {
                    true => Vec::new(),
                    false => {
                        let left: Vec<u32> = class.iter().copied().filter(|o| !owners.contains(o)).collect();
                        let Some((&first, rest)) = left.split_first() else { continue };
                        match left.len() > most {
                            true => Vec::new(),
                            false => owned
                                .get(&first)
                                .unwrap_or(&none)
                                .iter()
                                .copied()
                                .filter(|&s| self.class(1, s) == cs && rest.iter().all(|&o| self.is(2, s, o)))
                                .collect(),
                        }
                    }
                };
                allow(cs, mine_in(cs).chain(without).collect(), id);
            }
            for &(o, cs, id) in to_owner {
                let with_owner =
                    owned.get(&o).unwrap_or(&none).iter().copied().filter(|&s| self.class(1, s) == cs);
                allow(cs, mine_in(cs).chain(with_owner).collect(), id);
            }
            // Whether an asset is in a class allowed whole, and not left out.
            let covered =
                |s: u32| whole.get(&self.class(1, s)).is_some_and(|but| but.binary_search(&s).is_err());
            let mut count: u64 = whole
                .iter()
                .map(|(&cs, but)| self.members(1, cs).len().saturating_sub(but.len()) as u64)
                .sum();
            // The assets an (asset, owner) unit allows, but those of the
            // units that are this actor's triples alone (singled out with
            // the asset or the owner too).
            let mut gone: FxHashMap<u32, u64> = FxHashMap::default();
            let mut dropped: FxHashSet<u32> = FxHashSet::default();
            let pairs_gone = |s: u32, gone: &mut FxHashMap<u32, u64>| -> bool {
                let mut all = true;
                for &(o, id) in pairwise.owners.get(&s).map(Vec::as_slice).unwrap_or_default() {
                    if mine.contains(&s) || owners.contains(&o) {
                        *gone.entry(id).or_default() += 1;
                    } else {
                        all = false;
                    }
                }
                all
            };
            let mut touched: Vec<u32> = mine.clone();
            for o in owners {
                touched.extend(owned.get(o).unwrap_or(&none).iter().copied());
            }
            touched.sort_unstable();
            touched.dedup();
            for &s in &touched {
                if pairwise.owners.contains_key(&s) && pairs_gone(s, &mut gone) {
                    dropped.insert(s);
                }
            }
            let total: u64 = pairwise.owners.len() as u64;
            let in_whole: u64 =
                whole.keys().map(|cs| pairwise.per_class.get(cs).copied().unwrap_or_default()).sum();
            let left_out: u64 =
                whole.values().flatten().filter(|s| pairwise.owners.contains_key(s)).count() as u64;
            let lost = dropped.iter().filter(|&&s| !covered(s)).count() as u64;
            // The assets they allow outside what the classes allowed whole cover.
            count += (total + left_out).saturating_sub(in_whole + lost);
            rules.extend(
                pairwise
                    .units_of
                    .iter()
                    .filter(|(id, n)| **n > gone.get(id).copied().unwrap_or_default())
                    .map(|(id, _)| *id),
            );
            // The assets this actor's own units allow, counted once.
            let mut seen: FxHashSet<u32> = FxHashSet::default();
            for &(s, id) in own {
                rules.push(id);
                let by_pairs = pairwise.owners.contains_key(&s) && !dropped.contains(&s);
                if !covered(s) && !by_pairs && seen.insert(s) {
                    count += 1;
                }
            }
            rules.sort_unstable();
            rules.dedup();
            reach.push((count, rules));
        }
        reach
    }

    fn members(&self, side: usize, class: u32) -> &[u32] {
        self.classes.get(side).and_then(|c| c.get(class as usize)).map(Vec::as_slice).unwrap_or_default()
    }

    fn class(&self, side: usize, member: u32) -> u32 {
        self.class_of.get(side).and_then(|c| c.get(member as usize)).copied().unwrap_or_default()
    }

    /// Whether the pair of sides `p` ([`PAIRS`]) singles out (`x`, `y`).
    fn is(&self, p: usize, x: u32, y: u32) -> bool {
        self.singled.get(p).is_some_and(|set| set.contains(&(x, y)))
    }

    /// Finds the triples alone, then sizes every unit.
    fn units(&mut self) {
        let [singled_as, singled_ao, singled_so] = &self.singled;
        // The assets an actor's pairs single out; the owners an asset's
        // pairs do, and the assets an owner's do.
        let mut first_as: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut first_so: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut second_so: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for &(a, s) in singled_as {
            first_as.entry(a).or_default().push(s);
        }
        for &(s, o) in singled_so {
            first_so.entry(s).or_default().push(o);
            second_so.entry(o).or_default().push(s);
        }
        let none = Vec::new();
        // Two pairs singled out: one is (actor, asset) or (actor, owner).
        let mut ones = FxHashSet::default();
        for &(a, o) in singled_ao {
            for &s in first_as.get(&a).unwrap_or(&none).iter().chain(second_so.get(&o).unwrap_or(&none)) {
                ones.insert((a, s, o));
            }
        }
        for &(a, s) in singled_as {
            for &o in first_so.get(&s).unwrap_or(&none) {
                ones.insert((a, s, o));
            }
        }
        // Per unit of one pair singled out, and per block, how many
        // triples alone fall in it (for a block: counted once per pair
        // singled out more than one).
        let mut in_pair: FxHashMap<(usize, u32, u32, u32), u64> = FxHashMap::default();
        let mut in_block: FxHashMap<(u32, u32, u32), u64> = FxHashMap::default();
        let mut alone: Vec<(u32, u32, u32)> = ones.iter().copied().collect();
        alone.sort_unstable();
        self.ones = ones;
        for &(a, s, o) in &alone {
            let (ca, cs, co) = (self.class(0, a), self.class(1, s), self.class(2, o));
            let pairs = [self.is(0, a, s), self.is(1, a, o), self.is(2, s, o)];
            let keys = [(0, a, s, co), (1, a, o, cs), (2, s, o, ca)];
            for (_, key) in pairs.iter().zip(keys).filter(|(on, _)| **on) {
                *in_pair.entry(key).or_default() += 1;
            }
            let count = pairs.iter().filter(|on| **on).count() as u64;
            *in_block.entry((ca, cs, co)).or_default() += count.saturating_sub(1);
        }
        // Pairs singled out per pair of classes.
        let mut per_classes: [FxHashMap<(u32, u32), u64>; 3] = Default::default();
        for (p, set) in self.singled.iter().enumerate() {
            let Some(&(x, y)) = PAIRS.get(p) else { continue };
            for &(i, j) in set {
                let key = (self.class(x, i), self.class(y, j));
                per_classes.get_mut(p).into_iter().for_each(|m| *m.entry(key).or_default() += 1);
            }
        }
        let count = |p: usize, key: (u32, u32)| per_classes.get(p).and_then(|m| m.get(&key)).copied();
        let size = |s: usize, c: u32| self.members(s, c).len() as u64;
        let [na, ns, no] = [0, 1, 2].map(|s| self.classes.get(s).map_or(0, |c| c.len() as u32));
        let mut units = Vec::new();
        for ca in 0..na {
            for cs in 0..ns {
                for co in 0..no {
                    let all = size(0, ca) * size(1, cs) * size(2, co);
                    let singled = count(0, (ca, cs)).unwrap_or_default() * size(2, co)
                        + count(1, (ca, co)).unwrap_or_default() * size(1, cs)
                        + count(2, (cs, co)).unwrap_or_default() * size(0, ca);
                    let twice = in_block.get(&(ca, cs, co)).copied().unwrap_or_default();
                    let left = all.saturating_sub(singled.saturating_sub(twice));
                    let unit = Unit::Block(ca, cs, co);
                    if left > 0
                        && let Some(triple) = self.triples(unit).next()
                    {
                        units.push((unit, left, triple));
                    }
                }
            }
        }
        let mut pairs: Vec<(usize, u32, u32)> = self
            .singled
            .iter()
            .enumerate()
            .flat_map(|(p, set)| set.iter().map(move |&(x, y)| (p, x, y)))
            .collect();
        pairs.sort_unstable();
        for (p, x, y) in pairs {
            // The side the unit takes a class of.
            let third = match p {
                0 => 2,
                1 => 1,
                _ => 0,
            };
            let n = self.classes.get(third).map_or(0, |c| c.len() as u32);
            for c in 0..n {
                let unit = match p {
                    0 => Unit::ActorAsset(x, y, c),
                    1 => Unit::ActorOwner(x, y, c),
                    _ => Unit::AssetOwner(x, y, c),
                };
                let left =
                    size(third, c).saturating_sub(in_pair.get(&(p, x, y, c)).copied().unwrap_or_default());
                if left > 0
                    && let Some(triple) = self.triples(unit).next()
                {
                    units.push((unit, left, triple));
                }
            }
        }
        units.extend(alone.iter().map(|&(a, s, o)| (Unit::One(a, s, o), 1, (a, s, o))));
        self.units = units;
    }
}

/// Of one actor class, the (asset, owner) units that allow.
#[derive(Default)]
struct Pairwise {
    /// Each asset they allow, with its owners and rule lists.
    owners: FxHashMap<u32, Vec<(u32, u32)>>,
    /// How many of those assets each asset class has.
    per_class: FxHashMap<u32, u64>,
    /// How many units each rule list allows.
    units_of: FxHashMap<u32, u64>,
}

/// The side at position `s` of [`SIDES`].
fn side(s: usize) -> Side {
    SIDES.get(s).copied().unwrap_or(Side::Actor)
}
