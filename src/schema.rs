//! The declared model: what a pack's `schema` block says exists. Account
//! statuses (which count toward a license, which may log in), account
//! kinds, asset kinds, the actions with what each acts on, takes and does,
//! and the typed attributes of each entity.
//!
//! It is data: the policy compiler builds it from the declarations (or
//! takes steward's standard schema, `schema/standard.policy`), the
//! directory is validated against it, and the decision, the graph, plans
//! and apply read it. Names are looked up here once, at compile and load
//! time; a decision indexes actions by their dense id (their order here).
//! At the crate's root, beside `source`, so that the directory and the
//! policy modules both read it without importing each other.

use std::fmt::Write as _;

/// One account status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDecl {
    /// Its name in directories and policies.
    pub name: String,
    /// Accounts in it count toward their license (P2).
    pub counts: bool,
    /// Accounts in it may log in: what "stays active" means (P7).
    pub login: bool,
    /// Accounts in it wait on an invitation that expires (Q3): creating
    /// one sets the expiry, leaving it clears it, and a move out of it
    /// needs an invitation that has not expired.
    pub expires: bool,
}

/// One environment kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvKindDecl {
    /// Its name.
    pub name: String,
    /// Its environments are the live ones, where what users are (their
    /// names and addresses) is mastered: the nightly sync reads a guest's
    /// home environment only when it is live (G5).
    pub live: bool,
}

/// Whose license an account of a kind counts toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Its environment's (the default).
    Own,
    /// Its user's home environment's (guests, G1).
    Home,
    /// None: not a member (anonymous access, D2).
    Never,
}

/// One account kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountKindDecl {
    /// Its name.
    pub name: String,
    /// Accounts of it are members of their environment: they may take
    /// assets, and steward acts on them (`nonmember`: anonymous access, D2).
    pub member: bool,
    /// Whose license it counts toward.
    pub counting: Counting,
}

/// One asset kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetKindDecl {
    /// Its name.
    pub name: String,
    /// Assets of this kind hold others (`space:` of an asset names one).
    pub contains: bool,
    /// The types an asset of this kind has (`space_type:`), required when
    /// declared, refused when not (D7).
    pub types: Vec<String>,
}

/// What an action acts on: which of `target`, `asset` and `request.emails`
/// a request names, and what a plan's items are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An account of the request's environment.
    Account,
    /// A user without an account in the environment yet, seen through
    /// their home account (adding a guest, G10).
    User,
    /// E-mail addresses, each a new account (an invitation, Q3).
    Addresses,
    /// An asset (`request.to` the new owner).
    Asset,
}

impl Subject {
    /// The keyword.
    pub const fn as_str(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::User => "user",
            Subject::Addresses => "addresses",
            Subject::Asset => "asset",
        }
    }

    /// What it acts on, in a sentence: `an account`, `e-mail addresses`.
    pub const fn noun(self) -> &'static str {
        match self {
            Subject::Account => "an account",
            Subject::User => "a user",
            Subject::Addresses => "e-mail addresses",
            Subject::Asset => "an asset",
        }
    }

    /// Whether the request names a `target` user.
    pub const fn has_target(self) -> bool {
        matches!(self, Subject::Account | Subject::User)
    }
}

/// A field an action sets, with its new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// The account's e-mail address, from the item's value.
    Email,
    /// The account's name, from the item's value.
    Name,
    /// The account's kind.
    Kind(String),
    /// A declared attribute of the account or of its user (`portal = true`,
    /// `user.guest_license = true`), checked against its type when declared.
    Attr {
        /// [`Entity::Account`] or [`Entity::User`].
        entity: Entity,
        /// The attribute's name.
        name: String,
        /// Its new value.
        value: Literal,
    },
}

/// A constant of the schema: an attribute's default, the value an action
/// sets. Dates have none: nothing in a schema needs a fixed date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Text (a `one of` attribute's option too).
    Str(String),
}

impl Literal {
    /// How it is written in the language.
    pub fn text(&self) -> String {
        match self {
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Str(s) => format!("{s:?}"),
        }
    }

    /// Whether it is a value of `ty`.
    pub fn fits(&self, ty: &AttrType) -> bool {
        match (self, ty) {
            (Literal::Bool(_), AttrType::Boolean)
            | (Literal::Int(_), AttrType::Integer)
            | (Literal::Str(_), AttrType::String | AttrType::User) => true,
            (Literal::Str(s), AttrType::OneOf(options)) => options.contains(s),
            _ => false,
        }
    }
}

/// The value an action takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    /// None: a value given is refused.
    None,
    /// An e-mail address (required).
    Email,
    /// A name (required, not blank).
    Name,
    /// Any text (required, not blank).
    Text,
    /// One of these options, the first the default; each may set fields
    /// of the account the action creates or acts on.
    OneOf(Vec<ValueOption>),
}

/// One option of a `takes one of` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueOption {
    /// Its name, as given in requests.
    pub name: String,
    /// What choosing it sets.
    pub settings: Vec<Setting>,
}

/// What an action does to what it acts on, which `apply` executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The account moves to this status.
    Move(String),
    /// The account goes (its user too when it was their last and the
    /// lifecycle block says `orphaned user -> remove`, D4).
    Remove,
    /// A new account in this status: per address (`addresses`), or from
    /// the user's home account (`user`).
    Create(String),
    /// The invitation's expiry is renewed from now (Q3).
    Renew,
    /// Fields of the account (or its user) change.
    Set(Vec<Setting>),
}

/// One action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDecl {
    /// Its name in policies, requests and plans.
    pub name: String,
    /// What it acts on.
    pub subject: Subject,
    /// The statuses the account must be in (empty: any); any other is
    /// denied by the built-in `status-transition` rule (Q4).
    pub from: Vec<String>,
    /// The value it takes.
    pub value: ValueKind,
    /// What apply does; `None`: decided, planned, never executed.
    pub effect: Option<Effect>,
    /// What one item is, in a plan's summary (`account`, `invitation`).
    pub noun: String,
    /// What the action does to it (`deleted`, `sent`).
    pub done: String,
}

impl ActionDecl {
    /// Whether `apply` executes the action.
    pub fn executed(&self) -> bool {
        self.effect.is_some()
    }

    /// Whether the action removes the account it acts on: what records
    /// that refer to the account prevent.
    pub fn removes_account(&self) -> bool {
        self.effect == Some(Effect::Remove)
    }

    /// Whether the action changes the status of the account it acts on,
    /// or removes it: what the license counts read.
    pub fn changes_status(&self) -> bool {
        matches!(self.effect, Some(Effect::Move(_) | Effect::Remove))
    }

    /// Whether the action sets the account's e-mail address.
    pub fn sets_email(&self) -> bool {
        matches!(&self.effect, Some(Effect::Set(s)) if s.contains(&Setting::Email))
    }

    /// How an item's value reads after its target: `→ new@example.com`
    /// for a new value, `as system` for an option (the default shown too).
    pub fn value_text(&self, value: Option<&str>) -> Option<String> {
        match &self.value {
            ValueKind::OneOf(options) => {
                value.or(options.first().map(|o| o.name.as_str())).map(|v| format!("as {v}"))
            }
            _ => value.map(|v| format!("→ {v}")),
        }
    }

    /// Checks a value given for the action: what `decide` refuses and a
    /// plan refuses before anything is decided. `None` given is checked by
    /// `required` where a value must be there (a plan's item, what apply
    /// writes); a decision may be asked before the value is known.
    pub fn check_value(&self, value: &str) -> Result<(), ValueProblem> {
        let invalid = |expected: String| Err(ValueProblem::Invalid { value: value.to_owned(), expected });
        match &self.value {
            ValueKind::Email if !looks_like_email(value) => {
                invalid("an e-mail address such as `ann@example.com`".to_owned())
            }
            ValueKind::Name | ValueKind::Text if value.trim().is_empty() => {
                invalid("a text that is not empty".to_owned())
            }
            ValueKind::OneOf(options) if !options.iter().any(|o| o.name == value) => {
                let mut names: Vec<String> = options.iter().map(|o| format!("`{}`", o.name)).collect();
                if let Some(first) = names.first_mut() {
                    first.push_str(" (the default)");
                }
                invalid(match names.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                    _ => names.concat(),
                })
            }
            ValueKind::None => Err(ValueProblem::NotTaken),
            _ => Ok(()),
        }
    }

    /// What the value is, when the action needs one and none is given.
    pub fn required(&self) -> Option<&'static str> {
        match self.value {
            ValueKind::Email => Some("the new e-mail address"),
            ValueKind::Name => Some("the new name"),
            ValueKind::Text => Some("a text"),
            ValueKind::None | ValueKind::OneOf(_) => None,
        }
    }

    /// The option `value` names (the first when none is given), for a
    /// `one of` value.
    pub fn option(&self, value: Option<&str>) -> Option<&ValueOption> {
        let ValueKind::OneOf(options) = &self.value else { return None };
        match value {
            None => options.first(),
            Some(v) => options.iter().find(|o| o.name == v),
        }
    }
}

/// What is wrong with a value given for an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueProblem {
    /// The action takes no value.
    NotTaken,
    /// The value is not one the action takes.
    Invalid {
        /// The value given.
        value: String,
        /// What the action takes, in words.
        expected: String,
    },
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

/// The entities attributes are declared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// Accounts.
    Account,
    /// Users.
    User,
    /// Environments.
    Environment,
    /// Assets.
    Asset,
}

impl Entity {
    /// Every entity, in the order of the keywords.
    pub const ALL: [Entity; 4] = [Entity::Account, Entity::User, Entity::Environment, Entity::Asset];

    /// The keyword.
    pub const fn as_str(self) -> &'static str {
        match self {
            Entity::Account => "account",
            Entity::User => "user",
            Entity::Environment => "environment",
            Entity::Asset => "asset",
        }
    }

    /// The entity with this keyword.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

/// The type of a declared attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrType {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// true or false.
    Boolean,
    /// A calendar date, `2026-01-31`.
    Date,
    /// An instant, `2026-01-31T09:00:00Z`.
    DateTime,
    /// A set of strings.
    Set,
    /// Another user of the directory, by id: a relation between entities
    /// (a manager, a sponsor, a deputy), compared with users in policies.
    User,
    /// One of a closed list of strings.
    OneOf(Vec<String>),
}

impl AttrType {
    /// The keywords of the types, for messages.
    pub const KEYWORDS: &'static [&'static str] =
        &["string", "integer", "boolean", "date", "datetime", "set", "user"];

    /// The type with this keyword (`one of` is its own syntax).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "string" => AttrType::String,
            "integer" => AttrType::Integer,
            "boolean" => AttrType::Boolean,
            "date" => AttrType::Date,
            "datetime" => AttrType::DateTime,
            "set" => AttrType::Set,
            "user" => AttrType::User,
            _ => return None,
        })
    }

    /// How the type is named in messages.
    pub fn describe(&self) -> String {
        match self {
            AttrType::String => "a string".into(),
            AttrType::Integer => "an integer".into(),
            AttrType::Boolean => "a boolean".into(),
            AttrType::Date => "a date such as `2026-01-31`".into(),
            AttrType::DateTime => "a date-time such as `2026-01-31T09:00:00Z`".into(),
            AttrType::Set => "a list of strings".into(),
            AttrType::User => "the id of a user of the directory".into(),
            AttrType::OneOf(names) => {
                let mut text = "one of ".to_owned();
                for (i, name) in names.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    let _ = write!(text, "{sep}`{name}`");
                }
                text
            }
        }
    }
}

/// One declared attribute (`attrs.NAME` of an entity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDecl {
    /// The entity that carries it.
    pub entity: Entity,
    /// Its key under `attrs`.
    pub name: String,
    /// Its type.
    pub ty: AttrType,
    /// May be absent (read it after `has`).
    pub optional: bool,
    /// `= VALUE`: what an entity that does not give it has, so that a
    /// directory may leave it out.
    pub default: Option<Literal>,
}

/// A declared model. Built by the policy compiler, which checks it whole
/// (every name declared once, every status an action names declared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// The environment kinds.
    pub env_kinds: Vec<EnvKindDecl>,
    /// The account statuses, in declaration order.
    pub statuses: Vec<StatusDecl>,
    /// The account kinds; the first is what a new account is unless an
    /// action sets another.
    pub account_kinds: Vec<AccountKindDecl>,
    /// The asset kinds.
    pub asset_kinds: Vec<AssetKindDecl>,
    /// The actions; an action's index is its dense id.
    pub actions: Vec<ActionDecl>,
    /// The declared attributes. An entity with none keeps free-form,
    /// untyped `attrs`; one with any accepts those alone, unless it is
    /// `open`.
    pub attributes: Vec<AttributeDecl>,
    /// The entities whose `attrs` keep undeclared keys, free-form and
    /// untyped, beside the declared ones (`attribute user.*`).
    pub open: Vec<Entity>,
    /// `identity provider when ...`: the values of declared environment
    /// attributes that, all together, say its users come from an identity
    /// provider. There, invitations are refused (`invitations-or-idp`, Q2)
    /// and a removal warns that the user comes back at their next login
    /// (`idp_recreates_user`, D5). Empty: no environment is.
    pub identity_provider: Vec<(String, Literal)>,
}

impl Schema {
    /// A SHA-256 of what the schema declares (its declarations in order,
    /// not how they were written): the store records it at import, plans
    /// carry it, and the policy set's digest covers it, so that a plan made
    /// for one model is never applied under another (the standard schema of
    /// another steward version included).
    pub fn digest(&self) -> String {
        crate::digest::sha256_hex(format!("{self:?}"))
    }

    /// The status `name`.
    pub fn status(&self, name: &str) -> Option<&StatusDecl> {
        self.statuses.iter().find(|s| s.name == name)
    }

    /// Whether accounts in status `name` count toward their license.
    pub fn counts(&self, status: &str) -> bool {
        self.status(status).is_some_and(|s| s.counts)
    }

    /// Whether accounts in status `name` may log in.
    pub fn login(&self, status: &str) -> bool {
        self.status(status).is_some_and(|s| s.login)
    }

    /// Whether accounts in status `name` wait on an expiring invitation.
    pub fn expires(&self, status: &str) -> bool {
        self.status(status).is_some_and(|s| s.expires)
    }

    /// The environment kind `name`.
    pub fn env_kind(&self, name: &str) -> Option<&EnvKindDecl> {
        self.env_kinds.iter().find(|k| k.name == name)
    }

    /// Whether environments of kind `name` are live ones.
    pub fn live(&self, kind: &str) -> bool {
        self.env_kind(kind).is_some_and(|k| k.live)
    }

    /// The account kind `name`.
    pub fn account_kind(&self, name: &str) -> Option<&AccountKindDecl> {
        self.account_kinds.iter().find(|k| k.name == name)
    }

    /// Whose license an account of kind `name` counts toward; an
    /// undeclared kind (never in a validated directory) counts as its own.
    pub fn counting(&self, kind: &str) -> Counting {
        self.account_kind(kind).map_or(Counting::Own, |k| k.counting)
    }

    /// Whether accounts of kind `name` are members of their environment.
    pub fn member(&self, kind: &str) -> bool {
        self.account_kind(kind).is_none_or(|k| k.member)
    }

    /// The kind a new account is unless an action says otherwise.
    pub fn default_account_kind(&self) -> &str {
        self.account_kinds.first().map_or("normal", |k| k.name.as_str())
    }

    /// The asset kind `name`.
    pub fn asset_kind(&self, name: &str) -> Option<&AssetKindDecl> {
        self.asset_kinds.iter().find(|k| k.name == name)
    }

    /// The dense id of action `name`.
    pub fn action_id(&self, name: &str) -> Option<usize> {
        self.actions.iter().position(|a| a.name == name)
    }

    /// The action `name`.
    pub fn action(&self, name: &str) -> Option<&ActionDecl> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// The action names, in order, for "did you mean".
    pub fn action_names(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.name.as_str())
    }

    /// The names of the actions whose declarations satisfy `keep`, for
    /// messages: `a, b and c`.
    pub fn action_list(&self, keep: impl Fn(&ActionDecl) -> bool) -> String {
        let names: Vec<&str> = self.actions.iter().filter(|a| keep(a)).map(|a| a.name.as_str()).collect();
        words(&names)
    }

    /// Whether any attribute is declared on `entity`: those are typed.
    pub fn declares_attributes(&self, entity: Entity) -> bool {
        self.attributes.iter().any(|a| a.entity == entity)
    }

    /// Whether `entity`'s `attrs` hold the declared keys alone: it
    /// declares attributes and is not `open`.
    pub fn closed(&self, entity: Entity) -> bool {
        self.declares_attributes(entity) && !self.open.contains(&entity)
    }

    /// The declared attribute `name` of `entity`.
    pub fn attribute(&self, entity: Entity, name: &str) -> Option<&AttributeDecl> {
        self.attributes.iter().find(|a| a.entity == entity && a.name == name)
    }

    /// The declared attributes of `entity`.
    pub fn attributes_of(&self, entity: Entity) -> impl Iterator<Item = &AttributeDecl> {
        self.attributes.iter().filter(move |a| a.entity == entity)
    }
}

/// Names as a sentence's list: `a`, `a and b`, `a, b and c`.
pub fn words(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
