//! The directory held in memory, indexed for the lookups decisions make.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::RwLock;

// Ids come from the administrators' own directory, not from an adversary,
// and every decision looks several of them up: a fast hash pays.
use rustc_hash::FxHashMap as HashMap;

use super::entities::{Entities, Lookup, LookupError};
use super::index::{Groups, Hints, IdIndex, NO_GROUP};
use super::model::{Account, Asset, Environment, Reference, User};

/// All entities of a directory, with indexes by id.
///
/// `Directory` does not validate: the loaders (YAML, SQLite) do, and only
/// hand over consistent data. Entities that point at ids that do not exist
/// are kept but simply not found through the indexes.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    environments: Vec<Environment>,
    users: Vec<User>,
    accounts: Vec<Account>,
    assets: Vec<Asset>,
    references: Vec<Reference>,
    env_index: IdIndex,
    user_index: IdIndex,
    asset_index: IdIndex,
    /// Per account (same order as `accounts`): the position of its user in
    /// `users`, [`NO_GROUP`] when it has none (the graph's identity edges).
    users_of_accounts: Vec<u32>,
    /// Per user (same order as `users`): positions in `accounts`.
    accounts_by_user: Groups,
    /// Per environment (same order as `environments`): positions in `accounts`.
    accounts_by_env: Groups,
    /// Where a loaded directory's links point, as the store believes.
    hints: Hints,
    /// Counts remembered for decisions ([`Entities::remember_count`]): the
    /// directory never changes, so a count per condition and environment
    /// stays true.
    counts: CountMemo,
}

/// Counts per (condition key, environment index). A clone starts empty, so
/// a copy never shares the lock of the original.
#[derive(Default)]
struct CountMemo(RwLock<HashMap<(u64, usize), i64>>);

impl Clone for CountMemo {
    fn clone(&self) -> Self {
        CountMemo::default()
    }
}

impl std::fmt::Debug for CountMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let remembered = self.0.read().map(|m| m.len()).unwrap_or(0);
        write!(f, "CountMemo({remembered} remembered)")
    }
}

/// The indexes of environments, users and their accounts.
#[derive(Debug)]
pub(crate) struct AccountIndexes {
    env_index: IdIndex,
    user_index: IdIndex,
    users_of_accounts: Vec<u32>,
    accounts_by_user: Groups,
    accounts_by_env: Groups,
}

impl AccountIndexes {
    /// Indexes `accounts` by user and by environment, and sorts their
    /// roles so that [`Account::has_role`] can binary-search them.
    pub(crate) fn build(environments: &[Environment], users: &[User], accounts: &mut [Account]) -> Self {
        for account in accounts.iter_mut() {
            account.roles.sort_unstable();
            account.roles.dedup();
        }
        let env_index = IdIndex::build(environments, env_id);
        let user_index = IdIndex::build(users, user_id);
        let position = |found: Option<usize>| found.and_then(|i| u32::try_from(i).ok()).unwrap_or(NO_GROUP);
        let users_of_accounts: Vec<u32> =
            accounts.iter().map(|a| position(user_index.get(users, user_id, &a.user))).collect();
        let envs_of_accounts: Vec<u32> =
            accounts.iter().map(|a| position(env_index.get(environments, env_id, &a.env))).collect();
        AccountIndexes {
            accounts_by_user: Groups::build(users.len(), &users_of_accounts),
            accounts_by_env: Groups::build(environments.len(), &envs_of_accounts),
            env_index,
            user_index,
            users_of_accounts,
        }
    }
}

/// The parts a [`Directory`] is built from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectoryParts {
    /// Environments, in file order.
    pub environments: Vec<Environment>,
    /// Users, in file order.
    pub users: Vec<User>,
    /// Accounts, in file order.
    pub accounts: Vec<Account>,
    /// Assets, in file order.
    pub assets: Vec<Asset>,
    /// References, in file order.
    pub references: Vec<Reference>,
}

impl Directory {
    /// Builds the indexes over `parts`. Roles are sorted so that
    /// [`Account::has_role`] can binary-search them.
    pub fn new(mut parts: DirectoryParts) -> Self {
        let asset_index = IdIndex::build(&parts.assets, asset_id);
        let accounts = AccountIndexes::build(&parts.environments, &parts.users, &mut parts.accounts);
        Self::assemble(parts, accounts, asset_index, Hints::default())
    }

    /// A directory of `parts` with its indexes built already (the store
    /// builds them on several cores while it reads) and the store's row hints.
    pub(crate) fn assemble(
        parts: DirectoryParts,
        accounts: AccountIndexes,
        asset_index: IdIndex,
        hints: Hints,
    ) -> Self {
        let DirectoryParts { environments, users, accounts: account_list, assets, references } = parts;
        let AccountIndexes { env_index, user_index, users_of_accounts, accounts_by_user, accounts_by_env } =
            accounts;
        Directory {
            environments,
            users,
            accounts: account_list,
            assets,
            references,
            env_index,
            user_index,
            asset_index,
            users_of_accounts,
            accounts_by_user,
            accounts_by_env,
            hints,
            counts: CountMemo::default(),
        }
    }

    /// Gives the parts back, for example to store them.
    pub fn into_parts(self) -> DirectoryParts {
        DirectoryParts {
            environments: self.environments,
            users: self.users,
            accounts: self.accounts,
            assets: self.assets,
            references: self.references,
        }
    }

    /// Every environment, in load order.
    pub fn environments(&self) -> &[Environment] {
        &self.environments
    }

    /// Every user, in load order.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// Every account, in load order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// Every asset, in load order.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// Every reference, in load order.
    pub fn references(&self) -> &[Reference] {
        &self.references
    }

    /// The environment with this id.
    pub fn environment(&self, id: &str) -> Option<&Environment> {
        self.env_position(id).and_then(|i| self.environments.get(i))
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.user_index(id).and_then(|i| self.users.get(i))
    }

    /// The asset with this id.
    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.asset_index(id).and_then(|i| self.assets.get(i))
    }

    /// The account of `user` in `env`. A user has a handful of accounts, so
    /// a scan of theirs beats a map keyed by two strings.
    pub fn account(&self, user: &str, env: &str) -> Option<&Account> {
        self.account_index(user, env).and_then(|i| self.accounts.get(i))
    }

    /// The position in [`accounts`](Self::accounts) of the account of `user` in `env`.
    pub fn account_index(&self, user: &str, env: &str) -> Option<usize> {
        let list = self.accounts_by_user.of(self.user_index(user)?);
        list.iter().map(|&i| i as usize).find(|&i| self.accounts.get(i).is_some_and(|a| a.env == env))
    }

    /// The account of `user` in `env`, to change where it lies
    /// ([`Directory::mutate_in_place`]); the counts remembered are forgotten.
    /// The entities, to change what no index reads (their attributes typed
    /// for a schema): the indexes and hints stay as they are.
    pub(crate) fn entities_mut(&mut self) -> (&mut [Environment], &mut [User], &mut [Account], &mut [Asset]) {
        (&mut self.environments, &mut self.users, &mut self.accounts, &mut self.assets)
    }

    pub(crate) fn account_mut(&mut self, user: &str, env: &str) -> Option<&mut Account> {
        let index = self.account_index(user, env)?;
        self.counts = CountMemo::default();
        self.accounts.get_mut(index)
    }

    /// User `id`, to change where it lies.
    pub(crate) fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        let index = self.user_index(id)?;
        self.counts = CountMemo::default();
        self.users.get_mut(index)
    }

    /// Asset `id`, to change where it lies.
    pub(crate) fn asset_mut(&mut self, id: &str) -> Option<&mut Asset> {
        let index = self.asset_index(id)?;
        self.counts = CountMemo::default();
        self.assets.get_mut(index)
    }

    /// The position in [`users`](Self::users) of user `id`.
    pub fn user_index(&self, id: &str) -> Option<usize> {
        self.user_index.get(&self.users, user_id, id)
    }

    /// The position in [`users`](Self::users) of the user of the account at
    /// `account` in [`accounts`](Self::accounts): found when the directory
    /// was indexed, not looked up again.
    pub fn user_index_of_account(&self, account: usize) -> Option<usize> {
        self.users_of_accounts.get(account).filter(|&&u| u != NO_GROUP).map(|&u| u as usize)
    }

    /// The position in [`accounts`](Self::accounts) of the account that
    /// owns the asset at `asset`: the store's hint when it names that
    /// account, else looked up.
    pub fn owner_index(&self, asset: usize) -> Option<usize> {
        let a = self.assets.get(asset)?;
        let owner = a.owner.as_deref()?;
        Hints::at(&self.hints.asset_owner, asset)
            .filter(|&i| self.indexed_account(i, owner, &a.env))
            .or_else(|| self.account_index(owner, &a.env))
    }

    /// The position in [`assets`](Self::assets) of the space the asset at
    /// `asset` sits in (hinted, as [`owner_index`](Self::owner_index)).
    pub fn space_index(&self, asset: usize) -> Option<usize> {
        let space = self.assets.get(asset)?.space.as_deref()?;
        Hints::at(&self.hints.asset_space, asset)
            .filter(|&i| self.assets.get(i).is_some_and(|s| s.id == space))
            .or_else(|| self.asset_index(space))
    }

    /// The position in [`accounts`](Self::accounts) of the account the
    /// reference at `reference` refers to (hinted, as
    /// [`owner_index`](Self::owner_index)).
    pub fn reference_account_index(&self, reference: usize) -> Option<usize> {
        let r = self.references.get(reference)?;
        Hints::at(&self.hints.reference_account, reference)
            .filter(|&i| self.indexed_account(i, &r.user, &r.env))
            .or_else(|| self.account_index(&r.user, &r.env))
    }

    /// Whether the account at `i` is the one [`account_index`](Self::account_index)
    /// finds for `user` in `env`: the same ids, and a user the directory has
    /// (an account whose user is missing is found by no lookup, so by no
    /// hint either).
    fn indexed_account(&self, i: usize, user: &str, env: &str) -> bool {
        self.accounts.get(i).is_some_and(|a| a.user == user && a.env == env)
            && self.users_of_accounts.get(i).is_some_and(|&u| u != NO_GROUP)
    }

    /// How many links the store's hints name correctly (tests: a load of a
    /// fresh import uses them all).
    #[cfg(test)]
    pub(crate) fn hinted_links(&self) -> usize {
        let owners = (0..self.assets.len())
            .filter(|&i| {
                Hints::at(&self.hints.asset_owner, i).is_some()
                    && self.owner_index(i) == Hints::at(&self.hints.asset_owner, i)
            })
            .count();
        let spaces = (0..self.assets.len())
            .filter(|&i| {
                Hints::at(&self.hints.asset_space, i).is_some()
                    && self.space_index(i) == Hints::at(&self.hints.asset_space, i)
            })
            .count();
        let references = (0..self.references.len())
            .filter(|&i| {
                Hints::at(&self.hints.reference_account, i).is_some()
                    && self.reference_account_index(i) == Hints::at(&self.hints.reference_account, i)
            })
            .count();
        owners + spaces + references
    }

    /// The position in [`assets`](Self::assets) of asset `id`.
    pub fn asset_index(&self, id: &str) -> Option<usize> {
        self.asset_index.get(&self.assets, asset_id, id)
    }

    /// Every account of `user`, in load order.
    pub fn accounts_of<'a>(&'a self, user: &str) -> impl Iterator<Item = &'a Account> + 'a {
        let list = self.user_index(user).map(|u| self.accounts_by_user.of(u));
        self.pick(list)
    }

    /// Every account of environment `env`, in load order.
    pub fn accounts_in<'a>(&'a self, env: &str) -> impl Iterator<Item = &'a Account> + 'a {
        let list = self.env_position(env).map(|e| self.accounts_by_env.of(e));
        self.pick(list)
    }

    /// The references to `user` in environment `env`.
    pub fn references_to<'a>(
        &'a self,
        user: &'a str,
        env: &'a str,
    ) -> impl Iterator<Item = &'a Reference> + 'a {
        self.references.iter().filter(move |r| r.user == user && r.env == env)
    }

    fn pick<'a>(&'a self, list: Option<&'a [u32]>) -> impl Iterator<Item = &'a Account> + 'a {
        list.into_iter().flatten().filter_map(|&i| self.accounts.get(i as usize))
    }

    fn env_position(&self, id: &str) -> Option<usize> {
        self.env_index.get(&self.environments, env_id, id)
    }
}

fn env_id(e: &Environment) -> &str {
    &e.id
}

fn user_id(u: &User) -> &str {
    &u.id
}

pub(crate) fn asset_id(a: &Asset) -> &str {
    &a.id
}

impl Entities for Directory {
    fn environment(&self, id: &str) -> Lookup<'_, Environment> {
        Ok(Directory::environment(self, id).map(Cow::Borrowed))
    }

    fn user(&self, id: &str) -> Lookup<'_, User> {
        Ok(Directory::user(self, id).map(Cow::Borrowed))
    }

    fn account(&self, user: &str, env: &str) -> Lookup<'_, Account> {
        Ok(Directory::account(self, user, env).map(Cow::Borrowed))
    }

    fn asset(&self, id: &str) -> Lookup<'_, Asset> {
        Ok(Directory::asset(self, id).map(Cow::Borrowed))
    }

    fn for_each_account(
        &self,
        env: &str,
        visit: &mut dyn FnMut(&Account) -> ControlFlow<()>,
    ) -> Result<(), LookupError> {
        for account in self.accounts_in(env) {
            if visit(account).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn remembered_count(&self, key: u64, env: &str) -> Option<i64> {
        let env = self.env_position(env)?;
        self.counts.0.read().ok()?.get(&(key, env)).copied()
    }

    fn remember_count(&self, key: u64, env: &str, count: i64) {
        // A poisoned lock only means another thread panicked while
        // inserting: the count is then simply computed again next time.
        if let (Some(env), Ok(mut counts)) = (self.env_position(env), self.counts.0.write()) {
            counts.insert((key, env), count);
        }
    }
}
