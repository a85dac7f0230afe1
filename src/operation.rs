//! What each lifecycle operation does to the directory. One table,
//! [`ACTIONS`], describes every action of the schema: what a plan's items
//! name, what value they take, what `apply` executes and how it reads. The
//! dry run and the real run both read it: a plan previews the account an
//! operation leaves behind (for the license counts), and `apply` executes
//! the mutations of the same operation, so the preview is what is applied.
//! Adding an action is one row.

use jiff::{SignedDuration, Timestamp};

use crate::directory::Directory;
use crate::directory::model::{Account, AccountKind, Attrs, Status, User};
use crate::directory::store::{AccountField, Mutation};

/// How long an invitation is valid when steward.yaml does not say (Q3).
pub const DEFAULT_INVITATION_VALIDITY: SignedDuration = SignedDuration::from_hours(14 * 24);

/// What the items of a plan of an action name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// An account the directory holds in the item's environment.
    Account,
    /// A user without an account in the item's environment yet: the
    /// operation creates it (`add_guest`, G10).
    User,
    /// E-mail addresses, each a new pending account (`invite`, Q3).
    Addresses,
    /// Nothing a plan lists: `reassign` acts on assets, which `apply`
    /// reassigns as the items it executes require (D7).
    Nothing,
}

/// The value an item of an action takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// None: a value given would be signed into the plan, shown, and then
    /// ignored, so it is refused.
    None,
    /// The new e-mail address (required).
    Email,
    /// The new name (required, not blank).
    Name,
    /// How a guest is added: `system` (the default) or `normal` (G10).
    GuestKind,
}

/// What `apply` does for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The account goes; a user the plan leaves without accounts may go
    /// too (`orphaned user -> remove`, D4).
    RemoveAccount,
    /// The account's status becomes this one.
    SetStatus(Status),
    /// A pending account becomes active; its expiry is cleared (Q3).
    Register,
    /// A pending account's expiry is renewed from now (Q3).
    RenewInvitation,
    /// The account's e-mail address becomes the item's value (G6, G7).
    SetEmail,
    /// The account's name becomes the item's value.
    SetName,
    /// A guest account becomes a normal one with portal access (G3, G12).
    ConvertToNormal,
    /// The user gets the guest license (G4, G9).
    ActivateGuestLicense,
    /// A new pending account, and a new user for an unknown address (Q3).
    Invite,
    /// A new account of a guest, from their home account (G10).
    AddGuest,
}

/// One action, as plans and `apply` treat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    /// Its name in policies, requests and plans.
    pub name: &'static str,
    /// What a plan's items name.
    pub targets: TargetKind,
    /// What value an item takes.
    pub value: ValueKind,
    /// What `apply` does; `None`: steward decides the action (in `decide`
    /// and in plans) but `apply` does not execute it.
    pub effect: Option<Effect>,
    /// What one item is, in a plan's summary (`account`, `invitation`).
    pub noun: &'static str,
    /// What the action does to it (`deleted`, `sent`).
    pub done: &'static str,
}

const fn row(
    name: &'static str,
    targets: TargetKind,
    value: ValueKind,
    effect: Option<Effect>,
    [noun, done]: [&'static str; 2],
) -> ActionSpec {
    ActionSpec { name, targets, value, effect, noun, done }
}

/// Every action of the schema (`policy::schema::ACTIONS`), in its order.
pub const ACTIONS: &[ActionSpec] = {
    use Effect as E;
    use TargetKind::{Account as OnAccount, Addresses, Nothing, User as OnUser};
    use ValueKind::{Email, GuestKind, Name, None as NoValue};
    &[
        row("invite", Addresses, NoValue, Some(E::Invite), ["invitation", "sent"]),
        row("register", OnAccount, NoValue, Some(E::Register), ["invitation", "accepted"]),
        row("resend_invitation", OnAccount, NoValue, Some(E::RenewInvitation), ["invitation", "renewed"]),
        row("revoke_invitation", OnAccount, NoValue, Some(E::RemoveAccount), ["invitation", "revoked"]),
        row("block", OnAccount, NoValue, Some(E::SetStatus(Status::Blocked)), ["account", "blocked"]),
        row("unblock", OnAccount, NoValue, Some(E::SetStatus(Status::Active)), ["account", "unblocked"]),
        row("delete", OnAccount, NoValue, Some(E::RemoveAccount), ["account", "deleted"]),
        row("edit_email", OnAccount, Email, Some(E::SetEmail), ["account", "given a new e-mail address"]),
        row("edit_name", OnAccount, Name, Some(E::SetName), ["account", "renamed"]),
        row("edit_rights", OnAccount, NoValue, None, ["account", "given new rights"]),
        row("assign_role", OnAccount, NoValue, None, ["account", "given a role"]),
        row("remove_role", OnAccount, NoValue, None, ["account", "relieved of a role"]),
        row("reassign", Nothing, NoValue, None, ["asset", "reassigned"]),
        row(
            "activate_guest_license",
            OnAccount,
            NoValue,
            Some(E::ActivateGuestLicense),
            ["user", "given a guest license"],
        ),
        row("add_guest", OnUser, GuestKind, Some(E::AddGuest), ["guest", "added"]),
        row(
            "convert_to_normal",
            OnAccount,
            NoValue,
            Some(E::ConvertToNormal),
            ["guest account", "converted to a normal account"],
        ),
        row("login", OnAccount, NoValue, None, ["account", "logged in"]),
        row("change_password", OnAccount, NoValue, None, ["account", "given a new password"]),
        row("merge", OnAccount, NoValue, None, ["account", "merged into another user"]),
        row("change_code", OnAccount, NoValue, None, ["account", "given a new user code"]),
        row("link_person", OnAccount, NoValue, None, ["account", "linked to a person"]),
        row("add_system_user", OnAccount, NoValue, None, ["account", "added as a system user"]),
        row("authorize", OnAccount, NoValue, None, ["account", "authorized"]),
    ]
};

/// The row of `action`, if the schema knows it.
pub fn action(name: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// The actions `apply` executes, for messages: `invite, register, … and convert_to_normal`.
pub fn executed_names() -> String {
    names(ActionSpec::executed)
}

/// The actions whose rows satisfy `keep`, for messages: `a, b and c`.
fn names(keep: impl Fn(&ActionSpec) -> bool) -> String {
    let names: Vec<&str> = ACTIONS.iter().filter(|a| keep(a)).map(|a| a.name).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl ActionSpec {
    /// Whether `apply` executes the action.
    pub fn executed(&self) -> bool {
        self.effect.is_some()
    }

    /// Whether apply removes the account it acts on (a deletion, a revoked
    /// invitation): what records that refer to the account prevent.
    pub fn removes_account(&self) -> bool {
        matches!(self.effect, Some(Effect::RemoveAccount))
    }

    /// Whether the action changes the status of the account it acts on,
    /// or removes it: what the license counts read, so a verdict reports
    /// its impact even when no lifecycle block names the action.
    pub fn changes_status(&self) -> bool {
        matches!(self.effect, Some(Effect::SetStatus(_) | Effect::Register | Effect::RemoveAccount))
    }

    /// How an item's value reads after its target: `→ new@example.com`
    /// for an edit, `as a normal user` for a guest (the default shown too).
    pub fn value_text(&self, value: Option<&str>) -> Option<String> {
        match self.value {
            ValueKind::GuestKind => Some(format!("as a {} user", value.unwrap_or("system"))),
            _ => value.map(|v| format!("→ {v}")),
        }
    }
}

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
    #[error("apply does not execute `{action}`")]
    #[diagnostic(help("apply executes {executed}"))]
    Unsupported {
        /// The action.
        action: String,
        /// The actions apply executes.
        executed: String,
    },
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
        expected: String,
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
    /// The row of the operation's action; an action the schema does not
    /// know is one apply does not execute.
    pub fn spec(&self) -> Result<&'static ActionSpec, OperationError> {
        action(self.outcome).ok_or_else(|| self.unsupported())
    }

    /// Checks the operation's value without a directory: what a plan checks
    /// before deciding anything. Whether apply executes the action is asked
    /// of `mutations`: a plan of it is still a dry run of its decisions.
    pub fn check(&self) -> Result<(), OperationError> {
        let spec = self.spec()?;
        let address = "an e-mail address such as `ann@example.com`";
        if spec.targets == TargetKind::Addresses && !looks_like_email(self.user) {
            return Err(self.invalid(self.user, address.to_owned()));
        }
        match spec.value {
            ValueKind::Email => {
                let value = self.required("the new e-mail address")?;
                if !looks_like_email(value) {
                    return Err(self.invalid(value, address.to_owned()));
                }
            }
            ValueKind::Name => {
                let value = self.required("the new name")?;
                if value.trim().is_empty() {
                    return Err(self.invalid(value, "a name that is not empty".to_owned()));
                }
            }
            ValueKind::GuestKind => {
                guest_kind(self.value).ok_or_else(|| {
                    self.invalid(
                        self.value.unwrap_or_default(),
                        "`system` (the default) or `normal`".to_owned(),
                    )
                })?;
            }
            ValueKind::None => {
                if let Some(value) = self.value {
                    let takers = names(|a| a.value != ValueKind::None);
                    return Err(self.invalid(value, format!("it takes none (only {takers} take a value)")));
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
        let after = match self.spec()?.effect {
            Some(Effect::RemoveAccount) => None,
            Some(Effect::SetStatus(status)) => changed(&|a| a.status = status)?,
            Some(Effect::Register) => changed(&|a| {
                a.status = Status::Active;
                a.invited_until = None;
            })?,
            Some(Effect::RenewInvitation) => {
                let until = now.checked_add(validity).unwrap_or(now);
                changed(&|a| a.invited_until = Some(until))?
            }
            Some(Effect::SetEmail) => changed(&|a| a.email = self.value.map(str::to_owned))?,
            Some(Effect::SetName) => changed(&|a| a.name = self.value.unwrap_or_default().to_owned())?,
            Some(Effect::ConvertToNormal) => changed(&|a| {
                a.kind = AccountKind::Normal;
                a.portal = true;
            })?,
            Some(Effect::Invite) => Some(self.invitation(now, validity)),
            Some(Effect::AddGuest) => Some(self.guest_account(directory)?),
            // Nothing the license counts read changes.
            Some(Effect::ActivateGuestLicense) | None => before.cloned(),
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
        let effect = self.spec()?.effect.ok_or_else(|| self.unsupported())?;
        let change = self.preview(directory, now, validity)?;
        let (user, env) = (self.user.to_owned(), self.env.to_owned());
        let field = |field, value: Option<&str>| Mutation::SetField {
            user: user.clone(),
            env: env.clone(),
            field,
            value: value.map(str::to_owned),
        };
        Ok(match (effect, change.after) {
            (Effect::RemoveAccount, _) => vec![Mutation::DeleteAccount { user, env }],
            (Effect::SetStatus(_), Some(after)) => {
                vec![Mutation::SetStatus { user, env, status: after.status }]
            }
            (Effect::Register, _) => vec![Mutation::Register { user, env }],
            (Effect::RenewInvitation, Some(after)) => match after.invited_until {
                Some(until) => vec![Mutation::SetInvitedUntil { user, env, until }],
                None => Vec::new(),
            },
            (Effect::SetEmail, _) => vec![field(AccountField::Email, self.value)],
            (Effect::SetName, _) => vec![field(AccountField::Name, self.value)],
            (Effect::ConvertToNormal, Some(after)) => {
                vec![Mutation::SetKind { user, env, kind: after.kind, portal: after.portal }]
            }
            (Effect::ActivateGuestLicense, _) => vec![Mutation::SetGuestLicense { user, on: true }],
            (Effect::Invite, Some(account)) => {
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
            (Effect::AddGuest, Some(account)) => vec![Mutation::CreateAccount(account)],
            // `preview` gives an account for each of these, or an error.
            (
                Effect::SetStatus(_)
                | Effect::RenewInvitation
                | Effect::ConvertToNormal
                | Effect::Invite
                | Effect::AddGuest,
                None,
            ) => return Err(self.no_account()),
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

    fn invalid(&self, value: &str, expected: String) -> OperationError {
        OperationError::InvalidValue { action: self.outcome.to_owned(), value: value.to_owned(), expected }
    }

    fn unsupported(&self) -> OperationError {
        OperationError::Unsupported { action: self.outcome.to_owned(), executed: names(ActionSpec::executed) }
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

    /// Adding an action to the schema without a row here would leave plans
    /// and apply guessing; the table follows the schema's order.
    #[test]
    fn every_action_of_the_schema_has_one_row_in_its_order() {
        let schema: Vec<&str> = crate::policy::schema::action_names().collect();
        let rows: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
        assert_eq!(rows, schema);
        for spec in ACTIONS {
            let subject =
                crate::policy::schema::ACTIONS.iter().find(|a| a.name == spec.name).unwrap().subject;
            let planned_on_accounts = matches!(spec.targets, TargetKind::Account | TargetKind::User);
            assert_eq!(
                planned_on_accounts,
                subject == crate::policy::schema::Subject::Account,
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn the_messages_name_the_actions_from_the_table() {
        let merge = Operation { outcome: "merge", user: "u", env: "E", value: None };
        let directory = Directory::default();
        let err =
            merge.mutations(&directory, Timestamp::UNIX_EPOCH, DEFAULT_INVITATION_VALIDITY).unwrap_err();
        let OperationError::Unsupported { executed, .. } = &err else { panic!("{err:?}") };
        assert!(executed.starts_with("invite, register,") && executed.ends_with(" and convert_to_normal"));
        let value =
            Operation { outcome: "block", user: "u", env: "E", value: Some("x") }.check().unwrap_err();
        assert!(
            value.to_string().ends_with("(only edit_email, edit_name and add_guest take a value)"),
            "{value}"
        );
    }

    #[test]
    fn a_guest_reads_as_the_kind_of_user_it_becomes() {
        let guest = action("add_guest").unwrap();
        assert_eq!(guest.value_text(None).as_deref(), Some("as a system user"));
        assert_eq!(guest.value_text(Some("normal")).as_deref(), Some("as a normal user"));
        assert_eq!(action("edit_name").unwrap().value_text(Some("Ann")).as_deref(), Some("→ Ann"));
        assert_eq!(action("delete").unwrap().value_text(None), None);
    }
}
