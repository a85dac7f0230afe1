//! The directory's entities: environments, users, their accounts per
//! environment, the assets accounts own, and the records that refer to them.
//!
//! These are plain data, shared by every stage: the YAML loader builds them,
//! the SQLite store persists them, the evaluator and the reference graph read
//! them. Spans and file positions live in the loader, not here.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// An id or other short text of the directory: up to 24 bytes are stored
/// inline, so millions of entities do not mean millions of allocations.
pub type Id = compact_str::CompactString;

/// A free-form attribute value (`attrs:` in the directory), readable from
/// policies as `target.attrs.department`.
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

/// Free-form attributes, ordered so that output and digests are stable.
pub type Attrs = BTreeMap<String, AttrValue>;

/// Declares a closed vocabulary: a `Copy` enum with its canonical lowercase
/// names, `ALL`, `as_str`, `parse`, `Display` and serde in that spelling.
/// Policies compare these against string literals, so the spelling is part of
/// the language: the validator offers `ALL` as "did you mean" candidates.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling, as written in directories and policies.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value with this canonical spelling, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Every canonical spelling, for "did you mean" suggestions.
            pub fn names() -> impl Iterator<Item = &'static str> {
                Self::ALL.iter().map(|v| v.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// How users join an environment (Q2): never both at once.
    IdentityMode {
        /// E-mail invitations (the default).
        Invitations = "invitations",
        /// An identity provider; invitations stay usable until `idp_active`.
        Idp = "idp",
    }
}

/// One tenant, or one environment of a customer (P1, P2, Q2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Unique id, for example `O12345AA`.
    pub id: String,
    /// The license (participant number) it counts toward (P2).
    pub license: String,
    /// One of the schema's environment kinds (`production`, `test`, ...).
    pub kind: Id,
    /// invitations or idp (Q2).
    pub identity: IdentityMode,
    /// With `identity: idp`: the IdP is live, invitations stop working (Q2).
    pub idp_active: bool,
    /// Anonymous access to apps is on (D2).
    pub anonymous_access: bool,
    /// Free-form attributes.
    pub attrs: Attrs,
}

/// One identity, with a home environment (G1, G2, P5, Q5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Unique id, `<license>.<code>` by convention (G2).
    pub id: Id,
    /// Where name and e-mail are mastered (G5, G7).
    pub home: Id,
    /// May work in customers' environments as a guest (G1, G4).
    pub guest_license: bool,
    /// Has desktop-client access in the home environment (G9).
    pub desktop_access: bool,
    /// When the linked employee leaves service (P5).
    pub employment_end: Option<Date>,
    /// The subject at the identity provider (Q5, D5).
    pub idp_subject: Option<String>,
    /// Free-form attributes.
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
    /// Portal (InSite) access (G3, G12).
    pub portal: bool,
    /// Pending accounts: when the invitation expires (Q3).
    pub invited_until: Option<Timestamp>,
    /// Free-form attributes.
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
