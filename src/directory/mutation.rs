//! The changes `apply` makes to a directory, one [`Mutation`] each: the
//! store executes them in SQL, and a plan executes the same ones on its
//! copy in memory, so that every item is decided over the directory the
//! items before it leave (the dry run is what apply does).

use jiff::Timestamp;

use super::memory::{Directory, DirectoryParts};
use super::model::{Account, AttrValue, Id, User};

/// One change to the stored directory, as `apply` executes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// An account's new status (block, unblock).
    SetStatus {
        /// The user.
        user: String,
        /// The environment.
        env: String,
        /// The new status.
        status: Id,
    },
    /// A pending account's invitation renewed until `until` (Q3).
    SetInvitedUntil {
        /// The user.
        user: String,
        /// The environment.
        env: String,
        /// The new expiry.
        until: Timestamp,
    },
    /// An accepted invitation: the account moves out of its expiring
    /// status, the expiry gone (Q3).
    Register {
        /// The user.
        user: String,
        /// The environment.
        env: String,
        /// The status it moves to.
        status: Id,
    },
    /// An asset's new owner, or none (D3: left without owner).
    SetOwner {
        /// The asset.
        asset: String,
        /// The new owning user, in the asset's environment.
        owner: Option<String>,
    },
    /// An asset disabled (Q4).
    Disable {
        /// The asset.
        asset: String,
    },
    /// An asset revoked or removed (D6, Q8).
    DeleteAsset {
        /// The asset.
        asset: String,
    },
    /// An account's name or e-mail address (the nightly sync, G5).
    SetField {
        /// The user.
        user: String,
        /// The environment.
        env: String,
        /// Which field.
        field: AccountField,
        /// The new value.
        value: Option<String>,
    },
    /// A new user (an invitation to someone the directory does not know, Q3).
    CreateUser(User),
    /// A user removed with their last account: nothing identifying them
    /// (their IdP subject, their name) stays behind (D4).
    DeleteUser {
        /// The user.
        user: String,
    },
    /// A new account: an invitation (Q3) or a guest added to a customer
    /// environment (G10).
    CreateAccount(Account),
    /// An account's kind (a guest converted to a normal user, G10, G12).
    SetKind {
        /// The user.
        user: String,
        /// The environment.
        env: String,
        /// The new kind.
        kind: Id,
    },
    /// A declared attribute of an account, or of a user when `env` is
    /// `None` (the standard schema's portal access, G12, or guest license,
    /// G4).
    SetAttr {
        /// The user.
        user: String,
        /// The account's environment; `None`: the user's attribute.
        env: Option<String>,
        /// The attribute.
        name: String,
        /// Its new value.
        value: AttrValue,
    },
    /// An account's roles, sorted and without duplicates: a group
    /// membership the SCIM gateway forwarded (Q6). The roles actions are
    /// decided, never executed by `apply` (P8); the gateway keeps steward's
    /// copy of the service provider's memberships.
    SetRoles {
        /// The user.
        user: String,
        /// The environment.
        env: String,
        /// Every role the account holds now.
        roles: Vec<String>,
    },
    /// An account deleted from its environment only (P7); what it still
    /// owns is left without owner (D3).
    DeleteAccount {
        /// The user.
        user: String,
        /// The environment.
        env: String,
    },
}

impl Mutation {
    /// The user whose accounts or record the mutation changes; `None` for
    /// a change of an asset.
    pub fn user(&self) -> Option<&str> {
        match self {
            Mutation::SetStatus { user, .. }
            | Mutation::SetInvitedUntil { user, .. }
            | Mutation::Register { user, .. }
            | Mutation::SetField { user, .. }
            | Mutation::DeleteUser { user }
            | Mutation::SetKind { user, .. }
            | Mutation::SetAttr { user, .. }
            | Mutation::SetRoles { user, .. }
            | Mutation::DeleteAccount { user, .. } => Some(user),
            Mutation::CreateUser(user) => Some(&user.id),
            Mutation::CreateAccount(account) => Some(&account.user),
            Mutation::SetOwner { .. } | Mutation::Disable { .. } | Mutation::DeleteAsset { .. } => None,
        }
    }
}

/// The account fields a mutation may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountField {
    /// The display name.
    Name,
    /// The e-mail address (unique per environment, G6).
    Email,
}

impl Directory {
    /// This directory after `mutations`, in order, as the store would
    /// leave it (`Store::apply` executes the same statements in SQL; a
    /// property test holds the two equal). Indexes are built again once,
    /// and only when a mutation adds, removes or relinks an entity.
    pub fn mutated(mut self, mutations: &[Mutation]) -> Directory {
        self.mutate(mutations);
        self
    }

    /// Applies `mutations`, in order; whether every entity kept its place
    /// and its links (owner, space, uses, references), so that what is
    /// built over the positions (the reference graph) still holds.
    pub(crate) fn mutate(&mut self, mutations: &[Mutation]) -> bool {
        let Some(moving) = mutations.iter().position(|m| !self.mutate_in_place(m)) else {
            return true;
        };
        let mut parts = std::mem::take(self).into_parts();
        for mutation in mutations.iter().skip(moving) {
            parts.apply(mutation);
        }
        *self = Directory::new(parts);
        false
    }

    /// Applies `mutation` where it lies when it moves nothing: a status, a
    /// field, a flag. `false`, and nothing done, for one that adds, removes
    /// or relinks an entity (or names one that does not exist).
    fn mutate_in_place(&mut self, mutation: &Mutation) -> bool {
        match mutation {
            Mutation::SetStatus { user, env, status } => {
                self.account_mut(user, env).map(|a| a.status = status.clone()).is_some()
            }
            Mutation::SetInvitedUntil { user, env, until } => {
                self.account_mut(user, env).map(|a| a.invited_until = Some(*until)).is_some()
            }
            Mutation::Register { user, env, status } => self
                .account_mut(user, env)
                .map(|a| {
                    a.status = status.clone();
                    a.invited_until = None;
                })
                .is_some(),
            Mutation::SetField { user, env, field, value } => self
                .account_mut(user, env)
                .map(|a| match field {
                    AccountField::Name => a.name = value.clone().unwrap_or_default(),
                    AccountField::Email => a.email = value.clone(),
                })
                .is_some(),
            Mutation::SetKind { user, env, kind } => {
                self.account_mut(user, env).map(|a| a.kind = kind.clone()).is_some()
            }
            Mutation::SetAttr { user, env: Some(env), name, value } => {
                self.account_mut(user, env).map(|a| a.attrs.insert(name.clone(), value.clone())).is_some()
            }
            Mutation::SetAttr { user, env: None, name, value } => {
                self.user_mut(user).map(|u| u.attrs.insert(name.clone(), value.clone())).is_some()
            }
            Mutation::SetRoles { user, env, roles } => {
                self.account_mut(user, env).map(|a| a.roles = sorted(roles)).is_some()
            }
            Mutation::Disable { asset } => self.asset_mut(asset).map(|a| a.disabled = true).is_some(),
            Mutation::SetOwner { .. }
            | Mutation::CreateUser(_)
            | Mutation::DeleteUser { .. }
            | Mutation::CreateAccount(_)
            | Mutation::DeleteAsset { .. }
            | Mutation::DeleteAccount { .. } => false,
        }
    }
}

impl DirectoryParts {
    fn account_mut(&mut self, user: &str, env: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.user == user && a.env == env)
    }

    fn apply(&mut self, mutation: &Mutation) {
        match mutation {
            Mutation::SetStatus { user, env, status } => {
                if let Some(a) = self.account_mut(user, env) {
                    a.status = status.clone();
                }
            }
            Mutation::SetInvitedUntil { user, env, until } => {
                if let Some(a) = self.account_mut(user, env) {
                    a.invited_until = Some(*until);
                }
            }
            Mutation::Register { user, env, status } => {
                if let Some(a) = self.account_mut(user, env) {
                    a.status = status.clone();
                    a.invited_until = None;
                }
            }
            Mutation::SetOwner { asset, owner } => {
                if let Some(a) = self.assets.iter_mut().find(|a| a.id == *asset) {
                    a.owner = owner.as_deref().map(Into::into);
                }
            }
            Mutation::SetField { user, env, field, value } => {
                if let Some(a) = self.account_mut(user, env) {
                    match field {
                        AccountField::Name => a.name = value.clone().unwrap_or_default(),
                        AccountField::Email => a.email = value.clone(),
                    }
                }
            }
            Mutation::CreateUser(u) => self.users.push(u.clone()),
            // As in the store: only a user without accounts goes.
            Mutation::DeleteUser { user } => {
                if !self.accounts.iter().any(|a| a.user == *user) {
                    self.users.retain(|u| u.id != *user);
                }
            }
            Mutation::CreateAccount(a) => self.accounts.push(a.clone()),
            Mutation::SetKind { user, env, kind } => {
                if let Some(a) = self.account_mut(user, env) {
                    a.kind = kind.clone();
                }
            }
            Mutation::SetAttr { user, env: Some(env), name, value } => {
                if let Some(a) = self.account_mut(user, env) {
                    a.attrs.insert(name.clone(), value.clone());
                }
            }
            Mutation::SetAttr { user, env: None, name, value } => {
                if let Some(u) = self.users.iter_mut().find(|u| u.id == *user) {
                    u.attrs.insert(name.clone(), value.clone());
                }
            }
            Mutation::SetRoles { user, env, roles } => {
                if let Some(a) = self.account_mut(user, env) {
                    a.roles = sorted(roles);
                }
            }
            Mutation::Disable { asset } => {
                if let Some(a) = self.assets.iter_mut().find(|a| a.id == *asset) {
                    a.disabled = true;
                }
            }
            // What sits in or uses a removed asset loses that link.
            Mutation::DeleteAsset { asset } => {
                self.assets.retain(|a| a.id != *asset);
                for other in &mut self.assets {
                    other.uses.retain(|u| u != asset);
                    if other.space.as_deref() == Some(asset.as_str()) {
                        other.space = None;
                    }
                }
            }
            // What the account still owns is left without owner (D3).
            Mutation::DeleteAccount { user, env } => {
                for asset in self.assets.iter_mut().filter(|a| a.env == *env) {
                    if asset.owner.as_deref() == Some(user.as_str()) {
                        asset.owner = None;
                    }
                }
                self.accounts.retain(|a| !(a.user == *user && a.env == *env));
            }
        }
    }
}

/// Roles as an account keeps them: sorted, each once, so that
/// [`Account::has_role`](super::model::Account::has_role) can search them.
fn sorted(roles: &[String]) -> Vec<String> {
    let mut roles = roles.to_vec();
    roles.sort_unstable();
    roles.dedup();
    roles
}
