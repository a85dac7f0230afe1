//! `steward import --format scim`: the mapping of RFC 7643's own example
//! user, SCIM's mistakes located all at once (snapshots), nothing written
//! for a bad file, and an import of what a real SCIM service provider
//! (scim2-server, driven by scim2-client) answers.

use std::process::Command;

use steward::directory::model::AttrValue;
use steward::directory::scim::{self, File, IdSource, Options};
use steward::directory::{Directory, Error};
use steward::policy::report::render_human;

use crate::support::interop::ScimServer;
use crate::support::{file, first_diagnostic, root, steward};

fn options() -> Options {
    Options { env: "SAAS".into(), ..Options::default() }
}

fn standard() -> std::sync::Arc<steward::schema::Schema> {
    steward::policy::declare::standard()
}

fn import(users: &str, groups: Option<&str>, options: &Options) -> Directory {
    let groups = groups.map(|text| File { name: "groups.json", text });
    match scim::parse(File { name: "users.json", text: users }, groups, &standard(), options) {
        Ok(import) => import.directory,
        Err(Error::Invalid { sources, diagnostics, .. }) => {
            panic!("{}", render_human(&sources, &diagnostics))
        }
        Err(e) => panic!("{e}"),
    }
}

/// RFC 7643 §8.2's full User (Barbara Jensen), with the Enterprise User
/// extension of §8.3, retyped: the `meta`, `addresses`, `phoneNumbers`,
/// `ims`, `photos`, `x509Certificates` and the like are left out, as the
/// import ignores them; a second, inactive user beside her.
const RFC_USERS: &str = r#"{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 2,
  "Resources": [
    {
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
      "id": "2819c223-7f76-453a-919d-413861904646",
      "externalId": "701984",
      "userName": "bjensen@example.com",
      "name": {
        "formatted": "Ms. Barbara J Jensen, III",
        "familyName": "Jensen",
        "givenName": "Barbara",
        "middleName": "Jane",
        "honorificPrefix": "Ms.",
        "honorificSuffix": "III"
      },
      "displayName": "Babs Jensen",
      "nickName": "Babs",
      "profileUrl": "https://login.example.com/bjensen",
      "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": true},
        {"value": "babs@jensen.org", "type": "home"}
      ],
      "userType": "Employee",
      "title": "Tour Guide",
      "preferredLanguage": "en-US",
      "locale": "en-US",
      "timezone": "America/Los_Angeles",
      "active": true,
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
        "employeeNumber": "701984",
        "costCenter": "4130",
        "organization": "Universal Studios",
        "division": "Theme Park",
        "department": "Tour Operations",
        "manager": {
          "value": "26118915-6090-4610-87e4-49d8ca9f808d",
          "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
          "displayName": "John Smith"
        }
      }
    },
    {
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id": "26118915-6090-4610-87e4-49d8ca9f808d",
      "externalId": "1001",
      "userName": "jsmith@example.com",
      "name": {"givenName": "John", "familyName": "Smith"},
      "emails": [{"value": "jsmith@example.com", "type": "work"}],
      "active": false
    }
  ]
}"#;

/// A Groups list in the form of RFC 7643 §8.4, naming both users.
const RFC_GROUPS: &str = r#"{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 2,
  "Resources": [
    {
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
      "displayName": "Tour Guides",
      "members": [
        {"value": "2819c223-7f76-453a-919d-413861904646",
         "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
         "display": "Babs Jensen"},
        {"value": "fc348aa8-3835-40eb-a20b-c726e15c55b5", "type": "Group"}
      ]
    },
    {
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      "id": "fc348aa8-3835-40eb-a20b-c726e15c55b5",
      "displayName": "Managers",
      "members": [{"value": "26118915-6090-4610-87e4-49d8ca9f808d", "type": "User"}]
    }
  ]
}"#;

#[test]
fn maps_the_rfc_example_user() {
    let parts = import(RFC_USERS, Some(RFC_GROUPS), &options()).into_parts();
    let env = &parts.environments[0];
    assert_eq!((env.id.as_str(), env.license.as_str(), env.kind.as_str()), ("SAAS", "SAAS", "production"));
    let [babs, john] = &parts.users[..] else { panic!("{:?}", parts.users) };
    assert_eq!((babs.id.as_str(), babs.home.as_str()), ("bjensen@example.com", "SAAS"));
    let text = |v: &str| AttrValue::Str(v.into());
    assert_eq!(
        babs.attrs.clone().into_iter().collect::<Vec<_>>(),
        vec![
            ("costCenter".into(), text("4130")),
            ("department".into(), text("Tour Operations")),
            ("division".into(), text("Theme Park")),
            ("employeeNumber".into(), text("701984")),
            // The manager's SCIM id, turned into the manager's user id.
            ("manager".into(), text("jsmith@example.com")),
            ("organization".into(), text("Universal Studios")),
        ]
    );
    assert!(john.attrs.is_empty());
    let [a, b] = &parts.accounts[..] else { panic!("{:?}", parts.accounts) };
    assert_eq!(
        (a.user.as_str(), a.env.as_str(), a.status.as_str(), a.kind.as_str(), a.name.as_str()),
        ("bjensen@example.com", "SAAS", "active", "normal", "Babs Jensen")
    );
    assert_eq!(a.email.as_deref(), Some("bjensen@example.com"));
    assert_eq!(a.roles, ["Tour Guides"]);
    // No `displayName` nor `formatted`: the given and family names; no
    // primary address: the first; `active: false`: the status that cannot
    // log in; a member of `Managers` and, nested, of `Tour Guides`.
    assert_eq!((b.status.as_str(), b.name.as_str()), ("blocked", "John Smith"));
    assert_eq!(b.email.as_deref(), Some("jsmith@example.com"));
    assert_eq!(b.roles, ["Managers", "Tour Guides"]);
}

#[test]
fn the_user_id_and_the_environment_are_options() {
    let options = Options {
        id: IdSource::ExternalId,
        license: Some("L1".into()),
        kind: Some("test".into()),
        ..options()
    };
    let parts = import(RFC_USERS, None, &options).into_parts();
    let ids: Vec<&str> = parts.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["701984", "1001"]);
    assert_eq!(parts.users[0].attrs.get("manager"), Some(&AttrValue::Str("1001".into())));
    assert_eq!((parts.environments[0].license.as_str(), parts.environments[0].kind.as_str()), ("L1", "test"));
    let bad = Options { kind: Some("prod".into()), ..self::options() };
    let err = scim::parse(File { name: "u.json", text: RFC_USERS }, None, &standard(), &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`prod` is not an environment kind of the schema: --kind takes production, test, acceptance"
    );
    let bad = Options { inactive_status: Some("gone".into()), ..self::options() };
    let err = scim::parse(File { name: "u.json", text: RFC_USERS }, None, &standard(), &bad).unwrap_err();
    assert!(err.to_string().contains("`gone` is not a status of the schema"), "{err}");
}

/// A pack that declares an Enterprise attribute holds it to its type, and
/// the problem is located at the attribute's key in the SCIM file.
#[test]
fn declared_attributes_are_typed() {
    let text = include_str!("../schema/standard.policy").replacen(
        "schema {",
        "schema {\n  attribute user.department: one of \"Sales\", \"Finance\"",
        1,
    );
    let set = crate::support::policy(&text);
    let err = scim::parse(File { name: "users.json", text: RFC_USERS }, None, set.schema(), &options())
        .unwrap_err();
    let Error::Invalid { sources, diagnostics, .. } = err else { panic!("{err}") };
    let first = first_diagnostic(&sources, &diagnostics);
    assert_eq!((first["code"].as_str(), first["line"].as_u64()), (Some("attribute"), Some(37)), "{first}");
}

fn errors(users: &str, groups: Option<&str>, options: &Options) -> String {
    let groups = groups.map(|text| File { name: "groups.json", text });
    match scim::parse(File { name: "users.json", text: users }, groups, &standard(), options) {
        Err(Error::Invalid { sources, diagnostics, .. }) => render_human(&sources, &diagnostics),
        other => panic!("{other:?}"),
    }
}

/// Every SCIM mistake of two files, and the directory format's own
/// (a duplicate id, a duplicate address), reported at once.
#[test]
fn scim_mistakes_are_located_all_at_once() {
    let users = r#"{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 3,
  "Resources": [
    {"id": "1", "userName": "ann", "emails": [{"value": "ann@example.com"}]},
    {"id": "2", "displayName": "No Name"},
    {"id": "3", "userName": "ann", "emails": [{"value": "ANN@example.com"}]},
    {"id": "4", "userName": "cy", "emails": [{"value": "ann@example.com"}]}
  ]
}"#;
    let groups = r#"{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 1,
  "Resources": [
    {"id": "g", "displayName": "admins", "members": [{"value": "1"}, {"value": "99"}]}
  ]
}"#;
    insta::assert_snapshot!(errors(users, Some(groups), &options()));
}

#[test]
fn not_a_list_response() {
    let one_user = r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann"}"#;
    insta::assert_snapshot!(errors(one_user, None, &options()));
    insta::assert_snapshot!("groups_given_as_users", errors(RFC_GROUPS, None, &options()));
}

#[test]
fn a_page_of_a_paged_list_is_refused_unless_partial() {
    let page = RFC_USERS.replace(r#""totalResults": 2"#, r#""totalResults": 40, "startIndex": 1"#);
    insta::assert_snapshot!(errors(&page, None, &options()));
    let partial = Options { partial: true, ..options() };
    let import = scim::parse(File { name: "users.json", text: &page }, None, &standard(), &partial).unwrap();
    assert_eq!(import.directory.users().len(), 2);
    assert_eq!(import.warnings.iter().map(|w| w.code).collect::<Vec<_>>(), ["paged-list"]);
    // The CLI prints the warning and imports the page.
    let dir = tempfile::tempdir().unwrap();
    let users = file(dir.path(), "users.json", &page);
    let db = dir.path().join("d.db");
    steward()
        .args(["import", "--format", "scim", "--partial"])
        .arg(&users)
        .args(["--env", "SAAS", "-o"])
        .arg(&db)
        .assert()
        .success()
        .stderr(predicates::str::contains("warning[paged-list]"))
        .stderr(predicates::str::contains("imported 1 environment, 2 users"));
    let fewer = RFC_USERS.replace(r#""totalResults": 2"#, r#""totalResults": 1"#);
    let partial_fewer = scim::parse(File { name: "users.json", text: &fewer }, None, &standard(), &partial);
    assert!(partial_fewer.is_err(), "fewer results than given is never a page");
}

#[test]
fn a_bad_file_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let users =
        file(dir.path(), "users.json", &RFC_USERS.replace(r#""userName": "jsmith@example.com","#, ""));
    let db = dir.path().join("d.db");
    steward()
        .args(["import", "--format", "scim"])
        .arg(&users)
        .args(["--env", "SAAS", "-o"])
        .arg(&db)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("a User has no `userName`"))
        .stderr(predicates::str::contains("users.json:45:5"));
    assert!(!db.exists(), "nothing is written");
    // Without --env, nothing is read.
    steward().args(["import", "--format", "scim"]).arg(&users).arg("-o").arg(&db).assert().code(1);
    // The SCIM flags mean nothing to the directory format.
    steward()
        .args(["import"])
        .arg(root().join("examples/erp/directory.yaml"))
        .args(["--env", "X", "-o"])
        .arg(&db)
        .assert()
        .code(1);
    assert!(!db.exists());
}

// ---------------------------------------------------------------------------
// Against real SCIM software.

#[test]
fn imports_what_scim2_server_answers() {
    let Some(server) = ScimServer::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.json");
    let groups = dir.path().join("groups.json");
    let provisioned = Command::new(server.python())
        .arg(root().join("tests/interop/provision.py"))
        .arg(server.url())
        .args([&users, &groups])
        .output()
        .unwrap();
    assert!(provisioned.status.success(), "{}", String::from_utf8_lossy(&provisioned.stderr));
    let db = dir.path().join("d.db");
    steward()
        .args(["import", "--format", "scim"])
        .args([&users, &groups])
        .args(["--env", "SAAS", "-o"])
        .arg(&db)
        .assert()
        .success()
        .stderr(predicates::str::contains("imported 1 environment, 3 users, 3 accounts"));
    let parts = steward::directory::load(&db, &standard()).unwrap().into_parts();
    let mut accounts: Vec<_> = parts
        .accounts
        .iter()
        .map(|a| (a.user.to_string(), a.status.to_string(), a.name.clone(), a.email.clone(), a.roles.clone()))
        .collect();
    accounts.sort();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        accounts,
        [
            (
                "ada".into(),
                "active".into(),
                "Ada Lovelace".into(),
                some("ada@example.com"),
                vec!["finance-admins".into()]
            ),
            (
                "bob".into(),
                "active".into(),
                "Bob Marley".into(),
                some("bob@example.com"),
                vec!["everyone".into(), "finance-admins".into()]
            ),
            ("cyd".into(), "blocked".into(), "Cyd Charisse".into(), some("cyd@example.com"), vec![]),
        ]
    );
    let bob = parts.users.iter().find(|u| u.id == "bob").unwrap();
    assert_eq!(bob.attrs.get("manager"), Some(&AttrValue::Str("ada".into())));
    assert_eq!(bob.attrs.get("department"), Some(&AttrValue::Str("Sales".into())));
    assert_eq!(bob.attrs.get("employeeNumber"), Some(&AttrValue::Str("1002".into())));
    // And the CLI finds them as any imported user.
    steward()
        .args(["users", "--directory"])
        .arg(&db)
        .assert()
        .success()
        .stdout(predicates::str::contains("Cyd Charisse"));
}
