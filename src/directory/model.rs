//! The directory's entities: environments, users, their accounts per
//! environment, the assets accounts own, and the records that refer to them.
//!
//! These are plain data, shared by every stage: the YAML loader builds them,
//! the SQLite store persists them, the evaluator and the reference graph read
//! them. Spans and file positions live in the loader, not here.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// An id or other short text of the directory: up to 24 bytes are stored
/// inline, so millions of entities do not mean millions of allocations.
pub type Id = compact_str::CompactString;

/// An attribute's value (`attrs:` in the directory, or a declared
/// attribute's key), readable from policies as `target.attrs.department`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Any text; a date the schema does not declare stays text.
    Str(String),
    /// A list of values.
    List(Vec<AttrValue>),
    /// A date, where the schema declares the attribute a date (read from
    /// text when the directory is loaded; written back as text).
    Date(Date),
    /// An instant, where the schema declares the attribute a date-time.
    DateTime(Timestamp),
}

impl From<&crate::schema::Literal> for AttrValue {
    fn from(literal: &crate::schema::Literal) -> Self {
        match literal {
            crate::schema::Literal::Bool(b) => AttrValue::Bool(*b),
            crate::schema::Literal::Int(i) => AttrValue::Int(*i),
            crate::schema::Literal::Str(s) => AttrValue::Str(s.clone()),
        }
    }
}

/// Free-form attributes, ordered so that output and digests are stable.
pub type Attrs = BTreeMap<String, AttrValue>;

/// One tenant, or one environment of a customer (P1, P2, Q2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Unique id, for example `O12345AA`.
    pub id: String,
    /// The license (participant number) it counts toward (P2).
    pub license: String,
    /// One of the schema's environment kinds (`production`, `test`, ...).
    pub kind: Id,
    /// The attributes the schema declares (the standard schema's
    /// `identity`, `idp_active`, Q2) and free-form ones.
    pub attrs: Attrs,
}

/// One identity, with a home environment (G1, G2, P5, Q5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Unique id, `<license>.<code>` by convention (G2).
    pub id: Id,
    /// Where name and e-mail are mastered (G5, G7).
    pub home: Id,
    /// The attributes the schema declares (the standard schema's
    /// `guest_license`, `employment_end`, ...) and free-form ones.
    pub attrs: Attrs,
}

/// A user's record in one environment: the unit of every action (P7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The user this account belongs to.
    pub user: Id,
    /// The environment it lives in.
    pub env: Id,
    /// One of the schema's statuses (`pending`, `active`, `blocked`).
    pub status: Id,
    /// One of the schema's account kinds (`normal`, `guest`, ...).
    pub kind: Id,
    /// Display name.
    pub name: String,
    /// E-mail, unique among one environment's accounts (G6).
    pub email: Option<String>,
    /// Roles in this environment, sorted and without duplicates.
    pub roles: Vec<String>,
    /// An account in a status that `expires`: when its invitation does
    /// (Q3). Not an attribute of a source system: the mechanism of the
    /// schema's `expires` flag, whatever the statuses are called.
    pub invited_until: Option<Timestamp>,
    /// The attributes the schema declares (the standard schema's
    /// `portal`, G3) and free-form ones.
    pub attrs: Attrs,
}

impl Account {
    /// Whether the account holds `role`. Roles are kept sorted, so this is a
    /// binary search and allocates nothing.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.binary_search_by(|r| r.as_str().cmp(role)).is_ok()
    }
}

/// Something an account owns (D3, D6, D7, Q8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Unique id.
    pub id: Id,
    /// One of the schema's asset kinds.
    pub kind: Id,
    /// The environment it lives in.
    pub env: Id,
    /// The owning user; the owning account is `(owner, env)`.
    pub owner: Option<Id>,
    /// Kinds that declare types only: its type, which decides who
    /// administers it (D7).
    pub space_type: Option<Id>,
    /// The space it sits in.
    pub space: Option<Id>,
    /// Assets it depends on (an app's data connection, D3).
    pub uses: Vec<Id>,
    /// Disabled, for example an alert of a blocked user (Q4).
    pub disabled: bool,
    /// Free-form attributes.
    pub attrs: Attrs,
}

/// Records in one table of one environment that refer to a user (P3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// The table, for example `journal_entries`.
    pub table: Id,
    /// The environment the table lives in.
    pub env: Id,
    /// The user the records refer to.
    pub user: Id,
    /// How many rows refer to the user.
    pub rows: u64,
}
