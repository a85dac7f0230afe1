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

use super::classes::{Atoms, INLINE_KEYS, Side, intern, push};
use crate::directory::model::{Account, Asset};
use crate::policy::eval::{Context, Observed};

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

/// The side at position `s` of [`SIDES`].
fn side(s: usize) -> Side {
    SIDES.get(s).copied().unwrap_or(Side::Actor)
}
