//! What a SCIM write asks of steward: a User's `POST`, `PUT`, `PATCH` or
//! `DELETE` (RFC 7644 §3.3–3.6) and a Group's membership changes, read as
//! the lifecycle changes the pack decides (docs/scim.md, "The mapping").
//!
//! Attribute names are compared without regard to case, as RFC 7643 §2.1
//! says, with or without the core schema's URI before them. What the
//! mapping does not name (a title, a phone number, an extension) changes
//! nothing steward decides, and passes through unless the gateway is told
//! to refuse it. Where a path touches an attribute steward decides on but
//! its meaning cannot be told (`emails[type eq "home"].value`), the write
//! is refused: a guess would forward a change nobody decided.

use serde_json::{Map, Value};

use super::error::ScimError;
use crate::directory::model::Account;
use crate::directory::scim::IdSource;

/// The core User schema's URI, as attribute paths may begin with it.
const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
/// The schema URI of a PATCH body.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A lifecycle change the identity provider asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new user (`POST /Users`).
    Create(NewUser),
    /// `DELETE /Users/{id}`.
    Delete,
    /// `active` set.
    Active(bool),
    /// The primary e-mail address.
    Email(String),
    /// The display name.
    Name(String),
    /// Added to a Group: the Group's `displayName` is the role.
    AddRole(String),
    /// Removed from a Group.
    RemoveRole(String),
}

/// A User to create, as steward holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The steward user id (`userName`, `externalId` or `id`).
    pub id: String,
    /// The primary e-mail address.
    pub email: Option<String>,
    /// The display name.
    pub name: String,
    /// `active`.
    pub active: bool,
}

/// What a write asks: the changes, in order, and the attributes it also
/// changes that steward does not decide on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asked {
    /// What steward decides, in order.
    pub changes: Vec<Change>,
    /// The attributes it also changes that steward does not decide on.
    pub unmapped: Vec<String>,
}

/// The value of `name` in `object`, whatever its case.
pub fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

/// The steward user id of a SCIM User resource.
pub fn user_id(resource: &Value, source: IdSource) -> Option<String> {
    let object = resource.as_object()?;
    get(object, source.attribute()).and_then(Value::as_str).map(str::to_owned)
}

/// Whether an address is marked primary: `primary` as a boolean, or as
/// identity providers also send it, `"True"` / `"False"`; anything else is
/// refused, since the service provider might read it either way.
fn is_primary(email: &Value) -> Result<bool, ScimError> {
    match email.as_object().and_then(|o| get(o, "primary")) {
        None | Some(Value::Null) => Ok(false),
        Some(value) => boolean(value)
            .ok_or_else(|| ScimError::InvalidValue("an address's `primary` is true or false".into())),
    }
}

/// The primary address of an `emails` list: `primary: true`, else the
/// first (as the import reads it).
fn primary_email(emails: &Value) -> Result<Option<String>, ScimError> {
    let Some(list) = emails.as_array() else {
        return Err(ScimError::InvalidValue("`emails` takes a list".into()));
    };
    let value =
        |e: &Value| e.as_object().and_then(|o| get(o, "value")).and_then(Value::as_str).map(str::to_owned);
    let mut primary = None;
    for email in list {
        if is_primary(email)? && primary.is_none() {
            primary = Some(email);
        }
    }
    Ok(primary.or_else(|| list.first()).and_then(value))
}

/// Whether an `emails` list marks an address primary.
fn marks_primary(emails: &Value) -> Result<bool, ScimError> {
    let mut marked = false;
    for email in emails.as_array().into_iter().flatten() {
        marked |= is_primary(email)?;
    }
    Ok(marked)
}

/// `displayName`, else `name.formatted`, else the given and family names
/// (as the import names an account).
fn display_name(object: &Map<String, Value>) -> Option<String> {
    fn nonblank(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    }
    if let Some(name) = nonblank(get(object, "displayName")) {
        return Some(name.to_owned());
    }
    let name = get(object, "name")?.as_object()?;
    if let Some(formatted) = nonblank(get(name, "formatted")) {
        return Some(formatted.to_owned());
    }
    let parts: Vec<&str> =
        [get(name, "givenName"), get(name, "familyName")].into_iter().filter_map(nonblank).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `active` as identity providers send it: a boolean, or (Entra ID) the
/// string `"True"` / `"False"`.
fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn object(body: &Value) -> Result<&Map<String, Value>, ScimError> {
    body.as_object().ok_or_else(|| ScimError::InvalidSyntax("the body is not a JSON object".into()))
}

/// The User a `POST /Users` creates.
pub fn new_user(body: &Value, source: IdSource) -> Result<NewUser, ScimError> {
    let user = object(body)?;
    let id = get(user, source.attribute()).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    if id.is_some_and(|id| id.trim() != id) {
        return Err(ScimError::InvalidValue(format!(
            "`{}` begins or ends with white space, which the service provider may keep and steward would not",
            source.attribute()
        )));
    }
    let Some(id) = id else {
        return Err(ScimError::InvalidValue(format!(
            "the User has no `{}`, which is the steward user id",
            source.attribute()
        )));
    };
    if id.chars().any(char::is_control) {
        return Err(ScimError::InvalidValue(format!("`{}` holds a control character", source.attribute())));
    }
    let active = match get(user, "active") {
        None | Some(Value::Null) => true,
        Some(value) => {
            boolean(value).ok_or_else(|| ScimError::InvalidValue("`active` is not a boolean".into()))?
        }
    };
    Ok(NewUser {
        id: id.to_owned(),
        email: get(user, "emails").map(primary_email).transpose()?.flatten(),
        name: display_name(user).unwrap_or_else(|| id.to_owned()),
        active,
    })
}

/// What a `PUT /Users/{id}` (the whole User) changes of `account`.
pub fn replaced(body: &Value, user: &str, account: &Account, source: IdSource) -> Result<Asked, ScimError> {
    let resource = object(body)?;
    let mut asked = Asked::default();
    if let Some(id) = get(resource, source.attribute()).and_then(Value::as_str)
        && id != user
    {
        return Err(immutable(source, user));
    }
    let active = match get(resource, "active") {
        None | Some(Value::Null) => true,
        Some(value) => {
            boolean(value).ok_or_else(|| ScimError::InvalidValue("`active` is not a boolean".into()))?
        }
    };
    asked.changes.push(Change::Active(active));
    // Every value the User is replaced with: what changes nothing is told
    // apart when it is decided, over the directory as the write lock
    // finds it, not as it stood when the call came.
    match get(resource, "emails").map(primary_email).transpose()?.flatten() {
        Some(email) => asked.changes.push(Change::Email(email)),
        None if account.email.is_some() => {
            return Err(ScimError::InvalidValue(
                "a User replaced without `emails` would leave the account without an address; give its address".into(),
            ));
        }
        None => {}
    }
    asked.changes.push(Change::Name(display_name(resource).unwrap_or_else(|| user.to_owned())));
    for key in resource.keys() {
        let known =
            ["schemas", "id", "externalId", "userName", "meta", "active", "emails", "displayName", "name"];
        if !known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            asked.unmapped.push(key.clone());
        }
    }
    Ok(asked)
}

/// What a `PATCH /Users/{id}` changes (RFC 7644 §3.5.2), operation by
/// operation; where two set one attribute, the last one counts.
pub fn patched(body: &Value, user: &str, source: IdSource) -> Result<Asked, ScimError> {
    let mut asked = Asked::default();
    for (op, path, value) in operations(body)? {
        match path {
            Some(path) => attribute(&mut asked, &op, &path, value, user, source)?,
            None => {
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::InvalidValue(format!(
                        "an `{op}` without a path takes an object of attributes"
                    )));
                };
                for (key, value) in values {
                    let lower = key.to_ascii_lowercase();
                    // The core schema's attributes may come wrapped in
                    // its URI (RFC 7644 §3.5.2: `"urn:…:core:2.0:User": {…}`).
                    if format!("{lower}:") == CORE_USER {
                        let Value::Object(inner) = value else {
                            return Err(ScimError::InvalidValue(format!(
                                "`{key}` takes an object of attributes"
                            )));
                        };
                        for (key, value) in inner {
                            attribute(&mut asked, &op, key, Some(value), user, source)?;
                        }
                        continue;
                    }
                    if lower.starts_with("urn:") && !lower.starts_with(CORE_USER) {
                        asked.unmapped.push(key.clone());
                        continue;
                    }
                    attribute(&mut asked, &op, key, Some(value), user, source)?;
                }
            }
        }
    }
    // The last of each kind counts, in the order they came.
    let mut kept: Vec<Change> = Vec::new();
    for change in asked.changes.into_iter().rev() {
        if !kept.iter().any(|k| std::mem::discriminant(k) == std::mem::discriminant(&change)) {
            kept.push(change);
        }
    }
    kept.reverse();
    asked.changes = kept;
    Ok(asked)
}

/// One operation of a PATCH body: the op (lower case), its path, its value.
pub type Operation<'a> = (String, Option<String>, Option<&'a Value>);

/// The operations of a PATCH body.
pub fn operations(body: &Value) -> Result<Vec<Operation<'_>>, ScimError> {
    let message = object(body)?;
    let named = get(message, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP))));
    if !named {
        return Err(ScimError::InvalidSyntax(format!("a PATCH body's `schemas` lists `{PATCH_OP}`")));
    }
    let Some(Value::Array(ops)) = get(message, "Operations") else {
        return Err(ScimError::InvalidSyntax("a PATCH body has a list of `Operations`".into()));
    };
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let op =
            op.as_object().ok_or_else(|| ScimError::InvalidSyntax("an operation is not an object".into()))?;
        let name = get(op, "op").and_then(Value::as_str).map(str::to_ascii_lowercase);
        let name = match name.as_deref() {
            Some(name @ ("add" | "replace" | "remove")) => name.to_owned(),
            _ => {
                return Err(ScimError::InvalidSyntax("an operation's `op` is add, replace or remove".into()));
            }
        };
        let path = match get(op, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) => Some(path.trim().to_owned()),
            Some(_) => return Err(ScimError::InvalidPath("an operation's `path` is a string".into())),
        };
        if path.is_none() && name == "remove" {
            return Err(ScimError::InvalidPath("a `remove` names its path (RFC 7644 §3.5.2.2)".into()));
        }
        out.push((name, path, get(op, "value")));
    }
    Ok(out)
}

/// One attribute of a PATCH: what it changes.
fn attribute(
    asked: &mut Asked,
    op: &str,
    path: &str,
    value: Option<&Value>,
    user: &str,
    source: IdSource,
) -> Result<(), ScimError> {
    let lower = path.to_ascii_lowercase();
    let lower = lower.strip_prefix(CORE_USER).unwrap_or(&lower);
    let text = || value.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    match lower {
        "active" => {
            let active = value
                .and_then(boolean)
                .filter(|_| op != "remove")
                .ok_or_else(|| ScimError::InvalidValue("`active` is set to true or false".into()))?;
            asked.changes.push(Change::Active(active));
        }
        // The display name is what steward names an account by; `name`
        // and its parts change it only where there is no `displayName`,
        // which a PATCH does not show: they pass, undecided, and the next
        // import reads them.
        "displayname" => match (op, text()) {
            ("remove", _) => asked.changes.push(Change::Name(user.to_owned())),
            (_, Some(name)) => asked.changes.push(Change::Name(name.to_owned())),
            (_, None) => return Err(ScimError::InvalidValue(format!("`{path}` takes a text"))),
        },
        "emails" => match (op, value) {
            ("remove", _) => return Err(no_address()),
            ("replace", Some(Value::Array(list))) if list.is_empty() => return Err(no_address()),
            (_, Some(list @ Value::Array(_))) => {
                // `add` appends: only an address marked primary replaces
                // the one steward holds.
                if op == "replace" || marks_primary(list)? {
                    if let Some(email) = primary_email(list)? {
                        asked.changes.push(Change::Email(email));
                    }
                } else {
                    asked.unmapped.push(path.to_owned());
                }
            }
            _ => return Err(ScimError::InvalidValue("`emails` takes a list".into())),
        },
        // `emails.value`, `emails.primary`: every address at once, the
        // primary one among them.
        _ if lower.starts_with("emails.") => {
            return Err(ScimError::InvalidPath(format!(
                "`{path}` changes every address, the one steward holds among them: replace `emails`, or `emails[type eq \"work\"].value`"
            )));
        }
        _ if lower.starts_with("emails[") => {
            let email = filtered_email(lower, path, op, value)?;
            asked.changes.push(Change::Email(email));
        }
        _ if is_id(lower, source) => {
            if op == "remove" || text() != Some(user) {
                return Err(immutable(source, user));
            }
        }
        _ => asked.unmapped.push(path.to_owned()),
    }
    Ok(())
}

fn no_address() -> ScimError {
    ScimError::InvalidValue(
        "removing the e-mail addresses would leave the account without one; replace them".into(),
    )
}

/// Whether `lower` is the attribute that is the steward user id.
fn is_id(lower: &str, source: IdSource) -> bool {
    lower == source.attribute().to_ascii_lowercase()
}

fn immutable(source: IdSource, user: &str) -> ScimError {
    ScimError::Mutability(format!(
        "`{}` is the steward user id (`{user}`) and cannot change through the gateway; create the new user and delete the old one",
        source.attribute()
    ))
}

/// The primary address a filtered `emails` path sets: `emails[type eq
/// "work"].value` or `emails[primary eq true].value` (what identity
/// providers send), or the same filters with an object value.
fn filtered_email(lower: &str, path: &str, op: &str, value: Option<&Value>) -> Result<String, ScimError> {
    let refuse = || {
        ScimError::InvalidPath(format!(
            "`{path}`: the gateway decides on the primary address and reads only `emails[type eq \"work\"]` and `emails[primary eq true]`"
        ))
    };
    let (filter, rest) = lower.strip_prefix("emails[").and_then(|r| r.split_once(']')).ok_or_else(refuse)?;
    let words: Vec<&str> = filter.split_whitespace().collect();
    let primary = matches!(words.as_slice(), ["type", "eq", "\"work\""] | ["primary", "eq", "true"]);
    if !primary {
        return Err(refuse());
    }
    if op == "remove" {
        return Err(ScimError::InvalidValue(
            "removing the primary address would leave the account without one; replace it".into(),
        ));
    }
    let address = match rest {
        ".value" => value.and_then(Value::as_str),
        "" => value.and_then(Value::as_object).and_then(|o| get(o, "value")).and_then(Value::as_str),
        _ => return Err(refuse()),
    };
    address
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ScimError::InvalidValue(format!("`{path}` takes an address")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patch(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP], "Operations": ops})
    }

    #[test]
    fn entra_style_deactivation_and_rename() {
        let body = patch(json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "replace", "path": "displayName", "value": "Ada King"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@king.example"},
            {"op": "replace", "path": "title", "value": "Countess"}
        ]));
        let asked = patched(&body, "ada", IdSource::UserName).unwrap();
        assert_eq!(
            asked.changes,
            vec![
                Change::Active(false),
                Change::Name("Ada King".into()),
                Change::Email("ada@king.example".into())
            ]
        );
        assert_eq!(asked.unmapped, vec!["title".to_owned()]);
    }

    #[test]
    fn a_path_less_replace_and_the_last_value_counts() {
        let body = patch(json!([
            {"op": "replace", "value": {"active": false, "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "A"}},
            {"op": "replace", "value": {"ACTIVE": true}}
        ]));
        let asked = patched(&body, "ada", IdSource::UserName).unwrap();
        assert_eq!(asked.changes, vec![Change::Name("A".into()), Change::Active(true)]);
    }

    #[test]
    fn the_user_id_cannot_change_and_unclear_email_paths_are_refused() {
        let rename = patch(json!([{"op": "replace", "path": "userName", "value": "eve"}]));
        assert!(matches!(patched(&rename, "ada", IdSource::UserName), Err(ScimError::Mutability(_))));
        let same = patch(json!([{"op": "replace", "path": "userName", "value": "ada"}]));
        assert_eq!(patched(&same, "ada", IdSource::UserName).unwrap(), Asked::default());
        let home =
            patch(json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y"}]));
        assert!(matches!(patched(&home, "ada", IdSource::UserName), Err(ScimError::InvalidPath(_))));
        let gone = patch(json!([{"op": "remove", "path": "emails"}]));
        assert!(matches!(patched(&gone, "ada", IdSource::UserName), Err(ScimError::InvalidValue(_))));
    }

    #[test]
    fn a_body_that_is_not_a_patch_is_refused() {
        for body in [json!([]), json!({"Operations": []}), json!({"schemas": [PATCH_OP]})] {
            assert!(matches!(patched(&body, "ada", IdSource::UserName), Err(ScimError::InvalidSyntax(_))));
        }
        let bad_op = patch(json!([{"op": "move", "path": "active"}]));
        assert!(matches!(patched(&bad_op, "ada", IdSource::UserName), Err(ScimError::InvalidSyntax(_))));
        let bad_active = patch(json!([{"op": "replace", "path": "active", "value": "maybe"}]));
        assert!(matches!(patched(&bad_active, "ada", IdSource::UserName), Err(ScimError::InvalidValue(_))));
    }

    #[test]
    fn a_put_asks_for_every_value_and_keeps_an_address() {
        let account = Account {
            user: "ada".into(),
            env: "SAAS".into(),
            status: "active".into(),
            kind: "normal".into(),
            name: "Ada".into(),
            email: Some("ada@example.com".into()),
            roles: Vec::new(),
            invited_until: None,
            attrs: Default::default(),
        };
        let user = json!({"userName": "ada", "displayName": "Ada", "active": false,
            "emails": [{"value": "ada@example.com"}], "title": "Countess"});
        let asked = replaced(&user, "ada", &account, IdSource::UserName).unwrap();
        assert_eq!(
            asked.changes,
            vec![Change::Active(false), Change::Email("ada@example.com".into()), Change::Name("Ada".into())]
        );
        assert_eq!(asked.unmapped, vec!["title".to_owned()]);
        let without = json!({"userName": "ada"});
        assert!(matches!(
            replaced(&without, "ada", &account, IdSource::UserName),
            Err(ScimError::InvalidValue(_))
        ));
        let renamed = json!({"userName": "eve", "emails": [{"value": "e@x"}]});
        assert!(matches!(
            replaced(&renamed, "ada", &account, IdSource::UserName),
            Err(ScimError::Mutability(_))
        ));
    }

    #[test]
    fn a_new_user_reads_as_the_import_reads_one() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "a@home"}, {"value": "ada@example.com", "primary": true}],
            "active": false
        });
        let user = new_user(&body, IdSource::UserName).unwrap();
        assert_eq!(
            user,
            NewUser {
                id: "ada".into(),
                email: Some("ada@example.com".into()),
                name: "Ada Lovelace".into(),
                active: false
            }
        );
        assert!(matches!(
            new_user(&json!({"emails": []}), IdSource::UserName),
            Err(ScimError::InvalidValue(_))
        ));
    }
}
