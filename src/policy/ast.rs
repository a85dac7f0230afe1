//! The typed syntax tree of the policy language.
//!
//! The parser produces it from text, the formatter prints it back, the
//! validator checks it against the directory schema and the compiler turns
//! it into the indexed form the evaluator runs. Every node has a [`Span`].
//! Comments are kept (`comments` on each item) so that `steward fmt` never
//! loses them.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::source::Span;

/// The deepest an expression tree may be: the condition is level 1, and
/// each `not`, `and` or `or` chain, comparison, `has`, list and `count(...)`
/// holds its operands one level deeper. Brackets in the text, needed or
/// not, nest at most as deep. The parser refuses deeper input, so that the
/// compiler, the formatter and the evaluator, which recurse once per level,
/// stay within a small thread stack (docs/language.md, docs/security.md).
pub const MAX_NESTING: usize = 128;

/// An expression nested deeper than [`MAX_NESTING`] levels, at `span`.
pub fn nesting_too_deep(span: crate::source::Span) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::error(
        "nesting-too-deep",
        format!("this expression nests deeper than {MAX_NESTING} levels"),
    )
    .at(span, format!("level {}", MAX_NESTING + 1))
    .with_help(
        "write it flatter: a chain of `and` or of `or` is one level however long, \
         and `x in [..]` replaces a chain of `==`",
    )
}

/// A name with its place in the source: rule names, actions, attribute
/// segments, asset kinds, consequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// One parsed policy file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    /// The items, in source order.
    pub items: Vec<Item>,
    /// Comments after the last item (kept by the formatter).
    pub trailing_comments: Vec<Comment>,
}

/// A `// ...` comment, without the slashes' trailing newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The text after `//`, as written.
    pub text: String,
    /// A blank line separates it from what comes before (kept by `fmt`).
    pub blank_before: bool,
    /// Where it was written.
    pub span: Span,
}

/// A top-level item of a policy file.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `rule name { permit|forbid actions [when expr] [because "text"] }`
    Rule(Rule),
    /// `lifecycle action { entries }`
    Lifecycle(Lifecycle),
    /// `trigger name { action when expr [because "text"] }`
    Trigger(Trigger),
    /// `schema [extends standard] { declarations }`
    Schema(SchemaBlock),
}

/// Whether a rule allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Allows, unless a forbid matches.
    Permit,
    /// Denies, always.
    Forbid,
}

impl Item {
    /// The item's span.
    pub fn span(&self) -> Span {
        match self {
            Item::Rule(r) => r.span,
            Item::Lifecycle(l) => l.span,
            Item::Trigger(t) => t.span,
            Item::Schema(s) => s.span,
        }
    }
}

impl LifecycleEntry {
    /// The entry's span.
    pub fn span(&self) -> Span {
        match self {
            LifecycleEntry::Referenced { span, .. }
            | LifecycleEntry::Owns { span, .. }
            | LifecycleEntry::Orphan { span, .. } => *span,
        }
    }
}

impl Effect {
    /// `permit` or `forbid`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Effect::Permit => "permit",
            Effect::Forbid => "forbid",
        }
    }
}

/// A named permit or forbid.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Comments directly above the rule.
    pub comments: Vec<Comment>,
    /// Unique across the policy set.
    pub name: Ident,
    /// permit or forbid.
    pub effect: Effect,
    /// Where the effect keyword was written.
    pub effect_span: Span,
    /// The actions it applies to (at least one).
    pub actions: Vec<Ident>,
    /// `when ...`: absent means always.
    pub condition: Option<Expr>,
    /// `because "..."`: shown when the rule decides.
    pub because: Option<StrLit>,
    /// Comments inside the braces (printed at the top of the body by `fmt`).
    pub body_comments: Vec<Comment>,
    /// The whole rule.
    pub span: Span,
}

/// What an action does to what the account touches (P3, D3, D6, Q4, Q8).
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    /// Comments directly above the block.
    pub comments: Vec<Comment>,
    /// The action this block describes (`delete`, `block`, ...).
    pub action: Ident,
    /// The entries, in source order.
    pub entries: Vec<LifecycleEntry>,
    /// Comments inside the braces after the last entry.
    pub body_comments: Vec<Comment>,
    /// The whole block.
    pub span: Span,
}

/// One line of a lifecycle block.
#[derive(Debug, Clone, PartialEq)]
pub enum LifecycleEntry {
    /// `referenced -> fallback ACTION`: when records refer to the account
    /// the action is impossible and `fallback` is proposed instead (P3).
    Referenced {
        /// Comments directly above the entry.
        comments: Vec<Comment>,
        /// The action to fall back to.
        fallback: Ident,
        /// The whole entry.
        span: Span,
    },
    /// `orphaned user -> CONSEQUENCE`: what happens to the user record once
    /// the action took their last account (D4); only `remove`.
    Orphan {
        /// Comments directly above the entry.
        comments: Vec<Comment>,
        /// Only `remove` is valid; the compiler says so.
        consequence: Ident,
        /// The whole entry.
        span: Span,
    },
    /// `owns KIND, KIND -> CONSEQUENCE`: what happens to owned assets.
    Owns {
        /// Comments directly above the entry.
        comments: Vec<Comment>,
        /// Asset kinds (`space`, `app`, ...), at least one.
        kinds: Vec<Ident>,
        /// reassign, revoke, remove or disable.
        consequence: Ident,
        /// `reassign to EXPR`: the default new owner, an account or user id.
        to: Option<Expr>,
        /// The whole entry.
        span: Span,
    },
}

/// A named selection of accounts for an action (P5).
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// Comments directly above the trigger.
    pub comments: Vec<Comment>,
    /// Unique across the policy set (shares the namespace of rules).
    pub name: Ident,
    /// The action to take on every selected account.
    pub action: Ident,
    /// Selects accounts: evaluated with each account as `target`.
    pub condition: Expr,
    /// `because "..."`: the reason recorded on the plan.
    pub because: Option<StrLit>,
    /// Comments inside the braces (printed at the top of the body by `fmt`).
    pub body_comments: Vec<Comment>,
    /// The whole trigger.
    pub span: Span,
}

/// The model a pack is written for: what exists and what each action does.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaBlock {
    /// Comments directly above the block.
    pub comments: Vec<Comment>,
    /// `extends standard`: the declarations add to steward's standard schema.
    pub base: Option<Ident>,
    /// The declarations, in source order.
    pub declarations: Vec<Declaration>,
    /// Comments inside the braces after the last declaration.
    pub body_comments: Vec<Comment>,
    /// The whole block.
    pub span: Span,
}

/// One line of a schema block.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// Comments directly above it.
    pub comments: Vec<Comment>,
    /// What it declares.
    pub body: DeclBody,
    /// The whole declaration.
    pub span: Span,
}

/// What a declaration declares.
#[derive(Debug, Clone, PartialEq)]
pub enum DeclBody {
    /// `environment kind NAME [live]`
    EnvKind {
        /// The kind.
        name: Ident,
        /// Its environments are live (G5).
        live: bool,
    },
    /// `status NAME [counts] [login] [expires]`
    Status {
        /// The status.
        name: Ident,
        /// Its flags, as written.
        flags: Vec<Ident>,
    },
    /// `account kind NAME [nonmember] [counts own|home|never]`
    AccountKind {
        /// The kind.
        name: Ident,
        /// `nonmember`: accounts of it are not members of their environment.
        nonmember: bool,
        /// Whose license it counts toward.
        counting: Option<Ident>,
    },
    /// `asset kind NAME [contains] [types T, ...]`
    AssetKind {
        /// The kind.
        name: Ident,
        /// It holds other assets.
        contains: bool,
        /// Its types.
        types: Vec<Ident>,
    },
    /// `action NAME on SUBJECT [from S, ...] [takes V] [EFFECT] [as "N" "D"]`
    Action(ActionDecl),
    /// `attribute ENTITY.NAME: TYPE [?] [= VALUE]`
    Attribute {
        /// account, user, environment or asset.
        entity: Ident,
        /// The key under `attrs`.
        name: Ident,
        /// Its type.
        ty: TypeExpr,
        /// `?`: it may be absent.
        optional: bool,
        /// `= VALUE`: what an entity that does not give it has (a
        /// boolean, an integer or a string).
        default: Option<(SettingValue, Span)>,
    },
    /// `attribute ENTITY.*`: the entity's undeclared `attrs` stay
    /// free-form beside its declared ones.
    OpenAttrs {
        /// account, user, environment or asset.
        entity: Ident,
    },
    /// `identity provider when environment.NAME [== VALUE] and ...`: when
    /// an environment's users come from an identity provider.
    IdentityProvider {
        /// Each test, in order.
        tests: Vec<EnvTest>,
    },
}

/// One test of `identity provider when`: a declared attribute of the
/// environment and the value it must have, with where the value is
/// (`None`: a boolean that must be true).
pub type EnvTest = (Ident, Option<(SettingValue, Span)>);

/// An action's declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDecl {
    /// The action.
    pub name: Ident,
    /// account, user, addresses or asset.
    pub subject: Ident,
    /// `from S, ...`: the statuses it acts on.
    pub from: Vec<Ident>,
    /// `takes ...`: the value it takes.
    pub takes: Option<Takes>,
    /// What it does.
    pub effect: Option<EffectExpr>,
    /// `as "NOUN" "DONE"`: how a plan's summary reads.
    pub shown: Option<(StrLit, StrLit)>,
}

/// `takes email|name|text` or `takes one of A {settings}, B`.
#[derive(Debug, Clone, PartialEq)]
pub enum Takes {
    /// email, name or text.
    Kind(Ident),
    /// The options, the first the default.
    OneOf(Vec<ValueOptionExpr>),
}

/// One option of `takes one of`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueOptionExpr {
    /// Its name.
    pub name: Ident,
    /// What choosing it sets.
    pub settings: Vec<SettingExpr>,
}

/// `FIELD = VALUE` in `sets` or an option.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingExpr {
    /// `email`, `kind`, `user.guest_license`, as written.
    pub field: Ident,
    /// The new value.
    pub value: SettingValue,
    /// The whole setting.
    pub span: Span,
}

/// The value of a setting.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    /// true or false.
    Bool(bool),
    /// `value`: the item's value.
    Value,
    /// A name (an account kind).
    Name(Ident),
    /// A whole number.
    Int(i64),
    /// A string literal.
    Str(String),
}

/// What an action does.
#[derive(Debug, Clone, PartialEq)]
pub enum EffectExpr {
    /// `-> STATUS`
    Move(Ident),
    /// `removes`
    Removes(Span),
    /// `creates STATUS`
    Creates(Ident),
    /// `renews`
    Renews(Span),
    /// `sets F = V, ...`
    Sets(Vec<SettingExpr>),
}

/// An attribute's type as written.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// string, integer, boolean, date, datetime, set.
    Named(Ident),
    /// `one of "a", "b"`
    OneOf(Vec<StrLit>),
}

/// A string literal, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    /// The value, escapes resolved.
    pub value: String,
    /// Where it was written, quotes included.
    pub span: Span,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `"text"`, `42`, `true`, `2026-10-31`, `2026-10-31T00:00:00Z`.
    Literal(Literal),
    /// `["a", "b"]`.
    List(Vec<Expr>),
    /// `target.user.home`: a root (`actor`, `target`, `environment`,
    /// `asset`, `request`, or `account` inside `count`) and segments.
    Path(Path),
    /// `a and b and ...`: two or more operands, tested left to right. A
    /// chain is one node however long it is, so that walking it does not
    /// nest once per term.
    And(Vec<Expr>),
    /// `a or b or ...`: two or more operands, tested left to right.
    Or(Vec<Expr>),
    /// `lhs OP rhs`: a comparison.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `not expr`.
    Not(Box<Expr>),
    /// `subject has role "x"`: the account holds the role.
    HasRole {
        /// An account-valued expression (`actor`, `target`, `account`).
        subject: Box<Expr>,
        /// A string-valued expression.
        role: Box<Expr>,
    },
    /// `subject has attribute`: an optional attribute is set
    /// (`target.user has employment_end`).
    HasAttr {
        /// The entity-valued expression.
        subject: Box<Expr>,
        /// The attribute name.
        attr: Ident,
    },
    /// `count(accounts where cond)`: how many accounts of the request's
    /// environment satisfy `cond`, with each bound to `account`.
    Count {
        /// The condition over `account`; absent counts all accounts.
        condition: Option<Box<Expr>>,
    },
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string.
    Str(String),
    /// A whole number.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// A calendar date, `2026-10-31`.
    Date(Date),
    /// An instant, `2026-10-31T23:00:00Z`.
    DateTime(Timestamp),
}

/// An attribute path: a root and zero or more `.segment`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// `actor`, `target`, `environment`, `asset`, `request` or `account`.
    pub root: Ident,
    /// The segments after the root.
    pub segments: Vec<Ident>,
}

/// The comparison operators (`and` and `or` are [`ExprKind::And`] and
/// [`ExprKind::Or`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
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
    /// `x in [..]` or `x in list-valued-expr`
    In,
    /// `list contains x`, `text contains "sub"`
    Contains,
}

impl BinaryOp {
    /// The operator as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Contains => "contains",
        }
    }
}
