//! The directory held in memory, indexed for the lookups decisions make.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::RwLock;

// Ids come from the administrators' own directory, not from an adversary,
// and every decision looks several of them up: a fast hash pays.
use rustc_hash::FxHashMap as HashMap;

use super::entities::{Entities, Lookup, LookupError};
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
    env_index: HashMap<String, usize>,
    user_index: HashMap<String, usize>,
    asset_index: HashMap<String, usize>,
    /// Per user (same order as `users`): indexes into `accounts`.
    accounts_by_user: Vec<Vec<usize>>,
    /// Per environment (same order as `environments`): indexes into `accounts`.
    accounts_by_env: Vec<Vec<usize>>,
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
    pub fn new(parts: DirectoryParts) -> Self {
        let DirectoryParts { environments, users, mut accounts, assets, references } = parts;
        for account in &mut accounts {
            account.roles.sort_unstable();
            account.roles.dedup();
        }
        let env_index = index_by(&environments, |e| &e.id);
        let user_index = index_by(&users, |u| &u.id);
        let asset_index = index_by(&assets, |a| &a.id);
        let mut accounts_by_user = vec![Vec::new(); users.len()];
        let mut accounts_by_env = vec![Vec::new(); environments.len()];
        for (i, account) in accounts.iter().enumerate() {
            if let Some(list) = user_index.get(&account.user).and_then(|&u| accounts_by_user.get_mut(u)) {
                list.push(i);
            }
            if let Some(list) = env_index.get(&account.env).and_then(|&e| accounts_by_env.get_mut(e)) {
                list.push(i);
            }
        }
        Directory {
            environments,
            users,
            accounts,
            assets,
            references,
            env_index,
            user_index,
            asset_index,
            accounts_by_user,
            accounts_by_env,
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
        self.env_index.get(id).and_then(|&i| self.environments.get(i))
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.user_index.get(id).and_then(|&i| self.users.get(i))
    }

    /// The asset with this id.
    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.asset_index.get(id).and_then(|&i| self.assets.get(i))
    }

    /// The account of `user` in `env`. A user has a handful of accounts, so
    /// a scan of theirs beats a map keyed by two strings.
    pub fn account(&self, user: &str, env: &str) -> Option<&Account> {
        self.account_index(user, env).and_then(|i| self.accounts.get(i))
    }

    /// The position in [`accounts`](Self::accounts) of the account of `user` in `env`.
    pub fn account_index(&self, user: &str, env: &str) -> Option<usize> {
        let list = self.user_index.get(user).and_then(|&u| self.accounts_by_user.get(u))?;
        list.iter().copied().find(|&i| self.accounts.get(i).is_some_and(|a| a.env == env))
    }

    /// The position in [`users`](Self::users) of user `id`.
    pub fn user_index(&self, id: &str) -> Option<usize> {
        self.user_index.get(id).copied()
    }

    /// The position in [`assets`](Self::assets) of asset `id`.
    pub fn asset_index(&self, id: &str) -> Option<usize> {
        self.asset_index.get(id).copied()
    }

    /// Every account of `user`, in load order.
    pub fn accounts_of<'a>(&'a self, user: &str) -> impl Iterator<Item = &'a Account> + 'a {
        let list = self.user_index.get(user).and_then(|&u| self.accounts_by_user.get(u));
        self.pick(list)
    }

    /// Every account of environment `env`, in load order.
    pub fn accounts_in<'a>(&'a self, env: &str) -> impl Iterator<Item = &'a Account> + 'a {
        let list = self.env_index.get(env).and_then(|&e| self.accounts_by_env.get(e));
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

    fn pick<'a>(&'a self, list: Option<&'a Vec<usize>>) -> impl Iterator<Item = &'a Account> + 'a {
        list.into_iter().flatten().filter_map(|&i| self.accounts.get(i))
    }
}

fn index_by<T>(items: &[T], key: impl Fn(&T) -> &String) -> HashMap<String, usize> {
    items.iter().enumerate().map(|(i, item)| (key(item).clone(), i)).collect()
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
        let env = *self.env_index.get(env)?;
        self.counts.0.read().ok()?.get(&(key, env)).copied()
    }

    fn remember_count(&self, key: u64, env: &str, count: i64) {
        // A poisoned lock only means another thread panicked while
        // inserting: the count is then simply computed again next time.
        if let (Some(&env), Ok(mut counts)) = (self.env_index.get(env), self.counts.0.write()) {
            counts.insert((key, env), count);
        }
    }
}
