//! A directory written back in the file format of docs/directory.md, with
//! defaults left out, so that `steward export` then `steward import`
//! reproduces the same directory.

use serde::Serialize;

use super::Directory;
use super::model::{Attrs, IdentityMode};

/// The format of a written directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FileFormat {
    /// YAML, block style.
    #[default]
    Yaml,
    /// JSON, one line (docs/directory.md: JSON is read as YAML).
    Json,
}

impl FileFormat {
    /// JSON for a path ending in `.json`, else YAML.
    pub fn of(path: &std::path::Path) -> FileFormat {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            FileFormat::Json
        } else {
            FileFormat::Yaml
        }
    }
}

/// The directory as YAML.
pub fn to_yaml(directory: &Directory) -> Result<String, String> {
    to_text(directory, FileFormat::Yaml)
}

/// The directory in `format`.
pub fn to_text(directory: &Directory, format: FileFormat) -> Result<String, String> {
    let out = OutDirectory {
        environments: directory
            .environments()
            .iter()
            .map(|e| OutEnvironment {
                id: &e.id,
                license: &e.license,
                kind: e.kind.as_str(),
                identity: (e.identity != IdentityMode::Invitations).then(|| e.identity.as_str()),
                idp_active: e.idp_active,
                anonymous_access: e.anonymous_access,
                attrs: &e.attrs,
            })
            .collect(),
        users: directory
            .users()
            .iter()
            .map(|u| OutUser {
                id: &u.id,
                home: &u.home,
                guest_license: u.guest_license,
                desktop_access: u.desktop_access,
                employment_end: u.employment_end.map(|d| d.to_string()),
                idp_subject: u.idp_subject.as_deref(),
                attrs: &u.attrs,
                accounts: directory
                    .accounts_of(&u.id)
                    .map(|a| OutAccount {
                        env: &a.env,
                        status: a.status.as_str(),
                        // Always written: which kind a file's default is, is the schema's to say.
                        kind: Some(a.kind.as_str()),
                        name: &a.name,
                        email: a.email.as_deref(),
                        roles: &a.roles,
                        portal: a.portal,
                        invited_until: a.invited_until.map(|t| t.to_string()),
                        attrs: &a.attrs,
                    })
                    .collect(),
            })
            .collect(),
        assets: directory
            .assets()
            .iter()
            .map(|a| OutAsset {
                id: &a.id,
                kind: a.kind.as_str(),
                env: &a.env,
                owner: a.owner.as_deref(),
                space_type: a.space_type.as_deref(),
                space: a.space.as_deref(),
                uses: &a.uses,
                disabled: a.disabled,
                attrs: &a.attrs,
            })
            .collect(),
        references: directory
            .references()
            .iter()
            .map(|r| OutReference { table: &r.table, env: &r.env, user: &r.user, rows: r.rows })
            .collect(),
    };
    match format {
        FileFormat::Yaml => serde_saphyr::to_string(&out).map_err(|e| e.to_string()),
        FileFormat::Json => serde_json::to_string(&out).map(|text| text + "\n").map_err(|e| e.to_string()),
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Serialize)]
struct OutDirectory<'a> {
    environments: Vec<OutEnvironment<'a>>,
    users: Vec<OutUser<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assets: Vec<OutAsset<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<OutReference<'a>>,
}

#[derive(Serialize)]
struct OutEnvironment<'a> {
    id: &'a str,
    license: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    idp_active: bool,
    #[serde(skip_serializing_if = "is_false")]
    anonymous_access: bool,
    #[serde(skip_serializing_if = "Attrs::is_empty")]
    attrs: &'a Attrs,
}

#[derive(Serialize)]
struct OutUser<'a> {
    id: &'a str,
    home: &'a str,
    #[serde(skip_serializing_if = "is_false")]
    guest_license: bool,
    #[serde(skip_serializing_if = "is_false")]
    desktop_access: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    employment_end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idp_subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Attrs::is_empty")]
    attrs: &'a Attrs,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    accounts: Vec<OutAccount<'a>>,
}

#[derive(Serialize)]
struct OutAccount<'a> {
    env: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    roles: &'a [String],
    #[serde(skip_serializing_if = "is_false")]
    portal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    invited_until: Option<String>,
    #[serde(skip_serializing_if = "Attrs::is_empty")]
    attrs: &'a Attrs,
}

#[derive(Serialize)]
struct OutAsset<'a> {
    id: &'a str,
    kind: &'a str,
    env: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    space_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    space: Option<&'a str>,
    #[serde(skip_serializing_if = "<[super::model::Id]>::is_empty")]
    uses: &'a [super::model::Id],
    #[serde(skip_serializing_if = "is_false")]
    disabled: bool,
    #[serde(skip_serializing_if = "Attrs::is_empty")]
    attrs: &'a Attrs,
}

#[derive(Serialize)]
struct OutReference<'a> {
    table: &'a str,
    env: &'a str,
    user: &'a str,
    rows: u64,
}
