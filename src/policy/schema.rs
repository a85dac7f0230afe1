//! The schema policies are checked against: the attributes every entity
//! has whatever the schema (the shape of the directory: ids, links,
//! statuses, kinds) with their types, and the vocabularies they take from
//! the declared schema. What the schema declares beyond them (the standard
//! schema's `portal`, `guest_license`, ...) is read through `attrs`.
//!
//! It is data, not code paths: the validator and the compiler read it, and
//! docs/language.md lists the same table.

use crate::schema::{Entity, Schema};

/// The kinds of entity an expression can denote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A user's record in one environment.
    Account,
    /// An identity.
    User,
    /// An environment.
    Environment,
    /// An asset.
    Asset,
    /// The request itself.
    Request,
}

impl EntityKind {
    /// How the kind is named in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityKind::Account => "an account",
            EntityKind::User => "a user",
            EntityKind::Environment => "an environment",
            EntityKind::Asset => "an asset",
            EntityKind::Request => "the request",
        }
    }
}

/// A closed vocabulary an attribute takes its values from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vocabulary {
    /// The declared account statuses.
    Status,
    /// The declared account kinds.
    AccountKind,
    /// The declared environment kinds.
    EnvKind,
    /// The declared asset kinds.
    AssetKind,
    /// The types the declared asset kinds have.
    SpaceType,
    /// The declared actions.
    Action,
    /// The options of a declared `one of` attribute: its index among the
    /// schema's attributes.
    Options(u16),
}

impl Vocabulary {
    /// Every valid spelling under `schema`.
    pub fn names(self, schema: &Schema) -> Vec<&str> {
        match self {
            Vocabulary::Status => schema.statuses.iter().map(|s| s.name.as_str()).collect(),
            Vocabulary::AccountKind => schema.account_kinds.iter().map(|k| k.name.as_str()).collect(),
            Vocabulary::EnvKind => schema.env_kinds.iter().map(|k| k.name.as_str()).collect(),
            Vocabulary::AssetKind => schema.asset_kinds.iter().map(|k| k.name.as_str()).collect(),
            Vocabulary::SpaceType => {
                let mut types: Vec<&str> =
                    schema.asset_kinds.iter().flat_map(|k| &k.types).map(String::as_str).collect();
                types.dedup();
                types
            }
            Vocabulary::Action => schema.action_names().collect(),
            Vocabulary::Options(index) => match schema.attributes.get(usize::from(index)).map(|a| &a.ty) {
                Some(crate::schema::AttrType::OneOf(options)) => options.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            },
        }
    }

    /// Whether `value` is in the vocabulary under `schema`.
    pub fn contains(self, schema: &Schema, value: &str) -> bool {
        self.names(schema).contains(&value)
    }
}

/// The static type of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// true or false.
    Bool,
    /// A whole number.
    Int,
    /// Text.
    Str,
    /// A calendar date.
    Date,
    /// An instant.
    DateTime,
    /// One value of a closed vocabulary (compares with strings).
    Enum(Vocabulary),
    /// A set of strings (roles, asset ids, e-mail addresses).
    StrSet,
    /// A list literal with elements of one type (`None` when empty).
    List(Option<Box<Type>>),
    /// An entity.
    Entity(EntityKind),
    /// A free-form attribute: checked when evaluated.
    Any,
}

impl Type {
    /// How the type is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Type::Bool => "a boolean".into(),
            Type::Int => "a number".into(),
            Type::Str => "a string".into(),
            Type::Date => "a date".into(),
            Type::DateTime => "a date-time".into(),
            Type::Enum(_) => "a string".into(),
            Type::StrSet => "a set of strings".into(),
            Type::List(_) => "a list".into(),
            Type::Entity(kind) => kind.as_str().into(),
            Type::Any => "a free-form attribute".into(),
        }
    }

    /// Whether values of this type compare with strings.
    pub fn is_stringy(&self) -> bool {
        matches!(self, Type::Str | Type::Enum(_) | Type::Any | Type::Entity(_))
    }
}

/// An attribute an entity has: its type, whether it may be unset, and the
/// field the compiler resolves it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// The name in policies.
    pub name: &'static str,
    /// Its field.
    pub field: Field,
    /// May be unset (read it after `has`).
    pub optional: bool,
}

/// Every attribute of every entity, resolved at compile time so that the
/// evaluator never looks a name up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Field {
    AccountUser,
    AccountEnv,
    AccountStatus,
    AccountKind,
    AccountName,
    AccountEmail,
    AccountRoles,
    AccountInvitedUntil,
    UserId,
    UserHome,
    EnvId,
    EnvLicense,
    EnvKind,
    AssetId,
    AssetKind,
    AssetEnv,
    AssetOwner,
    AssetSpaceType,
    AssetSpace,
    AssetUses,
    RequestAction,
    RequestBulk,
    RequestBatchSize,
    RequestNow,
    RequestReason,
    RequestConfirm,
    RequestValue,
    RequestTo,
    RequestEmails,
    RequestMethod,
}

impl Field {
    /// The static type of the field's value.
    pub fn ty(self) -> Type {
        use Field::*;
        match self {
            AccountUser => Type::Entity(EntityKind::User),
            AccountEnv | UserHome | AssetEnv => Type::Entity(EntityKind::Environment),
            AccountStatus => Type::Enum(Vocabulary::Status),
            AccountKind => Type::Enum(Vocabulary::AccountKind),
            AccountName | AccountEmail | UserId | EnvId | EnvLicense | AssetId => Type::Str,
            RequestReason | RequestValue | RequestMethod => Type::Str,
            AccountRoles | AssetUses | RequestEmails => Type::StrSet,
            RequestBulk | RequestConfirm => Type::Bool,
            AccountInvitedUntil | RequestNow => Type::DateTime,
            EnvKind => Type::Enum(Vocabulary::EnvKind),
            Field::AssetKind => Type::Enum(Vocabulary::AssetKind),
            AssetOwner | RequestTo => Type::Entity(EntityKind::Account),
            AssetSpaceType => Type::Enum(Vocabulary::SpaceType),
            AssetSpace => Type::Entity(EntityKind::Asset),
            RequestAction => Type::Enum(Vocabulary::Action),
            RequestBatchSize => Type::Int,
        }
    }
}

const fn attr(name: &'static str, field: Field, optional: bool) -> Attribute {
    Attribute { name, field, optional }
}

const ACCOUNT: &[Attribute] = &[
    attr("user", Field::AccountUser, false),
    attr("env", Field::AccountEnv, false),
    attr("status", Field::AccountStatus, false),
    attr("kind", Field::AccountKind, false),
    attr("name", Field::AccountName, false),
    attr("email", Field::AccountEmail, true),
    attr("roles", Field::AccountRoles, false),
    attr("invited_until", Field::AccountInvitedUntil, true),
];

const USER: &[Attribute] = &[attr("id", Field::UserId, false), attr("home", Field::UserHome, false)];

const ENVIRONMENT: &[Attribute] = &[
    attr("id", Field::EnvId, false),
    attr("license", Field::EnvLicense, false),
    attr("kind", Field::EnvKind, false),
];

const ASSET: &[Attribute] = &[
    attr("id", Field::AssetId, false),
    attr("kind", Field::AssetKind, false),
    attr("env", Field::AssetEnv, false),
    attr("owner", Field::AssetOwner, true),
    attr("space_type", Field::AssetSpaceType, true),
    attr("space", Field::AssetSpace, true),
    attr("uses", Field::AssetUses, false),
];

const REQUEST: &[Attribute] = &[
    attr("action", Field::RequestAction, false),
    attr("bulk", Field::RequestBulk, false),
    attr("batch_size", Field::RequestBatchSize, false),
    attr("now", Field::RequestNow, false),
    attr("reason", Field::RequestReason, true),
    attr("confirm", Field::RequestConfirm, false),
    attr("value", Field::RequestValue, true),
    attr("to", Field::RequestTo, true),
    attr("emails", Field::RequestEmails, false),
    attr("method", Field::RequestMethod, true),
];

/// The attributes of an entity kind.
pub fn attributes(kind: EntityKind) -> &'static [Attribute] {
    match kind {
        EntityKind::Account => ACCOUNT,
        EntityKind::User => USER,
        EntityKind::Environment => ENVIRONMENT,
        EntityKind::Asset => ASSET,
        EntityKind::Request => REQUEST,
    }
}

/// The entity kind of a schema's entity.
pub const fn entity_kind(entity: Entity) -> EntityKind {
    match entity {
        Entity::Account => EntityKind::Account,
        Entity::User => EntityKind::User,
        Entity::Environment => EntityKind::Environment,
        Entity::Asset => EntityKind::Asset,
    }
}

/// The schema's entity of an entity kind; `None` for the request, which
/// has no declared attributes.
pub const fn schema_entity(kind: EntityKind) -> Option<Entity> {
    match kind {
        EntityKind::Account => Some(Entity::Account),
        EntityKind::User => Some(Entity::User),
        EntityKind::Environment => Some(Entity::Environment),
        EntityKind::Asset => Some(Entity::Asset),
        EntityKind::Request => None,
    }
}

/// Whether entities of this kind carry free-form `attrs`.
pub fn has_free_attrs(kind: EntityKind) -> bool {
    !matches!(kind, EntityKind::Request)
}

/// The attribute `name` of `kind`.
pub fn attribute(kind: EntityKind, name: &str) -> Option<Attribute> {
    attributes(kind).iter().find(|a| a.name == name).copied()
}

/// What a lifecycle block says happens to an owned asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Consequence {
    /// It needs a new owner (D3, D6).
    Reassign,
    /// It is revoked (API keys, D6).
    Revoke,
    /// It is removed (alerts, notifications, Q8).
    Remove,
    /// It is disabled (alerts on block, Q4).
    Disable,
}

impl Consequence {
    /// Every consequence.
    pub const ALL: &'static [Consequence] =
        &[Consequence::Reassign, Consequence::Revoke, Consequence::Remove, Consequence::Disable];

    /// The keyword.
    pub const fn as_str(self) -> &'static str {
        match self {
            Consequence::Reassign => "reassign",
            Consequence::Revoke => "revoke",
            Consequence::Remove => "remove",
            Consequence::Disable => "disable",
        }
    }

    /// The consequence with this keyword.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}
