//! `steward gateway` against real SCIM software over 127.0.0.1: scim2-server
//! as the service provider, the identity provider's calls made as RFC 7644
//! writes them, and scim2-tester's conformance checks through it. Each
//! test starts its own scim2-server and gateway; they skip, saying so,
//! when `STEWARD_INTEROP_PYTHON` is not set (.ci/run sets it).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::gateway::{Gateway, Reply, TOKEN, call, deactivate, patch};
use crate::support::interop::{self, ScimServer};
use crate::support::{audit, steward, stored};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The users of tests/gateway/directory.yaml at the service provider: the
/// SCIM id of each.
fn provision(upstream: SocketAddr) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    for (user, name, active) in [
        ("ada", "Ada Lovelace", true),
        ("bob", "Bob Marley", true),
        ("cyd", "Cyd Charisse", false),
        ("root", "Break Glass", true),
        ("dee", "Dee Dee", true),
    ] {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user,
            "displayName": name,
            "emails": [{"value": format!("{user}@example.com"), "primary": true, "type": "work"}],
            "active": active,
        });
        let created = call(upstream, "POST", "/Users", None, Some(&body));
        assert_eq!(created.status, 201, "{created:?}");
        ids.push((user.to_owned(), created.body["id"].as_str().unwrap().to_owned()));
    }
    ids
}

/// A service provider, steward's directory of it, and the gateway between.
struct Fixture {
    _upstream: Option<ScimServer>,
    gw: Gateway,
    upstream: SocketAddr,
    gateway: SocketAddr,
    ids: Vec<(String, String)>,
    db: PathBuf,
}

impl Fixture {
    /// scim2-server with the test users, and a gateway with `extra` flags
    /// (and `config`, a steward.yaml, when given).
    fn start(python: &Path, extra: &[&str], config: Option<&str>) -> Fixture {
        let server = ScimServer::start_with(python, None);
        let upstream: SocketAddr = server.url().trim_start_matches("http://").parse().unwrap();
        let ids = provision(upstream);
        Fixture::over(Some(server), upstream, ids, extra, config)
    }

    fn over(
        server: Option<ScimServer>,
        upstream: SocketAddr,
        ids: Vec<(String, String)>,
        extra: &[&str],
        config: Option<&str>,
    ) -> Fixture {
        let gw = Gateway::start(upstream, extra, config);
        let (gateway, db) = (gw.addr, gw.db.clone());
        Fixture { _upstream: server, gw, upstream, gateway, ids, db }
    }

    fn id(&self, user: &str) -> &str {
        &self.ids.iter().find(|(u, _)| u == user).unwrap().1
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.gw.call(method, path, body)
    }

    /// What the service provider holds of `user`.
    fn upstream_user(&self, user: &str) -> Reply {
        call(self.upstream, "GET", &format!("/Users/{}", self.id(user)), None, None)
    }

    fn status(&self, user: &str) -> Option<String> {
        self.gw.status(user)
    }
}

/// Q7, D4: an allowed deletion reaches the service provider, and steward's
/// directory and audit log follow.
#[test]
fn an_allowed_delete_reaches_the_service_provider() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    let deleted = f.call("DELETE", &format!("/Users/{}", f.id("cyd")), None);
    assert_eq!(deleted.status, 204, "{deleted:?}");
    assert_eq!(deleted.header("steward-fallback"), None);
    assert_eq!(f.upstream_user("cyd").status, 404, "gone at the service provider");
    assert_eq!(f.status("cyd"), None, "gone from steward's directory");
    assert!(stored(&f.db).user("cyd").is_none(), "D4: the user record goes with their last account");
    let entries = audit(&f.db);
    assert!(
        entries
            .iter()
            .any(|e| e.change.action == "delete" && e.change.target == "cyd" && e.change.actor == "entra"),
        "{entries:?}"
    );
    steward().args(["audit", "verify", "--directory"]).arg(&f.db).assert().success();
}

/// P3: a user that records refer to cannot be deleted; the deletion is
/// carried out as the policy's fallback, a deactivation, sent as
/// `PATCH active=false`, and the answer says so.
#[test]
fn a_referenced_users_delete_arrives_as_a_deactivation() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    let answer = f.call("DELETE", &format!("/Users/{}", f.id("ada")), None);
    assert!((200..300).contains(&answer.status), "{answer:?}");
    assert_eq!(answer.header("steward-fallback"), Some("block"));
    let there = f.upstream_user("ada");
    assert_eq!(there.status, 200, "still at the service provider");
    assert_eq!(there.body["active"], json!(false), "deactivated there");
    assert_eq!(f.status("ada").as_deref(), Some("blocked"));
    let entries = audit(&f.db);
    assert!(
        entries
            .iter()
            .any(|e| e.change.action == "delete" && e.change.target == "ada" && e.change.outcome == "block"),
        "{entries:?}"
    );
}

/// Each write is decided over the directory the writes before it left,
/// without reading it again: a deactivation, a reactivation and a
/// deactivation of the same user are three changes, each recorded.
#[test]
fn each_write_is_decided_over_what_the_writes_before_it_left() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    let path = format!("/Users/{}", f.id("dee"));
    let activate = patch(json!([{"op": "replace", "path": "active", "value": true}]));
    for body in [deactivate(), activate, deactivate()] {
        let answer = f.call("PATCH", &path, Some(&body));
        assert!((200..300).contains(&answer.status), "{answer:?}");
    }
    let changes: Vec<String> =
        audit(&f.db).iter().filter(|e| e.change.target == "dee").map(|e| e.change.outcome.clone()).collect();
    assert_eq!(changes, ["block", "unblock", "block"]);
    assert_eq!(f.status("dee").as_deref(), Some("blocked"));
    assert_eq!(f.upstream_user("dee").body["active"], json!(false));
}

/// D3, D6: what a deleted user owns goes to the default owner the lifecycle
/// block names, decided by the policy (D7), in the same transaction.
#[test]
fn a_deleted_users_assets_go_to_the_default_owner() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    let deleted = f.call("DELETE", &format!("/Users/{}", f.id("bob")), None);
    assert_eq!(deleted.status, 204, "{deleted:?}");
    let directory = stored(&f.db);
    assert_eq!(directory.asset("app-sales").unwrap().owner.as_deref(), Some("entra"));
    assert!(audit(&f.db).iter().any(|e| e.change.action == "reassign" && e.change.target == "app-sales"));
}

/// The limits of `steward serve`, and the decision log: one line per
/// decision, forwarded or not.
#[test]
fn limits_and_the_decision_log() {
    let Some(python) = interop::python() else { return };
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("decisions.jsonl");
    let log_flag = log.to_str().unwrap();
    let f = Fixture::start(&python, &["--max-body", "300", "--decision-log", log_flag], None);
    let big = patch(json!([{"op": "replace", "path": "displayName", "value": "x".repeat(400)}]));
    let refused = f.call("PATCH", &format!("/Users/{}", f.id("bob")), Some(&big));
    assert_eq!(refused.status, 413, "{refused:?}");
    assert_eq!(refused.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(f.call("PATCH", &format!("/Users/{}", f.id("bob")), Some(&deactivate())).status, 204);
    assert_eq!(f.call("PATCH", &format!("/Users/{}", f.id("root")), Some(&deactivate())).status, 403);
    let lines: Vec<Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let seen: Vec<(&str, &str, &str, bool)> = lines
        .iter()
        .map(|l| {
            (
                l["target"].as_str().unwrap(),
                l["action"].as_str().unwrap(),
                l["decision"].as_str().unwrap(),
                l["forwarded"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [("bob", "block", "allow", true), ("root", "block", "deny", false)]);
    assert_eq!(lines[1]["rules"], json!(["break_glass_stays"]));
}

/// D6: an asset that needs a new owner and has no default one refuses the
/// deletion until someone reassigns it; nothing is forwarded.
#[test]
fn a_delete_that_leaves_an_asset_without_owner_is_refused() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    let refused = f.call("DELETE", &format!("/Users/{}", f.id("dee")), None);
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(refused.detail().contains("script-etl"), "{}", refused.detail());
    assert_eq!(f.upstream_user("dee").status, 200);
    assert_eq!(f.status("dee").as_deref(), Some("active"));
    assert!(audit(&f.db).is_empty());
}

/// D5: the identity provider creating again a user whose deletion fell
/// back to a deactivation is refused: steward still holds them.
#[test]
fn a_user_steward_still_holds_is_not_created_again() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    let fell_back = f.call("DELETE", &format!("/Users/{}", f.id("ada")), None);
    assert_eq!(fell_back.header("steward-fallback"), Some("block"), "{fell_back:?}");
    let again = json!({"userName": "ada", "emails": [{"value": "ada2@example.com", "primary": true}]});
    let refused = f.call("POST", "/Users", Some(&again));
    assert_eq!(refused.status, 409, "{refused:?}");
    let listed = call(f.upstream, "GET", "/Users?filter=userName%20eq%20%22ada%22", None, None);
    assert_eq!(listed.body["totalResults"], json!(1), "not created twice at the service provider");
}

/// Q1: a write the policy refuses never reaches the service provider; the
/// identity provider gets SCIM's error with the rule and its reason.
#[test]
fn a_denied_write_never_reaches_the_service_provider() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    for (method, body) in [("PATCH", Some(deactivate())), ("DELETE", None)] {
        let refused = f.call(method, &format!("/Users/{}", f.id("root")), body.as_ref());
        assert_eq!(refused.status, 403, "{refused:?}");
        assert_eq!(refused.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
        assert_eq!(refused.body["status"], json!("403"));
        assert!(refused.detail().contains("`break_glass_stays`"), "{}", refused.detail());
        assert!(refused.detail().contains("the break-glass administrator stays"), "{}", refused.detail());
    }
    assert_eq!(f.upstream_user("root").body["active"], json!(true), "nothing reached it");
    assert_eq!(f.status("root").as_deref(), Some("active"));
    assert!(audit(&f.db).is_empty());
    // Without the token, or with another, nothing is read or written.
    let stranger = call(f.gateway, "DELETE", &format!("/scim/v2/Users/{}", f.id("cyd")), Some("guess"), None);
    assert_eq!(stranger.status, 401);
    assert_eq!(call(f.gateway, "GET", "/scim/v2/Users", None, None).status, 401);
    assert_eq!(f.upstream_user("cyd").status, 200);
}

/// Writes steward has no mapping for are refused, not forwarded unseen.
#[test]
fn writes_without_a_mapping_are_refused() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    // The discovery endpoints are read-only; other paths are not decided.
    let schemas = f.call("POST", "/Schemas", Some(&json!({})));
    assert_eq!((schemas.status, schemas.header("allow")), (405, Some("GET")), "{schemas:?}");
    // A path the service provider could read otherwise is refused, and a
    // query by POST is the only write that passes as a read.
    for (method, path) in [
        ("DELETE", "/Users/.search".to_owned()),
        ("DELETE", format!("/Users/..%2FUsers%2F{}", f.id("cyd"))),
        ("DELETE", "/Users/..".to_owned()),
        ("DELETE", format!("//Users/{}", f.id("cyd"))),
        ("PATCH", format!("/Users/{}/", f.id("cyd")) + "x"),
    ] {
        let refused = f.call(method, &path, Some(&deactivate()));
        assert!([400, 403, 404].contains(&refused.status), "{method} {path}: {refused:?}");
    }
    assert_eq!(f.upstream_user("cyd").status, 200);
    let me = f.call("PATCH", "/Me", Some(&deactivate()));
    assert_eq!(me.status, 403, "{me:?}");
    assert!(me.detail().contains("not a write the gateway decides"), "{}", me.detail());
    // The user id cannot change under steward (RFC 7644 §3.12 mutability).
    let renamed = f.call(
        "PATCH",
        &format!("/Users/{}", f.id("bob")),
        Some(&patch(json!([{"op": "replace", "path": "userName", "value": "robert"}]))),
    );
    assert_eq!(renamed.status, 400);
    assert_eq!(renamed.body["scimType"], json!("mutability"));
    // Group membership without a configured action.
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g", "members": [{"value": f.id("bob")}]});
    assert_eq!(f.call("POST", "/Groups", Some(&group)).status, 403);
    assert_eq!(call(f.upstream, "GET", "/Groups", None, None).body["totalResults"], json!(0));
    // Not JSON.
    let broken =
        call(f.gateway, "PATCH", &format!("/scim/v2/Users/{}", f.id("bob")), Some(TOKEN), Some(&json!("{")));
    assert_eq!(broken.status, 400, "{broken:?}");
    assert!(audit(&f.db).is_empty());
}

/// C5, P4: a `/Bulk` is decided as one plan in its order; a bulk over the
/// policy's threshold is refused whole, and nothing reaches the service
/// provider. One under it is carried out, each operation in order.
#[test]
fn a_bulk_over_the_threshold_is_refused_whole() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    let op = |method: &str, user: &str, data: Option<Value>| {
        let mut op = json!({"method": method, "path": format!("/Users/{}", f.id(user))});
        if let Some(data) = data {
            op["data"] = data;
        }
        op
    };
    let bulk = |ops: Vec<Value>| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
    let four = bulk(vec![
        op("PATCH", "bob", Some(deactivate())),
        op("DELETE", "cyd", None),
        op("PATCH", "ada", Some(deactivate())),
        op("PATCH", "bob", Some(patch(json!([{"op": "replace", "path": "displayName", "value": "Robert"}])))),
    ]);
    let refused = f.call("POST", "/Bulk", Some(&four));
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.detail().contains("`bulk_threshold`"), "{}", refused.detail());
    assert_eq!(f.upstream_user("bob").body["active"], json!(true));
    assert_eq!(f.upstream_user("cyd").status, 200);
    assert!(audit(&f.db).is_empty());
    let new = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "dan",
        "emails": [{"value": "dan@example.com", "primary": true}],
        "displayName": "Dan Brown",
    });
    let two = bulk(vec![
        op("PATCH", "bob", Some(deactivate())),
        json!({"method": "POST", "path": "/Users", "bulkId": "d1", "data": new}),
        json!({"method": "PATCH", "path": "/Users/bulkId:d1", "data": patch(json!([{"op": "replace", "path": "displayName", "value": "Daniel Brown"}]))}),
    ]);
    let done = f.call("POST", "/Bulk", Some(&two));
    assert_eq!(done.status, 200, "{done:?}");
    let statuses: Vec<&str> =
        done.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert!(statuses[0].starts_with('2') && statuses[2].starts_with('2'), "{done:?}");
    assert_eq!(statuses[1], "201", "{done:?}");
    assert_eq!(f.upstream_user("bob").body["active"], json!(false));
    assert_eq!(f.status("bob").as_deref(), Some("blocked"));
    let dan = stored(&f.db);
    let dan = dan.account("dan", "SAAS").expect("created in steward's directory");
    assert_eq!((dan.status.as_str(), dan.name.as_str()), ("active", "Daniel Brown"));
}

/// The identity provider's usual writes: a new user, a new name and
/// address, a deactivation and back; a user steward knows already is not
/// created twice.
#[test]
fn creations_and_edits_are_decided_and_recorded() {
    let Some(python) = interop::python() else { return };
    let f = Fixture::start(&python, &[], None);
    let new = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "eve",
        "name": {"givenName": "Eve", "familyName": "Online"},
        "emails": [{"value": "eve@example.com", "primary": true, "type": "work"}],
    });
    let created = f.call("POST", "/Users", Some(&new));
    assert_eq!(created.status, 201, "{created:?}");
    let eve = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(f.status("eve").as_deref(), Some("active"));
    let again =
        f.call("POST", "/Users", Some(&json!({"userName": "ada", "emails": [{"value": "x@example.com"}]})));
    assert_eq!(again.status, 409);
    assert_eq!(again.body["scimType"], json!("uniqueness"));
    let edited = f.call(
        "PATCH",
        &format!("/Users/{eve}"),
        Some(&patch(json!([
            {"op": "replace", "path": "displayName", "value": "Eve Offline"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "eve@corp.example"},
            {"op": "replace", "path": "title", "value": "Analyst"}
        ]))),
    );
    assert!((200..300).contains(&edited.status), "{edited:?}");
    let directory = stored(&f.db);
    let account = directory.account("eve", "SAAS").unwrap();
    assert_eq!(account.name, "Eve Offline");
    assert_eq!(account.email.as_deref(), Some("eve@corp.example"));
    // G6: an address another account holds is refused, whatever its case.
    let taken = f.call(
        "PATCH",
        &format!("/Users/{eve}"),
        Some(&patch(
            json!([{"op": "replace", "path": "emails[primary eq true].value", "value": "BOB@example.com"}]),
        )),
    );
    assert_eq!(taken.status, 403, "{taken:?}");
    assert!(taken.detail().contains("email-in-use"), "{}", taken.detail());
    for (active, status) in [(false, "blocked"), (true, "active")] {
        let body = patch(json!([{"op": "replace", "path": "active", "value": active}]));
        let answer = f.call("PATCH", &format!("/Users/{eve}"), Some(&body));
        assert!((200..300).contains(&answer.status), "{answer:?}");
        assert_eq!(f.status("eve").as_deref(), Some(status));
    }
    let actions: Vec<String> = audit(&f.db).iter().map(|e| e.change.action.clone()).collect();
    assert_eq!(actions, ["provision", "edit_name", "edit_email", "block", "unblock"]);
    steward().args(["audit", "verify", "--directory"]).arg(&f.db).assert().success();
}

/// Q6: Group membership is decided as the roles steward.yaml names, and
/// steward's accounts follow the service provider's Groups.
#[test]
fn group_membership_is_decided_as_roles() {
    let Some(python) = interop::python() else { return };
    let config = format!(
        "gateway:\n  clients:\n    - {{ token: {TOKEN}, actor: entra }}\n  actions:\n    add_role: assign_role\n    remove_role: remove_role\n"
    );
    let f = Fixture::start(&python, &[], Some(&config));
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "analysts",
        "members": [{"value": f.id("bob")}, {"value": f.id("ada")}],
    });
    let created = f.call("POST", "/Groups", Some(&group));
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let has = |user: &str| stored(&f.db).account(user, "SAAS").unwrap().has_role("analysts");
    assert!(has("bob") && has("ada"));
    let removed = f.call(
        "PATCH",
        &format!("/Groups/{id}"),
        Some(&patch(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", f.id("ada"))}]))),
    );
    assert!((200..300).contains(&removed.status), "{removed:?}");
    assert!(has("bob") && !has("ada"));
    // Q1: the break-glass administrator's roles are not removed.
    let root_group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "break-glass", "members": [{"value": f.id("root")}]});
    let bg = f.call("POST", "/Groups", Some(&root_group));
    assert_eq!(bg.status, 201, "{bg:?}");
    let bg_id = bg.body["id"].as_str().unwrap().to_owned();
    let gone = f.call("DELETE", &format!("/Groups/{bg_id}"), None);
    assert_eq!(gone.status, 403, "{gone:?}");
    assert_eq!(call(f.upstream, "GET", &format!("/Groups/{bg_id}"), None, None).status, 200);
    let deleted = f.call("DELETE", &format!("/Groups/{id}"), None);
    assert_eq!(deleted.status, 204, "{deleted:?}");
    assert!(!has("bob"));
}

/// A service provider that fails the write, or does not answer, leaves
/// steward's directory and audit log as they were; the identity provider
/// gets its error, or 504.
#[test]
fn a_failing_or_hanging_service_provider_changes_nothing() {
    let Some(python) = interop::python() else { return };
    // scim2-server refuses a write to a User it does not hold: with
    // `--user-id id`, steward's user `bob` is the SCIM id `bob`, which the
    // service provider never gave.
    let f = Fixture::start(&python, &["--user-id", "id"], None);
    let before = stored(&f.db);
    let failed = f.call("PATCH", "/Users/bob", Some(&deactivate()));
    assert_eq!(failed.status, 404, "the service provider's own answer: {failed:?}");
    assert_eq!(stored(&f.db).account("bob", "SAAS"), before.account("bob", "SAAS"));
    assert!(audit(&f.db).is_empty());
    drop(f);
    // One that accepts the connection and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = silent.local_addr().unwrap();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in silent.incoming().take(3) {
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(5));
    });
    let flags = ["--user-id", "id", "--upstream-timeout-ms", "300", "--timeout-ms", "500"];
    let f = Fixture::over(None, upstream, Vec::new(), &flags, None);
    let timed_out = f.call("PATCH", "/Users/bob", Some(&deactivate()));
    assert_eq!(timed_out.status, 504, "{timed_out:?}");
    assert!(timed_out.detail().contains("nothing was written"), "{}", timed_out.detail());
    // Two at once: one waits for the other, too long to be carried out
    // within its call's 500 ms, and is not begun.
    let gateway = f.gateway;
    let second = std::thread::spawn(move || {
        call(gateway, "PATCH", "/scim/v2/Users/ada", Some(TOKEN), Some(&deactivate())).status
    });
    let first = f.call("PATCH", "/Users/bob", Some(&deactivate())).status;
    let mut statuses = [first, second.join().unwrap()];
    statuses.sort_unstable();
    assert_eq!(statuses, [503, 504]);
    assert_eq!(f.status("bob").as_deref(), Some("active"));
    assert!(audit(&f.db).is_empty());
    drop(f);
    // And one that is not there at all.
    let gone = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let f = Fixture::over(None, gone, Vec::new(), &["--user-id", "id"], None);
    let unreachable = f.call("DELETE", "/Users/cyd", None);
    assert_eq!(unreachable.status, 502, "{unreachable:?}");
    assert_eq!(f.status("cyd").as_deref(), Some("blocked"));
    assert!(audit(&f.db).is_empty());
    drop(held);
}

/// scim2-tester's conformance checks through the gateway: every check that
/// passes against scim2-server directly passes through it too, but those
/// tests/interop/conformance-gateway.txt lists, each with the reason the
/// gateway refuses what it asks.
#[test]
fn scim2_testers_checks_pass_through_the_gateway() {
    let Some(python) = interop::python() else { return };
    let config = format!(
        "gateway:\n  clients:\n    - {{ token: {TOKEN}, actor: entra }}\n  actions:\n    add_role: assign_role\n    remove_role: remove_role\n"
    );
    let server = ScimServer::start_with(&python, None);
    let upstream: SocketAddr = server.url().trim_start_matches("http://").parse().unwrap();
    let f = Fixture::over(Some(server), upstream, Vec::new(), &[], Some(&config));
    let through = interop::conformance(&format!("http://{}/scim/v2", f.gateway), Some(TOKEN));
    let expected = interop::expected_conformance();
    let refused: std::collections::BTreeSet<String> =
        std::fs::read_to_string(interop::interop_dir().join("conformance-gateway.txt"))
            .unwrap()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split_once(" # ").map_or(l, |(check, _)| check).trim().to_owned())
            .collect();
    let wanted: std::collections::BTreeSet<String> = expected.difference(&refused).cloned().collect();
    let newly: Vec<_> = through.difference(&wanted).collect();
    let lost: Vec<_> = wanted.difference(&through).collect();
    assert!(
        lost.is_empty() && newly.is_empty(),
        "no longer passing: {lost:?}; passing though listed as refused: {newly:?}"
    );
}
