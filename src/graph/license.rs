//! Who counts toward which license (P2, P6, G1, G3, G12, D1).
//!
//! A user counts toward a license when they have an account in a status
//! the schema says `counts` in any environment of it (test and acceptance
//! count too, P2). An account counts toward its own environment's license,
//! or its user's home one for a kind declared `counts home` (guests, G1;
//! converted to a normal account it counts toward the customer's, G3,
//! G12), or none for a kind declared `counts never` (anonymous, D2).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::directory::Directory;
use crate::directory::model::Account;
use crate::schema::{Counting, Schema};

/// The license an account of its kind counts toward in a status that
/// counts; `None` for a kind that never counts.
pub fn license_of<'d>(directory: &'d Directory, schema: &Schema, account: &Account) -> Option<&'d str> {
    let env = match schema.counting(&account.kind) {
        Counting::Never => return None,
        Counting::Home => directory.user(&account.user).map_or(account.env.as_str(), |u| u.home.as_str()),
        Counting::Own => account.env.as_str(),
    };
    directory.environment(env).map(|e| e.license.as_str())
}

/// The license the account counts toward as it is: its status counts and
/// its kind counts somewhere.
pub fn counted_in<'d>(directory: &'d Directory, schema: &Schema, account: &Account) -> Option<&'d str> {
    if !schema.counts(&account.status) {
        return None;
    }
    license_of(directory, schema, account)
}

/// One license and who counts toward it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseCount {
    /// The license (participant number).
    pub license: String,
    /// How many users count.
    pub count: usize,
    /// Who, sorted.
    pub users: Vec<String>,
}

/// Per license, per user: how many active accounts make the user count.
/// Precomputed once so that the effect of one change is O(1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenseIndex {
    counting: BTreeMap<String, BTreeMap<String, u32>>,
}

impl LicenseIndex {
    /// Counts the whole directory.
    pub fn build(directory: &Directory, schema: &Schema) -> Self {
        let mut counting: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
        for account in directory.accounts() {
            if let Some(license) = counted_in(directory, schema, account) {
                *counting
                    .entry(license.to_owned())
                    .or_default()
                    .entry(account.user.to_string())
                    .or_default() += 1;
            }
        }
        LicenseIndex { counting }
    }

    /// Takes `user`'s accounts out of the counts (`sign` -1) or puts them
    /// in (+1): what a plan's next item needs when a change moved only that
    /// user's accounts, in O(their accounts) instead of a count of the whole
    /// directory. A user's accounts count by their own status, kind and
    /// environment and by the user's home, so nothing else can move.
    pub(crate) fn recount_user(&mut self, directory: &Directory, schema: &Schema, user: &str, sign: i32) {
        for account in directory.accounts_of(user) {
            let Some(license) = counted_in(directory, schema, account) else { continue };
            let users = self.counting.entry(license.to_owned()).or_default();
            let accounts = users.entry(user.to_owned()).or_default();
            *accounts = accounts.saturating_add_signed(sign);
            if *accounts == 0 {
                users.remove(user);
                if users.is_empty() {
                    self.counting.remove(license);
                }
            }
        }
    }

    /// How many users count toward `license`.
    pub fn count(&self, license: &str) -> usize {
        self.counting.get(license).map_or(0, BTreeMap::len)
    }

    /// How many active accounts make `user` count toward `license`.
    pub fn accounts_counting(&self, license: &str, user: &str) -> u32 {
        self.counting.get(license).and_then(|u| u.get(user)).copied().unwrap_or(0)
    }

    /// Every license of `directory` with the users who count toward it,
    /// sorted; a license nobody counts toward is listed with 0.
    pub fn licenses(&self, directory: &Directory) -> Vec<LicenseCount> {
        let all: BTreeSet<&str> = directory
            .environments()
            .iter()
            .map(|e| e.license.as_str())
            .chain(self.counting.keys().map(String::as_str))
            .collect();
        all.into_iter()
            .map(|license| {
                let users: Vec<String> =
                    self.counting.get(license).map(|u| u.keys().cloned().collect()).unwrap_or_default();
                LicenseCount { license: license.to_owned(), count: users.len(), users }
            })
            .collect()
    }

    /// Applies a set of account changes (before, after; `None` where there
    /// is no account) and returns the counts after, per license touched:
    /// `(license, before, after)`. An account may move between licenses (a
    /// guest converted to a normal user counts toward the customer, G3).
    pub fn after_changes<'a>(
        &self,
        directory: &Directory,
        schema: &Schema,
        changes: impl IntoIterator<Item = (Option<&'a Account>, Option<&'a Account>)>,
    ) -> Vec<(String, usize, usize)> {
        let mut delta: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        let mut count = |account: Option<&Account>, sign: i64| {
            let Some(account) = account else { return };
            let Some(license) = license_of(directory, schema, account) else { return };
            let counted = i64::from(schema.counts(&account.status));
            *delta.entry(license.to_owned()).or_default().entry(account.user.to_string()).or_default() +=
                sign * counted;
        };
        for (before, after) in changes {
            let counts = |a: Option<&Account>| a.and_then(|a| counted_in(directory, schema, a));
            // A change that moves no count (an edit, an invitation) touches
            // no license.
            if counts(before) == counts(after) {
                continue;
            }
            count(before, -1);
            count(after, 1);
        }
        let mut touched = BTreeSet::new();
        let mut out = Vec::new();
        for (license, users) in delta {
            touched.insert(license.clone());
            let before = self.count(&license);
            let mut after = before as i64;
            for (user, d) in users {
                let now = i64::from(self.accounts_counting(&license, &user));
                let then = now + d;
                after += i64::from(then > 0) - i64::from(now > 0);
            }
            out.push((license, before, usize::try_from(after.max(0)).unwrap_or(0)));
        }
        out
    }
}
