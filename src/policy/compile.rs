//! Syntax tree to evaluable form: every path resolved to fields, every
//! operand type-checked against the schema, every mistake a [`Diagnostic`]
//! pointing at its span. What comes out never looks a name up again.

use jiff::Timestamp;
use jiff::civil::Date;

use super::ast::{BinaryOp, Expr, ExprKind, Ident, Literal, MAX_NESTING, Path};
use std::sync::Arc;

use super::schema::{self, EntityKind, Field, Type, Vocabulary};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::directory::model::AttrValue;
use crate::schema::{AttrType, Schema, Subject};
use crate::source::Span;

/// Where an access starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The acting account.
    Actor,
    /// The account acted on.
    Target,
    /// The request's environment.
    Environment,
    /// The asset acted on.
    Asset,
    /// The request.
    Request,
    /// The account bound by `count(accounts where ...)`.
    Bound,
}

/// A resolved attribute path: a root, the fields to follow, and optionally a
/// free-form attribute key at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// Where it starts.
    pub root: Root,
    /// The fields to follow, in order.
    pub fields: Box<[Field]>,
    /// `attrs.KEY` (or a declared attribute's name) at the end.
    pub attr: Option<Box<str>>,
    /// What the attribute is when the entity does not give it: the
    /// declared default.
    pub default: Option<AttrValue>,
    /// The path as written, for runtime error messages.
    pub text: Box<str>,
}

/// A constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    /// true or false.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Text.
    Str(Box<str>),
    /// A date.
    Date(Date),
    /// An instant.
    DateTime(Timestamp),
}

/// Ordered comparisons and equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub enum CExpr {
    /// A constant.
    Const(Const),
    /// A list literal (only as the right side of `in` or the left of `contains`).
    List(Box<[CExpr]>),
    /// The value at a path.
    Path(Access),
    /// `not e`
    Not(Box<CExpr>),
    /// `a and b and ...`, tested left to right.
    And(Box<[CExpr]>),
    /// `a or b or ...`, tested left to right.
    Or(Box<[CExpr]>),
    /// `a OP b`
    Cmp(CmpOp, Box<CExpr>, Box<CExpr>),
    /// `a in b`
    In(Box<CExpr>, Box<CExpr>),
    /// `a contains b`
    Contains(Box<CExpr>, Box<CExpr>),
    /// `account has role r`
    HasRole(Box<CExpr>, Box<CExpr>),
    /// `x has attr`: the access is set.
    Has(Access),
    /// `count(accounts [where c])`
    Count(Box<Aggregate>),
}

/// `count(accounts [where c])`, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Which accounts count; all of them when `None`.
    pub condition: Option<CExpr>,
    /// Set when the condition reads nothing but the counted account and the
    /// environment: the count is then a function of the environment alone,
    /// and entities that never change remember it (the last-admin rules of
    /// every pack are such counts, and would otherwise walk the environment
    /// on every decision). The value identifies the condition.
    pub memo: Option<u64>,
}

impl Aggregate {
    fn new(condition: Option<CExpr>) -> Self {
        let memo = match &condition {
            None => Some(fingerprint(&None::<CExpr>)),
            Some(c) if reads_only_environment(c) => Some(fingerprint(&condition)),
            Some(_) => None,
        };
        Aggregate { condition, memo }
    }
}

/// Whether `expr` reads nothing but the counted account and the environment.
fn reads_only_environment(expr: &CExpr) -> bool {
    match expr {
        CExpr::Path(access) | CExpr::Has(access) => matches!(access.root, Root::Bound | Root::Environment),
        CExpr::Const(_) => true,
        CExpr::List(items) | CExpr::And(items) | CExpr::Or(items) => items.iter().all(reads_only_environment),
        CExpr::Not(e) => reads_only_environment(e),
        CExpr::Count(aggregate) => aggregate.condition.as_ref().is_none_or(reads_only_environment),
        CExpr::Cmp(_, a, b) | CExpr::In(a, b) | CExpr::Contains(a, b) | CExpr::HasRole(a, b) => {
            reads_only_environment(a) && reads_only_environment(b)
        }
    }
}

/// A key for a compiled condition: equal for conditions that compile to the
/// same expression, wherever they are written. Only used within one process.
fn fingerprint(condition: &Option<CExpr>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    format!("{condition:?}").hash(&mut hasher);
    hasher.finish()
}

/// Which roots an expression may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// `target` is available.
    pub target: bool,
    /// `asset` is available.
    pub asset: bool,
    /// Inside `count(...)`: `account` is available.
    pub bound: bool,
}

impl Scope {
    /// The roots a rule on `actions` may use: those every action provides.
    pub fn for_actions<'a>(schema: &Schema, actions: impl IntoIterator<Item = &'a str>) -> Scope {
        let mut scope = Scope { target: true, asset: true, bound: false };
        for name in actions {
            let subject = schema.action(name).map(|a| a.subject);
            scope.target &= subject.is_some_and(Subject::has_target);
            scope.asset &= subject == Some(Subject::Asset);
        }
        scope
    }

    /// The roots of a selector or trigger: each selected account is `target`.
    pub fn selector() -> Scope {
        Scope { target: true, asset: false, bound: false }
    }
}

/// Compiles conditions, collecting diagnostics instead of stopping at the
/// first.
#[derive(Debug)]
pub struct Compiler {
    /// The model names and attribute types are checked against.
    pub schema: Arc<Schema>,
    /// Everything found so far.
    pub diagnostics: Vec<Diagnostic>,
    /// Every role named by a literal in `has role "x"`, with its place.
    pub roles: Vec<(String, crate::source::Span)>,
    /// The level of the expression being compiled: the parser bounds it,
    /// and a tree built by other means is held to the same limit.
    depth: usize,
}

impl Default for Compiler {
    /// A compiler for the standard schema.
    fn default() -> Self {
        Compiler::new(super::declare::standard())
    }
}

impl Compiler {
    /// A compiler for `schema`.
    pub fn new(schema: Arc<Schema>) -> Self {
        Compiler { schema, diagnostics: Vec::new(), roles: Vec::new(), depth: 0 }
    }

    /// Compiles a condition: it must be a boolean.
    pub fn condition(&mut self, expr: &Expr, scope: Scope) -> Option<CExpr> {
        let (compiled, ty) = self.expr(expr, scope)?;
        if !matches!(ty, Type::Bool | Type::Any) {
            self.diagnostics.push(
                Diagnostic::error(
                    "not-a-condition",
                    format!("a condition must be true or false, not {}", ty.describe()),
                )
                .at(expr.span, "not a condition")
                .with_help("compare it, for example `target.status == \"active\"`"),
            );
            return None;
        }
        Some(compiled)
    }

    /// Compiles an expression that names an account: an account-valued path
    /// or a user id (the default owner of `reassign to ...`).
    pub fn owner(&mut self, expr: &Expr, scope: Scope) -> Option<CExpr> {
        let (compiled, ty) = self.expr(expr, scope)?;
        if !matches!(ty, Type::Entity(EntityKind::Account) | Type::Str | Type::Any) {
            self.diagnostics.push(
                Diagnostic::error(
                    "type-mismatch",
                    format!("a new owner is an account or a user id, not {}", ty.describe()),
                )
                .at(expr.span, "not an account")
                .with_help("for example `to actor`, or `to \"12345.Admin\"`"),
            );
            return None;
        }
        Some(compiled)
    }

    fn expr(&mut self, expr: &Expr, scope: Scope) -> Option<(CExpr, Type)> {
        if self.depth >= MAX_NESTING {
            let start = expr.span.start as usize;
            self.diagnostics.push(crate::policy::ast::nesting_too_deep(Span::new(
                expr.span.file,
                start,
                start + 1,
            )));
            return None;
        }
        self.depth += 1;
        let compiled = self.expr_kind(expr, scope);
        self.depth -= 1;
        compiled
    }

    fn expr_kind(&mut self, expr: &Expr, scope: Scope) -> Option<(CExpr, Type)> {
        match &expr.kind {
            ExprKind::Literal(lit) => Some(literal(lit)),
            ExprKind::List(items) => self.list(items, expr, scope),
            ExprKind::Path(path) => self.path(path, scope).map(|(access, ty)| (CExpr::Path(access), ty)),
            ExprKind::Not(inner) => {
                let inner = self.condition(inner, scope)?;
                Some((CExpr::Not(Box::new(inner)), Type::Bool))
            }
            ExprKind::And(operands) => Some((CExpr::And(self.conditions(operands, scope)?), Type::Bool)),
            ExprKind::Or(operands) => Some((CExpr::Or(self.conditions(operands, scope)?), Type::Bool)),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, expr, scope),
            ExprKind::HasRole { subject, role } => self.has_role(subject, role, scope),
            ExprKind::HasAttr { subject, attr } => self.has_attr(subject, attr, scope),
            ExprKind::Count { condition } => {
                let inner = Scope { bound: true, ..scope };
                let condition = match condition {
                    Some(c) => Some(self.condition(c, inner)?),
                    None => None,
                };
                Some((CExpr::Count(Box::new(Aggregate::new(condition))), Type::Int))
            }
        }
    }

    /// The operands of a chain, each a condition; every one is compiled, so
    /// that each mistake is reported.
    fn conditions(&mut self, operands: &[Expr], scope: Scope) -> Option<Box<[CExpr]>> {
        let compiled: Vec<Option<CExpr>> = operands.iter().map(|e| self.condition(e, scope)).collect();
        compiled.into_iter().collect()
    }

    fn list(&mut self, items: &[Expr], whole: &Expr, scope: Scope) -> Option<(CExpr, Type)> {
        let mut compiled = Vec::with_capacity(items.len());
        let mut element: Option<Type> = None;
        let mut ok = true;
        for item in items {
            let Some((c, ty)) = self.expr(item, scope) else {
                ok = false;
                continue;
            };
            if matches!(ty, Type::List(_) | Type::StrSet) {
                self.diagnostics.push(
                    Diagnostic::error("type-mismatch", "lists cannot hold lists")
                        .at(item.span, "a list inside a list"),
                );
                ok = false;
            }
            match &element {
                Some(first) if !comparable(first, &ty) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "type-mismatch",
                            format!(
                                "a list holds values of one type: {} and {}",
                                first.describe(),
                                ty.describe()
                            ),
                        )
                        .at(item.span, ty.describe())
                        .with_related(whole.span, "in this list"),
                    );
                    ok = false;
                }
                Some(_) => {}
                None => element = Some(ty),
            }
            compiled.push(c);
        }
        ok.then(|| (CExpr::List(compiled.into()), Type::List(element.map(Box::new))))
    }

    fn path(&mut self, path: &Path, scope: Scope) -> Option<(Access, Type)> {
        let (root, kind) = self.root(&path.root, scope)?;
        let mut ty = Type::Entity(kind);
        let mut fields = Vec::with_capacity(path.segments.len());
        let mut attr = None;
        let mut default = None;
        let mut segments = path.segments.iter();
        while let Some(segment) = segments.next() {
            let Type::Entity(kind) = ty else {
                self.diagnostics.push(
                    Diagnostic::error("unknown-attribute", format!("{} has no attributes", ty.describe()))
                        .at(segment.span, format!("`.{}` on {}", segment.name, ty.describe())),
                );
                return None;
            };
            if segment.name == "attrs" && schema::has_free_attrs(kind) {
                let Some(key) = segments.next() else {
                    self.diagnostics.push(
                        Diagnostic::error("unknown-attribute", "`attrs` needs a key")
                            .at(segment.span, "name the attribute")
                            .with_help("write `attrs.KEY`, for example `target.attrs.department`"),
                    );
                    return None;
                };
                if let Some(extra) = segments.next() {
                    self.diagnostics.push(
                        Diagnostic::error("unknown-attribute", "free-form attributes have no attributes")
                            .at(extra.span, format!("`.{}` after `attrs.{}`", extra.name, key.name)),
                    );
                    return None;
                }
                (ty, default) = self.declared_attribute(kind, key)?;
                attr = Some(key.name.clone().into_boxed_str());
                break;
            }
            let Some(attribute) = schema::attribute(kind, &segment.name) else {
                // A declared attribute reads by its name as well as under
                // `attrs` (`target.user.guest_license`).
                let declared = schema::schema_entity(kind)
                    .and_then(|e| self.schema.attribute(e, &segment.name))
                    .is_some();
                if declared {
                    if let Some(extra) = segments.next() {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "unknown-attribute",
                                format!("`{}` has no attributes", segment.name),
                            )
                            .at(extra.span, format!("`.{}` after `{}`", extra.name, segment.name)),
                        );
                        return None;
                    }
                    (ty, default) = self.declared_attribute(kind, segment)?;
                    attr = Some(segment.name.clone().into_boxed_str());
                    break;
                }
                self.unknown_attribute(kind, segment);
                return None;
            };
            fields.push(attribute.field);
            ty = attribute.field.ty();
        }
        let text = path_text(path).into_boxed_str();
        Some((Access { root, fields: fields.into(), attr, default, text }, ty))
    }

    fn root(&mut self, root: &Ident, scope: Scope) -> Option<(Root, EntityKind)> {
        let (compiled, kind, available, why) = match root.name.as_str() {
            "actor" => (Root::Actor, EntityKind::Account, true, ""),
            "target" => (
                Root::Target,
                EntityKind::Account,
                scope.target,
                "only actions on an account have a `target`",
            ),
            "environment" => (Root::Environment, EntityKind::Environment, true, ""),
            "asset" => (Root::Asset, EntityKind::Asset, scope.asset, "only `reassign` has an `asset`"),
            "request" => (Root::Request, EntityKind::Request, true, ""),
            "account" => (
                Root::Bound,
                EntityKind::Account,
                scope.bound,
                "`account` is bound inside `count(accounts where ...)`",
            ),
            other => {
                let roots = ["actor", "target", "environment", "asset", "request", "account"];
                let mut d = Diagnostic::error("unknown-root", format!("unknown name `{other}`"))
                    .at(root.span, "not a root of an attribute path");
                d = match did_you_mean(other, roots) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help("paths start with actor, target, environment, asset, request, or account inside count"),
                };
                self.diagnostics.push(d);
                return None;
            }
        };
        if !available {
            self.diagnostics.push(
                Diagnostic::error("root-not-available", format!("`{}` is not available here", root.name))
                    .at(root.span, "not available for this rule's actions")
                    .with_help(why),
            );
            return None;
        }
        Some((compiled, kind))
    }

    /// The type of `attrs.KEY` on `kind` and its default: free-form
    /// (checked when evaluated) where the schema does not declare KEY and
    /// the entity's `attrs` are not closed, the declared type where it
    /// does, an error where it does not know KEY.
    fn declared_attribute(&mut self, kind: EntityKind, key: &Ident) -> Option<(Type, Option<AttrValue>)> {
        let Some(entity) = schema::schema_entity(kind) else { return Some((Type::Any, None)) };
        let found = self.schema.attributes.iter().position(|a| a.entity == entity && a.name == key.name);
        if let Some((index, decl)) = found.and_then(|i| Some((i, self.schema.attributes.get(i)?))) {
            let default = decl.default.as_ref().map(AttrValue::from);
            let ty = match decl.ty {
                // A string compared with it must be one of its options.
                AttrType::OneOf(_) => {
                    u16::try_from(index).map_or(Type::Str, |i| Type::Enum(Vocabulary::Options(i)))
                }
                AttrType::String => Type::Str,
                AttrType::Integer => Type::Int,
                AttrType::Boolean => Type::Bool,
                AttrType::Date => Type::Date,
                AttrType::DateTime => Type::DateTime,
                AttrType::Set => Type::StrSet,
                AttrType::User => Type::Entity(EntityKind::User),
            };
            return Some((ty, default));
        }
        if !self.schema.closed(entity) {
            return Some((Type::Any, None));
        }
        let names: Vec<&str> = self.schema.attributes_of(entity).map(|a| a.name.as_str()).collect();
        let mut d = Diagnostic::error(
            "unknown-attribute",
            format!("{} has no declared attribute `attrs.{}`", kind.as_str(), key.name),
        )
        .at(key.span, "not declared in the schema");
        d = match did_you_mean(&key.name, names.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `attrs.{s}`?")),
            None => d.with_help(format!(
                "the schema declares for {}: {}; add `attribute {}.{}: TYPE` to declare it",
                entity.as_str(),
                names.join(", "),
                entity.as_str(),
                key.name
            )),
        };
        self.diagnostics.push(d);
        None
    }

    fn unknown_attribute(&mut self, kind: EntityKind, segment: &Ident) {
        let mut names: Vec<&str> = schema::attributes(kind).iter().map(|a| a.name).collect();
        if let Some(entity) = schema::schema_entity(kind) {
            names.extend(self.schema.attributes_of(entity).map(|a| a.name.as_str()));
        }
        if schema::has_free_attrs(kind) {
            names.push("attrs");
        }
        let mut d = Diagnostic::error(
            "unknown-attribute",
            format!("{} has no attribute `{}`", kind.as_str(), segment.name),
        )
        .at(segment.span, "unknown attribute");
        d = match did_you_mean(&segment.name, names.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("the attributes are: {}", names.join(", "))),
        };
        self.diagnostics.push(d);
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &Expr,
        rhs: &Expr,
        whole: &Expr,
        scope: Scope,
    ) -> Option<(CExpr, Type)> {
        let l = self.expr(lhs, scope);
        let r = self.expr(rhs, scope);
        let ((lc, lt), (rc, rt)) = (l?, r?);
        let mismatch = |this: &mut Self, what: String| {
            this.diagnostics.push(
                Diagnostic::error("type-mismatch", what)
                    .at(whole.span, format!("{} {} {}", lt.describe(), op.as_str(), rt.describe())),
            );
            None
        };
        let compiled = match op {
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let cmp = match op {
                    BinaryOp::Eq => CmpOp::Eq,
                    BinaryOp::Ne => CmpOp::Ne,
                    BinaryOp::Lt => CmpOp::Lt,
                    BinaryOp::Le => CmpOp::Le,
                    BinaryOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let ordered = !matches!(cmp, CmpOp::Eq | CmpOp::Ne);
                if matches!(lt, Type::List(_) | Type::StrSet) || matches!(rt, Type::List(_) | Type::StrSet) {
                    mismatch(self, format!("cannot compare {} with {}", lt.describe(), rt.describe()));
                    if let Some(help) = roles_help(op, lhs, rhs).or_else(|| roles_help(op, rhs, lhs))
                        && let Some(diagnostic) = self.diagnostics.last_mut()
                    {
                        diagnostic.help = Some(help);
                    }
                    return None;
                }
                if !comparable(&lt, &rt) {
                    return mismatch(
                        self,
                        format!("cannot compare {} with {}", lt.describe(), rt.describe()),
                    );
                }
                if ordered && !orderable(&lt, &rt) {
                    return mismatch(
                        self,
                        format!("`{}` orders numbers and dates, not {}", op.as_str(), lt.describe()),
                    );
                }
                self.check_vocabulary(&lt, rhs);
                self.check_vocabulary(&rt, lhs);
                CExpr::Cmp(cmp, Box::new(lc), Box::new(rc))
            }
            BinaryOp::In => {
                let ok = match &rt {
                    Type::List(Some(element)) => comparable(&lt, element),
                    Type::List(None) => true,
                    Type::StrSet => lt.is_stringy(),
                    Type::Any => true,
                    _ => false,
                };
                if !ok {
                    return mismatch(self, format!("cannot look for {} in {}", lt.describe(), rt.describe()));
                }
                if let ExprKind::List(items) = &rhs.kind {
                    for item in items {
                        self.check_vocabulary(&lt, item);
                    }
                }
                CExpr::In(Box::new(lc), Box::new(rc))
            }
            BinaryOp::Contains => {
                let ok = match &lt {
                    Type::List(Some(element)) => comparable(element, &rt),
                    Type::List(None) => true,
                    Type::StrSet | Type::Str => rt.is_stringy(),
                    Type::Any => true,
                    _ => false,
                };
                if !ok {
                    return mismatch(self, format!("{} cannot contain {}", lt.describe(), rt.describe()));
                }
                CExpr::Contains(Box::new(lc), Box::new(rc))
            }
        };
        Some((compiled, Type::Bool))
    }

    /// A string literal compared with a closed vocabulary must be one of its
    /// values: `target.status == "disabled"` is a mistake, not a false.
    fn check_vocabulary(&mut self, ty: &Type, other: &Expr) {
        let Type::Enum(vocabulary) = ty else { return };
        let ExprKind::Literal(Literal::Str(value)) = &other.kind else { return };
        if vocabulary.contains(&self.schema, value) {
            return;
        }
        let names = vocabulary.names(&self.schema);
        let mut d =
            Diagnostic::error("unknown-value", format!("`{value}` is not {}", vocabulary_name(*vocabulary)))
                .at(other.span, "never equal");
        d = match did_you_mean(value, names.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`? the values are: {}", names.join(", "))),
            None => d.with_help(format!("the values are: {}", names.join(", "))),
        };
        self.diagnostics.push(d);
    }

    fn has_role(&mut self, subject: &Expr, role: &Expr, scope: Scope) -> Option<(CExpr, Type)> {
        let s = self.expr(subject, scope);
        let r = self.expr(role, scope);
        if let ExprKind::Literal(Literal::Str(name)) = &role.kind {
            self.roles.push((name.clone(), role.span));
        }
        let ((sc, st), (rc, rt)) = (s?, r?);
        if st != Type::Entity(EntityKind::Account) {
            self.diagnostics.push(
                Diagnostic::error(
                    "type-mismatch",
                    format!("only accounts have roles, not {}", st.describe()),
                )
                .at(subject.span, "not an account")
                .with_help("roles belong to an account: `actor`, `target`, `account`, `request.to`"),
            );
            return None;
        }
        if !matches!(rt, Type::Str | Type::Any) {
            self.diagnostics.push(
                Diagnostic::error("type-mismatch", format!("a role is a string, not {}", rt.describe()))
                    .at(role.span, "not a string"),
            );
            return None;
        }
        Some((CExpr::HasRole(Box::new(sc), Box::new(rc)), Type::Bool))
    }

    fn has_attr(&mut self, subject: &Expr, attr: &Ident, scope: Scope) -> Option<(CExpr, Type)> {
        let ExprKind::Path(path) = &subject.kind else {
            self.diagnostics.push(
                Diagnostic::error("type-mismatch", "`has` tests an attribute of an entity")
                    .at(subject.span, "not an attribute path")
                    .with_help("write for example `target.user has employment_end`"),
            );
            return None;
        };
        let mut extended = path.clone();
        extended.segments.push(attr.clone());
        let (access, _) = self.path(&extended, scope)?;
        Some((CExpr::Has(access), Type::Bool))
    }
}

fn literal(lit: &Literal) -> (CExpr, Type) {
    match lit {
        Literal::Str(s) => (CExpr::Const(Const::Str(s.clone().into_boxed_str())), Type::Str),
        Literal::Int(i) => (CExpr::Const(Const::Int(*i)), Type::Int),
        Literal::Bool(b) => (CExpr::Const(Const::Bool(*b)), Type::Bool),
        Literal::Date(d) => (CExpr::Const(Const::Date(*d)), Type::Date),
        Literal::DateTime(t) => (CExpr::Const(Const::DateTime(*t)), Type::DateTime),
    }
}

/// Whether values of the two types can be compared for equality.
fn comparable(a: &Type, b: &Type) -> bool {
    use Type::*;
    match (a, b) {
        (Any, _) | (_, Any) => true,
        (Entity(x), Entity(y)) => x == y,
        (Entity(_), Str) | (Str, Entity(_)) => true,
        (Enum(_) | Str, Enum(_) | Str) => true,
        (Date | DateTime, Date | DateTime) => true,
        (List(Some(x)), List(Some(y))) => comparable(x, y),
        (List(_), List(_)) => true,
        (x, y) => x == y,
    }
}

fn orderable(a: &Type, b: &Type) -> bool {
    use Type::*;
    let ord = |t: &Type| matches!(t, Int | Date | DateTime | Any);
    ord(a) && ord(b)
}

fn vocabulary_name(v: Vocabulary) -> &'static str {
    match v {
        Vocabulary::Status => "an account status",
        Vocabulary::AccountKind => "an account kind",
        Vocabulary::EnvKind => "an environment kind",
        Vocabulary::AssetKind => "an asset kind",
        Vocabulary::SpaceType => "a space type",
        Vocabulary::Action => "an action",
        Vocabulary::Options(_) => "an option of the attribute",
    }
}

/// The path as written, `target.user.home`.
pub fn path_text(path: &Path) -> String {
    let mut text = path.root.name.clone();
    for segment in &path.segments {
        text.push('.');
        text.push_str(&segment.name);
    }
    text
}

/// `actor.roles == "x"` meant `actor has role "x"` (and `!=` its `not`).
fn roles_help(op: BinaryOp, set: &Expr, role: &Expr) -> Option<String> {
    let (ExprKind::Path(path), ExprKind::Literal(Literal::Str(role))) = (&set.kind, &role.kind) else {
        return None;
    };
    let (last, init) = path.segments.split_last()?;
    if last.name != "roles" || !matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
        return None;
    }
    let subject: Vec<&str> = std::iter::once(&path.root).chain(init).map(|i| i.name.as_str()).collect();
    let test = format!("{} has role \"{role}\"", subject.join("."));
    let test = if op == BinaryOp::Ne { format!("not {test}") } else { test };
    Some(format!("roles are tested with `has role`: `{test}`"))
}

/// Roles one of which the actor must hold for `expr` to be true, when the
/// expression demands one: `actor has role "r"`, a conjunction with such a
/// part, or a disjunction whose every side demands one. `None` when the
/// expression can hold whatever roles the actor has.
pub fn actor_roles(expr: &CExpr) -> Option<Vec<String>> {
    match expr {
        CExpr::HasRole(subject, role) => match (subject.as_ref(), role.as_ref()) {
            (CExpr::Path(access), CExpr::Const(Const::Str(role)))
                if access.root == Root::Actor && access.fields.is_empty() && access.attr.is_none() =>
            {
                Some(vec![role.to_string()])
            }
            _ => None,
        },
        CExpr::And(operands) => operands.iter().find_map(actor_roles),
        CExpr::Or(operands) => {
            let mut roles = Vec::new();
            for operand in operands {
                roles.extend(actor_roles(operand)?);
            }
            Some(roles)
        }
        _ => None,
    }
}

/// Every access rooted at `asset` in `expr`: what a decision can read of the
/// asset. Two assets that agree on all of them get the same decisions.
pub fn asset_accesses(expr: &CExpr, out: &mut Vec<Access>) {
    match expr {
        CExpr::Path(access) | CExpr::Has(access) => {
            if access.root == Root::Asset && !out.contains(access) {
                out.push(access.clone());
            }
        }
        CExpr::Const(_) => {}
        CExpr::List(items) | CExpr::And(items) | CExpr::Or(items) => {
            items.iter().for_each(|e| asset_accesses(e, out));
        }
        CExpr::Not(e) => asset_accesses(e, out),
        CExpr::Count(aggregate) => {
            if let Some(c) = &aggregate.condition {
                asset_accesses(c, out);
            }
        }
        CExpr::Cmp(_, a, b) | CExpr::In(a, b) | CExpr::Contains(a, b) | CExpr::HasRole(a, b) => {
            asset_accesses(a, out);
            asset_accesses(b, out);
        }
    }
}
