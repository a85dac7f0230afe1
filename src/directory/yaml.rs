//! The directory file format (YAML, or JSON, which is YAML too): raw serde
//! types that keep where each value was written, then validation that
//! reports every problem of a file at once, each at its line and column.
//!
//! The keys are a contract with users and other tools (docs/directory.md):
//! keys may be added, never renamed.
//!
//! Loading is linear in the file's size: a value keeps the byte offset the
//! parser reports (never a line to look up from the start of the text), ids
//! are found through hash sets, and the parser's limits grow with the file
//! ([`options`]), so a directory of millions of accounts loads while a
//! hostile file is still bounded.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::model::{Account, Asset, AttrValue, Attrs, Environment, Id, Reference, User};
use super::{Directory, DirectoryParts};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::schema::{Entity, Schema};
use crate::source::{FileId, Sources, Span};

/// Parses and validates directory text against `schema` (its statuses,
/// kinds and attributes). On failure, every problem found, each pointing
/// into `sources`.
pub fn parse(name: &str, text: &str, schema: &Schema) -> Result<Directory, (Sources, Vec<Diagnostic>)> {
    let mut sources = Sources::new();
    let file = sources.add(name, text);
    if is_empty(text) {
        return Err((sources, vec![empty_file(file, name, text.len())]));
    }
    let raw = match read(text) {
        Ok(raw) => raw,
        Err(e) => {
            let diagnostic = serde_error(file, text, &e);
            return Err((sources, vec![diagnostic]));
        }
    };
    let (parts, diagnostics) = check(file, name, text, schema, raw);
    if diagnostics.is_empty() { Ok(Directory::new(parts)) } else { Err((sources, diagnostics)) }
}

/// Validates a raw directory read from `text` (this format, or another
/// one turned into it with the offsets of its own text, as SCIM is):
/// the directory's parts and every problem found.
pub(super) fn check(
    file: FileId,
    name: &str,
    text: &str,
    schema: &Schema,
    raw: RawDirectory,
) -> (DirectoryParts, Vec<Diagnostic>) {
    let mut checker = Checker {
        file,
        text,
        schema,
        user_refs: Vec::new(),
        diagnostics: Vec::new(),
        suggestions_left: SUGGESTIONS,
    };
    let parts = checker.check(raw, name);
    (parts, checker.diagnostics)
}

/// Files from this size on are read on two cores where they can be
/// ([`halves`]).
const PARALLEL_FROM: usize = 1 << 20;

/// The raw directory of `text`. A large file in block style is read in two
/// parts at once, each a run of its top-level keys (the users on one core,
/// the assets on the other). When either part does not parse alone (an
/// alias to an anchor of the other part, or any error), the whole text is
/// read again, so that what is reported is what the whole file says.
fn read(text: &str) -> Result<RawDirectory, serde_saphyr::Error> {
    if let Some((first, second)) = halves(text) {
        let (here, there) = std::thread::scope(|scope| {
            let there = scope.spawn(|| read_part(text, second));
            (read_part(text, first), there.join())
        });
        if let (Ok(here), Ok(Ok(there))) = (here, there) {
            return Ok(here.merge(there));
        }
    }
    serde_saphyr::from_str_with_options(text, options(text.len()))
}

thread_local! {
    /// Where the part being read on this thread starts in the whole text:
    /// added to every offset the parser gives, so that every place points
    /// into the file as written.
    static BASE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn read_part(text: &str, range: std::ops::Range<usize>) -> Result<RawDirectory, serde_saphyr::Error> {
    let part = text.get(range.clone()).unwrap_or("");
    BASE.with(|base| base.set(range.start));
    let raw = serde_saphyr::from_str_with_options(part, options(part.len()));
    BASE.with(|base| base.set(0));
    raw
}

/// Two parts of a large file that are YAML documents of their own: each a
/// run of top-level keys, split where the two are closest in size. Only
/// when every line that starts in the first column is a top-level key
/// alone on its line (`users:`) or an entry of its sequence (`- id: a`),
/// each key once, with nothing but comments and blank lines before the
/// first; anything else (JSON, flow style, document markers, a key twice)
/// is read whole. A split that falls inside something the parts do not
/// parse alone makes one of them fail, and the whole is read then.
fn halves(text: &str) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    if text.len() < PARALLEL_FROM {
        return None;
    }
    let mut starts = Vec::new();
    let mut keys = std::collections::HashSet::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        // A sequence's entries may start in the first column too
        // (`users:` then `- id: a`): they belong to the key above.
        let entry = line.starts_with("- ") || line.trim_end() == "-";
        match line.as_bytes().first() {
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'#') => {
                let blank = matches!(line.trim_start().as_bytes().first(), None | Some(b'#'));
                if starts.is_empty() && !blank {
                    return None;
                }
            }
            Some(_) if entry => {
                if starts.is_empty() {
                    return None;
                }
            }
            Some(_) => {
                let key = line.trim_end().strip_suffix(':')?;
                let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !plain || !keys.insert(key) {
                    return None;
                }
                starts.push(offset);
            }
        }
        offset += line.len();
    }
    let first = *starts.first()?;
    let split = starts.iter().skip(1).copied().min_by_key(|at| (at - first).max(text.len() - at))?;
    Some((first..split, split..text.len()))
}

impl RawDirectory {
    /// The keys of two parts of one file (each key in one part only).
    fn merge(self, other: RawDirectory) -> RawDirectory {
        let mut unknown = self.unknown.0;
        unknown.extend(other.unknown.0);
        RawDirectory {
            environments: self.environments.or(other.environments),
            users: self.users.or(other.users),
            assets: self.assets.or(other.assets),
            references: self.references.or(other.references),
            unknown: Unknown(unknown),
        }
    }
}

/// The parser's limits for a text of `len` bytes.
///
/// serde-saphyr's defaults (250,000 nodes, 1,000,000 events, 64 MiB of
/// scalars) suit configuration files; a directory of 4,000 accounts has
/// more nodes than that. Every node and every scalar byte is at least one
/// byte of the text, and every event at most two, so limits in proportion
/// to the file's size never refuse a real directory, while the work a
/// hostile file can cause stays in proportion to its size: aliases, which
/// could repeat a part of the text many times, keep the fixed defaults
/// (50,000 aliases, 1,000,000 replayed events), and nesting stays at 64
/// levels. YAML 1.2 booleans only: `yes`, `no`, `on`, `off` stay text (an
/// id `no`, a department `on`), as in JSON.
pub fn options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    let slack = 1_024;
    budget.max_nodes = budget.max_nodes.max(len.saturating_add(slack));
    budget.max_events = budget.max_events.max(len.saturating_mul(2).saturating_add(slack));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(len.saturating_add(slack));
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.strict_booleans = true;
    options
}

/// The first character of `text` that is a control character or one that
/// reorders text (U+202A..U+202E, U+2066..U+2069), with its 1-based
/// position: what an id or an address printed in a table could forge
/// lines or columns with.
fn unprintable(text: &str) -> Option<(usize, char)> {
    let reorders = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    text.chars().enumerate().find(|(_, c)| c.is_control() || reorders(*c)).map(|(i, c)| (i + 1, c))
}

/// How many did-you-mean suggestions one file gets: each compares a name
/// with every candidate, and a file with a million wrong names would
/// otherwise take hours to report.
const SUGGESTIONS: usize = 100;

/// Nothing but blank lines, comments and document markers.
fn is_empty(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

fn empty_file(file: FileId, name: &str, len: usize) -> Diagnostic {
    Diagnostic::error("empty-directory", format!("`{name}` holds no directory"))
        .at(Span::new(file, 0, len.min(1)), "nothing here")
        .with_help("a directory file lists at least its `environments:`; write `environments: []` for an empty directory")
}

// ---------------------------------------------------------------------------
// The raw format. Required keys are optional here so that a missing one is
// reported with every other problem, and unknown keys are collected rather
// than refused (serde's `deny_unknown_fields` stops at the first).

#[derive(Debug, Deserialize)]
#[expect(
    clippy::vec_box,
    reason = "the entries are large and the lists grow by doubling: pointers move, entries stay"
)]
pub(super) struct RawDirectory {
    // Boxed: a list of a hundred thousand entries grows by doubling, and
    // moving pointers instead of the entries themselves saved a tenth of a
    // large import (the copies, and the fresh pages each copy touches).
    #[serde(default)]
    pub(super) environments: Option<Vec<Box<At<RawEnvironment>>>>,
    #[serde(default)]
    pub(super) users: Option<Vec<Box<At<RawUser>>>>,
    #[serde(default)]
    pub(super) assets: Option<Vec<Box<At<RawAsset>>>>,
    #[serde(default)]
    pub(super) references: Option<Vec<Box<At<RawReference>>>>,
    #[serde(flatten)]
    pub(super) unknown: Unknown,
}

const DIRECTORY_KEYS: &[&str] = &["environments", "users", "assets", "references"];

#[derive(Debug, Deserialize)]
pub(super) struct RawEnvironment {
    #[serde(default)]
    pub(super) id: Option<At<Scalar>>,
    #[serde(default)]
    pub(super) license: Option<At<Scalar>>,
    #[serde(default)]
    pub(super) kind: Option<At<String>>,
    #[serde(default)]
    pub(super) attrs: Attrs,
    #[serde(flatten)]
    pub(super) unknown: Unknown,
}

const ENVIRONMENT_KEYS: &[&str] = &["id", "license", "kind", "attrs"];

#[derive(Debug, Deserialize)]
pub(super) struct RawUser {
    #[serde(default)]
    pub(super) id: Option<At<Scalar>>,
    #[serde(default)]
    pub(super) home: Option<At<Scalar>>,
    #[serde(default)]
    pub(super) attrs: Attrs,
    #[serde(default)]
    pub(super) accounts: Vec<At<RawAccount>>,
    #[serde(flatten)]
    pub(super) unknown: Unknown,
}

const USER_KEYS: &[&str] = &["id", "home", "attrs", "accounts"];

#[derive(Debug, Deserialize)]
pub(super) struct RawAccount {
    #[serde(default)]
    pub(super) env: Option<At<Scalar>>,
    #[serde(default)]
    pub(super) status: Option<At<String>>,
    #[serde(default)]
    pub(super) kind: Option<At<String>>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) email: Option<At<String>>,
    #[serde(default)]
    pub(super) roles: Vec<String>,
    #[serde(default)]
    pub(super) invited_until: Option<At<Scalar>>,
    #[serde(default)]
    pub(super) attrs: Attrs,
    #[serde(flatten)]
    pub(super) unknown: Unknown,
}

const ACCOUNT_KEYS: &[&str] = &["env", "status", "kind", "name", "email", "roles", "invited_until", "attrs"];

#[derive(Debug, Deserialize)]
pub(super) struct RawAsset {
    #[serde(default)]
    id: Option<At<Scalar>>,
    #[serde(default)]
    kind: Option<At<String>>,
    #[serde(default)]
    env: Option<At<Scalar>>,
    #[serde(default)]
    owner: Option<At<Scalar>>,
    #[serde(default)]
    space_type: Option<At<String>>,
    #[serde(default)]
    space: Option<At<Scalar>>,
    #[serde(default)]
    uses: Vec<At<Scalar>>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    attrs: Attrs,
    #[serde(flatten)]
    unknown: Unknown,
}

const ASSET_KEYS: &[&str] =
    &["id", "kind", "env", "owner", "space_type", "space", "uses", "disabled", "attrs"];

#[derive(Debug, Deserialize)]
pub(super) struct RawReference {
    #[serde(default)]
    table: Option<At<String>>,
    #[serde(default)]
    env: Option<At<Scalar>>,
    #[serde(default)]
    user: Option<At<Scalar>>,
    #[serde(default)]
    rows: Option<u64>,
    #[serde(flatten)]
    unknown: Unknown,
}

const REFERENCE_KEYS: &[&str] = &["table", "env", "user", "rows"];

/// A value and the byte offset it was written at. Only the offset is kept
/// of serde-saphyr's [`Spanned`] (two full locations): a directory holds
/// millions of these.
#[derive(Debug)]
pub(super) struct At<T> {
    pub(super) value: T,
    pub(super) offset: usize,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        let offset = spanned.referenced.span().byte_offset().and_then(|o| usize::try_from(o).ok());
        Ok(At { value: spanned.value, offset: offset.unwrap_or(0) + BASE.with(std::cell::Cell::get) })
    }
}

/// Ids, licenses and dates may be written bare (`license: 12345`,
/// `employment_end: 2026-10-31`, an id `y`): a string field keeps the
/// scalar exactly as written, never as the number or boolean YAML would
/// infer.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub(super) struct Scalar(pub(super) String);

impl Scalar {
    fn text(&self) -> String {
        self.0.clone()
    }
}

/// The keys of a mapping that are not part of the format, in the order
/// written, with their values where they may be attributes: a key the
/// schema declares for the entity is its attribute (`guest_license: true`
/// beside `home:`), any other is an unknown key.
#[derive(Debug, Default)]
pub(super) struct Unknown(pub(super) Vec<(String, Loose)>);

impl<'de> Deserialize<'de> for Unknown {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = Unknown;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unknown, A::Error> {
                let mut keys = Vec::new();
                while let Some(KeyName(key)) = map.next_key()? {
                    keys.push((key, map.next_value::<Loose>()?));
                }
                Ok(Unknown(keys))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// The value of a key outside the format, as an attribute's value; `None`
/// for a mapping (or a list holding one), which no attribute is: the key
/// is then reported, never a parser error.
#[derive(Debug)]
pub(super) struct Loose(pub(super) Option<AttrValue>);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Value;
        impl<'de> Visitor<'de> for Value {
            type Value = Loose;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Loose, E> {
                Ok(Loose(Some(AttrValue::Bool(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loose, E> {
                Ok(Loose(Some(AttrValue::Int(v))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loose, E> {
                Ok(Loose(Some(
                    i64::try_from(v).map_or_else(|_| AttrValue::Str(v.to_string()), AttrValue::Int),
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loose, E> {
                Ok(Loose(Some(AttrValue::Str(v.to_string()))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose, E> {
                Ok(Loose(Some(AttrValue::Str(v.to_owned()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
                Ok(Loose(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
                let mut items = Some(Vec::new());
                while let Some(Loose(item)) = seq.next_element::<Loose>()? {
                    items = items.zip(item).map(|(mut list, item)| {
                        list.push(item);
                        list
                    });
                }
                Ok(Loose(items.map(AttrValue::List)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
        }
        deserializer.deserialize_any(Value)
    }
}

/// A mapping key as text, whatever scalar it is (`1:`, `true:`).
struct KeyName(String);

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = KeyName;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyName, E> {
                Ok(KeyName(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyName, E> {
                Ok(KeyName("null".to_owned()))
            }
        }
        deserializer.deserialize_any(Name)
    }
}

// ---------------------------------------------------------------------------
// Validation. Each entity is checked whole: a wrong value is reported and
// the entity's other keys are still checked. An entity with a problem is
// left out of the directory, which is then never used, but its id stays
// known, so that what names it is not reported as naming nothing: one
// wrong `kind` is one error, not one per account in the environment.

struct Checker<'t> {
    file: FileId,
    text: &'t str,
    /// What the directory's names and attributes are checked against.
    schema: &'t Schema,
    /// Attributes that name a user (`user` type): where, and whom, checked
    /// once every user is read.
    user_refs: Vec<(usize, String, String)>,
    diagnostics: Vec<Diagnostic>,
    /// What is left of [`SUGGESTIONS`].
    suggestions_left: usize,
}

/// The declared attributes an entry gives at its top level: each key, its
/// value (`None`: a mapping, which no attribute is) and where the key is.
type TopAttrs = Vec<(String, Option<AttrValue>, usize)>;

/// Where an entity was defined: its location, for "first defined here".
type Seen = HashMap<String, Span>;

/// E-mail addresses by environment and lowercase address: who has it, where.
type Emails = HashMap<(String, String), (String, Span)>;

/// The environments declared, valid or not, and their ids in file order
/// (the did-you-mean candidates, in an order that does not change).
#[derive(Default)]
struct Envs {
    seen: Seen,
    order: Vec<String>,
}

/// An asset declared with an id, valid or not: what its links are checked
/// against.
struct Declared {
    /// Its position among the file's assets.
    index: usize,
    kind: Option<Id>,
    env: Option<String>,
    span: Span,
}

/// The accounts declared in a known environment, valid or not, by user and
/// environment: what owners and references must name.
type AccountKeys = HashSet<(Id, Id)>;

/// The offset of the entity after `list[index]`, or `end`: where the search
/// for one entity's keys stops.
fn next_offset<E: Placed>(list: &[E], index: usize, end: usize) -> usize {
    list.get(index + 1).map_or(end, Placed::offset)
}

/// Where an entry was written: an entry, or a boxed one.
trait Placed {
    fn offset(&self) -> usize;
}

impl<T> Placed for At<T> {
    fn offset(&self) -> usize {
        self.offset
    }
}

impl<T> Placed for Box<At<T>> {
    fn offset(&self) -> usize {
        self.offset
    }
}

impl Checker<'_> {
    /// The token at `offset`.
    fn span(&self, offset: usize) -> Span {
        let token = self.text.get(offset..).unwrap_or("");
        let len = token.find(['\n', ',', '}', ']', '#']).unwrap_or(token.len());
        let len = token.get(..len).map_or(0, |t| t.trim_end().len()).max(1).min(token.len());
        Span::new(self.file, offset, offset + len)
    }

    fn at<T>(&self, value: &At<T>) -> Span {
        self.span(value.offset)
    }

    fn error(&mut self, code: &'static str, message: String, span: Span, label: &str) {
        self.report(code, message, span, label, None);
    }

    fn report(&mut self, code: &'static str, message: String, span: Span, label: &str, help: Option<String>) {
        let mut diagnostic = Diagnostic::error(code, message).at(span, label);
        diagnostic.help = help;
        self.diagnostics.push(diagnostic);
    }

    /// The candidate `name` was probably meant to be, while the file's
    /// budget of suggestions lasts.
    fn suggest<'c>(&mut self, name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
        if self.suggestions_left == 0 {
            return None;
        }
        self.suggestions_left -= 1;
        did_you_mean(name, candidates).map(str::to_owned)
    }

    fn check(&mut self, raw: RawDirectory, name: &str) -> DirectoryParts {
        let mut parts = DirectoryParts::default();
        let end = self.text.len();
        self.unknown_keys(&raw.unknown, 0, end, DIRECTORY_KEYS);
        let nothing = raw.environments.is_none()
            && raw.users.is_none()
            && raw.assets.is_none()
            && raw.references.is_none();
        if nothing && raw.unknown.0.is_empty() {
            self.diagnostics.push(empty_file(self.file, name, end));
            return parts;
        }
        let environments = raw.environments.unwrap_or_default();
        let mut envs = Envs::default();
        for (i, env) in environments.iter().enumerate() {
            if let Some(e) = self.environment(env, next_offset(&environments, i, end), &mut envs) {
                parts.environments.push(e);
            }
        }
        let users = raw.users.unwrap_or_default();
        parts.users.reserve(users.len());
        parts.accounts.reserve(users.iter().map(|u| u.value.accounts.len()).sum());
        let mut user_seen = Seen::new();
        let mut emails = Emails::new();
        let mut accounts = AccountKeys::new();
        for (i, user) in users.iter().enumerate() {
            let end = next_offset(&users, i, end);
            self.user(user, end, &envs, &mut user_seen, &mut emails, &mut accounts, &mut parts);
        }
        let assets = raw.assets.unwrap_or_default();
        parts.assets.reserve(assets.len());
        let mut declared: HashMap<String, Declared> = HashMap::with_capacity(assets.len());
        for (i, asset) in assets.iter().enumerate() {
            let end = next_offset(&assets, i, end);
            if let Some(a) = self.asset(i, asset, end, &envs, &accounts, &mut declared) {
                parts.assets.push(a);
            }
        }
        self.asset_links(&assets, &declared);
        let refs = std::mem::take(&mut self.user_refs);
        let ids: Vec<&str> = parts.users.iter().map(|u| u.id.as_str()).collect();
        for (at, key, user) in refs {
            if !ids.contains(&user.as_str()) {
                let span = self.span(at);
                let suggestion = self.suggest(&user, ids.iter().copied());
                self.report(
                    "unknown-user",
                    format!("`attrs.{key}` names `{user}`, who is not a user of the directory"),
                    span,
                    "no such user",
                    suggestion.map(|s| format!("did you mean `{s}`?")),
                );
            }
        }
        let references = raw.references.unwrap_or_default();
        for (i, reference) in references.iter().enumerate() {
            let end = next_offset(&references, i, end);
            if let Some(r) = self.reference(reference, end, &envs, &accounts) {
                parts.references.push(r);
            }
        }
        parts
    }

    /// Reports each unknown key of a mapping written from `start`, the next
    /// entity starting at `end`; gives the keys they were probably meant to
    /// be, whose absence is then not reported again. A key the schema
    /// declares as an attribute of `entity` is none: it is read as one.
    fn unknown_keys(
        &mut self,
        unknown: &Unknown,
        start: usize,
        end: usize,
        expected: &[&'static str],
    ) -> Vec<&'static str> {
        self.keys(unknown, start, end, expected, None).0
    }

    /// [`Self::unknown_keys`] of an entity that has attributes: also the
    /// declared attributes given at its top level, with where each key is.
    fn keys(
        &mut self,
        unknown: &Unknown,
        start: usize,
        end: usize,
        expected: &[&'static str],
        entity: Option<Entity>,
    ) -> (Vec<&'static str>, TopAttrs) {
        let mut meant = Vec::new();
        let mut top = Vec::new();
        let schema = self.schema;
        // Keys come in the order written: each is searched after the last.
        let mut from = start;
        for (key, Loose(value)) in &unknown.0 {
            let at = key_offset(self.text, from, end, key);
            if let Some(at) = at {
                from = at + key.len();
            }
            if entity.is_some_and(|e| schema.attribute(e, key).is_some()) {
                top.push((key.clone(), value.clone(), at.unwrap_or(start)));
                continue;
            }
            let span = match at {
                Some(at) => Span::new(self.file, at, at + key.len()),
                None => self.span(start),
            };
            let declared: Vec<&str> = entity
                .map(|e| schema.attributes_of(e).map(|a| a.name.as_str()).collect())
                .unwrap_or_default();
            let suggestion = did_you_mean(key, expected.iter().chain(&declared).copied());
            let mut keys = expected.join(", ");
            if !declared.is_empty() {
                keys = format!("{keys}; the schema's attributes: {}", declared.join(", "));
            }
            let help = match suggestion {
                Some(s) => {
                    if let Some(known) = expected.iter().find(|k| **k == s) {
                        meant.push(*known);
                    }
                    format!("did you mean `{s}`? the keys here are: {keys}")
                }
                None => format!("the keys here are: {keys}"),
            };
            self.report(
                "unknown-key",
                format!("unknown key `{key}`"),
                span,
                "not a key of the format",
                Some(help),
            );
        }
        (meant, top)
    }

    /// A required key's value; its absence is reported at the entity, unless
    /// an unknown key was probably meant to be it.
    fn required<'a, T>(
        &mut self,
        value: &'a Option<At<T>>,
        key: &str,
        meant: &[&str],
        what: &str,
        entity: usize,
    ) -> Option<&'a At<T>> {
        if value.is_none() && !meant.contains(&key) {
            let span = self.span(entity);
            self.report(
                "missing-key",
                format!("{what} has no `{key}`"),
                span,
                "in this entry",
                Some(format!("`{key}` is required here (docs/directory.md)")),
            );
        }
        value.as_ref()
    }

    /// An id, refused when empty or blank: nothing could name it.
    fn id(&mut self, value: Option<&At<Scalar>>, what: &str) -> Option<String> {
        let value = value?;
        let text = value.value.text();
        if let Some((at, c)) = unprintable(&text) {
            let span = self.at(value);
            self.report(
                "invalid-id",
                format!("a {what} id cannot hold the control character U+{:04X} (character {at})", u32::from(c)),
                span,
                "not printable",
                Some("ids are printed in plans, tables and the audit log: a control character would forge lines there".into()),
            );
            return None;
        }
        if !text.trim().is_empty() {
            return Some(text);
        }
        let span = self.at(value);
        let message = if text.is_empty() {
            format!("a {what} id cannot be empty")
        } else {
            format!("a {what} id cannot be blank (`{text}`)")
        };
        self.report(
            "invalid-id",
            message,
            span,
            "no id",
            Some(format!("write the {what}'s id, as other entries and policies name it")),
        );
        None
    }

    fn unique(&mut self, what: &str, id: &str, span: Span, seen: &mut Seen) -> bool {
        if let Some(first) = seen.get(id).copied() {
            self.duplicate(what, id, span, first);
            return false;
        }
        seen.insert(id.to_owned(), span);
        true
    }

    fn duplicate(&mut self, what: &str, id: &str, span: Span, first: Span) {
        self.diagnostics.push(
            Diagnostic::error("duplicate-id", format!("the {what} id `{id}` is used twice"))
                .at(span, "used again here")
                .with_related(first, "first used here"),
        );
    }

    fn known_env(&mut self, id: &At<Scalar>, envs: &Envs, what: &str) -> Option<String> {
        let text = id.value.text();
        if envs.seen.contains_key(&text) {
            return Some(text);
        }
        let span = self.at(id);
        let suggestion = self.suggest(&text, envs.order.iter().map(String::as_str));
        self.report(
            "unknown-environment",
            format!("{what} is in unknown environment `{text}`"),
            span,
            "not an environment of this directory",
            suggestion.map(|s| format!("did you mean `{s}`?")),
        );
        None
    }

    /// `attrs` held to the schema's attributes of `entity`, each problem
    /// located at its key where the entry's text shows it (between `offset`
    /// and `end`, after `attrs`), at the entry otherwise.
    fn typed_attrs(
        &mut self,
        entity: Entity,
        attrs: &Attrs,
        top: TopAttrs,
        offset: usize,
        end: usize,
    ) -> Attrs {
        let mut attrs = attrs.clone();
        let mut written = Vec::with_capacity(top.len());
        for (key, value, at) in top {
            let span = Span::new(self.file, at, at + key.len());
            if attrs.contains_key(&key) {
                self.report(
                    "duplicate-attribute",
                    format!("`{key}` is given twice: here and under `attrs`"),
                    span,
                    "given again",
                    Some(format!("write `{key}` once, here or under `attrs`")),
                );
                continue;
            }
            let Some(value) = value else {
                let ty = self.schema.attribute(entity, &key).map(|d| d.ty.describe()).unwrap_or_default();
                self.report(
                    "attribute",
                    format!("`{key}` is a mapping, not {ty}"),
                    span,
                    "this attribute",
                    None,
                );
                continue;
            };
            // Ids and codes may be written bare (`idp_subject: 12345`): a
            // string attribute keeps the scalar as text.
            let textual = self.schema.attribute(entity, &key).is_some_and(|d| {
                matches!(d.ty, crate::schema::AttrType::String | crate::schema::AttrType::User)
            });
            let value = match value {
                AttrValue::Int(i) if textual => AttrValue::Str(i.to_string()),
                AttrValue::Bool(b) if textual => AttrValue::Str(b.to_string()),
                other => other,
            };
            attrs.insert(key.clone(), value);
            written.push((key, at));
        }
        let shown: Vec<&str> = written.iter().map(|(k, _)| k.as_str()).collect();
        let problems = super::conform::attrs_shown(self.schema, entity, &mut attrs, &shown);
        for decl in self.schema.attributes_of(entity).filter(|a| a.ty == crate::schema::AttrType::User) {
            if let Some(AttrValue::Str(user)) = attrs.get(&decl.name) {
                let at = self.attr_offset(offset, end, &decl.name).unwrap_or(offset);
                self.user_refs.push((at, decl.name.clone(), user.clone()));
            }
        }
        for (key, problem) in problems {
            let at = key.and_then(|key| match written.iter().find(|(k, _)| *k == key) {
                Some((_, at)) => Some(*at),
                None => self.attr_offset(offset, end, &key),
            });
            let (span, label) = match at {
                Some(at) => (self.span(at), "this attribute"),
                None => (self.span(offset), "in this entry"),
            };
            self.report("attribute", problem, span, label, None);
        }
        attrs
    }

    /// Where `key:` is written in the entry's `attrs`, if its text shows it.
    fn attr_offset(&self, offset: usize, end: usize, key: &str) -> Option<usize> {
        let attrs = key_offset(self.text, offset, end, "attrs")?;
        key_offset(self.text, attrs + "attrs".len(), end, key)
    }

    /// A name the schema declares (`names`), or a located error with the
    /// closest one.
    fn declared(&mut self, value: &At<String>, names: &[&str], what: &str) -> Option<Id> {
        if names.contains(&value.value.as_str()) {
            return Some(Id::from(value.value.as_str()));
        }
        self.vocabulary(value, |_| None::<()>, names, what);
        None
    }

    fn vocabulary<T: Copy>(
        &mut self,
        value: &At<String>,
        parse: fn(&str) -> Option<T>,
        names: &[&str],
        what: &str,
    ) -> Option<T> {
        if let Some(v) = parse(&value.value) {
            return Some(v);
        }
        let span = self.at(value);
        let help = match did_you_mean(&value.value, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? the values are: {}", names.join(", ")),
            None => format!("the values are: {}", names.join(", ")),
        };
        self.report(
            "unknown-value",
            format!("`{}` is not {what}", value.value),
            span,
            "unknown value",
            Some(help),
        );
        None
    }

    fn environment(&mut self, raw: &At<RawEnvironment>, end: usize, envs: &mut Envs) -> Option<Environment> {
        let env = &raw.value;
        let before = self.diagnostics.len();
        let (meant, top) =
            self.keys(&env.unknown, raw.offset, end, ENVIRONMENT_KEYS, Some(Entity::Environment));
        let id = self.required(&env.id, "id", &meant, "an environment", raw.offset);
        let id_span = id.map(|i| self.at(i));
        let id = self.id(id, "environment");
        let what =
            id.as_ref().map_or_else(|| "this environment".to_owned(), |id| format!("environment `{id}`"));
        let license = self.required(&env.license, "license", &meant, &what, raw.offset);
        let schema = self.schema;
        let kinds: Vec<&str> = schema.env_kinds.iter().map(|k| k.name.as_str()).collect();
        let kind = self
            .required(&env.kind, "kind", &meant, &what, raw.offset)
            .and_then(|kind| self.declared(kind, &kinds, "an environment kind"));
        if let (Some(id), Some(span)) = (&id, id_span)
            && self.unique("environment", id, span, &mut envs.seen)
        {
            envs.order.push(id.clone());
        }
        let attrs = self.typed_attrs(Entity::Environment, &env.attrs, top, raw.offset, end);
        let (Some(id), Some(license), Some(kind)) = (id, license, kind) else {
            return None;
        };
        if self.diagnostics.len() > before {
            return None;
        }
        Some(Environment { id, license: license.value.text(), kind, attrs })
    }

    #[expect(clippy::too_many_arguments, reason = "the sets the checks of a user's accounts fill in")]
    fn user(
        &mut self,
        raw: &At<RawUser>,
        end: usize,
        envs: &Envs,
        seen: &mut Seen,
        emails: &mut Emails,
        accounts: &mut AccountKeys,
        parts: &mut DirectoryParts,
    ) {
        let user = &raw.value;
        let before = self.diagnostics.len();
        let (meant, top) = self.keys(&user.unknown, raw.offset, end, USER_KEYS, Some(Entity::User));
        let id_at = self.required(&user.id, "id", &meant, "a user", raw.offset);
        let id_span = id_at.map(|i| self.at(i));
        let id = self.id(id_at, "user");
        let unique = match (&id, id_span) {
            (Some(id), Some(span)) => self.unique("user", id, span, seen),
            _ => false,
        };
        let name = id.clone().unwrap_or_default();
        let what = id.as_ref().map_or_else(|| "this user".to_owned(), |id| format!("user `{id}`"));
        let home = self
            .required(&user.home, "home", &meant, &what, raw.offset)
            .and_then(|home| self.known_env(home, envs, &format!("the home of `{name}`")));
        let attrs = self.typed_attrs(Entity::User, &user.attrs, top, raw.offset, end);
        let mut account_envs = Seen::new();
        for (i, account) in user.accounts.iter().enumerate() {
            let end = next_offset(&user.accounts, i, end);
            let checked =
                AccountCheck { user: &name, envs, account_envs: &mut account_envs, emails, accounts };
            if let Some(a) = self.account(account, end, checked) {
                parts.accounts.push(a);
            }
        }
        let (true, Some(id), Some(home)) = (unique, id, home) else { return };
        if self.diagnostics.len() > before {
            return;
        }
        parts.users.push(User { id: id.into(), home: home.into(), attrs });
    }

    fn account(&mut self, raw: &At<RawAccount>, end: usize, check: AccountCheck<'_>) -> Option<Account> {
        let AccountCheck { user, envs, account_envs, emails, accounts } = check;
        let account = &raw.value;
        let before = self.diagnostics.len();
        let (meant, top) = self.keys(&account.unknown, raw.offset, end, ACCOUNT_KEYS, Some(Entity::Account));
        let what = format!("an account of `{user}`");
        let env_at = self.required(&account.env, "env", &meant, &what, raw.offset);
        let env = env_at.and_then(|e| self.known_env(e, envs, &what));
        if let (Some(env), Some(env_at)) = (&env, env_at) {
            let span = self.at(env_at);
            if let Some(first) = account_envs.get(env).copied() {
                self.diagnostics.push(
                    Diagnostic::error("duplicate-account", format!("`{user}` has two accounts in `{env}`"))
                        .at(span, "second account")
                        .with_related(first, "first account"),
                );
            } else {
                account_envs.insert(env.clone(), span);
                accounts.insert((Id::from(user), Id::from(env.as_str())));
            }
        }
        let schema = self.schema;
        let statuses: Vec<&str> = schema.statuses.iter().map(|s| s.name.as_str()).collect();
        let status = self
            .required(&account.status, "status", &meant, &what, raw.offset)
            .and_then(|s| self.declared(s, &statuses, "an account status"));
        let kind = match &account.kind {
            Some(k) => {
                let kinds: Vec<&str> = schema.account_kinds.iter().map(|k| k.name.as_str()).collect();
                self.declared(k, &kinds, "an account kind")
            }
            None => Some(Id::from(schema.default_account_kind())),
        };
        let invited_until = match (&account.invited_until, &status) {
            (Some(t), Some(status)) if !schema.expires(status) => {
                let span = self.at(t);
                self.report(
                    "invitation-not-pending",
                    format!("`invited_until` is set on the `{status}` account of `{user}`"),
                    span,
                    "only an account in a status that expires has an invitation",
                    Some(match schema.statuses.iter().find(|s| s.expires) {
                        Some(pending) => {
                            format!("remove the key, or make the account `status: {}`", pending.name)
                        }
                        None => "remove the key: no status of the schema expires".to_owned(),
                    }),
                );
                None
            }
            (Some(t), _) => self.timestamp(t),
            (None, _) => None,
        };
        let email = account.email.as_ref().and_then(|e| self.email(e, user, env.as_deref(), emails));
        if let Some((at, c)) = account.name.as_deref().and_then(unprintable) {
            let span = self.span(raw.offset);
            self.report(
                "invalid-name",
                format!(
                    "the name of `{user}` holds the control character U+{:04X} (character {at})",
                    u32::from(c)
                ),
                span,
                "in this account",
                None,
            );
        }
        let attrs = self.typed_attrs(Entity::Account, &account.attrs, top, raw.offset, end);
        let (Some(env), Some(status), Some(kind)) = (env, status, kind) else { return None };
        if self.diagnostics.len() > before {
            return None;
        }
        let mut roles = account.roles.clone();
        roles.sort_unstable();
        roles.dedup();
        Some(Account {
            user: user.into(),
            env: env.into(),
            status,
            kind,
            name: account.name.clone().unwrap_or_else(|| user.to_owned()),
            email,
            roles,
            invited_until,
            attrs,
        })
    }

    /// An address as written: refused when empty (an account without one
    /// leaves the key out) or with spaces around it (nothing is trimmed, so
    /// that `" x@y "` never passes for `x@y`); unique in its environment,
    /// case-insensitively (G6).
    fn email(
        &mut self,
        email: &At<String>,
        user: &str,
        env: Option<&str>,
        emails: &mut Emails,
    ) -> Option<String> {
        let value = &email.value;
        let span = self.at(email);
        if value.trim().is_empty() {
            self.report(
                "invalid-email",
                format!("the e-mail address of `{user}` is empty"),
                span,
                "no address",
                Some("leave `email` out when the account has no address".into()),
            );
            return None;
        }
        if let Some((at, c)) = unprintable(value) {
            self.report(
                "invalid-email",
                format!(
                    "the e-mail address of `{user}` holds the control character U+{:04X} (character {at})",
                    u32::from(c)
                ),
                span,
                "not printable",
                None,
            );
            return None;
        }
        if value.trim() != value {
            self.report(
                "invalid-email",
                format!("the e-mail address `{value}` has spaces around it"),
                span,
                "spaces are not trimmed",
                Some(format!("write the address alone: `{}`", value.trim())),
            );
            return None;
        }
        let env = env?;
        // ASCII case only, as the engine (`email-in-use`) and the store's
        // unique index (SQLite's `lower`) compare: one rule everywhere, so
        // that a directory apply leaves is always imported again (G6).
        let key = (env.to_owned(), value.to_ascii_lowercase());
        if let Some((holder, first)) = emails.get(&key) {
            self.diagnostics.push(
                Diagnostic::error(
                    "duplicate-email",
                    format!("`{value}` already belongs to `{holder}` in `{env}`"),
                )
                .at(span, "used again here")
                .with_related(*first, "first used here")
                .with_help("e-mail addresses are unique among the accounts of one environment (G6)"),
            );
            return None;
        }
        emails.insert(key, (user.to_owned(), span));
        Some(value.clone())
    }

    fn asset(
        &mut self,
        index: usize,
        raw: &At<RawAsset>,
        end: usize,
        envs: &Envs,
        accounts: &AccountKeys,
        declared: &mut HashMap<String, Declared>,
    ) -> Option<Asset> {
        let asset = &raw.value;
        let before = self.diagnostics.len();
        let (meant, top) = self.keys(&asset.unknown, raw.offset, end, ASSET_KEYS, Some(Entity::Asset));
        let id_at = self.required(&asset.id, "id", &meant, "an asset", raw.offset);
        let id_span = id_at.map(|i| self.at(i));
        let id = self.id(id_at, "asset");
        let what = id.as_ref().map_or_else(|| "this asset".to_owned(), |id| format!("asset `{id}`"));
        let schema = self.schema;
        let kinds: Vec<&str> = schema.asset_kinds.iter().map(|k| k.name.as_str()).collect();
        let kind = self
            .required(&asset.kind, "kind", &meant, &what, raw.offset)
            .and_then(|k| self.declared(k, &kinds, "an asset kind"));
        let declared_kind = kind.as_deref().and_then(|k| schema.asset_kind(k));
        let types: Vec<&str> = match declared_kind {
            Some(k) => k.types.iter().map(String::as_str).collect(),
            None => schema.asset_kinds.iter().flat_map(|k| &k.types).map(String::as_str).collect(),
        };
        let typed = declared_kind.is_some_and(|k| !k.types.is_empty());
        let env = self
            .required(&asset.env, "env", &meant, &what, raw.offset)
            .and_then(|e| self.known_env(e, envs, &what));
        let shown = id.as_deref().unwrap_or("this asset");
        let space_type = match &asset.space_type {
            Some(t) if typed || declared_kind.is_none() => self.declared(t, &types, "a space type"),
            _ => None,
        };
        match (&kind, &asset.space_type) {
            (Some(kind), None) if typed => {
                let span = id_span.unwrap_or_else(|| self.span(raw.offset));
                self.report(
                    "space-type",
                    format!("{kind} `{shown}` has no `space_type`"),
                    span,
                    "this space",
                    Some(format!("add `space_type: {}` (D7)", types.join(" | "))),
                );
            }
            (Some(kind), Some(t)) if !typed && declared_kind.is_some() => {
                let span = self.at(t);
                self.report(
                    "space-type",
                    format!("`{shown}` has a `space_type`, but a `{kind}` has no types"),
                    span,
                    "only kinds with types have one",
                    Some({
                        let typed: Vec<String> = schema
                            .asset_kinds
                            .iter()
                            .filter(|k| !k.types.is_empty())
                            .map(|k| format!("`kind: {}`", k.name))
                            .collect();
                        match typed.as_slice() {
                            [] => "remove `space_type`: no asset kind of the schema has types".to_owned(),
                            [one] => format!("remove `space_type`, or make `{shown}` a {one}"),
                            _ => {
                                format!("remove `space_type`, or make `{shown}` one of {}", typed.join(", "))
                            }
                        }
                    }),
                );
            }
            _ => {}
        }
        let owner = asset.owner.as_ref().map(|owner| {
            let user = owner.value.text();
            if let Some(env) = &env
                && !accounts.contains(&(Id::from(user.as_str()), Id::from(env.as_str())))
            {
                let span = self.at(owner);
                self.report(
                    "owner-without-account",
                    format!("the owner of `{shown}`, `{user}`, has no account in `{env}`"),
                    span,
                    "no account in the asset's environment",
                    Some("an asset is owned by an account of its own environment".into()),
                );
            }
            user
        });
        if let (Some(id), Some(span)) = (&id, id_span) {
            match declared.get(id) {
                Some(first) => {
                    let first = first.span;
                    self.duplicate("asset", id, span, first);
                }
                None => {
                    declared
                        .insert(id.clone(), Declared { index, kind: kind.clone(), env: env.clone(), span });
                }
            }
        }
        let (Some(id), Some(kind), Some(env)) = (id, kind, env) else { return None };
        if self.diagnostics.len() > before {
            return None;
        }
        Some(Asset {
            id: id.into(),
            kind,
            env: env.into(),
            owner: owner.map(Id::from),
            space_type,
            space: asset.space.as_ref().map(|s| s.value.text().into()),
            uses: asset.uses.iter().map(|u| u.value.text().into()).collect(),
            disabled: asset.disabled,
            attrs: self.typed_attrs(Entity::Asset, &asset.attrs, top, raw.offset, end),
        })
    }

    /// `space` and `uses` must name declared assets (a space for `space`),
    /// of the same environment, without cycles. A link to an asset with
    /// problems of its own is checked only as far as they allow.
    fn asset_links(&mut self, raw: &[Box<At<RawAsset>>], declared: &HashMap<String, Declared>) {
        let mut order: Vec<(&str, usize)> = declared.iter().map(|(id, d)| (id.as_str(), d.index)).collect();
        order.sort_unstable_by_key(|(_, index)| *index);
        let ids: Vec<&str> = order.iter().map(|(id, _)| *id).collect();
        for (index, asset) in raw.iter().enumerate() {
            let a = &asset.value;
            let Some(id) = a.id.as_ref().map(|i| i.value.text()) else { continue };
            let Some(this) = declared.get(&id).filter(|d| d.index == index) else { continue };
            let links = a.space.iter().map(|s| (s, true)).chain(a.uses.iter().map(|u| (u, false)));
            for (link, is_space) in links {
                let target = link.value.text();
                let span = self.at(link);
                match declared.get(&target) {
                    None => {
                        let suggestion = self.suggest(&target, ids.iter().copied());
                        self.report(
                            "unknown-asset",
                            format!("`{id}` refers to unknown asset `{target}`"),
                            span,
                            "no such asset",
                            suggestion.map(|s| format!("did you mean `{s}`?")),
                        );
                    }
                    Some(t)
                        if is_space
                            && t.kind
                                .as_deref()
                                .is_some_and(|k| !self.schema.asset_kind(k).is_some_and(|k| k.contains)) =>
                    {
                        let kind = t.kind.as_deref().unwrap_or_default();
                        self.error(
                            "not-a-space",
                            format!("`{id}` sits in `{target}`, a `{kind}`, which holds no other assets"),
                            span,
                            "holds no assets",
                        );
                    }
                    Some(t) => {
                        if let (Some(here), Some(there)) = (&this.env, &t.env)
                            && here != there
                        {
                            self.error(
                                "cross-environment",
                                format!("`{id}` in `{here}` refers to `{target}` in `{there}`"),
                                span,
                                "another environment",
                            );
                        }
                    }
                }
            }
        }
        self.cycles(raw, declared, &ids);
    }

    /// One error per cycle of `space` and `uses` links, found depth first
    /// from each asset in file order, so that the same file always reports
    /// the same cycle at the same place.
    fn cycles(&mut self, raw: &[Box<At<RawAsset>>], declared: &HashMap<String, Declared>, ids: &[&str]) {
        // The links of each declared asset, as positions in `ids`.
        let position: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let links: Vec<Vec<usize>> = ids
            .iter()
            .map(|id| {
                let Some(asset) = declared.get(*id).and_then(|d| raw.get(d.index)) else { return Vec::new() };
                let a = &asset.value;
                a.space
                    .iter()
                    .chain(a.uses.iter())
                    .filter_map(|link| position.get(link.value.0.as_str()).copied())
                    .collect()
            })
            .collect();
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; ids.len()];
        let mut path: Vec<usize> = Vec::new();
        let mut reported: HashSet<Vec<usize>> = HashSet::new();
        for start in 0..ids.len() {
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            while let Some((node, next)) = stack.pop() {
                if next == 0 {
                    match state.get(node).copied() {
                        Some(DONE) => continue,
                        Some(ON_PATH) => {
                            let from = path.iter().rposition(|n| *n == node).unwrap_or(0);
                            let cycle = path.get(from..).unwrap_or_default();
                            let mut key = cycle.to_vec();
                            key.sort_unstable();
                            if reported.insert(key) {
                                let name = |n: &usize| ids.get(*n).copied().unwrap_or("");
                                let mut shown: Vec<&str> = cycle.iter().map(name).collect();
                                shown.push(name(&node));
                                let span = declared.get(name(&node)).map(|d| d.span).unwrap_or_default();
                                self.error(
                                    "cycle",
                                    format!("assets depend on each other in a cycle: {}", shown.join(" -> ")),
                                    span,
                                    "part of a cycle",
                                );
                            }
                            continue;
                        }
                        _ => {
                            if let Some(s) = state.get_mut(node) {
                                *s = ON_PATH;
                            }
                            path.push(node);
                        }
                    }
                }
                if let Some(link) = links.get(node).and_then(|l| l.get(next)) {
                    stack.push((node, next + 1));
                    stack.push((*link, 0));
                } else {
                    if let Some(s) = state.get_mut(node) {
                        *s = DONE;
                    }
                    path.pop();
                }
            }
        }
    }

    fn reference(
        &mut self,
        raw: &At<RawReference>,
        end: usize,
        envs: &Envs,
        accounts: &AccountKeys,
    ) -> Option<Reference> {
        let r = &raw.value;
        let before = self.diagnostics.len();
        let meant = self.unknown_keys(&r.unknown, raw.offset, end, REFERENCE_KEYS);
        let what = "a reference";
        let table = self.required(&r.table, "table", &meant, what, raw.offset);
        let rows = r.rows;
        if rows.is_none() && !meant.contains(&"rows") {
            let span = self.span(raw.offset);
            self.report(
                "missing-key",
                format!("{what} has no `rows`"),
                span,
                "in this entry",
                Some("`rows` is required here (docs/directory.md)".into()),
            );
        }
        // The store keeps counts as SQLite integers: a larger one would be
        // stored as another number.
        if rows.is_some_and(|n| i64::try_from(n).is_err()) {
            let span = self.span(raw.offset);
            self.report(
                "invalid-value",
                format!("{what} counts more rows than can be stored (at most {})", i64::MAX),
                span,
                "in this entry",
                None,
            );
        }
        let table_name = table.map_or("", |t| t.value.as_str());
        let env = self
            .required(&r.env, "env", &meant, what, raw.offset)
            .and_then(|e| self.known_env(e, envs, &format!("`{table_name}`")));
        let user = self.required(&r.user, "user", &meant, what, raw.offset);
        if let (Some(user), Some(env)) = (user, &env) {
            let name = user.value.text();
            if !accounts.contains(&(Id::from(name.as_str()), Id::from(env.as_str()))) {
                let span = self.at(user);
                self.error(
                    "reference-without-account",
                    format!("`{table_name}` refers to `{name}`, who has no account in `{env}`"),
                    span,
                    "no such account",
                );
            }
        }
        let (Some(table), Some(env), Some(user), Some(rows)) = (table, env, user, rows) else { return None };
        if self.diagnostics.len() > before {
            return None;
        }
        Some(Reference {
            table: table.value.as_str().into(),
            env: env.into(),
            user: user.value.text().into(),
            rows,
        })
    }

    fn timestamp(&mut self, raw: &At<Scalar>) -> Option<Timestamp> {
        let text = &raw.value.0;
        match text.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(e) => {
                let span = self.at(raw);
                self.report(
                    "invalid-date",
                    format!("`{text}` is not a date-time"),
                    span,
                    &e.to_string(),
                    Some("date-times are RFC 3339 with an offset, for example 2026-12-01T00:00:00Z".into()),
                );
                None
            }
        }
    }
}

/// What the check of one account reads and fills in.
struct AccountCheck<'a> {
    user: &'a str,
    envs: &'a Envs,
    /// The environments of the user's accounts so far.
    account_envs: &'a mut Seen,
    emails: &'a mut Emails,
    accounts: &'a mut AccountKeys,
}

/// Where `key` is written as a key (`key:`, `"key":`) between `from` and
/// `end`: an unknown key's place, which the parser does not give.
pub(super) fn key_offset(text: &str, from: usize, end: usize, key: &str) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    let window = text.get(from..end.min(text.len()).max(from))?;
    let mut searched = 0;
    while let Some(found) = window.get(searched..).and_then(|rest| rest.find(key)) {
        let at = searched + found;
        let before = window.get(..at).and_then(|b| b.chars().next_back());
        let after = window.get(at + key.len()..).unwrap_or("");
        let after = after.strip_prefix(['"', '\'']).unwrap_or(after).trim_start_matches([' ', '\t']);
        let starts = before.is_none_or(|c| matches!(c, ' ' | '\t' | '\n' | '{' | ',' | '"' | '\'' | '?'));
        if starts && after.starts_with(':') {
            return Some(from + at);
        }
        searched = at + key.len();
    }
    None
}

/// The parser's error, in words, with a hint where its own words say
/// little: a list written as one value, an indentation slip, a file larger
/// than its limits, a misspelt key or value. Every YAML file of steward
/// (directories, policy tests) reports its parser errors through this.
pub(crate) fn serde_error(file: FileId, text: &str, error: &serde_saphyr::Error) -> Diagnostic {
    let message = error.to_string();
    // The message may repeat the location; keep the first line, without it.
    let first = message.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 2 column 14: ..." repeats what the span already says.
    let first = match first.split_once(": ") {
        Some((place, rest)) if place.starts_with("line ") => rest,
        _ => first,
    };
    let first = first.split(" at line ").next().unwrap_or(first).trim_end_matches('.');
    let mut d = Diagnostic::error("invalid-yaml", first.to_owned());
    let offset = error.location().map(|loc| offset_of(text, loc));
    if let Some(offset) = offset {
        let schema = Schema::default();
        let checker = Checker {
            file,
            text,
            schema: &schema,
            user_refs: Vec::new(),
            diagnostics: Vec::new(),
            suggestions_left: 0,
        };
        d = d.at(checker.span(offset), "here");
    }
    d.help = hint(first, text, offset);
    if first.contains("expected sequence") {
        d.message = "expected a list, found one value".into();
    }
    if let Some((message, help)) = unknown_name(error) {
        d.message = message;
        d.help = help;
    }
    d
}

/// A key or a value outside the names serde knows, said in words (never
/// "variant"), with the closest of those names.
fn unknown_name(error: &serde_saphyr::Error) -> Option<(String, Option<String>)> {
    let (what, name, expected) = match error.without_snippet() {
        serde_saphyr::Error::SerdeUnknownField { field, expected, .. } => ("key", field, expected),
        serde_saphyr::Error::SerdeUnknownVariant { variant, expected, .. } => ("value", variant, expected),
        _ => return None,
    };
    let names: Vec<String> = expected.iter().map(|n| format!("`{n}`")).collect();
    let names = match names.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => names.join(""),
    };
    let help =
        did_you_mean(name, expected.iter().copied()).map(|closest| format!("did you mean `{closest}`?"));
    Some((format!("unknown {what} `{name}`, expected {names}"), help))
}

/// The byte offset of a parser location: the one it gives, or its line and
/// column counted in the text (only for the one error of a file).
fn offset_of(text: &str, loc: serde_saphyr::Location) -> usize {
    if let Some(offset) = loc.span().byte_offset().and_then(|o| usize::try_from(o).ok()) {
        return offset.min(text.len());
    }
    let line = usize::try_from(loc.line().saturating_sub(1)).unwrap_or(usize::MAX);
    let line_start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let column = usize::try_from(loc.column().saturating_sub(1)).unwrap_or(0);
    let rest = text.get(line_start..).unwrap_or("");
    line_start + rest.char_indices().nth(column).map_or(0, |(i, _)| i)
}

fn hint(message: &str, text: &str, offset: Option<usize>) -> Option<String> {
    // `name: a: b` on one line: the second `: ` starts a mapping the first
    // value cannot hold. The value is meant as text, and is quoted.
    if message.contains("mapping values are not allowed")
        && let Some(offset) = offset
    {
        let line_start = text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
        let before = text.get(line_start..offset).unwrap_or("");
        if let Some((key, value)) = before.trim_start().trim_start_matches("- ").split_once(": ")
            && !value.trim_start().starts_with(['"', '\'', '{', '['])
        {
            let line_end = text.get(offset..).and_then(|t| t.find('\n')).map_or(text.len(), |i| offset + i);
            let whole = text.get(line_start..line_end).unwrap_or("");
            let value = whole.split_once(": ").map_or(value, |(_, v)| v).trim();
            let value = value.replace('"', "\\\"");
            return Some(format!("a value with `: ` in it is quoted: `{key}: \"{value}\"`"));
        }
    }
    let indentation =
        ["mapping values are not allowed", "did not find expected key", "did not find expected '-'"];
    if indentation.iter().any(|m| message.contains(m)) {
        return Some(
            "check the indentation of this line and the one above it: the keys of one entry start \
             in the same column, and a nested value is indented further than its key"
                .into(),
        );
    }
    if message.contains("budget") {
        return Some(format!(
            "the file has more YAML nodes, scalar text or aliases than a directory of {} bytes can have; \
             is it a directory file?",
            text.len()
        ));
    }
    if message.contains("sequence") {
        // `roles: admin`: the key before the error and the value at it.
        let offset = offset?;
        let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
        let before = text.get(line_start..offset)?;
        let key = before.trim_end().strip_suffix(':')?;
        let key = key.rsplit([' ', '\t', '{', ',']).next()?.trim_matches(['"', '\'']);
        let rest = text.get(offset..)?;
        let value = rest.get(..rest.find(['\n', ',', '}', '#']).unwrap_or(rest.len()))?.trim();
        if key.is_empty() || value.is_empty() {
            return Some("a list is written `[a, b]`, or one `- item` per line".into());
        }
        return Some(format!("`{key}` is a list: write `{key}: [{value}]`, or one `- {value}` per line"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(String, String)> {
        match parse("dir.yaml", text, &crate::policy::declare::standard()) {
            Ok(_) => Vec::new(),
            Err((sources, ds)) => ds
                .iter()
                .map(|d| (d.code.to_owned(), d.span.map(|s| sources.locate(s)).unwrap_or_default()))
                .collect(),
        }
    }

    const ENVS: &str = "environments:\n  - { id: A, license: 1, kind: production }\n";

    #[test]
    fn loads_the_documented_example() {
        let dir = parse(
            "dir.yaml",
            &format!(
                "{ENVS}users:\n  - id: 1.X\n    home: A\n    employment_end: 2026-10-31\n    accounts:\n      - env: A\n        status: pending\n        invited_until: 2026-12-01T00:00:00Z\n        roles: [b, a, a]\n"
            ), &crate::policy::declare::standard())
        .unwrap();
        let account = dir.account("1.X", "A").unwrap();
        assert_eq!(account.roles, ["a", "b"]);
        assert_eq!(dir.environment("A").unwrap().license, "1");
        assert_eq!(
            dir.user("1.X").unwrap().attrs.get("employment_end"),
            Some(&AttrValue::Date(jiff::civil::date(2026, 10, 31)))
        );
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let text = format!(
            "{ENVS}users:\n  - id: u\n    home: B\n    accounts:\n      - {{ env: A, status: actve }}\n  - id: u\n    home: A\n"
        );
        let found = errors(&text);
        assert_eq!(
            found,
            [
                ("unknown-environment".to_owned(), "dir.yaml:5:11".to_owned()),
                ("unknown-value".to_owned(), "dir.yaml:7:27".to_owned()),
                ("duplicate-id".to_owned(), "dir.yaml:8:9".to_owned()),
            ]
        );
    }

    #[test]
    fn unknown_keys_suggest_the_right_one() {
        let err = parse(
            "d.yaml",
            "environments:\n  - { id: A, licence: 1, kind: test }\n",
            &crate::policy::declare::standard(),
        )
        .unwrap_err();
        assert_eq!(err.1[0].code, "unknown-key", "{:?}", err.1[0]);
        assert!(err.1[0].help.as_deref().unwrap().contains("`license`"), "{:?}", err.1[0]);
    }

    #[test]
    fn asset_links_are_checked() {
        let text = format!(
            "{ENVS}users:\n  - {{ id: o, home: A, accounts: [{{ env: A, status: active }}] }}\nassets:\n  - {{ id: s, kind: space, env: A, space_type: shared, uses: [a] }}\n  - {{ id: a, kind: app, env: A, space: s, uses: [x] }}\n  - {{ id: b, kind: app, env: A, space: a, owner: nobody }}\n"
        );
        let codes: Vec<String> = errors(&text).into_iter().map(|(c, _)| c).collect();
        assert!(codes.contains(&"owner-without-account".to_owned()), "{codes:?}");
        assert!(codes.contains(&"unknown-asset".to_owned()), "{codes:?}");
        assert!(codes.contains(&"cycle".to_owned()), "{codes:?}");
    }

    #[test]
    fn duplicate_emails_in_one_environment_are_refused() {
        let text = format!(
            "{ENVS}users:\n  - {{ id: a, home: A, accounts: [{{ env: A, status: active, email: x@y }}] }}\n  - {{ id: b, home: A, accounts: [{{ env: A, status: active, email: X@y }}] }}\n"
        );
        assert_eq!(errors(&text)[0].0, "duplicate-email");
    }
}

#[cfg(test)]
mod parts {
    use super::*;

    /// `steward gen`'s output is read in two parts (the split falls between
    /// top-level keys); what YAML does not promise to read apart is whole.
    #[test]
    fn a_large_block_style_file_splits_between_its_top_level_keys() {
        use crate::directory::generate::{GenerateOptions, generate};
        let text = crate::directory::export::to_yaml(
            &generate(GenerateOptions { accounts: 3_000, seed: 1 }),
            &crate::policy::declare::standard(),
        )
        .unwrap();
        let (first, second) = halves(&text).unwrap();
        assert_eq!((first.start, first.end, second.end), (0, second.start, text.len()));
        let head = text.get(second.start..).unwrap_or("");
        assert!(
            head.starts_with("assets:\n")
                || head.starts_with("users:\n")
                || head.starts_with("references:\n")
        );
        for whole in [format!("---\n{text}"), format!("{text}users:\n"), format!("{{}}\n{text}")] {
            assert_eq!(halves(&whole), None);
        }
        assert_eq!(halves("users:\n- id: a\n"), None, "small files are read whole");
    }
}

#[cfg(test)]
mod scalars {
    use super::*;

    #[test]
    fn bare_scalars_stay_text_as_written() {
        let dir = parse(
            "d.yaml",
            "environments:\n  - { id: y, license: 00123, kind: test, attrs: { department: no } }\n",
            &crate::policy::declare::standard(),
        )
        .unwrap();
        let env = dir.environment("y").unwrap();
        assert_eq!(env.license, "00123");
        assert_eq!(env.attrs.get("department"), Some(&crate::directory::model::AttrValue::Str("no".into())));
    }
}
