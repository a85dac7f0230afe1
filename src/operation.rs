//! What each lifecycle operation does to the directory. One table serves
//! the dry run and the real run: a plan previews the account an operation
//! leaves behind (for the license counts), and `apply` executes the
//! mutations of the same operation, so the preview is what is applied.

use jiff::{SignedDuration, Timestamp};

use crate::directory::Directory;
use crate::directory::model::{Account, AccountKind, Attrs, Status, User};
use crate::directory::store::{AccountField, Mutation};

/// How long an invitation is valid when steward.yaml does not say (Q3).
pub const DEFAULT_INVITATION_VALIDITY: SignedDuration = SignedDuration::from_hours(14 * 24);

/// One operation on one account: the outcome of a plan item.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a> {
    /// What is done: an action, or the fallback action of a plan item.
    pub outcome: &'a str,
    /// The user acted on (for `invite`, the new user: the address).
    pub user: &'a str,
    /// The environment.
    pub env: &'a str,
    /// The item's value: the new e-mail or name (`edit_email`,
    /// `edit_name`), how a guest is added (`add_guest`: `system` or
    /// `normal`).
    pub value: Option<&'a str>,
}

/// Why an operation cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum OperationError {
    /// steward decides this action but does not execute it.
    #[error("apply does not execute `{0}`")]
    #[diagnostic(help(
        "apply executes invite, register, resend_invitation, revoke_invitation, block, unblock, delete, \
         edit_email, edit_name, add_guest, convert_to_normal and activate_guest_license"
    ))]
    Unsupported(String),
    /// The operation needs a value and the item has none.
    #[error("`{action}` of `{user}` needs a value: {what}")]
    MissingValue {
        /// The action.
        action: String,
        /// The user.
        user: String,
        /// What the value is.
        what: &'static str,
    },
    /// The value is not one the operation takes.
    #[error("`{value}` is not a valid value for `{action}`: {expected}")]
    InvalidValue {
        /// The action.
        action: String,
        /// The value.
        value: String,
        /// What is expected.
        expected: &'static str,
    },
    /// The account the operation needs is not in the directory.
    #[error("`{user}` has no account in `{env}`")]
    NoAccount {
        /// The user.
        user: String,
        /// The environment.
        env: String,
    },
}

/// The account before and after an operation; `None` where there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountChange<'d> {
    /// As the directory holds it.
    pub before: Option<&'d Account>,
    /// As the operation leaves it.
    pub after: Option<Account>,
}

impl<'a> Operation<'a> {
    /// Checks the operation's value without a directory: what a plan checks
    /// before deciding anything.
    pub fn check(&self) -> Result<(), OperationError> {
        match self.outcome {
            "edit_email" => {
                let value = self.required("the new e-mail address")?;
                if !looks_like_email(value) {
                    return Err(self.invalid(value, "an e-mail address such as `ann@example.com`"));
                }
            }
            "edit_name" => {
                let value = self.required("the new name")?;
                if value.trim().is_empty() {
                    return Err(self.invalid(value, "a name that is not empty"));
                }
            }
            "invite" if !looks_like_email(self.user) => {
                return Err(self.invalid(self.user, "an e-mail address such as `ann@example.com`"));
            }
            "add_guest" => {
                guest_kind(self.value).ok_or_else(|| {
                    self.invalid(self.value.unwrap_or_default(), "`system` (the default) or `normal`")
                })?;
            }
            // The other actions take no value: one given would be signed
            // into the plan, shown, and then ignored. Whether apply executes
            // them is asked of `mutations`: a plan of them is still a dry
            // run of their decisions.
            _ => {
                if let Some(value) = self.value {
                    return Err(self.invalid(
                        value,
                        "it takes none (only edit_email, edit_name and add_guest take a value)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The account before and after, for previews (license counts).
    pub fn preview<'d>(
        &self,
        directory: &'d Directory,
        now: Timestamp,
        validity: SignedDuration,
    ) -> Result<AccountChange<'d>, OperationError> {
        self.check()?;
        let before = directory.account(self.user, self.env);
        let existing = || before.ok_or_else(|| self.no_account());
        let changed = |edit: &dyn Fn(&mut Account)| -> Result<Option<Account>, OperationError> {
            let mut account = existing()?.clone();
            edit(&mut account);
            Ok(Some(account))
        };
        let after = match self.outcome {
            "delete" | "revoke_invitation" => None,
            "block" => changed(&|a| a.status = Status::Blocked)?,
            "unblock" => changed(&|a| a.status = Status::Active)?,
            "register" => changed(&|a| {
                a.status = Status::Active;
                a.invited_until = None;
            })?,
            "resend_invitation" => {
                let until = now.checked_add(validity).unwrap_or(now);
                changed(&|a| a.invited_until = Some(until))?
            }
            "edit_email" => changed(&|a| a.email = self.value.map(str::to_owned))?,
            "edit_name" => changed(&|a| a.name = self.value.unwrap_or_default().to_owned())?,
            "convert_to_normal" => changed(&|a| {
                a.kind = AccountKind::Normal;
                a.portal = true;
            })?,
            "invite" => Some(self.invitation(now, validity)),
            "add_guest" => Some(self.guest_account(directory)?),
            // Nothing the license counts read changes.
            _ => before.cloned(),
        };
        Ok(AccountChange { before, after })
    }

    /// The changes `apply` makes to the store.
    pub fn mutations(
        &self,
        directory: &Directory,
        now: Timestamp,
        validity: SignedDuration,
    ) -> Result<Vec<Mutation>, OperationError> {
        let change = self.preview(directory, now, validity)?;
        let (user, env) = (self.user.to_owned(), self.env.to_owned());
        let field = |field, value: Option<&str>| Mutation::SetField {
            user: user.clone(),
            env: env.clone(),
            field,
            value: value.map(str::to_owned),
        };
        Ok(match (self.outcome, change.after) {
            ("delete" | "revoke_invitation", _) => vec![Mutation::DeleteAccount { user, env }],
            ("block" | "unblock", Some(after)) => {
                vec![Mutation::SetStatus { user, env, status: after.status }]
            }
            ("register", _) => vec![Mutation::Register { user, env }],
            ("resend_invitation", Some(after)) => match after.invited_until {
                Some(until) => vec![Mutation::SetInvitedUntil { user, env, until }],
                None => Vec::new(),
            },
            ("edit_email", _) => vec![field(AccountField::Email, self.value)],
            ("edit_name", _) => vec![field(AccountField::Name, self.value)],
            ("convert_to_normal", Some(after)) => {
                vec![Mutation::SetKind { user, env, kind: after.kind, portal: after.portal }]
            }
            ("activate_guest_license", _) => vec![Mutation::SetGuestLicense { user, on: true }],
            ("invite", Some(account)) => {
                let mut out = Vec::with_capacity(2);
                // Someone the directory does not know yet joins with the
                // invited environment as home.
                if directory.user(self.user).is_none() {
                    out.push(Mutation::CreateUser(User {
                        id: user.into(),
                        home: env.into(),
                        guest_license: false,
                        desktop_access: false,
                        employment_end: None,
                        idp_subject: None,
                        attrs: Attrs::default(),
                    }));
                }
                out.push(Mutation::CreateAccount(account));
                out
            }
            ("add_guest", Some(account)) => vec![Mutation::CreateAccount(account)],
            (other, _) => return Err(OperationError::Unsupported(other.to_owned())),
        })
    }

    /// A pending account for an invited address (Q3).
    fn invitation(&self, now: Timestamp, validity: SignedDuration) -> Account {
        let name = self.user.split('@').next().unwrap_or(self.user);
        Account {
            user: self.user.to_owned().into(),
            env: self.env.to_owned().into(),
            status: Status::Pending,
            kind: AccountKind::Normal,
            name: name.to_owned(),
            email: Some(self.user.to_owned()),
            roles: Vec::new(),
            portal: false,
            invited_until: Some(now.checked_add(validity).unwrap_or(now)),
            attrs: Attrs::default(),
        }
    }

    /// A guest's account in a customer environment (G10): name and e-mail
    /// from the home account (G5), no roles yet (the customer decides them,
    /// G4); a system user (code only) or a normal user linked to a person,
    /// with portal access (G3, G12).
    fn guest_account(&self, directory: &Directory) -> Result<Account, OperationError> {
        let home = directory
            .user(self.user)
            .and_then(|u| directory.account(self.user, &u.home))
            .ok_or_else(|| self.no_account())?;
        let kind = guest_kind(self.value).unwrap_or(AccountKind::Guest);
        Ok(Account {
            user: self.user.to_owned().into(),
            env: self.env.to_owned().into(),
            status: Status::Active,
            kind,
            name: home.name.clone(),
            email: home.email.clone(),
            roles: Vec::new(),
            portal: kind == AccountKind::Normal,
            invited_until: None,
            attrs: Attrs::default(),
        })
    }

    fn required(&self, what: &'static str) -> Result<&'a str, OperationError> {
        self.value.ok_or_else(|| OperationError::MissingValue {
            action: self.outcome.to_owned(),
            user: self.user.to_owned(),
            what,
        })
    }

    fn invalid(&self, value: &str, expected: &'static str) -> OperationError {
        OperationError::InvalidValue { action: self.outcome.to_owned(), value: value.to_owned(), expected }
    }

    fn no_account(&self) -> OperationError {
        OperationError::NoAccount { user: self.user.to_owned(), env: self.env.to_owned() }
    }
}

/// How `add_guest` adds: a system user (the default) is a guest account;
/// a normal user is linked to a person and has portal access (G10).
fn guest_kind(value: Option<&str>) -> Option<AccountKind> {
    match value {
        None | Some("system") => Some(AccountKind::Guest),
        Some("normal") => Some(AccountKind::Normal),
        Some(_) => None,
    }
}

/// One `@` with text on both sides and no white space: enough to refuse a
/// name typed where an address belongs, without pretending to validate
/// deliverability.
pub fn looks_like_email(text: &str) -> bool {
    let mut parts = text.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && !domain.is_empty() && !text.contains(char::is_whitespace)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_need_one_at_sign_and_no_spaces() {
        assert!(looks_like_email("ann@example.com"));
        for bad in ["ann", "@example.com", "ann@", "a@b@c", "ann smith@example.com", ""] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }

    #[test]
    fn values_are_checked_before_anything_is_decided() {
        let op = |outcome, value| Operation { outcome, user: "u", env: "E", value };
        assert!(matches!(op("edit_email", None).check(), Err(OperationError::MissingValue { .. })));
        assert!(matches!(op("edit_email", Some("nope")).check(), Err(OperationError::InvalidValue { .. })));
        assert!(op("edit_email", Some("u@example.com")).check().is_ok());
        assert!(matches!(op("edit_name", Some("  ")).check(), Err(OperationError::InvalidValue { .. })));
        assert!(matches!(op("add_guest", Some("admin")).check(), Err(OperationError::InvalidValue { .. })));
        assert!(op("add_guest", Some("normal")).check().is_ok());
        assert!(op("merge", None).check().is_ok(), "planned, decided; apply refuses it");
        assert!(matches!(
            op("block", Some("oops@example.com")).check(),
            Err(OperationError::InvalidValue { .. })
        ));
    }
}
