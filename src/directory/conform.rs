//! A directory held to a [`Schema`]: every status, kind and space type
//! declared, every attribute declared and of its type (dates read from
//! their text). The file loader checks the same with positions as it
//! reads; this is the check of a directory that has none, a database
//! loaded for a policy set.

use jiff::Timestamp;
use jiff::civil::Date;

use super::Directory;
use super::model::{AttrValue, Attrs};
use crate::schema::{AttrType, Entity, Schema};

/// Holds `attrs` of one `entity` to `schema`: where the schema declares
/// attributes of the entity, each key must be declared and of its type
/// (a date or date-time given as text becomes one) and each required one
/// present. The problems, one sentence each with the key it is about
/// (none for a missing one); `attrs` typed in place.
pub fn attrs(schema: &Schema, entity: Entity, attrs: &mut Attrs) -> Vec<(Option<String>, String)> {
    attrs_shown(schema, entity, attrs, &[])
}

/// [`attrs`] of an entry that gave the keys `top` at its top level, not
/// under `attrs:`: the problems name them as written.
pub fn attrs_shown(
    schema: &Schema,
    entity: Entity,
    attrs: &mut Attrs,
    top: &[&str],
) -> Vec<(Option<String>, String)> {
    if !schema.declares_attributes(entity) {
        return Vec::new();
    }
    let closed = schema.closed(entity);
    let mut problems = Vec::new();
    for (key, value) in attrs.iter_mut() {
        let Some(decl) = schema.attribute(entity, key) else {
            if !closed {
                continue;
            }
            let names: Vec<&str> = schema.attributes_of(entity).map(|a| a.name.as_str()).collect();
            let hint = match crate::diagnostic::did_you_mean(key, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the schema declares {}", names.join(", ")),
            };
            let problem = format!(
                "`attrs.{key}` is not an attribute the schema declares for {} ({hint})",
                entity.as_str()
            );
            problems.push((Some(key.clone()), problem));
            continue;
        };
        if let Some(typed) = typed(&decl.ty, value) {
            *value = typed;
        } else {
            let shown = if top.contains(&key.as_str()) { key.clone() } else { format!("attrs.{key}") };
            problems.push((
                Some(key.clone()),
                format!("`{shown}` is {}, not {}", describe(value), decl.ty.describe()),
            ));
        }
    }
    for decl in schema.attributes_of(entity).filter(|a| !a.optional && a.default.is_none()) {
        if !attrs.contains_key(&decl.name) {
            problems.push((
                None,
                format!(
                    "`attrs.{}` is missing: the schema declares it required ({}); mark it `?` to make it optional",
                    decl.name,
                    decl.ty.describe()
                ),
            ));
        }
    }
    problems
}

/// The attribute `name` of an entity whose attributes are `attrs`: its
/// value, or the schema's default for it when the entity leaves it out.
/// For the code that reads a declared attribute outside a policy (what
/// `show` prints, what a declared check reads); a decision reads through
/// its compiled path instead.
pub fn value<'a>(
    schema: &Schema,
    entity: Entity,
    attrs: &'a Attrs,
    name: &str,
) -> Option<std::borrow::Cow<'a, AttrValue>> {
    match attrs.get(name) {
        Some(v) => Some(std::borrow::Cow::Borrowed(v)),
        None => {
            let default = schema.attribute(entity, name)?.default.as_ref()?;
            Some(std::borrow::Cow::Owned(AttrValue::from(default)))
        }
    }
}

/// Whether `env`'s users come from an identity provider, as the schema's
/// `identity provider when ...` says: every attribute it names has its
/// value (or defaults to it). Nothing is allocated: decisions ask it.
pub fn on_identity_provider(schema: &Schema, env: &super::model::Environment) -> bool {
    !schema.identity_provider.is_empty()
        && schema.identity_provider.iter().all(|(name, wanted)| match env.attrs.get(name) {
            Some(value) => is(value, wanted),
            None => schema
                .attribute(Entity::Environment, name)
                .and_then(|d| d.default.as_ref())
                .is_some_and(|default| default == wanted),
        })
}

/// Whether an attribute's value is the schema's constant.
fn is(value: &AttrValue, literal: &crate::schema::Literal) -> bool {
    use crate::schema::Literal;
    match (value, literal) {
        (AttrValue::Bool(a), Literal::Bool(b)) => a == b,
        (AttrValue::Int(a), Literal::Int(b)) => a == b,
        (AttrValue::Str(a), Literal::Str(b)) => a == b,
        _ => false,
    }
}

/// `value` as an attribute of type `ty`, or `None` when it is not one.
fn typed(ty: &AttrType, value: &AttrValue) -> Option<AttrValue> {
    Some(match (ty, value) {
        (AttrType::String | AttrType::User, AttrValue::Str(_))
        | (AttrType::Integer, AttrValue::Int(_))
        | (AttrType::Boolean, AttrValue::Bool(_))
        | (AttrType::Date, AttrValue::Date(_))
        | (AttrType::DateTime, AttrValue::DateTime(_)) => value.clone(),
        (AttrType::Date, AttrValue::Str(text)) => AttrValue::Date(text.parse::<Date>().ok()?),
        (AttrType::DateTime, AttrValue::Str(text)) => AttrValue::DateTime(text.parse::<Timestamp>().ok()?),
        (AttrType::Set, AttrValue::List(items)) if items.iter().all(|i| matches!(i, AttrValue::Str(_))) => {
            value.clone()
        }
        (AttrType::OneOf(names), AttrValue::Str(text)) if names.contains(text) => value.clone(),
        _ => return None,
    })
}

fn describe(value: &AttrValue) -> String {
    match value {
        AttrValue::Bool(b) => format!("`{b}`"),
        AttrValue::Int(i) => format!("`{i}`"),
        AttrValue::Str(s) => format!("`{s:?}`"),
        AttrValue::List(_) => "a list".to_owned(),
        AttrValue::Date(d) => format!("the date `{d}`"),
        AttrValue::DateTime(t) => format!("the instant `{t}`"),
    }
}

/// Holds a whole directory to `schema`: the problems, each naming its
/// entity. The attributes are typed in place where the schema declares
/// any (no index reads them: the directory keeps its indexes and hints);
/// otherwise the directory is returned as it came.
pub fn directory(schema: &Schema, mut directory: Directory) -> Result<Directory, Vec<String>> {
    let mut problems = Vec::new();
    for env in directory.environments() {
        if schema.env_kind(&env.kind).is_none() {
            let kinds: Vec<&str> = schema.env_kinds.iter().map(|k| k.name.as_str()).collect();
            problems.push(format!(
                "environment `{}`: `{}` is not an environment kind ({})",
                env.id,
                env.kind,
                kinds.join(", ")
            ));
        }
    }
    let statuses: Vec<&str> = schema.statuses.iter().map(|s| s.name.as_str()).collect();
    let kinds: Vec<&str> = schema.account_kinds.iter().map(|k| k.name.as_str()).collect();
    for account in directory.accounts() {
        let who = || format!("the account of `{}` in `{}`", account.user, account.env);
        if schema.status(&account.status).is_none() {
            problems.push(format!(
                "{}: `{}` is not a status ({})",
                who(),
                account.status,
                statuses.join(", ")
            ));
        }
        if account.invited_until.is_some() && !schema.expires(&account.status) {
            problems.push(format!(
                "{}: `invited_until` is set, but `{}` is not a status that expires",
                who(),
                account.status
            ));
        }
        if schema.account_kind(&account.kind).is_none() {
            problems.push(format!(
                "{}: `{}` is not an account kind ({})",
                who(),
                account.kind,
                kinds.join(", ")
            ));
        }
    }
    for asset in directory.assets() {
        match schema.asset_kind(&asset.kind) {
            None => problems.push(format!("asset `{}`: `{}` is not an asset kind", asset.id, asset.kind)),
            Some(kind) => match &asset.space_type {
                Some(t) if !kind.types.is_empty() && !kind.types.iter().any(|k| k == t) => {
                    problems.push(format!(
                        "asset `{}`: `{t}` is not a type of `{}` ({})",
                        asset.id,
                        kind.name,
                        kind.types.join(", ")
                    ))
                }
                None if !kind.types.is_empty() => {
                    problems.push(format!(
                        "asset `{}`: a `{}` needs a `space_type` ({})",
                        asset.id,
                        kind.name,
                        kind.types.join(", ")
                    ));
                }
                Some(t) if kind.types.is_empty() => {
                    problems.push(format!(
                        "asset `{}`: a `{}` has no types, and this one says `{t}`",
                        asset.id, kind.name
                    ));
                }
                _ => {}
            },
        }
    }
    for asset in directory.assets() {
        let Some(space) = &asset.space else { continue };
        let kind = directory.asset(space).map(|s| s.kind.as_str());
        if let Some(kind) = kind.filter(|k| !schema.asset_kind(k).is_some_and(|k| k.contains)) {
            problems.push(format!(
                "asset `{}`: it sits in `{space}`, a `{kind}`, which holds no other assets",
                asset.id
            ));
        }
    }
    // Attributes that name a user name one of this directory.
    let refs = schema.attributes.iter().filter(|a| a.ty == AttrType::User);
    for decl in refs {
        let named = |attrs: &super::model::Attrs| match attrs.get(&decl.name) {
            Some(AttrValue::Str(user)) if directory.user(user).is_none() => Some(user.clone()),
            _ => None,
        };
        let mut unknown = |what: String, user: String| {
            problems.push(format!("{what}: `attrs.{}` names `{user}`, who is not a user", decl.name));
        };
        match decl.entity {
            Entity::User => directory.users().iter().for_each(|u| {
                if let Some(n) = named(&u.attrs) {
                    unknown(format!("user `{}`", u.id), n);
                }
            }),
            Entity::Account => directory.accounts().iter().for_each(|a| {
                if let Some(n) = named(&a.attrs) {
                    unknown(format!("the account of `{}` in `{}`", a.user, a.env), n);
                }
            }),
            Entity::Environment => directory.environments().iter().for_each(|e| {
                if let Some(n) = named(&e.attrs) {
                    unknown(format!("environment `{}`", e.id), n);
                }
            }),
            Entity::Asset => directory.assets().iter().for_each(|a| {
                if let Some(n) = named(&a.attrs) {
                    unknown(format!("asset `{}`", a.id), n);
                }
            }),
        }
    }
    let declares = Entity::ALL.into_iter().any(|e| schema.declares_attributes(e));
    if !declares {
        return if problems.is_empty() { Ok(directory) } else { Err(problems) };
    }
    let (environments, users, accounts, assets) = directory.entities_mut();
    for env in environments {
        for (_, p) in attrs(schema, Entity::Environment, &mut env.attrs) {
            problems.push(format!("environment `{}`: {p}", env.id));
        }
    }
    for user in users {
        for (_, p) in attrs(schema, Entity::User, &mut user.attrs) {
            problems.push(format!("user `{}`: {p}", user.id));
        }
    }
    for account in accounts {
        for (_, p) in attrs(schema, Entity::Account, &mut account.attrs) {
            problems.push(format!("the account of `{}` in `{}`: {p}", account.user, account.env));
        }
    }
    for asset in assets {
        for (_, p) in attrs(schema, Entity::Asset, &mut asset.attrs) {
            problems.push(format!("asset `{}`: {p}", asset.id));
        }
    }
    if problems.is_empty() { Ok(directory) } else { Err(problems) }
}
