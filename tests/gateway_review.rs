//! An attacker's review of `steward gateway`: each `fN_` test is a finding
//! of that review, over real sockets: a write that would reach the service
//! provider without the decision steward promises, or a way steward's
//! directory and the service provider would come to disagree. Each failed
//! before its fix and is kept as a regression test; the tests without a
//! number are attacks that held up from the start.
//!
//! Two service providers: scim2-server (skipped, saying so, without
//! `STEWARD_INTEROP_PYTHON`), and `Fake`, a recording one that answers
//! every call at once with a User (PATCHes after `patch_delay`), so that
//! what the gateway forwards can be seen.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::gateway::{Gateway, Reply, TOKEN, call, call_with, deactivate, patch};
use crate::support::interop::{self, ScimServer};
use crate::support::{audit, stored};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn bulk(ops: Vec<Value>) -> Value {
    json!({"schemas": [BULK], "Operations": ops})
}

/// How a `Fake` answers a request, given its head: the body of a 200.
type Answerer = Arc<dyn Fn(&str) -> Value + Send + Sync>;

/// A recording service provider: every request's head and body, in order.
struct Fake {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn start(patch_delay: Duration) -> Fake {
        Fake::answering(
            patch_delay,
            Arc::new(|_| json!({"schemas": [USER], "id": "bob", "userName": "bob", "active": true})),
        )
    }

    fn answering(patch_delay: Duration, answer: Answerer) -> Fake {
        Fake::spawn(patch_delay, answer, false)
    }

    /// One that closes each connection after its answer, without saying
    /// so (`connection: close`), as a server whose idle timeout is short.
    fn closing() -> Fake {
        let answer: Answerer =
            Arc::new(|_| json!({"schemas": [USER], "id": "bob", "userName": "bob", "active": true}));
        Fake::spawn(Duration::ZERO, answer, true)
    }

    fn spawn(patch_delay: Duration, answer: Answerer, once: bool) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let record = record.clone();
                let answer = answer.clone();
                std::thread::spawn(move || Fake::serve(stream, &record, patch_delay, &answer, once));
            }
        });
        Fake { addr, seen }
    }

    fn serve(
        mut stream: TcpStream,
        record: &Mutex<Vec<String>>,
        patch_delay: Duration,
        answer: &Answerer,
        once: bool,
    ) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        loop {
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            record.lock().unwrap().push(format!("{head}\n{}", String::from_utf8_lossy(&body)));
            if head.starts_with("PATCH ") {
                std::thread::sleep(patch_delay);
            }
            let answer = serde_json::to_vec(&answer(&head)).unwrap();
            let out = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/scim+json\r\ncontent-length: {}\r\n\r\n",
                answer.len()
            );
            if stream.write_all(out.as_bytes()).is_err() || stream.write_all(&answer).is_err() || once {
                return;
            }
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// scim2-server with the directory's users, and a gateway in front of it.
struct Scim {
    _server: ScimServer,
    upstream: SocketAddr,
    ids: Vec<(String, String)>,
    gw: Gateway,
}

impl Scim {
    fn start(python: &Path, config: Option<&str>) -> Scim {
        let server = ScimServer::start_with(python, None);
        let upstream: SocketAddr = server.url().trim_start_matches("http://").parse().unwrap();
        let mut ids = Vec::new();
        for (user, name, active) in [
            ("ada", "Ada Lovelace", true),
            ("bob", "Bob Marley", true),
            ("cyd", "Cyd Charisse", false),
            ("root", "Break Glass", true),
        ] {
            let body = json!({
                "schemas": [USER],
                "userName": user,
                "displayName": name,
                "emails": [{"value": format!("{user}@example.com"), "primary": true, "type": "work"}],
                "active": active,
            });
            let created = call(upstream, "POST", "/Users", None, Some(&body));
            assert_eq!(created.status, 201, "{created:?}");
            ids.push((user.to_owned(), created.body["id"].as_str().unwrap().to_owned()));
        }
        let gw = Gateway::start(upstream, &[], config);
        Scim { _server: server, upstream, ids, gw }
    }

    fn id(&self, user: &str) -> String {
        self.ids.iter().find(|(u, _)| u == user).unwrap().1.clone()
    }

    fn there(&self, user: &str) -> Reply {
        call(self.upstream, "GET", &format!("/Users/{}", self.id(user)), None, None)
    }

    /// The primary address the service provider holds.
    fn primary_there(&self, user: &str) -> Option<String> {
        let user = self.there(user).body;
        let emails = user["emails"].as_array()?;
        let primary = emails.iter().find(|e| e["primary"] == json!(true)).or(emails.first())?;
        primary["value"].as_str().map(str::to_owned)
    }
}

fn groups_config() -> String {
    format!(
        "gateway:\n  clients:\n    - {{ token: {TOKEN}, actor: entra }}\n  actions:\n    add_role: assign_role\n    remove_role: remove_role\n"
    )
}

// ---------------------------------------------------------------------------
// Findings.
// ---------------------------------------------------------------------------

/// Finding 1: a path-less PATCH whose value holds the core User schema's
/// URI as a key (RFC 7644 §3.5.2: "the value MAY be a complex object whose
/// keys are schema URIs") is read as an unmapped extension and forwarded;
/// scim2-server applies it: the break-glass administrator, whom the policy
/// says provisioning never blocks, is deactivated without any decision.
#[test]
fn f1_core_urn_keyed_value_is_decided() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let body = patch(
        json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User": {"active": false}}}]),
    );
    let answer = s.gw.call("PATCH", &format!("/Users/{}", s.id("root")), Some(&body));
    assert_eq!(s.there("root").body["active"], json!(true), "root deactivated at the SP: {answer:?}");
    assert_eq!(answer.status, 403, "{answer:?}");
}

/// Finding 2: in a `/Bulk`, an operation whose path merely *ends* with
/// `/bulkId:X` is read as a write to the user the bulk creates
/// (`read_op_for` never looks at the rest of the path), but forwarded to
/// the path as given: `/Users/<root>?/bulkId:n` deletes root at the service
/// provider, decided (and recorded) as the deletion of the new user.
#[test]
fn f2_bulk_id_suffix_cannot_redirect_a_write() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let new = json!({"schemas": [USER], "userName": "nat", "emails": [{"value": "nat@example.com", "primary": true}]});
    let request = bulk(vec![
        json!({"method": "POST", "path": "/Users", "bulkId": "n", "data": new}),
        json!({"method": "DELETE", "path": format!("/Users/{}?/bulkId:n", s.id("root"))}),
    ]);
    let answer = s.gw.call("POST", "/Bulk", Some(&request));
    assert_eq!(s.there("root").status, 200, "root deleted at the SP, steward decided on `nat`: {answer:?}");
    assert_eq!(s.gw.status("root").as_deref(), Some("active"));
}

/// Finding 3: `emails.value` (a sub-attribute path without a filter, RFC
/// 7644 §3.5.2.3: it replaces the value of every address) touches the
/// primary address, which steward decides on (`edit_email`), but the
/// mapping reads it as unmapped; scim2-server changes the address while
/// steward's directory keeps the old one.
#[test]
fn f3_emails_value_path_is_decided() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let body = patch(json!([{"op": "replace", "path": "emails.value", "value": "bob@evil.example"}]));
    let answer = s.gw.call("PATCH", &format!("/Users/{}", s.id("bob")), Some(&body));
    assert_eq!(
        s.primary_there("bob"),
        s.gw.email("bob"),
        "the SP and steward disagree on bob's primary address ({answer:?})"
    );
}

/// Finding 4: `primary` is read only as a JSON boolean; scim2-server (as
/// pydantic-based and many other service providers) takes `"True"` as
/// true. An `add` of an address marked `"primary": "True"` passes as
/// unmapped and becomes the primary address at the service provider.
#[test]
fn f4_primary_as_a_string_is_read_as_primary() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let body = patch(
        json!([{"op": "add", "path": "emails", "value": [{"value": "bob@evil.example", "primary": "True"}]}]),
    );
    let answer = s.gw.call("PATCH", &format!("/Users/{}", s.id("bob")), Some(&body));
    assert_eq!(
        s.primary_there("bob"),
        s.gw.email("bob"),
        "the SP and steward disagree on bob's primary address ({answer:?})"
    );
}

/// Finding 5: `method == POST && path == "/.search" || path.ends_with("/.search")`
/// binds as `(…) || …`: any method on any path ending in `/.search` is
/// forwarded unseen (a DELETE, a PUT, a PATCH).
#[test]
fn f5_only_a_post_search_passes() {
    let fake = Fake::start(Duration::ZERO);
    let gw = Gateway::start(fake.addr, &["--user-id", "id"], None);
    for (method, path) in
        [("DELETE", "/Users/root/.search"), ("PATCH", "/Users/root/.search"), ("PUT", "/Groups/g/.search")]
    {
        let answer = gw.call(method, path, Some(&deactivate()));
        assert!(answer.status >= 400, "{method} {path} answered {answer:?}");
    }
    assert!(fake.seen().is_empty(), "forwarded without a decision: {:#?}", fake.seen());
}

/// Finding 6: the SCIM Group id → role cache is never updated: after the
/// Group is renamed (through the gateway), members added to it are decided
/// and recorded under the old name, while the service provider puts them in
/// the renamed Group.
#[test]
fn f6_a_renamed_group_is_decided_under_its_new_name() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, Some(&groups_config()));
    let group = json!({"schemas": [GROUP], "displayName": "analysts", "members": [{"value": s.id("bob")}]});
    let created = s.gw.call("POST", "/Groups", Some(&group));
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let renamed = s.gw.call(
        "PATCH",
        &format!("/Groups/{id}"),
        Some(&patch(json!([{"op": "replace", "path": "displayName", "value": "auditors"}]))),
    );
    assert!((200..300).contains(&renamed.status), "{renamed:?}");
    assert!(s.gw.has_role("bob", "auditors"));
    let added = s.gw.call(
        "PATCH",
        &format!("/Groups/{id}"),
        Some(&patch(json!([{"op": "add", "path": "members", "value": [{"value": s.id("ada")}]}]))),
    );
    assert!((200..300).contains(&added.status), "{added:?}");
    assert!(s.gw.has_role("ada", "auditors"), "ada joined `auditors` at the SP; steward says `analysts`");
    assert!(!s.gw.has_role("ada", "analysts"));
}

/// Finding 7: a role is a Group's `displayName`, which SCIM does not make
/// unique (RFC 7643 §4.2, `uniqueness: none`), and a Group's members are
/// taken from steward's holders of the role, not from the Group. A second,
/// empty Group `analysts`, deleted, strips the role from every member of
/// the first one in steward's directory; the service provider keeps them.
#[test]
fn f7_a_second_group_of_the_same_name_does_not_touch_the_first() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, Some(&groups_config()));
    let first = json!({"schemas": [GROUP], "displayName": "analysts", "members": [{"value": s.id("bob")}]});
    assert_eq!(s.gw.call("POST", "/Groups", Some(&first)).status, 201);
    // A second Group of the name is refused: the role names one Group.
    let second = s.gw.call("POST", "/Groups", Some(&json!({"schemas": [GROUP], "displayName": "analysts"})));
    assert_eq!((second.status, second.body["scimType"].as_str()), (409, Some("uniqueness")), "{second:?}");
    assert!(s.gw.has_role("bob", "analysts"), "bob is still in the first `analysts` at the SP");
}

/// Finding 8: the gateway's state is a std `Mutex`, held by the write in
/// flight across its call to the service provider (`Handle::block_on` on
/// the blocking pool), and also locked on the async runtime's workers
/// (`account_of` for a PUT, `holders` for a Group write). A PATCH the
/// service provider answers in 1 s, and a few PUTs behind it (as many as
/// the runtime has workers), deadlock the gateway: every worker waits for
/// the lock, the lock's holder waits for its upstream answer, which only a
/// worker can read, and the upstream timeout (a runtime timer) never
/// fires. Nothing is answered any more, reads included, until a restart.
#[test]
fn f8_a_slow_write_does_not_stall_the_gateway() {
    let fake = Fake::start(Duration::from_secs(1));
    let gw = Gateway::start(fake.addr, &["--user-id", "id", "--upstream-timeout-ms", "2000"], None);
    let addr = gw.addr;
    let slow = std::thread::spawn(move || {
        let started = Instant::now();
        let status = call(addr, "PATCH", "/scim/v2/Users/bob", Some(TOKEN), Some(&deactivate())).status;
        (status, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    let put = json!({"schemas": [USER], "userName": "ada", "displayName": "Ada Lovelace", "emails": [{"value": "ada@example.com"}]});
    let puts: Vec<_> = (0..16)
        .map(|_| {
            let put = put.clone();
            std::thread::spawn(move || {
                call(addr, "PUT", "/scim/v2/Users/ada", Some(TOKEN), Some(&put)).status
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let read = gw.call("GET", "/Users", None);
    let took = started.elapsed();
    let (patched, patch_took) = slow.join().unwrap();
    for p in puts {
        let _ = p.join();
    }
    assert!(patched != 0, "the PATCH (upstream: 1 s, timeout 2 s) was never answered ({patch_took:?})");
    assert_eq!(read.status, 200, "a GET, after {took:?}: {read:?}");
    assert!(took < Duration::from_millis(1500), "a GET took {took:?} behind one slow write");
}

/// Writes that wait for the one in flight hold no thread while they wait
/// (an async lock, not a thread blocked on a mutex per write): behind a
/// slow write, forty more leave the gateway's thread count where it was,
/// so that no number of waiting writes can use up the threads the
/// runtime's workers need to go on answering reads.
#[cfg(target_os = "linux")]
#[test]
fn writes_waiting_for_the_lock_hold_no_thread() {
    let threads = |pid: u32| -> usize {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap().trim().parse().unwrap()
    };
    let fake = Fake::start(Duration::from_millis(1500));
    let flags = ["--user-id", "id", "--upstream-timeout-ms", "2000", "--timeout-ms", "3000"];
    let gw = Gateway::start(fake.addr, &flags, None);
    let addr = gw.addr;
    let slow = std::thread::spawn(move || {
        call(addr, "PATCH", "/scim/v2/Users/bob", Some(TOKEN), Some(&deactivate()))
    });
    std::thread::sleep(Duration::from_millis(400));
    let before = threads(gw.pid());
    let waiting: Vec<_> = (0..40)
        .map(|_| {
            std::thread::spawn(move || {
                call(addr, "PATCH", "/scim/v2/Users/ada", Some(TOKEN), Some(&deactivate()))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    let during = threads(gw.pid());
    let _ = slow.join();
    for w in waiting {
        let _ = w.join();
    }
    assert!(during < before + 10, "{before} threads before, {during} with 40 writes waiting");
}

/// Finding 9: `--timeout-ms` answers the identity provider 503 ("the call
/// took longer") while the write it gave up on goes on in the blocking
/// pool: it is forwarded, and written to steward's directory and audit
/// log, after the identity provider was told it failed (it retries, or
/// reports a failure that did not happen). Also: writes queued behind a
/// slow one are carried out long after their callers got 503.
#[test]
fn f9_a_write_answered_as_timed_out_is_not_carried_out() {
    let fake = Fake::start(Duration::from_millis(1500));
    let gw = Gateway::start(
        fake.addr,
        &["--user-id", "id", "--timeout-ms", "500", "--upstream-timeout-ms", "400"],
        None,
    );
    let answer = gw.call("PATCH", "/Users/bob", Some(&deactivate()));
    std::thread::sleep(Duration::from_millis(2500));
    if !(200..300).contains(&answer.status) {
        assert_eq!(gw.status("bob").as_deref(), Some("active"), "answered {answer:?}, yet recorded");
        assert!(audit(&gw.db).is_empty(), "answered {answer:?}, yet audited");
    }
}

/// Finding 17: a write's deadline was counted from when it was decided,
/// not from when the call arrived: the time to read the body and to ask
/// the service provider whose SCIM id it is did not count. Blocking in
/// place, the call's time limit cannot answer meanwhile, so the write is
/// answered past `--timeout-ms` (on the blocking pool it was answered 503
/// while it went on and was carried out, as in finding 9). Either way the
/// identity provider has given up on a write that happens.
#[test]
fn f17_the_time_to_resolve_an_id_counts_against_the_write() {
    let answer: Answerer = Arc::new(|head| {
        if head.starts_with("GET ") {
            std::thread::sleep(Duration::from_millis(800));
        }
        json!({"schemas": [USER], "id": "x1", "userName": "bob", "active": true})
    });
    let fake = Fake::answering(Duration::from_millis(700), answer);
    let gw = Gateway::start(fake.addr, &["--timeout-ms", "1000", "--upstream-timeout-ms", "900"], None);
    let started = Instant::now();
    let answer = gw.call("PATCH", "/Users/x1", Some(&deactivate()));
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(1500));
    if (200..300).contains(&answer.status) {
        assert!(
            took < Duration::from_millis(1250),
            "answered {} after {took:?}, past the 1 s limit",
            answer.status
        );
    } else {
        assert_eq!(gw.status("bob").as_deref(), Some("active"), "answered {answer:?}, yet recorded");
        assert!(audit(&gw.db).is_empty(), "answered {answer:?}, yet audited");
        assert!(!fake.seen().iter().any(|r| r.starts_with("PATCH ")), "answered {answer:?}, yet forwarded");
    }
}

/// Writes reach the service provider on a client of their own, on a
/// runtime driven only while a write calls (`write::Forwarder`): a
/// connection it keeps and the service provider closes between two writes
/// must not swallow the next one (it did, a 502, under load: the forwarder
/// now keeps no idle connection).
#[test]
fn a_write_after_the_service_provider_closed_the_connection_arrives() {
    let fake = Fake::closing();
    let gw = Gateway::start(fake.addr, &["--user-id", "id"], None);
    let activate = patch(json!([{"op": "replace", "path": "active", "value": true}]));
    for (i, body) in [deactivate(), activate, deactivate()].iter().enumerate() {
        let answer = gw.call("PATCH", "/Users/bob", Some(body));
        assert_eq!(answer.status, 200, "write {i}: {answer:?}");
        // The close reaches the gateway's socket before the next write.
        std::thread::sleep(Duration::from_millis(200));
    }
    let patches = fake.seen().iter().filter(|r| r.starts_with("PATCH ")).count();
    assert_eq!(patches, 3, "every write reached the service provider");
}

/// Finding 10: request headers pass through to the service provider but
/// for those of one hop, `Authorization`, `Host` and `Content-Length`; a
/// method override (`X-HTTP-Method-Override: DELETE`, honoured by many
/// frameworks) rides on a GET, which passes unseen, and so do the headers
/// the client's `Connection` names as hop-by-hop (RFC 9110 §7.6.1).
#[test]
fn f10_method_overrides_never_reach_the_service_provider() {
    let fake = Fake::start(Duration::ZERO);
    let gw = Gateway::start(fake.addr, &["--user-id", "id"], None);
    let extra = "x-http-method-override: DELETE\r\nx-method-override: DELETE\r\nx-hop: secret\r\nconnection: x-hop\r\n";
    let answer = call_with(gw.addr, "GET", "/scim/v2/Users/root", Some(TOKEN), extra, None);
    assert_eq!(answer.status, 200, "{answer:?}");
    let seen = fake.seen().join("\n").to_ascii_lowercase();
    assert!(!seen.contains("method-override"), "{seen}");
    assert!(!seen.contains("x-hop"), "{seen}");
}

/// Finding 11: bulkId references are replaced in every JSON string of later
/// operations after the decision: a displayName `"bulkId:n"` is decided and
/// recorded as that text, and forwarded as the new user's SCIM id.
#[test]
fn f11_bulk_id_substitution_only_touches_references() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let new = json!({"schemas": [USER], "userName": "nat", "emails": [{"value": "nat@example.com", "primary": true}]});
    let request = bulk(vec![
        json!({"method": "POST", "path": "/Users", "bulkId": "n", "data": new}),
        json!({"method": "PATCH", "path": format!("/Users/{}", s.id("bob")),
               "data": patch(json!([{"op": "replace", "path": "displayName", "value": "bulkId:n"}]))}),
    ]);
    let answer = s.gw.call("POST", "/Bulk", Some(&request));
    assert_eq!(answer.status, 200, "{answer:?}");
    let steward_name = stored(&s.gw.db).account("bob", "SAAS").unwrap().name.clone();
    assert_eq!(s.there("bob").body["displayName"].as_str(), Some(steward_name.as_str()));
}

/// Finding 1, for Groups: a path-less PATCH of a Group keyed by the core
/// Group URI is neither `members` nor `displayName` to the gateway, so it
/// passes with no decision: here root joins a Group, though no action is
/// configured for joining one (every membership change is to be refused).
#[test]
fn f1_core_urn_keyed_group_value_is_decided() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    // The Group is made at the service provider directly (the gateway
    // refuses membership here).
    let made = call(
        s.upstream,
        "POST",
        "/Groups",
        None,
        Some(&json!({"schemas": [GROUP], "displayName": "admins"})),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let id = made.body["id"].as_str().unwrap().to_owned();
    let body = patch(
        json!([{"op": "add", "value": {"urn:ietf:params:scim:schemas:core:2.0:Group": {"members": [{"value": s.id("bob")}]}}}]),
    );
    let answer = s.gw.call("PATCH", &format!("/Groups/{id}"), Some(&body));
    let members = call(s.upstream, "GET", &format!("/Groups/{id}"), None, None).body["members"].clone();
    assert!(members.as_array().is_none_or(Vec::is_empty), "bob joined undecided ({answer:?}): {members}");
}

/// Finding 12: the primary address vanishes at the service provider with
/// no decision, which the mapping refuses for `remove emails` ("would
/// leave the account without one"): a PUT without `emails` (a PUT replaces
/// the whole User), or a `replace` of `emails` with an empty list.
#[test]
fn f12_the_address_does_not_vanish_undecided() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let put = json!({"schemas": [USER], "userName": "bob", "displayName": "Bob Marley", "active": true});
    let answer = s.gw.call("PUT", &format!("/Users/{}", s.id("bob")), Some(&put));
    assert_eq!(s.primary_there("bob"), s.gw.email("bob"), "PUT answered {answer:?}");
}

/// Finding 12, the PATCH form: `replace emails []`.
#[test]
fn f12_replacing_the_addresses_with_none_is_refused() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let empty = patch(json!([{"op": "replace", "path": "emails", "value": []}]));
    let answer = s.gw.call("PATCH", &format!("/Users/{}", s.id("ada")), Some(&empty));
    assert_eq!(s.primary_there("ada"), s.gw.email("ada"), "PATCH answered {answer:?}");
}

/// Finding 13: a path-less Group PATCH carrying both `displayName` and
/// `members` renames the Group at the service provider, but the gateway
/// reads only the members: steward keeps the members in the old role.
#[test]
fn f13_a_rename_beside_members_is_decided() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, Some(&groups_config()));
    let group = json!({"schemas": [GROUP], "displayName": "analysts", "members": [{"value": s.id("bob")}]});
    let created = s.gw.call("POST", "/Groups", Some(&group));
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let body = patch(
        json!([{"op": "replace", "value": {"displayName": "auditors", "members": [{"value": s.id("bob")}]}}]),
    );
    let answer = s.gw.call("PATCH", &format!("/Groups/{id}"), Some(&body));
    assert!((200..300).contains(&answer.status), "{answer:?}");
    let there = call(s.upstream, "GET", &format!("/Groups/{id}"), None, None).body["displayName"].clone();
    assert_eq!(there, json!("auditors"));
    assert!(s.gw.has_role("bob", "auditors"), "renamed at the SP; steward keeps bob in `analysts`");
}

/// Finding 14: a new User's `userName` is trimmed for steward but forwarded
/// as sent: steward's user `eve` is the service provider's `" eve "`.
#[test]
fn f14_a_new_users_name_is_the_same_on_both_sides() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let new = json!({"schemas": [USER], "userName": " eve ", "emails": [{"value": "eve@example.com"}]});
    // Refused: the two sides would name the user apart; nothing forwarded.
    let created = s.gw.call("POST", "/Users", Some(&new));
    assert_eq!(created.status, 400, "{created:?}");
    assert!(stored(&s.gw.db).account("eve", "SAAS").is_none());
}

/// Finding 15: the SCIM id a service provider answers a creation with is
/// cached as the new user's without a look at the answer's `userName`,
/// and overwrites what the cache held for that id. A service provider that
/// links a new User to an existing account (answers the POST with that
/// account's id, as "merge by address" provisioning does) makes every later
/// write to that id decided for the new user: root, whom the policy never
/// lets provisioning delete, is deleted, decided as the deletion of `nat`.
#[test]
fn f15_a_creations_answer_does_not_rebind_a_known_id() {
    // The existing account R is root; a creation is answered as R.
    let fake = Fake::answering(
        Duration::ZERO,
        Arc::new(|_: &str| json!({"schemas": [USER], "id": "R", "userName": "root", "active": true})),
    );
    let gw = Gateway::start(fake.addr, &[], None);
    assert_eq!(gw.call("DELETE", "/Users/R", None).status, 403, "R is root: refused");
    let new = json!({"schemas": [USER], "userName": "nat", "emails": [{"value": "nat@example.com"}]});
    let created = gw.call("POST", "/Users", Some(&new));
    assert_eq!(created.status, 200, "{created:?}");
    let deleted = gw.call("DELETE", "/Users/R", None);
    assert_eq!(deleted.status, 403, "R is still root at the SP, deleted as `nat`: {deleted:?}");
}

/// Finding 16: a PATCH of `name` (the object) is recorded as the account's
/// new name even where the User has a `displayName`, which is what the
/// import (and `new_user`, `replaced`) read first: steward says "Mallory",
/// the service provider's displayName stays "Bob Marley", and the next
/// import puts it back.
#[test]
fn f16_a_name_patch_is_read_as_the_import_reads_it() {
    let Some(python) = interop::python() else { return };
    let s = Scim::start(&python, None);
    let body = patch(json!([{"op": "replace", "path": "name", "value": {"givenName": "Mallory"}}]));
    let answer = s.gw.call("PATCH", &format!("/Users/{}", s.id("bob")), Some(&body));
    assert!((200..300).contains(&answer.status), "{answer:?}");
    let steward_name = stored(&s.gw.db).account("bob", "SAAS").unwrap().name.clone();
    assert_eq!(s.there("bob").body["displayName"].as_str(), Some(steward_name.as_str()));
}

// ---------------------------------------------------------------------------
// What held up: none of these reaches the service provider undecided.
// ---------------------------------------------------------------------------

/// Odd paths, methods and spellings are refused, never forwarded: other
/// methods, case, dot segments, encoded slashes, `/Me`, a DELETE with a
/// filter, the discovery endpoints, a body that is not a PATCH.
#[test]
fn odd_paths_and_methods_are_refused_unforwarded() {
    let fake = Fake::start(Duration::ZERO);
    let gw = Gateway::start(fake.addr, &["--user-id", "id"], None);
    for (method, path) in [
        ("OPTIONS", "/Users/root"),
        ("PROPPATCH", "/Users/root"),
        ("POST", "/Users/root"),
        ("PATCH", "/users/root"),
        ("PATCH", "/Users/../Users/root"),
        ("PATCH", "/Users/x/../root"),
        ("PATCH", "/Users//root"),
        ("PATCH", "/Users%2Froot"),
        ("PATCH", "/Me"),
        ("DELETE", "/Users?filter=userName%20eq%20%22root%22"),
        ("DELETE", "/Users"),
        ("PUT", "/Schemas"),
        ("PATCH", "/ServiceProviderConfig"),
        ("POST", "/Bulk/x"),
    ] {
        let answer = gw.call(method, path, Some(&deactivate()));
        assert!(answer.status >= 400, "{method} {path}: {answer:?}");
    }
    let answer = call(gw.addr, "PATCH", "/SCIM/V2/Users/root", Some(TOKEN), Some(&deactivate()));
    assert!(answer.status >= 400, "{answer:?}");
    assert!(fake.seen().is_empty(), "{:#?}", fake.seen());
}

/// The break-glass rule holds whichever way a deactivation is spelt, and
/// nothing is forwarded: core URN paths, case, Entra's strings, a
/// path-less value, the last of two operations, a PUT without `active`
/// mapped as a deactivation, a bulk.
#[test]
fn a_deactivation_is_decided_however_it_is_spelt() {
    let fake = Fake::start(Duration::ZERO);
    let gw = Gateway::start(fake.addr, &["--user-id", "id"], None);
    let spellings = [
        patch(
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": false}]),
        ),
        patch(json!([{"op": "Replace", "path": "ACTIVE", "value": "False"}])),
        patch(json!([{"op": "replace", "value": {"Active": false}}])),
        patch(
            json!([{"op": "add", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:active": "false"}}]),
        ),
        patch(
            json!([{"op": "replace", "path": "active", "value": true}, {"op": "replace", "path": "active", "value": false}]),
        ),
    ];
    for body in &spellings {
        let answer = gw.call("PATCH", "/Users/root", Some(body));
        assert_eq!(answer.status, 403, "{body}: {answer:?}");
    }
    for body in [
        patch(json!([{"op": "replace", "path": "active", "value": 0}])),
        patch(json!([{"op": "replace", "path": "active", "value": "no"}])),
        patch(json!([{"op": "remove", "path": "active"}])),
        patch(json!([{"op": "replace", "path": "id", "value": "root2"}])),
        patch(json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y"}])),
        patch(json!([{"op": "remove", "path": "emails"}])),
    ] {
        let answer = gw.call("PATCH", "/Users/root", Some(&body));
        assert!((400..500).contains(&answer.status), "{body}: {answer:?}");
    }
    let put = json!({"schemas": [USER], "userName": "root", "active": "False", "displayName": "Break Glass", "emails": [{"value": "root@example.com"}]});
    assert_eq!(gw.call("PUT", "/Users/root", Some(&put)).status, 403);
    let request = bulk(vec![json!({"method": "patch", "path": "/Users/root", "data": deactivate()})]);
    assert_eq!(gw.call("POST", "/Bulk", Some(&request)).status, 403);
    assert!(fake.seen().is_empty(), "{:#?}", fake.seen());
    assert_eq!(gw.status("root").as_deref(), Some("active"));
    assert!(audit(&gw.db).is_empty());
}

/// The token: none, empty, another scheme, a prefix of the right one, in
/// another case; none of them is let through, nothing is forwarded.
#[test]
fn the_token_check_holds() {
    let fake = Fake::start(Duration::ZERO);
    let gw = Gateway::start(fake.addr, &["--user-id", "id"], None);
    for header in [
        "",
        "authorization: Bearer\r\n",
        "authorization: Bearer \r\n",
        "authorization: Basic aWRwLXMzY3JldA==\r\n",
        "authorization: Bearer idp-s3cre\r\n",
        "authorization: Bearer IDP-S3CRET\r\n",
        "authorization: Bearer idp-s3cret2\r\n",
    ] {
        let answer = call_with(gw.addr, "GET", "/scim/v2/Users", None, header, None);
        assert_eq!(answer.status, 401, "{header:?}: {answer:?}");
    }
    assert!(fake.seen().is_empty(), "{:#?}", fake.seen());
    // The identity provider's token never reaches the service provider.
    assert_eq!(gw.call("GET", "/Users", None).status, 200);
    assert!(!fake.seen().join("\n").contains(TOKEN), "{:#?}", fake.seen());
}
