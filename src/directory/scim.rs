//! SCIM 2.0 import: the `ListResponse` a service provider answers to
//! `GET /Users` (RFC 7644 §3.4.2, Users of RFC 7643 §4.1), and optionally
//! the one of `GET /Groups` (§4.2), as one environment of a directory.
//!
//! The SCIM text is read into SCIM's own shapes with the offset of each
//! value, its own mistakes are reported (not a `ListResponse`, a User
//! without `userName`, a member that names no user, a `totalResults` that
//! does not match), and what it holds is then turned into the raw entries
//! of the directory format, with offsets into the SCIM text, and checked
//! by the same code as a `.yaml` file (`yaml::check`): duplicate ids and
//! addresses, statuses, typed attributes are located in the SCIM file
//! whatever format the directory came in. The mapping is docs/scim.md.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::model::{AttrValue, Attrs};
use super::yaml::{self, At, Loose, RawAccount, RawDirectory, RawEnvironment, RawUser, Scalar, Unknown};
use super::{Directory, Error};
use crate::diagnostic::Diagnostic;
use crate::schema::{Entity, Schema};
use crate::source::{FileId, Sources, Span};

/// The schema URI of a list answer (RFC 7644 §3.4.2).
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The core User schema (RFC 7643 §4.1).
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema (RFC 7643 §4.2).
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The Enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Which attribute of a SCIM User becomes the steward user id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdSource {
    /// `userName`, unique at the service provider and what people read.
    #[default]
    UserName,
    /// `externalId`, the identity provider's own id.
    ExternalId,
    /// `id`, the service provider's id.
    Id,
}

impl IdSource {
    /// The source a SCIM attribute's name says (`userName`, `externalId`,
    /// `id`; as RFC 7643 writes them, in any case).
    pub fn parse(name: &str) -> Option<IdSource> {
        [IdSource::UserName, IdSource::ExternalId, IdSource::Id]
            .into_iter()
            .find(|s| s.attribute().eq_ignore_ascii_case(name))
    }

    /// The SCIM attribute's name.
    pub fn attribute(self) -> &'static str {
        match self {
            IdSource::UserName => "userName",
            IdSource::ExternalId => "externalId",
            IdSource::Id => "id",
        }
    }
}

/// How the SCIM lists become an environment.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The environment every user gets an account in (and their home).
    pub env: String,
    /// Its license; the environment's id when absent.
    pub license: Option<String>,
    /// Its kind; the schema's first environment kind when absent.
    pub kind: Option<String>,
    /// Which attribute is the user id.
    pub id: IdSource,
    /// The status of `active: true` (or no `active`); chosen from the
    /// schema's statuses when absent.
    pub active_status: Option<String>,
    /// The status of `active: false`; chosen from the schema when absent.
    pub inactive_status: Option<String>,
    /// Import one page of a paged list (warned about) instead of refusing it.
    pub partial: bool,
}

/// A file of the import: its name, as diagnostics show it, and its text.
#[derive(Debug, Clone, Copy)]
pub struct File<'a> {
    /// The name diagnostics show.
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// A directory read from SCIM, with the warnings its files gave (a page of
/// a paged list imported with `partial`).
#[derive(Debug)]
pub struct Import {
    /// The directory.
    pub directory: Directory,
    /// The files, to render the warnings with.
    pub sources: Sources,
    /// Every warning; no error.
    pub warnings: Vec<Diagnostic>,
}

/// Reads the Users list at `users` and the Groups list at `groups`.
pub fn load(
    users: &Path,
    groups: Option<&Path>,
    schema: &Schema,
    options: &Options,
) -> Result<Import, Error> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
    };
    let users_text = read(users)?;
    let groups_text = groups.map(read).transpose()?;
    let users_name = users.display().to_string();
    let groups_name = groups.map(|g| g.display().to_string());
    let groups_file = match (&groups_name, &groups_text) {
        (Some(name), Some(text)) => Some(File { name, text }),
        _ => None,
    };
    parse(File { name: &users_name, text: &users_text }, groups_file, schema, options).map_err(|e| match e {
        Error::Invalid { sources, diagnostics, .. } => {
            Error::Invalid { path: PathBuf::from(users), sources, diagnostics }
        }
        other => other,
    })
}

/// Parses and validates the Users list `users` (and the Groups list
/// `groups`) against `schema`. On failure, every problem found, each
/// located in the file it is in.
pub fn parse(
    users: File<'_>,
    groups: Option<File<'_>>,
    schema: &Schema,
    options: &Options,
) -> Result<Import, Error> {
    let mapping = Mapping::new(schema, options)?;
    let mut sources = Sources::new();
    let users_file = sources.add(users.name, users.text);
    let groups_file = groups.map(|g| (sources.add(g.name, g.text), g));
    let mut reader = Reader { options, diagnostics: Vec::new(), warnings: Vec::new() };
    let user_list = reader.list::<RawScimUser>(users_file, users, USER, "Users");
    let group_list = match groups_file {
        Some((file, g)) => reader.list::<RawGroup>(file, g, GROUP, "Groups").map(|l| Some((file, g, l))),
        None => Some(None),
    };
    let raw = match (user_list, group_list) {
        (Some(user_list), Some(group_list)) => {
            let roles = match &group_list {
                Some((file, g, list)) => reader.roles(*file, g.text, list, &user_list),
                None => HashMap::new(),
            };
            Some(reader.directory(users_file, users.text, &user_list, &roles, &mapping, schema))
        }
        _ => None,
    };
    let mut diagnostics = reader.diagnostics;
    let mut directory = None;
    if let Some(raw) = raw {
        let (parts, problems) = yaml::check(users_file, users.name, users.text, schema, raw);
        diagnostics.extend(problems);
        directory = Some(parts);
    }
    match directory {
        Some(parts) if diagnostics.is_empty() => {
            Ok(Import { directory: Directory::new(parts), sources, warnings: reader.warnings })
        }
        _ => {
            diagnostics.extend(reader.warnings);
            Err(Error::Invalid { path: PathBuf::from(users.name), sources, diagnostics })
        }
    }
}

// ---------------------------------------------------------------------------
// SCIM's shapes. Every attribute is optional here so that a missing one is
// reported with the rest; attributes steward does not import are ignored
// (docs/scim.md lists them).

#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct RawList<T> {
    #[serde(default)]
    schemas: Option<At<Vec<String>>>,
    #[serde(default, rename = "totalResults")]
    total_results: Option<At<u64>>,
    #[serde(default, rename = "startIndex")]
    start_index: Option<At<u64>>,
    // RFC 7644 writes `Resources`; attribute names are case-insensitive
    // (RFC 7643 §2.1), and some providers write it in lowercase.
    #[serde(default, rename = "Resources", alias = "resources")]
    resources: Option<At<Vec<At<T>>>>,
}

#[derive(Debug, Deserialize)]
struct RawScimUser {
    #[serde(default)]
    schemas: Option<At<Vec<String>>>,
    #[serde(default)]
    id: Option<At<Scalar>>,
    #[serde(default, rename = "externalId")]
    external_id: Option<At<Scalar>>,
    #[serde(default, rename = "userName")]
    user_name: Option<At<Scalar>>,
    #[serde(default)]
    name: Option<RawName>,
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
    #[serde(default)]
    active: Option<At<bool>>,
    #[serde(default)]
    emails: Vec<RawEmail>,
    #[serde(default, rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")]
    enterprise: Option<RawEnterprise>,
}

#[derive(Debug, Deserialize)]
struct RawName {
    #[serde(default)]
    formatted: Option<String>,
    #[serde(default, rename = "givenName")]
    given_name: Option<String>,
    #[serde(default, rename = "familyName")]
    family_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawEmail {
    #[serde(default)]
    value: Option<At<String>>,
    #[serde(default)]
    primary: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct RawEnterprise {
    #[serde(default, rename = "employeeNumber")]
    employee_number: Option<Scalar>,
    #[serde(default, rename = "costCenter")]
    cost_center: Option<Scalar>,
    #[serde(default)]
    organization: Option<Scalar>,
    #[serde(default)]
    division: Option<Scalar>,
    #[serde(default)]
    department: Option<Scalar>,
    #[serde(default)]
    manager: Option<RawManager>,
}

#[derive(Debug, Deserialize)]
struct RawManager {
    #[serde(default)]
    value: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
struct RawGroup {
    #[serde(default)]
    schemas: Option<At<Vec<String>>>,
    #[serde(default)]
    id: Option<At<Scalar>>,
    #[serde(default, rename = "displayName")]
    display_name: Option<At<String>>,
    #[serde(default)]
    members: Vec<RawMember>,
}

#[derive(Debug, Deserialize)]
struct RawMember {
    #[serde(default)]
    value: Option<At<Scalar>>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// What a resource's `schemas` is checked for.
trait Resource {
    fn schemas(&self) -> Option<&At<Vec<String>>>;
}

impl Resource for RawScimUser {
    fn schemas(&self) -> Option<&At<Vec<String>>> {
        self.schemas.as_ref()
    }
}

impl Resource for RawGroup {
    fn schemas(&self) -> Option<&At<Vec<String>>> {
        self.schemas.as_ref()
    }
}

/// The environment and the statuses the lists become, checked against the
/// schema before any file is read: a wrong flag is no place in a file.
struct Mapping {
    env: String,
    license: String,
    kind: String,
    active: String,
    inactive: String,
}

impl Mapping {
    fn new(schema: &Schema, options: &Options) -> Result<Mapping, Error> {
        let refuse = |reason: String| Err(Error::Options { reason });
        if options.env.trim().is_empty() || options.env.chars().any(char::is_control) {
            return refuse(format!("`{}` is not an environment id", options.env));
        }
        let kinds: Vec<&str> = schema.env_kinds.iter().map(|k| k.name.as_str()).collect();
        let kind = match &options.kind {
            Some(kind) if kinds.contains(&kind.as_str()) => kind.clone(),
            Some(kind) => {
                return refuse(format!(
                    "`{kind}` is not an environment kind of the schema: --kind takes {}",
                    kinds.join(", ")
                ));
            }
            None => match kinds.first() {
                Some(first) => (*first).to_owned(),
                None => return refuse("the schema declares no environment kind".to_owned()),
            },
        };
        let names: Vec<&str> = schema.statuses.iter().map(|s| s.name.as_str()).collect();
        // `active: true` is a status whose accounts may log in, and
        // `active: false` one whose accounts cannot and do not count;
        // neither waits on an invitation, which SCIM has no expiry for.
        let active = pick(
            schema,
            options.active_status.as_deref(),
            |s| s.login && !s.expires,
            "--active-status",
            "may log in",
            &names,
        )?;
        let inactive = pick(
            schema,
            options.inactive_status.as_deref(),
            |s| !s.login && !s.counts && !s.expires,
            "--inactive-status",
            "cannot log in and does not count",
            &names,
        )?;
        Ok(Mapping {
            env: options.env.clone(),
            license: options.license.clone().unwrap_or_else(|| options.env.clone()),
            kind,
            active,
            inactive,
        })
    }
}

/// The status a flag names, or the one status of the schema that fits.
fn pick(
    schema: &Schema,
    given: Option<&str>,
    fits: fn(&crate::schema::StatusDecl) -> bool,
    flag: &str,
    what: &str,
    names: &[&str],
) -> Result<String, Error> {
    if let Some(given) = given {
        if names.contains(&given) {
            return Ok(given.to_owned());
        }
        return Err(Error::Options {
            reason: format!("`{given}` is not a status of the schema: {flag} takes {}", names.join(", ")),
        });
    }
    let fitting: Vec<&str> = schema.statuses.iter().filter(|s| fits(s)).map(|s| s.name.as_str()).collect();
    match fitting.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(Error::Options {
            reason: format!(
                "no status of the schema {what} (and does not expire): pass {flag} with one of {}",
                names.join(", ")
            ),
        }),
        many => Err(Error::Options {
            reason: format!(
                "more than one status of the schema {what}: pass {flag} with one of {}",
                many.join(", ")
            ),
        }),
    }
}

/// The SCIM checks, one file after the other.
struct Reader<'o> {
    options: &'o Options,
    diagnostics: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

/// The users of the Users list by SCIM `id`: their steward id, if they
/// have one.
type ById = HashMap<String, Option<String>>;

impl Reader<'_> {
    /// The span of the token at `offset` of `text`.
    fn span(file: FileId, text: &str, offset: usize) -> Span {
        let token = text.get(offset..).unwrap_or("");
        let len = token.find(['\n', ',', '}', ']']).unwrap_or(token.len());
        let len = token.get(..len).map_or(0, |t| t.trim_end().len()).max(1).min(token.len());
        Span::new(file, offset, offset + len)
    }

    fn report(&mut self, code: &'static str, message: String, span: Span, label: &str, help: Option<String>) {
        let mut diagnostic = Diagnostic::error(code, message).at(span, label);
        diagnostic.help = help;
        self.diagnostics.push(diagnostic);
    }

    /// A `ListResponse` of `resource`s (`schema`, the core schema URI),
    /// read and held to RFC 7644 §3.4.2; `None` when it cannot be read.
    fn list<T: for<'de> Deserialize<'de> + Resource>(
        &mut self,
        file: FileId,
        source: File<'_>,
        schema: &str,
        resource: &str,
    ) -> Option<Vec<At<T>>> {
        let text = source.text;
        let list: RawList<T> = match serde_saphyr::from_str_with_options(text, yaml::options(text.len())) {
            Ok(list) => list,
            Err(e) => {
                self.diagnostics.push(yaml::serde_error(file, text, &e));
                return None;
            }
        };
        let start = text.len() - text.trim_start().len();
        let whole = Self::span(file, text, start);
        let endpoint = format!("GET /{resource}");
        match &list.schemas {
            None => self.report(
                "not-a-list-response",
                format!("`{}` is not a SCIM ListResponse: it has no `schemas`", source.name),
                whole,
                "no `schemas`",
                Some(format!("give what `{endpoint}` answers: `{{\"schemas\": [\"{LIST_RESPONSE}\"], \"totalResults\": ..., \"Resources\": [...]}}`")),
            ),
            Some(schemas) if !schemas.value.iter().any(|s| s.eq_ignore_ascii_case(LIST_RESPONSE)) => {
                let one = schemas.value.iter().any(|s| s.eq_ignore_ascii_case(schema));
                self.report(
                    "not-a-list-response",
                    format!("`{}` is not a SCIM ListResponse: its `schemas` do not name `{LIST_RESPONSE}`", source.name),
                    Self::span(file, text, schemas.offset),
                    "not a ListResponse",
                    Some(if one {
                        format!("this is one {} resource; give what `{endpoint}` answers, the list of them", resource.trim_end_matches('s'))
                    } else {
                        format!("give what `{endpoint}` answers")
                    }),
                );
            }
            Some(_) => {}
        }
        let resources = list.resources.map(|r| (r.offset, r.value));
        let given = resources.as_ref().map_or(0, |(_, r)| r.len());
        match &list.total_results {
            None => self.report(
                "total-results",
                format!("`{}` has no `totalResults`", source.name),
                whole,
                "in this list",
                Some("a ListResponse says how many results there are (RFC 7644 §3.4.2)".into()),
            ),
            Some(total) => {
                let total_span = Self::span(file, text, total.offset);
                let count = usize::try_from(total.value).unwrap_or(usize::MAX);
                let later = list.start_index.as_ref().filter(|s| s.value > 1);
                if count < given {
                    self.report(
                        "total-results",
                        format!("`totalResults` is {count}, but `Resources` holds {given}"),
                        total_span,
                        "fewer than the resources given",
                        Some("the list is inconsistent: fetch it again from the service provider".into()),
                    );
                } else if count > given || later.is_some() {
                    let message = match later {
                        Some(s) => format!(
                            "`{}` is one page of a list of {count} {resource}: {given} of them from `startIndex` {}",
                            source.name, s.value
                        ),
                        None => format!(
                            "`{}` is one page of a list of {count} {resource}: {given} of them",
                            source.name
                        ),
                    };
                    if self.options.partial {
                        self.warnings.push(
                            Diagnostic::warning("paged-list", message)
                                .at(total_span, "more than the resources given")
                                .with_help("--partial imports this page alone: the other results are not in the directory"),
                        );
                    } else {
                        self.report(
                            "paged-list",
                            message,
                            total_span,
                            "more than the resources given",
                            Some(format!(
                                "fetch every page (`{endpoint}?startIndex=1&count={count}`) into one list, or pass --partial to import this page alone"
                            )),
                        );
                    }
                }
            }
        }
        if resources.is_none() && list.total_results.as_ref().is_some_and(|t| t.value > 0) {
            self.report(
                "missing-key",
                format!("`{}` has no `Resources`", source.name),
                whole,
                "in this list",
                Some("the resources of a list are under `Resources`".into()),
            );
        }
        let resources = resources.map(|(_, r)| r).unwrap_or_default();
        for r in &resources {
            if let Some(schemas) = r.value.schemas()
                && !schemas.value.iter().any(|s| s.eq_ignore_ascii_case(schema))
            {
                self.report(
                    "not-a-resource",
                    format!(
                        "this resource is not a {}: its `schemas` do not name `{schema}`",
                        resource.trim_end_matches('s')
                    ),
                    Self::span(file, text, schemas.offset),
                    "another kind of resource",
                    Some(format!("the {} file is what `{endpoint}` answers", resource.to_lowercase())),
                );
            }
        }
        Some(resources)
    }

    /// The roles of each user (by SCIM `id`): the `displayName` of every
    /// group they are a member of, directly or through nested groups.
    fn roles(
        &mut self,
        file: FileId,
        text: &str,
        groups: &[At<RawGroup>],
        users: &[At<RawScimUser>],
    ) -> HashMap<String, Vec<String>> {
        let user_ids: HashSet<&str> =
            users.iter().filter_map(|u| u.value.id.as_ref()).map(|id| id.value.0.as_str()).collect();
        let group_ids: HashMap<&str, usize> = groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.value.id.as_ref().map(|id| (id.value.0.as_str(), i)))
            .collect();
        // Direct members first: users, and groups nested in this one.
        let mut direct: Vec<(Vec<&str>, Vec<usize>)> = Vec::with_capacity(groups.len());
        for group in groups {
            let g = &group.value;
            let name = g.display_name.as_ref().map_or("", |n| n.value.as_str());
            if g.display_name.as_ref().is_none_or(|n| n.value.trim().is_empty()) {
                self.report(
                    "missing-key",
                    "a Group has no `displayName`".to_owned(),
                    Self::span(file, text, group.offset),
                    "in this group",
                    Some("the group's `displayName` is the role its members get".into()),
                );
            }
            let mut members = (Vec::new(), Vec::new());
            for member in &g.members {
                let Some(value) = &member.value else {
                    self.report(
                        "missing-key",
                        format!("a member of `{name}` has no `value`"),
                        Self::span(file, text, group.offset),
                        "in this group",
                        Some("a member's `value` is the `id` of a User (or of a Group)".into()),
                    );
                    continue;
                };
                let id = value.value.0.as_str();
                let is_group = member.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("group"));
                match (user_ids.contains(id), group_ids.get(id)) {
                    (true, _) if !is_group => members.0.push(id),
                    (_, Some(nested)) => members.1.push(*nested),
                    _ => self.report(
                        "unknown-member",
                        format!("a member of `{name}`, `{id}`, is no {} of the lists", if is_group { "Group" } else { "User" }),
                        Self::span(file, text, value.offset),
                        "no such resource",
                        Some("a member's `value` is the `id` of a User of the Users list (or of a Group of this list)".into()),
                    ),
                }
            }
            direct.push(members);
        }
        let mut roles: HashMap<String, Vec<String>> = HashMap::new();
        for (i, group) in groups.iter().enumerate() {
            let Some(name) = group.value.display_name.as_ref().map(|n| n.value.clone()) else { continue };
            // Every user of this group and of the groups nested in it,
            // each group visited once, so that a cycle of groups ends.
            let mut seen = HashSet::from([i]);
            let mut queue = vec![i];
            while let Some(g) = queue.pop() {
                let Some((members, nested)) = direct.get(g) else { continue };
                for user in members {
                    roles.entry((*user).to_owned()).or_default().push(name.clone());
                }
                queue.extend(nested.iter().filter(|n| seen.insert(**n)));
            }
        }
        roles
    }

    /// The Users list as raw entries of the directory format, one
    /// environment and one account per user, every offset into `text`.
    fn directory(
        &mut self,
        file: FileId,
        text: &str,
        users: &[At<RawScimUser>],
        roles: &HashMap<String, Vec<String>>,
        mapping: &Mapping,
        schema: &Schema,
    ) -> RawDirectory {
        let at = |value: &str, offset: usize| At { value: Scalar(value.to_owned()), offset };
        let environment = RawEnvironment {
            id: Some(at(&mapping.env, 0)),
            license: Some(at(&mapping.license, 0)),
            kind: Some(At { value: mapping.kind.clone(), offset: 0 }),
            attrs: Attrs::new(),
            unknown: Unknown::default(),
        };
        let source = self.options.id;
        let ids: ById = users
            .iter()
            .filter_map(|u| {
                let scim = u.value.id.as_ref()?.value.0.clone();
                Some((scim, steward_id(&u.value, source).map(|i| i.value.0.clone())))
            })
            .collect();
        let mut scim_ids: HashMap<&str, usize> = HashMap::new();
        let mut entries = Vec::with_capacity(users.len());
        for (i, user) in users.iter().enumerate() {
            let u = &user.value;
            let end = users.get(i + 1).map_or(text.len(), |n| n.offset);
            if let Some(id) = &u.id
                && let Some(first) = scim_ids.get(id.value.0.as_str()).copied()
            {
                self.diagnostics.push(
                    Diagnostic::error("duplicate-id", format!("the SCIM id `{}` is used twice", id.value.0))
                        .at(Self::span(file, text, id.offset), "used again here")
                        .with_related(Self::span(file, text, first), "first used here"),
                );
            } else if let Some(id) = &u.id {
                scim_ids.insert(id.value.0.as_str(), id.offset);
            }
            if u.user_name.is_none() {
                self.report(
                    "missing-key",
                    "a User has no `userName`".to_owned(),
                    Self::span(file, text, user.offset),
                    "in this user",
                    Some("`userName` is required of every User (RFC 7643 §4.1.1)".into()),
                );
                continue;
            }
            let Some(id) = steward_id(u, source) else {
                let shown = u.user_name.as_ref().map_or("", |n| n.value.0.as_str());
                self.report(
                    "missing-key",
                    format!("User `{shown}` has no `{}`", source.attribute()),
                    Self::span(file, text, user.offset),
                    "in this user",
                    Some(format!(
                        "--scim-id {} makes it the user id; pick another with --scim-id",
                        source.attribute()
                    )),
                );
                continue;
            };
            let status = match &u.active {
                Some(a) => At {
                    value: if a.value { &mapping.active } else { &mapping.inactive }.clone(),
                    offset: a.offset,
                },
                None => At { value: mapping.active.clone(), offset: user.offset },
            };
            let email = u
                .emails
                .iter()
                .find(|e| e.primary == Some(true) && e.value.is_some())
                .or_else(|| u.emails.iter().find(|e| e.value.is_some()))
                .and_then(|e| e.value.as_ref())
                .map(|v| At { value: v.value.clone(), offset: v.offset });
            let mut account_roles =
                u.id.as_ref().and_then(|s| roles.get(&s.value.0)).cloned().unwrap_or_default();
            account_roles.sort_unstable();
            account_roles.dedup();
            let (attrs, unknown) = enterprise(u, text, user.offset, end, &ids, schema);
            let account = RawAccount {
                env: Some(at(&mapping.env, user.offset)),
                status: Some(status),
                kind: None,
                name: name(u),
                email,
                roles: account_roles,
                invited_until: None,
                attrs: Attrs::new(),
                unknown: Unknown::default(),
            };
            let raw = RawUser {
                id: Some(At { value: id.value.clone(), offset: id.offset }),
                home: Some(at(&mapping.env, user.offset)),
                attrs,
                accounts: vec![At { value: account, offset: user.offset }],
                unknown,
            };
            entries.push(Box::new(At { value: raw, offset: user.offset }));
        }
        RawDirectory {
            environments: Some(vec![Box::new(At { value: environment, offset: 0 })]),
            users: Some(entries),
            assets: None,
            references: None,
            unknown: Unknown::default(),
        }
    }
}

/// The attribute `source` names of `user`.
fn steward_id(user: &RawScimUser, source: IdSource) -> Option<&At<Scalar>> {
    match source {
        IdSource::UserName => user.user_name.as_ref(),
        IdSource::ExternalId => user.external_id.as_ref(),
        IdSource::Id => user.id.as_ref(),
    }
}

/// `displayName`, else `name.formatted`, else the given and family names;
/// without any, the account is named by its user id (as in a `.yaml` file).
fn name(user: &RawScimUser) -> Option<String> {
    let nonblank = |s: &Option<String>| s.as_ref().filter(|s| !s.trim().is_empty()).cloned();
    nonblank(&user.display_name).or_else(|| user.name.as_ref().and_then(|n| nonblank(&n.formatted))).or_else(
        || {
            let n = user.name.as_ref()?;
            let parts: Vec<&str> = [&n.given_name, &n.family_name]
                .into_iter()
                .flatten()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        },
    )
}

/// The Enterprise User attributes, under their SCIM names: those the
/// schema declares as keys of the entry (each checked and located at its
/// key in the SCIM text, as a `.yaml` file's), the others under `attrs`.
/// `manager` is the manager's steward id when the manager is in the list.
fn enterprise(
    user: &RawScimUser,
    text: &str,
    start: usize,
    end: usize,
    ids: &ById,
    schema: &Schema,
) -> (Attrs, Unknown) {
    let Some(e) = &user.enterprise else { return (Attrs::new(), Unknown::default()) };
    let manager = e.manager.as_ref().and_then(|m| m.value.as_ref()).map(|m| match ids.get(&m.0) {
        Some(Some(id)) => id.clone(),
        _ => m.0.clone(),
    });
    let values = [
        ("employeeNumber", e.employee_number.as_ref().map(|s| s.0.clone())),
        ("department", e.department.as_ref().map(|s| s.0.clone())),
        ("costCenter", e.cost_center.as_ref().map(|s| s.0.clone())),
        ("organization", e.organization.as_ref().map(|s| s.0.clone())),
        ("division", e.division.as_ref().map(|s| s.0.clone())),
        ("manager", manager),
    ];
    let mut attrs = Attrs::new();
    let mut declared = Vec::new();
    for (key, value) in values {
        let Some(value) = value else { continue };
        if schema.attribute(Entity::User, key).is_some() {
            declared.push((yaml::key_offset(text, start, end, key).unwrap_or(end), key, value));
        } else {
            attrs.insert(key.to_owned(), AttrValue::Str(value));
        }
    }
    // The check finds each key after the one before it: in written order.
    declared.sort_by_key(|(at, _, _)| *at);
    let unknown = declared
        .into_iter()
        .map(|(_, key, value)| (key.to_owned(), Loose(Some(AttrValue::Str(value)))))
        .collect();
    (attrs, Unknown(unknown))
}
