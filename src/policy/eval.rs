//! Evaluating compiled expressions against a request and the directory.
//!
//! Values borrow from the entities where the source lends them (the
//! in-memory directory), so that a decision allocates nothing; a source that
//! hands out owned rows (SQLite) makes values own their data instead.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::ControlFlow;
use std::rc::Rc;

use jiff::Timestamp;
use jiff::civil::Date;

use super::ast::MAX_NESTING;
use super::compile::{Access, Aggregate, CExpr, CmpOp, Const, Root};
use super::request::Request;
use super::schema::Field;
use crate::directory::model::{Account, Asset, AttrValue, Environment, Id, User};
use crate::directory::{Entities, LookupError};

/// An entity borrowed from memory, or owned (read from a store). Owned
/// entities sit behind an `Rc` so that a value is two words whatever the
/// entity: values are moved and cloned on every step of an evaluation, and
/// moving a whole account each time cost more than the evaluation itself.
#[derive(Debug)]
pub enum Held<'a, T> {
    /// Borrowed from entities held in memory.
    Borrowed(&'a T),
    /// Read for this decision.
    Owned(Rc<T>),
}

impl<T> Clone for Held<'_, T> {
    fn clone(&self) -> Self {
        match self {
            Held::Borrowed(e) => Held::Borrowed(e),
            Held::Owned(e) => Held::Owned(Rc::clone(e)),
        }
    }
}

impl<T> std::ops::Deref for Held<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Held::Borrowed(e) => e,
            Held::Owned(e) => e,
        }
    }
}

impl<'a, T: Clone> From<Cow<'a, T>> for Held<'a, T> {
    fn from(entity: Cow<'a, T>) -> Self {
        match entity {
            Cow::Borrowed(e) => Held::Borrowed(e),
            Cow::Owned(e) => Held::Owned(Rc::new(e)),
        }
    }
}

/// An entity, borrowed or owned.
#[derive(Debug, Clone)]
pub enum Ent<'a> {
    /// An account.
    Account(Held<'a, Account>),
    /// A user.
    User(Held<'a, User>),
    /// An environment.
    Env(Held<'a, Environment>),
    /// An asset.
    Asset(Held<'a, Asset>),
    /// The request.
    Request,
}

impl Ent<'_> {
    /// The id an entity compares to strings with.
    fn id(&self) -> &str {
        match self {
            Ent::Account(a) => &a.user,
            Ent::User(u) => &u.id,
            Ent::Env(e) => &e.id,
            Ent::Asset(a) => &a.id,
            Ent::Request => "request",
        }
    }

    fn same(&self, other: &Ent<'_>) -> bool {
        match (self, other) {
            (Ent::Account(a), Ent::Account(b)) => a.user == b.user && a.env == b.env,
            (Ent::User(a), Ent::User(b)) => a.id == b.id,
            (Ent::Env(a), Ent::Env(b)) => a.id == b.id,
            (Ent::Asset(a), Ent::Asset(b)) => a.id == b.id,
            (Ent::Request, Ent::Request) => true,
            _ => false,
        }
    }
}

/// A runtime value.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// true or false.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Text.
    Str(Cow<'a, str>),
    /// A date.
    Date(Date),
    /// An instant.
    DateTime(Timestamp),
    /// A set of strings.
    Set(Cow<'a, [String]>),
    /// A set of ids (an asset's `uses`).
    Ids(Cow<'a, [Id]>),
    /// An entity.
    Entity(Ent<'a>),
    /// A free-form attribute.
    Attr(Cow<'a, AttrValue>),
}

/// Why a condition could not be evaluated. Fails closed: a forbid that
/// errs matches, a permit that errs does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// An optional attribute is not set (test it with `has` first).
    Unset(Box<str>),
    /// An entity a path leads to does not exist.
    Missing(Box<str>),
    /// A free-form attribute has a type the operator cannot use.
    Type(Box<str>),
    /// The directory could not answer.
    Lookup(LookupError),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Unset(path) => write!(f, "`{path}` is not set (test it with `has` first)"),
            EvalError::Missing(path) => write!(f, "`{path}` refers to an entity that does not exist"),
            EvalError::Type(what) => write!(f, "{what}"),
            EvalError::Lookup(e) => write!(f, "{e}"),
        }
    }
}

/// Everything a condition can see.
pub struct Context<'a> {
    /// Where entities come from.
    pub entities: &'a dyn Entities,
    /// The request.
    pub request: &'a Request,
    /// `request.now`, fixed for the whole decision.
    pub now: Timestamp,
    /// The actor's account in the environment.
    pub actor: Option<Held<'a, Account>>,
    /// The target account.
    pub target: Option<Held<'a, Account>>,
    /// The environment.
    pub environment: Held<'a, Environment>,
    /// The asset.
    pub asset: Option<Held<'a, Asset>>,
    /// The account bound inside `count`.
    pub bound: Option<&'a Account>,
}

type Eval<T> = Result<T, EvalError>;

impl<'a> Context<'a> {
    /// A canonical text of what `accesses` read: equal texts mean equal
    /// values (entities by id, unset as `-`).
    pub fn signature(&self, accesses: &[Access]) -> String {
        let mut out = String::new();
        for access in accesses {
            match self.access(access) {
                Ok(Some(value)) => canonical(&value, &mut out),
                Ok(None) => out.push('-'),
                Err(e) => out.push_str(&format!("!{e}")),
            }
            out.push('\u{1f}');
        }
        out
    }

    /// What `expr` evaluates to here, as a canonical text (an error as its
    /// message): equal texts mean the expression behaves alike wherever it
    /// is read. With `keyed`, a text or an entity comes back as
    /// [`Observed::Key`], the text it compares equal to strings with: two
    /// values with different keys are never equal (what the class analysis
    /// of `steward diff` needs to tell equal pairs apart without
    /// enumerating them).
    pub fn observe(&self, expr: &CExpr, keyed: bool) -> Observed {
        let mut out = String::new();
        match self.eval(expr, 1) {
            Ok(value) => {
                if keyed && let Some(key) = key_of(&value) {
                    return Observed::Key(key.to_owned());
                }
                canonical(&value, &mut out);
            }
            Err(e) => {
                out.push('!');
                out.push_str(&e.to_string());
            }
        }
        Observed::Plain(out)
    }

    /// The user id an expression names: an account's user, or a string.
    pub fn user_id(&self, expr: &CExpr) -> Eval<Option<String>> {
        Ok(match self.eval(expr, 1)? {
            Value::Entity(Ent::Account(a)) => Some(a.user.to_string()),
            Value::Entity(Ent::User(u)) => Some(u.id.to_string()),
            value => as_str(&value).map(str::to_owned),
        })
    }

    /// Evaluates a condition to a boolean. Conditions are tested here
    /// directly, without building a [`Value`] per node: most of a decision
    /// is `and`, `or`, `not`, comparisons and role tests.
    pub fn test(&self, expr: &CExpr) -> Eval<bool> {
        self.test_at(expr, 1)
    }

    /// [`Context::test`] of a node at level `depth`: the compiler bounds
    /// the depth, and a tree built by other means fails closed past it
    /// rather than exhausting the stack.
    fn test_at(&self, expr: &CExpr, depth: usize) -> Eval<bool> {
        if depth > MAX_NESTING {
            return Err(too_deep());
        }
        let next = depth + 1;
        match expr {
            CExpr::Not(e) => Ok(!self.test_at(e, next)?),
            CExpr::And(operands) => {
                for operand in operands.iter() {
                    if !self.test_at(operand, next)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            CExpr::Or(operands) => {
                for operand in operands.iter() {
                    if self.test_at(operand, next)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            CExpr::Cmp(op, a, b) => compare(*op, &self.eval(a, next)?, &self.eval(b, next)?),
            CExpr::In(needle, haystack) => self.contains(haystack, needle, next),
            CExpr::Contains(haystack, needle) => self.contains(haystack, needle, next),
            CExpr::HasRole(subject, role) => {
                let Value::Entity(Ent::Account(account)) = self.eval(subject, next)? else {
                    return Err(EvalError::Type("only accounts have roles".into()));
                };
                let role = self.eval(role, next)?;
                let role = as_str(&role).ok_or_else(|| EvalError::Type("a role is a string".into()))?;
                Ok(account.has_role(role))
            }
            CExpr::Has(access) => Ok(self.access(access)?.is_some()),
            CExpr::Const(_) | CExpr::List(_) | CExpr::Path(_) | CExpr::Count(_) => match self
                .eval(expr, depth)?
            {
                Value::Bool(b) => Ok(b),
                Value::Attr(a) => match a.as_ref() {
                    AttrValue::Bool(b) => Ok(*b),
                    other => Err(EvalError::Type(format!("expected true or false, found {other:?}").into())),
                },
                _ => Err(EvalError::Type("expected true or false".into())),
            },
        }
    }

    fn eval<'s>(&'s self, expr: &'s CExpr, depth: usize) -> Eval<Value<'s>> {
        if depth > MAX_NESTING {
            return Err(too_deep());
        }
        Ok(match expr {
            CExpr::Const(c) => constant(c),
            CExpr::List(_) => {
                return Err(EvalError::Type("a list is only used with `in` or `contains`".into()));
            }
            CExpr::Path(access) => {
                self.access(access)?.ok_or_else(|| EvalError::Unset(access.text.clone()))?
            }
            CExpr::Not(_)
            | CExpr::And(..)
            | CExpr::Or(..)
            | CExpr::Cmp(..)
            | CExpr::In(..)
            | CExpr::Contains(..)
            | CExpr::HasRole(..)
            | CExpr::Has(_) => Value::Bool(self.test_at(expr, depth)?),
            CExpr::Count(aggregate) => Value::Int(self.count(aggregate, depth + 1)?),
        })
    }

    fn contains(&self, haystack: &CExpr, needle: &CExpr, depth: usize) -> Eval<bool> {
        let needle = self.eval(needle, depth)?;
        // A list literal is walked in place: no list is built per decision.
        if let CExpr::List(items) = haystack {
            for item in items.iter() {
                if equal(&self.eval(item, depth + 1)?, &needle)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        match self.eval(haystack, depth)? {
            Value::Set(set) => {
                let needle = as_str(&needle)
                    .ok_or_else(|| EvalError::Type("a set of strings holds strings".into()))?;
                Ok(set.iter().any(|s| s == needle))
            }
            Value::Ids(set) => {
                let needle = as_str(&needle)
                    .ok_or_else(|| EvalError::Type("a set of strings holds strings".into()))?;
                Ok(set.iter().any(|s| s.as_str() == needle))
            }
            Value::Str(text) => {
                let needle = as_str(&needle).ok_or_else(|| EvalError::Type("text contains text".into()))?;
                Ok(text.contains(needle))
            }
            Value::Attr(attr) => match attr.as_ref() {
                AttrValue::List(items) => {
                    for item in items {
                        if equal(&Value::Attr(Cow::Borrowed(item)), &needle)? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                AttrValue::Str(text) => Ok(as_str(&needle).is_some_and(|n| text.contains(n))),
                _ => Err(EvalError::Type("this attribute is not a list or text".into())),
            },
            _ => Err(EvalError::Type("not a list, set or text".into())),
        }
    }

    /// `depth` is the level of the counted condition.
    fn count(&self, aggregate: &Aggregate, depth: usize) -> Eval<i64> {
        let env: &str = &self.environment.id;
        let Some(key) = aggregate.memo else {
            return self.count_accounts(env, aggregate.condition.as_ref(), depth);
        };
        if let Some(count) = self.entities.remembered_count(key, env) {
            return Ok(count);
        }
        let count = self.count_accounts(env, aggregate.condition.as_ref(), depth)?;
        self.entities.remember_count(key, env, count);
        Ok(count)
    }

    fn count_accounts(&self, env: &str, condition: Option<&CExpr>, depth: usize) -> Eval<i64> {
        let mut count = 0i64;
        let mut failure = None;
        self.entities
            .for_each_account(env, &mut |account| {
                let matched = match condition {
                    None => Ok(true),
                    Some(c) => self.with_bound(account).test_at(c, depth),
                };
                match matched {
                    Ok(true) => {
                        count += 1;
                        ControlFlow::Continue(())
                    }
                    Ok(false) => ControlFlow::Continue(()),
                    Err(e) => {
                        failure = Some(e);
                        ControlFlow::Break(())
                    }
                }
            })
            .map_err(EvalError::Lookup)?;
        match failure {
            Some(e) => Err(e),
            None => Ok(count),
        }
    }

    /// The same context with `account` bound, for one step of `count`.
    fn with_bound<'b>(&'b self, account: &'b Account) -> Context<'b> {
        Context {
            entities: self.entities,
            request: self.request,
            now: self.now,
            actor: self.actor.as_deref().map(Held::Borrowed),
            target: self.target.as_deref().map(Held::Borrowed),
            environment: Held::Borrowed(&*self.environment),
            asset: self.asset.as_deref().map(Held::Borrowed),
            bound: Some(account),
        }
    }

    /// The value at a path; `None` when an optional attribute is unset.
    fn access<'s>(&'s self, access: &'s Access) -> Eval<Option<Value<'s>>> {
        let missing = || EvalError::Missing(access.text.clone());
        let mut value = match access.root {
            Root::Actor => Value::Entity(Ent::Account(self.actor.clone().ok_or_else(missing)?)),
            Root::Target => Value::Entity(Ent::Account(self.target.clone().ok_or_else(missing)?)),
            Root::Environment => Value::Entity(Ent::Env(self.environment.clone())),
            Root::Asset => Value::Entity(Ent::Asset(self.asset.clone().ok_or_else(missing)?)),
            Root::Request => Value::Entity(Ent::Request),
            Root::Bound => Value::Entity(Ent::Account(Held::Borrowed(self.bound.ok_or_else(missing)?))),
        };
        for field in access.fields.iter() {
            let Value::Entity(entity) = value else {
                return Err(missing());
            };
            match self.field(entity, *field, access)? {
                Some(next) => value = next,
                None => return Ok(None),
            }
        }
        let Some(key) = &access.attr else {
            return Ok(Some(value));
        };
        let Value::Entity(entity) = value else {
            return Err(missing());
        };
        // A declared default stands in for a key the entity leaves out.
        Ok(free_attr(entity, key).or_else(|| access.default.as_ref().map(|d| Value::Attr(Cow::Borrowed(d)))))
    }

    fn field<'s>(&'s self, entity: Ent<'s>, field: Field, access: &Access) -> Eval<Option<Value<'s>>> {
        let missing = || EvalError::Missing(access.text.clone());
        let lookup = EvalError::Lookup;
        Ok(Some(match (entity, field) {
            (Ent::Account(a), Field::AccountUser) => Value::Entity(Ent::User(
                self.entities.user(&a.user).map_err(lookup)?.ok_or_else(missing)?.into(),
            )),
            (Ent::Account(a), Field::AccountEnv) => Value::Entity(Ent::Env(
                self.entities.environment(&a.env).map_err(lookup)?.ok_or_else(missing)?.into(),
            )),
            (Ent::Account(a), Field::AccountStatus) => Value::Str(project(a, |a| a.status.as_str())),
            (Ent::Account(a), Field::AccountKind) => Value::Str(project(a, |a| a.kind.as_str())),
            (Ent::Account(a), Field::AccountName) => Value::Str(project(a, |a| a.name.as_str())),
            (Ent::Account(a), Field::AccountEmail) => match a.email.is_some() {
                true => Value::Str(project(a, |a| a.email.as_deref().unwrap_or_default())),
                false => return Ok(None),
            },
            (Ent::Account(a), Field::AccountRoles) => Value::Set(project(a, |a| a.roles.as_slice())),
            (Ent::Account(a), Field::AccountInvitedUntil) => match a.invited_until {
                Some(t) => Value::DateTime(t),
                None => return Ok(None),
            },
            (Ent::User(u), Field::UserId) => Value::Str(project(u, |u| u.id.as_str())),
            (Ent::User(u), Field::UserHome) => Value::Entity(Ent::Env(
                self.entities.environment(&u.home).map_err(lookup)?.ok_or_else(missing)?.into(),
            )),
            (Ent::Env(e), Field::EnvId) => Value::Str(project(e, |e| e.id.as_str())),
            (Ent::Env(e), Field::EnvLicense) => Value::Str(project(e, |e| e.license.as_str())),
            (Ent::Env(e), Field::EnvKind) => Value::Str(project(e, |e| e.kind.as_str())),
            (Ent::Asset(a), Field::AssetId) => Value::Str(project(a, |a| a.id.as_str())),
            (Ent::Asset(a), Field::AssetKind) => Value::Str(project(a, |a| a.kind.as_str())),
            (Ent::Asset(a), Field::AssetEnv) => Value::Entity(Ent::Env(
                self.entities.environment(&a.env).map_err(lookup)?.ok_or_else(missing)?.into(),
            )),
            (Ent::Asset(a), Field::AssetOwner) => match &a.owner {
                Some(owner) => Value::Entity(Ent::Account(
                    self.entities.account(owner, &a.env).map_err(lookup)?.ok_or_else(missing)?.into(),
                )),
                None => return Ok(None),
            },
            (Ent::Asset(a), Field::AssetSpaceType) => match &a.space_type {
                Some(_) => Value::Str(project(a, |a| a.space_type.as_deref().unwrap_or_default())),
                None => return Ok(None),
            },
            (Ent::Asset(a), Field::AssetSpace) => match &a.space {
                Some(space) => Value::Entity(Ent::Asset(
                    self.entities.asset(space).map_err(lookup)?.ok_or_else(missing)?.into(),
                )),
                None => return Ok(None),
            },
            (Ent::Asset(a), Field::AssetUses) => Value::Ids(project(a, |a| a.uses.as_slice())),
            (Ent::Request, field) => return self.request_field(field, access),
            _ => return Err(missing()),
        }))
    }

    fn request_field<'s>(&'s self, field: Field, access: &Access) -> Eval<Option<Value<'s>>> {
        let r = self.request;
        let text = |s: &'s Option<String>| s.as_deref().map(|s| Value::Str(Cow::Borrowed(s)));
        Ok(match field {
            Field::RequestAction => Some(Value::Str(Cow::Borrowed(r.action.as_str()))),
            Field::RequestBulk => Some(Value::Bool(r.bulk)),
            Field::RequestBatchSize => Some(Value::Int(r.batch_size())),
            Field::RequestNow => Some(Value::DateTime(self.now)),
            Field::RequestReason => text(&r.reason),
            Field::RequestConfirm => Some(Value::Bool(r.confirm)),
            Field::RequestValue => text(&r.value),
            Field::RequestMethod => text(&r.method),
            Field::RequestEmails => Some(Value::Set(Cow::Borrowed(r.emails.as_slice()))),
            Field::RequestTo => match &r.to {
                Some(user) => Some(Value::Entity(Ent::Account(
                    self.entities
                        .account(user, &self.environment.id)
                        .map_err(EvalError::Lookup)?
                        .ok_or_else(|| EvalError::Missing(access.text.clone()))?
                        .into(),
                ))),
                None => None,
            },
            _ => return Err(EvalError::Missing(access.text.clone())),
        })
    }
}

fn too_deep() -> EvalError {
    EvalError::Type(format!("the condition nests deeper than {MAX_NESTING} levels").into())
}

fn canonical(value: &Value<'_>, out: &mut String) {
    use std::fmt::Write as _;
    let _ = match value {
        Value::Bool(b) => write!(out, "b{b}"),
        Value::Int(i) => write!(out, "i{i}"),
        Value::Str(s) => write!(out, "s{s}"),
        Value::Date(d) => write!(out, "d{d}"),
        Value::DateTime(t) => write!(out, "t{t}"),
        Value::Set(items) => write!(out, "S{}", items.join("\u{1e}")),
        Value::Ids(items) => {
            write!(out, "S{}", items.iter().map(Id::as_str).collect::<Vec<_>>().join("\u{1e}"))
        }
        Value::Entity(e) => write!(out, "e{}", e.id()),
        Value::Attr(a) => write!(out, "a{a:?}"),
    };
}

/// What [`Context::observe`] saw.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Observed {
    /// A text or an entity: it equals another value only if that value's
    /// key is the same (the converse need not hold).
    Key(String),
    /// Any other value, or an error, as a canonical text.
    Plain(String),
}

/// The text a value compares equal to strings with, for texts and entities:
/// `equal` finds two such values equal only when these are the same.
fn key_of<'v>(value: &'v Value<'_>) -> Option<&'v str> {
    match value {
        Value::Str(_) | Value::Entity(_) => as_str(value),
        Value::Attr(a) if matches!(a.as_ref(), AttrValue::Str(_)) => as_str(value),
        _ => None,
    }
}

/// A part of a borrowed-or-owned entity, borrowed or owned alike.
fn project<'a, T, R: ToOwned + ?Sized>(entity: Held<'a, T>, part: impl Fn(&T) -> &R) -> Cow<'a, R> {
    match entity {
        Held::Borrowed(e) => Cow::Borrowed(part(e)),
        Held::Owned(e) => Cow::Owned(part(&e).to_owned()),
    }
}

fn free_attr<'a>(entity: Ent<'a>, key: &str) -> Option<Value<'a>> {
    fn pick<'a, T>(
        e: Held<'a, T>,
        attrs: impl Fn(&T) -> &crate::directory::model::Attrs,
        key: &str,
    ) -> Option<Value<'a>> {
        match e {
            Held::Borrowed(e) => attrs(e).get(key).map(|v| Value::Attr(Cow::Borrowed(v))),
            Held::Owned(e) => attrs(&e).get(key).map(|v| Value::Attr(Cow::Owned(v.clone()))),
        }
    }
    match entity {
        Ent::Account(a) => pick(a, |a| &a.attrs, key),
        Ent::User(u) => pick(u, |u| &u.attrs, key),
        Ent::Env(e) => pick(e, |e| &e.attrs, key),
        Ent::Asset(a) => pick(a, |a| &a.attrs, key),
        Ent::Request => None,
    }
}

fn constant(c: &Const) -> Value<'_> {
    match c {
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) => Value::Int(*i),
        Const::Str(s) => Value::Str(Cow::Borrowed(s)),
        Const::Date(d) => Value::Date(*d),
        Const::DateTime(t) => Value::DateTime(*t),
    }
}

fn as_str<'v>(value: &'v Value<'_>) -> Option<&'v str> {
    match value {
        Value::Str(s) => Some(s),
        Value::Entity(e) => Some(e.id()),
        Value::Attr(a) => match a.as_ref() {
            AttrValue::Str(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// A free-form attribute seen as a plain value, when it is one.
fn plain<'v>(value: &'v Value<'v>) -> Option<Value<'v>> {
    let Value::Attr(attr) = value else { return None };
    Some(match attr.as_ref() {
        AttrValue::Bool(b) => Value::Bool(*b),
        AttrValue::Int(i) => Value::Int(*i),
        AttrValue::Str(s) => Value::Str(Cow::Borrowed(s)),
        AttrValue::Date(d) => Value::Date(*d),
        AttrValue::DateTime(t) => Value::DateTime(*t),
        AttrValue::List(_) => return None,
    })
}

fn equal(a: &Value<'_>, b: &Value<'_>) -> Eval<bool> {
    if let Some(a) = plain(a) {
        return equal(&a, b);
    }
    if let Some(b) = plain(b) {
        return equal(a, &b);
    }
    Ok(match (a, b) {
        (Value::Entity(x), Value::Entity(y)) => x.same(y),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Date(_) | Value::DateTime(_), Value::Date(_) | Value::DateTime(_)) => {
            order(a, b)? == Ordering::Equal
        }
        (Value::Attr(_), _) | (_, Value::Attr(_)) => false,
        _ => match (as_str(a), as_str(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    })
}

fn order(a: &Value<'_>, b: &Value<'_>) -> Eval<Ordering> {
    if let Some(a) = plain(a) {
        return order(&a, b);
    }
    if let Some(b) = plain(b) {
        return order(a, &b);
    }
    // A date against an instant compares with the instant's UTC date.
    let day = |t: &Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Date(x), Value::DateTime(y)) => x.cmp(&day(y)),
        (Value::DateTime(x), Value::Date(y)) => day(x).cmp(y),
        _ => return Err(EvalError::Type("only numbers and dates are ordered".into())),
    })
}

fn compare(op: CmpOp, a: &Value<'_>, b: &Value<'_>) -> Eval<bool> {
    Ok(match op {
        CmpOp::Eq => equal(a, b)?,
        CmpOp::Ne => !equal(a, b)?,
        CmpOp::Lt => order(a, b)? == Ordering::Less,
        CmpOp::Le => order(a, b)? != Ordering::Greater,
        CmpOp::Gt => order(a, b)? == Ordering::Greater,
        CmpOp::Ge => order(a, b)? != Ordering::Less,
    })
}
