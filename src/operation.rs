//! What each action does to the directory, as its declaration in the
//! schema says (`crate::schema::Effect`). The dry run and the real run both
//! read it: a plan previews the account an operation leaves behind (for
//! the license counts), and `apply` executes the mutations of the same
//! operation, so the preview is what is applied.

use jiff::{SignedDuration, Timestamp};

use crate::directory::Directory;
use crate::directory::model::{Account, AttrValue, Attrs, User};
use crate::directory::store::{AccountField, Mutation};
use crate::schema::{ActionDecl, Effect, Entity, Schema, Setting, Subject, ValueKind, ValueProblem};

/// How long an invitation is valid when steward.yaml does not say (Q3).
pub const DEFAULT_INVITATION_VALIDITY: SignedDuration = SignedDuration::from_hours(14 * 24);

/// One operation on one account: the outcome of a plan item.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a> {
    /// The model the action is declared in.
    pub schema: &'a Schema,
    /// What is done: an action, or the fallback action of a plan item.
    pub outcome: &'a str,
    /// The user acted on (for an action on addresses, the new user: the
    /// address).
    pub user: &'a str,
    /// The environment.
    pub env: &'a str,
    /// The item's value, of the kind the action takes.
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
    /// The declaration of the operation's action; an action the schema
    /// does not declare is one apply does not execute.
    pub fn spec(&self) -> Result<&'a ActionDecl, OperationError> {
        self.schema.action(self.outcome).ok_or_else(|| self.unsupported())
    }

    /// Checks the operation's value without a directory: what a plan checks
    /// before deciding anything. Whether apply executes the action is asked
    /// of `mutations`: a plan of it is still a dry run of its decisions.
    pub fn check(&self) -> Result<(), OperationError> {
        let spec = self.spec()?;
        if spec.subject == Subject::Addresses && !looks_like_email(self.user) {
            return Err(self.invalid(self.user, "an e-mail address such as `ann@example.com`".to_owned()));
        }
        match (self.value, spec.required()) {
            (None, Some(what)) => return Err(self.missing(what)),
            (None, None) => return Ok(()),
            (Some(value), _) => match spec.check_value(value) {
                Ok(()) => {}
                Err(ValueProblem::Invalid { value, expected }) => return Err(self.invalid(&value, expected)),
                Err(ValueProblem::NotTaken) => {
                    let takers = self.schema.action_list(|a| a.value != ValueKind::None);
                    return Err(self.invalid(value, format!("it takes none (only {takers} take a value)")));
                }
            },
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
        let spec = self.spec()?;
        let before = directory.account(self.user, self.env);
        let existing = || before.ok_or_else(|| self.no_account());
        let changed = |edit: &dyn Fn(&mut Account)| -> Result<Option<Account>, OperationError> {
            let mut account = existing()?.clone();
            edit(&mut account);
            Ok(Some(account))
        };
        let mut after = match &spec.effect {
            Some(Effect::Remove) => None,
            // Into a status that expires: an invitation from now (kept if
            // it already waits on one); out of it: none.
            Some(Effect::Move(status)) => changed(&|a| {
                if !self.schema.expires(status) {
                    a.invited_until = None;
                } else if a.invited_until.is_none() {
                    a.invited_until = Some(now.checked_add(validity).unwrap_or(now));
                }
                a.status = status.as_str().into();
            })?,
            Some(Effect::Renew) => {
                let until = now.checked_add(validity).unwrap_or(now);
                changed(&|a| a.invited_until = Some(until))?
            }
            Some(Effect::Set(settings)) => changed(&|a| self.set(a, settings))?,
            Some(Effect::Create(status)) if spec.subject == Subject::Addresses => {
                Some(self.invitation(status, now, validity))
            }
            Some(Effect::Create(status)) => Some(self.home_copy(status, directory, now, validity)?),
            // Nothing the license counts read changes.
            None => before.cloned(),
        };
        // An option's settings are part of what apply executes: an action it
        // does not execute changes nothing, in the preview either.
        if let (Some(account), Some(option), Some(_)) =
            (after.as_mut(), spec.option(self.value), &spec.effect)
        {
            self.set(account, &option.settings);
        }
        Ok(AccountChange { before, after })
    }

    /// What `settings` make of `account` (the user's fields are not the
    /// account's: `mutations` writes those).
    fn set(&self, account: &mut Account, settings: &[Setting]) {
        for setting in settings {
            match setting {
                Setting::Email => account.email = self.value.map(str::to_owned),
                Setting::Name => account.name = self.value.unwrap_or_default().to_owned(),
                Setting::Kind(kind) => account.kind = kind.as_str().into(),
                Setting::Attr { entity: Entity::Account, name, value } => {
                    account.attrs.insert(name.clone(), AttrValue::from(value));
                }
                Setting::Attr { .. } => {}
            }
        }
    }

    /// The changes `apply` makes to the store.
    pub fn mutations(
        &self,
        directory: &Directory,
        now: Timestamp,
        validity: SignedDuration,
    ) -> Result<Vec<Mutation>, OperationError> {
        let spec = self.spec()?;
        let effect = spec.effect.as_ref().ok_or_else(|| self.unsupported())?;
        let change = self.preview(directory, now, validity)?;
        let (user, env) = (self.user.to_owned(), self.env.to_owned());
        let after = || change.after.clone().ok_or_else(|| self.no_account());
        // What the effect sets and what the chosen option sets, written
        // alike: apply writes every field the preview changed.
        let mut settings: Vec<&Setting> =
            spec.option(self.value).map(|o| o.settings.iter().collect()).unwrap_or_default();
        if let Effect::Set(own) = effect {
            settings.extend(own);
        }
        let set_fields = |account: &Account, created: bool| -> Vec<Mutation> {
            let mut out = Vec::new();
            let field = |field, value: Option<&str>| Mutation::SetField {
                user: user.clone(),
                env: env.clone(),
                field,
                value: value.map(str::to_owned),
            };
            let mut kind_changed = false;
            for setting in &settings {
                let account_attr = matches!(setting, Setting::Attr { entity: Entity::Account, .. });
                match setting {
                    // A new account is written whole.
                    Setting::Email | Setting::Name | Setting::Kind(_) if created => {}
                    Setting::Attr { .. } if created && account_attr => {}
                    Setting::Email => out.push(field(AccountField::Email, self.value)),
                    Setting::Name => out.push(field(AccountField::Name, self.value)),
                    Setting::Kind(_) => kind_changed = true,
                    Setting::Attr { entity, name, value } => out.push(Mutation::SetAttr {
                        user: user.clone(),
                        env: (*entity == Entity::Account).then(|| env.clone()),
                        name: name.clone(),
                        value: AttrValue::from(value),
                    }),
                }
            }
            if kind_changed {
                out.push(Mutation::SetKind {
                    user: user.clone(),
                    env: env.clone(),
                    kind: account.kind.clone(),
                });
            }
            out
        };
        Ok(match effect {
            Effect::Remove => vec![Mutation::DeleteAccount { user, env }],
            Effect::Move(_) => {
                let account = after()?;
                let mut out = set_fields(&account, false);
                let moved = match (change.before.and_then(|b| b.invited_until), account.invited_until) {
                    (Some(_), None) => Mutation::Register { user, env, status: account.status },
                    (before, Some(until)) if before != Some(until) => {
                        out.push(Mutation::SetInvitedUntil { user: user.clone(), env: env.clone(), until });
                        Mutation::SetStatus { user, env, status: account.status }
                    }
                    _ => Mutation::SetStatus { user, env, status: account.status },
                };
                out.insert(0, moved);
                out
            }
            Effect::Renew => {
                let account = after()?;
                let mut out = set_fields(&account, false);
                if let Some(until) = account.invited_until {
                    out.insert(0, Mutation::SetInvitedUntil { user, env, until });
                }
                out
            }
            Effect::Set(_) => set_fields(&after()?, false),
            Effect::Create(_) => {
                let account = after()?;
                let extra = set_fields(&account, true);
                let mut out = Vec::with_capacity(2);
                // Someone the directory does not know yet joins with the
                // environment as home.
                if spec.subject == Subject::Addresses && directory.user(self.user).is_none() {
                    out.push(Mutation::CreateUser(User {
                        id: user.into(),
                        home: env.into(),
                        attrs: Attrs::default(),
                    }));
                }
                out.push(Mutation::CreateAccount(account));
                out.extend(extra);
                out
            }
        })
    }

    /// A new account for an invited address (Q3): pending until accepted,
    /// with an expiry when its status expires.
    fn invitation(&self, status: &str, now: Timestamp, validity: SignedDuration) -> Account {
        let name = self.user.split('@').next().unwrap_or(self.user);
        Account {
            user: self.user.to_owned().into(),
            env: self.env.to_owned().into(),
            status: status.into(),
            kind: self.schema.default_account_kind().into(),
            name: name.to_owned(),
            email: Some(self.user.to_owned()),
            roles: Vec::new(),
            invited_until: self.schema.expires(status).then(|| now.checked_add(validity).unwrap_or(now)),
            attrs: Attrs::default(),
        }
    }

    /// A user's new account from their home account (a guest in a
    /// customer environment, G10): name and e-mail from home (G5), no
    /// roles yet (the customer decides them, G4); kind and attributes
    /// (portal access, G12) as the chosen option sets them.
    fn home_copy(
        &self,
        status: &str,
        directory: &Directory,
        now: Timestamp,
        validity: SignedDuration,
    ) -> Result<Account, OperationError> {
        let home = directory
            .user(self.user)
            .and_then(|u| directory.account(self.user, &u.home))
            .ok_or_else(|| self.no_account())?;
        Ok(Account {
            user: self.user.to_owned().into(),
            env: self.env.to_owned().into(),
            status: status.into(),
            kind: self.schema.default_account_kind().into(),
            name: home.name.clone(),
            email: home.email.clone(),
            roles: Vec::new(),
            invited_until: self.schema.expires(status).then(|| now.checked_add(validity).unwrap_or(now)),
            attrs: Attrs::default(),
        })
    }

    fn missing(&self, what: &'static str) -> OperationError {
        OperationError::MissingValue { action: self.outcome.to_owned(), user: self.user.to_owned(), what }
    }

    fn invalid(&self, value: &str, expected: String) -> OperationError {
        OperationError::InvalidValue { action: self.outcome.to_owned(), value: value.to_owned(), expected }
    }

    fn unsupported(&self) -> OperationError {
        OperationError::Unsupported {
            action: self.outcome.to_owned(),
            executed: self.schema.action_list(ActionDecl::executed),
        }
    }

    fn no_account(&self) -> OperationError {
        OperationError::NoAccount { user: self.user.to_owned(), env: self.env.to_owned() }
    }
}

pub use crate::schema::looks_like_email;

#[cfg(test)]
mod tests {
    use super::*;

    fn op(outcome: &'static str, value: Option<&'static str>) -> Operation<'static> {
        let schema: &'static Schema = Box::leak(Box::new((*crate::policy::declare::standard()).clone()));
        Operation { schema, outcome, user: "u", env: "E", value }
    }

    #[test]
    fn addresses_need_one_at_sign_and_no_spaces() {
        assert!(looks_like_email("ann@example.com"));
        for bad in ["ann", "@example.com", "ann@", "a@b@c", "ann smith@example.com", ""] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }

    #[test]
    fn values_are_checked_before_anything_is_decided() {
        assert!(matches!(op("edit_email", None).check(), Err(OperationError::MissingValue { .. })));
        assert!(matches!(op("edit_email", Some("nope")).check(), Err(OperationError::InvalidValue { .. })));
        assert!(op("edit_email", Some("u@example.com")).check().is_ok());
        assert!(matches!(op("edit_name", Some("  ")).check(), Err(OperationError::InvalidValue { .. })));
        let err = op("add_guest", Some("admin")).check().unwrap_err();
        assert!(err.to_string().ends_with("`system` (the default) or `normal`"), "{err}");
        assert!(op("add_guest", Some("normal")).check().is_ok());
        assert!(op("merge", None).check().is_ok(), "planned, decided; apply refuses it");
        assert!(matches!(
            op("block", Some("oops@example.com")).check(),
            Err(OperationError::InvalidValue { .. })
        ));
    }

    #[test]
    fn the_messages_name_the_actions_from_the_schema() {
        let directory = Directory::default();
        let err = op("merge", None)
            .mutations(&directory, Timestamp::UNIX_EPOCH, DEFAULT_INVITATION_VALIDITY)
            .unwrap_err();
        let OperationError::Unsupported { executed, .. } = &err else { panic!("{err:?}") };
        assert!(executed.starts_with("invite, register,") && executed.ends_with(" and convert_to_normal"));
        let value = op("block", Some("x")).check().unwrap_err();
        assert!(
            value.to_string().ends_with("(only edit_email, edit_name and add_guest take a value)"),
            "{value}"
        );
    }

    #[test]
    fn a_value_reads_after_the_target_with_the_default_option_shown() {
        let schema = crate::policy::declare::standard();
        let action = |name| schema.action(name).unwrap();
        assert_eq!(action("add_guest").value_text(None).as_deref(), Some("as system"));
        assert_eq!(action("add_guest").value_text(Some("normal")).as_deref(), Some("as normal"));
        assert_eq!(action("edit_name").value_text(Some("Ann")).as_deref(), Some("→ Ann"));
        assert_eq!(action("delete").value_text(None), None);
    }

    /// The dry run is what apply does, for every effect a schema can
    /// declare: the account a preview shows is the account the mutations
    /// leave, options' settings and invitation expiries included.
    #[test]
    fn the_preview_is_what_the_mutations_write_for_every_effect() {
        let text = r#"
schema {
  environment kind prod live
  status on counts login
  status off
  status waiting expires
  account kind user
  account kind bot counts never
  attribute account.portal: boolean = false
  attribute user.guest_license: boolean = false
  action revive on account from off takes one of asbot { kind = bot }, asuser { kind = user } -> on
  action park on account from on -> waiting
  action renew on account from waiting renews
  action grant on account takes one of yes { user.guest_license = true } sets portal = true
  action onboard on user creates waiting
  action rename on account takes name sets name = value
  action invite on addresses creates waiting
}
"#;
        let mut sources = crate::policy::Sources::new();
        sources.add("s.policy", text);
        let set = crate::policy::PolicySet::from_sources(sources).unwrap().set;
        let schema = set.schema().clone();
        let yaml = "environments: [{ id: A, license: L, kind: prod }, { id: B, license: L, kind: prod }]\n\
            users:\n\
            - { id: bob, home: A, accounts: [{ env: A, status: off, name: Bob, email: bob@x.example }] }\n\
            - { id: cy, home: A, accounts: [{ env: A, status: on, name: Cy, email: cy@x.example }] }\n";
        let directory = crate::directory::yaml::parse("d.yaml", yaml, &schema).unwrap();
        let now: Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
        let validity = DEFAULT_INVITATION_VALIDITY;
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("revive", "bob", "A", Some("asbot")),
            ("park", "cy", "A", None),
            ("grant", "cy", "A", Some("yes")),
            ("onboard", "cy", "B", None),
            ("rename", "cy", "A", Some("Cyrus")),
            ("invite", "new@x.example", "A", None),
        ];
        for &(outcome, user, env, value) in cases {
            let op = Operation { schema: &schema, outcome, user, env, value };
            let preview = op.preview(&directory, now, validity).unwrap().after.unwrap();
            let mutations = op.mutations(&directory, now, validity).unwrap();
            let after = directory.clone().mutated(&mutations);
            assert_eq!(after.account(user, env), Some(&preview), "{outcome}: {mutations:?}");
            if outcome == "grant" {
                assert_eq!(
                    after.user("cy").unwrap().attrs.get("guest_license"),
                    Some(&crate::directory::model::AttrValue::Bool(true)),
                    "the option's user setting is written"
                );
            }
        }
        // Into a status that expires, the invitation runs from now; renewed
        // from a later clock, it moves.
        let parked = directory.clone().mutated(
            &Operation { schema: &schema, outcome: "park", user: "cy", env: "A", value: None }
                .mutations(&directory, now, validity)
                .unwrap(),
        );
        assert_eq!(parked.account("cy", "A").unwrap().invited_until, now.checked_add(validity).ok());
        let later = now.checked_add(SignedDuration::from_hours(1)).unwrap();
        let renew = Operation { schema: &schema, outcome: "renew", user: "cy", env: "A", value: None };
        let renewed = parked.clone().mutated(&renew.mutations(&parked, later, validity).unwrap());
        assert_eq!(renewed.account("cy", "A").unwrap().invited_until, later.checked_add(validity).ok());
    }
}
