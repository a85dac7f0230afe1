//! Compact indexes for the in-memory directory. At a million accounts and
//! four million assets, an index that copies every id, or a `Vec` per user,
//! costs more memory than the entities it points into.

use std::hash::BuildHasher as _;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rustc_hash::FxBuildHasher;

/// Positions of entities by id. The table holds only positions; ids are
/// read from the entities themselves, so none is stored twice.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdIndex {
    table: HashTable<u32>,
}

impl IdIndex {
    /// Indexes `items` by `id`; of two items with one id, the last wins.
    pub(crate) fn build<T>(items: &[T], id: impl Fn(&T) -> &str) -> Self {
        let mut table = HashTable::with_capacity(items.len());
        let hash = |text: &str| FxBuildHasher.hash_one(text);
        let id_at = |position: u32| items.get(position as usize).map(&id);
        for (position, item) in items.iter().enumerate() {
            let Ok(position) = u32::try_from(position) else { break };
            let key = id(item);
            let same = |p: &u32| id_at(*p) == Some(key);
            // One probe per item: found, it is replaced; not found, the slot
            // the probe ended on takes it.
            match table.entry(hash(key), same, |p: &u32| hash(id_at(*p).unwrap_or_default())) {
                Entry::Occupied(mut existing) => *existing.get_mut() = position,
                Entry::Vacant(slot) => {
                    slot.insert(position);
                }
            }
        }
        IdIndex { table }
    }

    /// The position of the item whose `id` is `key`.
    pub(crate) fn get<T>(&self, items: &[T], id: impl Fn(&T) -> &str, key: &str) -> Option<usize> {
        let found = self.table.find(FxBuildHasher.hash_one(key), |&p| {
            items.get(p as usize).is_some_and(|item| id(item) == key)
        });
        found.map(|&p| p as usize)
    }
}

/// Where the store believes the links of a loaded directory point, as
/// positions (migration 5's row hints). A hint is checked against the ids
/// before it is used: a stale or missing one ([`NO_HINT`]) costs a lookup by
/// id, never a wrong answer. A directory not loaded from a store has none.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hints {
    /// Per asset: the position of its owner's account.
    pub(crate) asset_owner: Vec<u32>,
    /// Per asset: the position of the space it sits in.
    pub(crate) asset_space: Vec<u32>,
    /// Per reference: the position of the account it refers to.
    pub(crate) reference_account: Vec<u32>,
}

/// No hint.
pub(crate) const NO_HINT: u32 = u32::MAX;

impl Hints {
    /// The hinted position at `i` of `list`, if any.
    pub(crate) fn at(list: &[u32], i: usize) -> Option<usize> {
        list.get(i).filter(|&&p| p != NO_HINT).map(|&p| p as usize)
    }
}

/// The group of an item that is in none.
pub(crate) const NO_GROUP: u32 = u32::MAX;

/// Members of numbered groups (the accounts of each user, of each
/// environment), stored flat: one offset per group and one list of members.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    /// `members[starts[g]..starts[g + 1]]` are the members of group `g`.
    starts: Vec<u32>,
    members: Vec<u32>,
}

impl Groups {
    /// `group_of[i]` is the group item `i` is in; items in no group (or in
    /// one past `groups`) are left out. The group of each item is looked up
    /// once, by the caller, though it is read twice here.
    pub(crate) fn build(groups: usize, group_of: &[u32]) -> Self {
        let mut starts = vec![0u32; groups + 1];
        for &group in group_of {
            if let Some(count) = (group as usize).checked_add(1).and_then(|g| starts.get_mut(g)) {
                *count += 1;
            }
        }
        for g in 1..starts.len() {
            let before = starts.get(g - 1).copied().unwrap_or(0);
            if let Some(start) = starts.get_mut(g) {
                *start += before;
            }
        }
        let mut members = vec![0u32; starts.last().copied().unwrap_or(0) as usize];
        let mut next = starts.clone();
        next.pop();
        for (item, &group) in group_of.iter().enumerate() {
            let Some(slot) = next.get_mut(group as usize) else { continue };
            if let (Some(place), Ok(item)) = (members.get_mut(*slot as usize), u32::try_from(item)) {
                *place = item;
            }
            *slot += 1;
        }
        Groups { starts, members }
    }

    /// The members of `group`, in item order.
    pub(crate) fn of(&self, group: usize) -> &[u32] {
        let (Some(&start), Some(&end)) = (self.starts.get(group), self.starts.get(group + 1)) else {
            return &[];
        };
        self.members.get(start as usize..end as usize).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_without_being_copied_and_the_last_duplicate_wins() {
        let items = ["a", "b", "c", "b"];
        let index = IdIndex::build(&items, |s| s);
        assert_eq!(index.get(&items, |s| s, "a"), Some(0));
        assert_eq!(index.get(&items, |s| s, "b"), Some(3));
        assert_eq!(index.get(&items, |s| s, "z"), None);
    }

    #[test]
    fn groups_keep_item_order_and_skip_the_ungrouped() {
        let group_of = [1, NO_GROUP, 0, 1, 7];
        let groups = Groups::build(2, &group_of);
        assert_eq!(groups.of(0), [2]);
        assert_eq!(groups.of(1), [0, 3]);
        assert_eq!(groups.of(2), [] as [u32; 0]);
    }
}
