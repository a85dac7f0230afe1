//! A directory written back in the file format of docs/directory.md, with
//! defaults left out, so that `steward export` then `steward import`
//! reproduces the same directory. The attributes the schema declares are
//! written at the entity's top level (`guest_license: true`), in the
//! schema's order, where the entity gives them; the others under `attrs`.

use serde::Serialize;
use serde::ser::SerializeMap;

use super::Directory;
use super::model::{AttrValue, Attrs};
use crate::schema::{Entity, Schema};

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

/// The directory as YAML, its declared attributes those of `schema`.
pub fn to_yaml(directory: &Directory, schema: &Schema) -> Result<String, String> {
    to_text(directory, schema, FileFormat::Yaml)
}

/// The directory in `format`.
pub fn to_text(directory: &Directory, schema: &Schema, format: FileFormat) -> Result<String, String> {
    let out = OutDirectory {
        environments: directory
            .environments()
            .iter()
            .map(|e| OutEnvironment {
                id: &e.id,
                license: &e.license,
                kind: e.kind.as_str(),
                attrs: Split::of(schema, Entity::Environment, &e.attrs),
            })
            .collect(),
        users: directory
            .users()
            .iter()
            .map(|u| OutUser {
                id: &u.id,
                home: &u.home,
                attrs: Split::of(schema, Entity::User, &u.attrs),
                accounts: directory
                    .accounts_of(&u.id)
                    .map(|a| (a, Split::of(schema, Entity::Account, &a.attrs)))
                    .map(|(a, split)| OutAccount {
                        env: &a.env,
                        status: a.status.as_str(),
                        // Always written: which kind a file's default is, is the schema's to say.
                        kind: Some(a.kind.as_str()),
                        name: &a.name,
                        email: a.email.as_deref(),
                        roles: &a.roles,
                        declared: split.declared,
                        invited_until: a.invited_until.map(|t| t.to_string()),
                        attrs: split.attrs,
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
                attrs: Split::of(schema, Entity::Asset, &a.attrs),
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

/// An entity's attributes as written: the declared ones at the top level,
/// and the others under `attrs`.
#[derive(Serialize)]
struct Split<'a> {
    #[serde(flatten)]
    declared: Entries<'a>,
    #[serde(skip_serializing_if = "Entries::is_empty")]
    attrs: Entries<'a>,
}

impl<'a> Split<'a> {
    fn of(schema: &'a Schema, entity: Entity, attrs: &'a Attrs) -> Self {
        let mut declared = Vec::new();
        for decl in schema.attributes_of(entity) {
            // Written as given, its default too: what was read is what
            // is written, and a default left out is left out again.
            if let Some(value) = attrs.get(&decl.name) {
                declared.push((decl.name.as_str(), value));
            }
        }
        let free = attrs
            .iter()
            .filter(|(k, _)| schema.attribute(entity, k).is_none())
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        Split { declared: Entries(declared), attrs: Entries(free) }
    }
}

/// Attributes as a mapping, in the order given: the declared ones in the
/// schema's, the others in key order.
struct Entries<'a>(Vec<(&'a str, &'a AttrValue)>);

impl Entries<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
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
    #[serde(flatten)]
    attrs: Split<'a>,
}

#[derive(Serialize)]
struct OutUser<'a> {
    id: &'a str,
    home: &'a str,
    #[serde(flatten)]
    attrs: Split<'a>,
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
    #[serde(flatten)]
    declared: Entries<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invited_until: Option<String>,
    #[serde(skip_serializing_if = "Entries::is_empty")]
    attrs: Entries<'a>,
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
    #[serde(flatten)]
    attrs: Split<'a>,
}

#[derive(Serialize)]
struct OutReference<'a> {
    table: &'a str,
    env: &'a str,
    user: &'a str,
    rows: u64,
}
