//! The HTTP service over a real socket on 127.0.0.1 (ephemeral ports):
//! started in-process for most tests, as a child process for signals.

use std::io::{BufRead as _, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use steward::Engine;
use steward::server::{Limits, Notice, Options, ReloadOn, Reloader, Scope, Server, Snapshot};

use crate::support::gateway::{Reply, read_reply};
use crate::support::{NOW, example, example_file, file, pack_dir, steward_process};

/// The CRM pack's policy file the service serves.
fn crm() -> PathBuf {
    pack_dir("crm").join("superusers.policy")
}

/// A service running on its own runtime thread; stopped when dropped.
struct Running {
    addr: SocketAddr,
    reloader: Reloader,
    notices: Arc<Mutex<Vec<Notice>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Asks for a graceful shutdown, as `SIGTERM` does.
    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    fn noticed(&self, what: impl Fn(&Notice) -> bool) -> bool {
        self.notices.lock().unwrap().iter().any(what)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shut_down();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Options over the CRM pack at `policy` (a file), with reloads only on request.
fn options(policy: &Path) -> Options {
    let mut options = Options::new(vec![policy.to_path_buf()], example_file("crm"));
    options.reload = ReloadOn { sighup: false, file_change: false };
    options
}

fn start(mut options: Options) -> Running {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let seen = notices.clone();
    options.notify = Arc::new(move |n: &Notice| seen.lock().unwrap().push(n.clone()));
    let engine = Engine::load_paths(&options.policies, &options.directory).unwrap();
    let (ready, bound) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let server = Server::bind("127.0.0.1:0", engine, options).await.unwrap();
            ready.send((server.local_addr(), server.reloader())).unwrap();
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    let (addr, reloader) = bound.recv().unwrap();
    Running { addr, reloader, notices, stop: Some(stop), thread: Some(thread) }
}

/// One HTTP/1.1 call on its own connection.
fn call(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Reply {
    let mut stream = open(addr, method, path, token, body.len());
    // The server may answer (413) before reading all of a large body.
    let _ = stream.write_all(body);
    read_reply(stream)
}

/// A connection with the head of a call written, its body still to come.
fn open(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\n{auth}content-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

/// A POST whose body's last byte is held back: the call stays in flight,
/// waiting for its body, until [`Held::finish`].
struct Held {
    stream: TcpStream,
    last: u8,
}

fn hold(addr: SocketAddr, path: &str, body: &Value) -> Held {
    let body = body.to_string().into_bytes();
    let (&last, start) = body.split_last().unwrap();
    let mut stream = open(addr, "POST", path, None, body.len());
    stream.write_all(start).unwrap();
    Held { stream, last }
}

impl Held {
    fn finish(mut self) -> Reply {
        self.stream.write_all(&[self.last]).unwrap();
        read_reply(self.stream)
    }

    /// Whether the service answered already (without waiting).
    fn answered(&self) -> bool {
        self.stream.set_nonblocking(true).unwrap();
        let answered = matches!(self.stream.peek(&mut [0]), Ok(1..));
        self.stream.set_nonblocking(false).unwrap();
        answered
    }
}

/// With a limit of one call in flight: a held `/v1/decide` that holds the
/// slot, and the reply to a call refused because of it.
fn hold_the_only_slot(addr: SocketAddr) -> (Held, Reply) {
    let mut held = hold(addr, "/v1/decide", &unblock_bo());
    let mut refused = None;
    // The held call takes the slot once the service has read its head. A
    // probe sent before that is answered; if it took the slot first, the
    // held call was refused, and another one is sent.
    let full = eventually(|| {
        let probe = post(addr, "/v1/decide", &unblock_bo());
        if probe.status == 503 {
            refused = Some(probe);
            return true;
        }
        if held.answered() {
            held = hold(addr, "/v1/decide", &unblock_bo());
        }
        false
    });
    assert!(full, "no call was refused while one was in flight");
    (held, refused.unwrap())
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> Reply {
    call(addr, "POST", path, None, body.to_string().as_bytes())
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    call(addr, "GET", path, None, b"")
}

fn unblock_bo() -> Value {
    json!({ "actor": "crm.Ada", "action": "unblock", "env": "CRM1", "target": "crm.Bo", "now": NOW })
}

fn block_uma_unconfirmed() -> Value {
    json!({ "actor": "crm.Ada", "action": "block", "env": "CRM1", "target": "crm.Uma", "now": NOW })
}

fn error_code(reply: &Reply) -> &str {
    reply.body["error"]["code"].as_str().unwrap_or("")
}

/// One reply read from a connection kept open: its head, then as many
/// bytes of body as its `content-length` says.
fn read_one(stream: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut byte = [0u8];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the connection closed in a head: {raw:?}");
        raw.push(byte[0]);
    }
    let head = String::from_utf8(raw).unwrap().trim_end().to_owned();
    let mut reply = Reply { status: 0, head, body: Value::Null };
    reply.status = reply.head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = vec![0u8; reply.header("content-length").unwrap().parse().unwrap()];
    stream.read_exact(&mut body).unwrap();
    reply.body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    reply
}

/// A keep-alive connection that has had one health call answered: it is
/// accepted and holds a slot of the connection limit.
fn answered_and_kept(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /v1/health HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
    assert_eq!(read_one(&mut stream).status, 200);
    stream
}

/// Whether the service closed `stream` (end of file, or reset), reading
/// and dropping what comes before; false when it is still open after a
/// generous wait, which bounds the test and measures nothing.
fn closed_by_the_service(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Options with the connection limits given and the others long.
fn connection_limits(header_ms: u64, idle_ms: u64, connections: usize) -> Options {
    let mut options = options(&crm());
    options.limits = Limits {
        header_timeout: std::time::Duration::from_millis(header_ms),
        idle_timeout: std::time::Duration::from_millis(idle_ms),
        connections,
        ..Limits::default()
    };
    options
}

/// #15: a client that sends half a request line and then nothing is cut
/// after the header timeout, on a new connection and on one kept alive
/// (the idle timeout is long: it is not what closes them).
#[test]
fn a_client_that_sends_half_a_header_line_is_cut_after_the_header_timeout() {
    let server = start(connection_limits(200, 600_000, 512));
    let mut fresh = TcpStream::connect(server.addr).unwrap();
    fresh.write_all(b"GET /v1/heal").unwrap();
    assert!(closed_by_the_service(&mut fresh), "a half head on a new connection was not cut");

    let mut kept = answered_and_kept(server.addr);
    kept.write_all(b"POST /v1/decide HTTP/1.1\r\nhost: te").unwrap();
    assert!(closed_by_the_service(&mut kept), "a half head on a kept connection was not cut");
    assert_eq!(get(server.addr, "/v1/health").status, 200);
}

/// #15: a keep-alive connection nobody uses is closed after the idle
/// timeout; one that sends a whole request in time is answered.
#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let server = start(connection_limits(600_000, 200, 512));
    let mut idle = answered_and_kept(server.addr);
    assert!(closed_by_the_service(&mut idle), "an idle connection stayed open");

    // With a long idle timeout, a kept connection is answered when it asks
    // again.
    let server = start(connection_limits(600_000, 600_000, 512));
    let mut kept = answered_and_kept(server.addr);
    kept.write_all(b"GET /v1/health HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
    assert_eq!(read_one(&mut kept).status, 200);
}

/// #15: an answer nobody reads frees its connection after the idle
/// timeout: with a limit of one connection, the next caller is answered.
#[test]
fn an_answer_nobody_reads_is_cut_after_the_idle_timeout() {
    let mut options = connection_limits(600_000, 300, 1);
    options.limits.body_bytes = 32 << 20;
    options.limits.batch = 100_000;
    let server = start(options);
    // Some 8 MB of verdicts: more than the socket buffers hold.
    let body = json!({ "requests": vec![unblock_bo(); 20_000] }).to_string();
    let mut unread = TcpStream::connect(server.addr).unwrap();
    write!(
        unread,
        "POST /v1/decide/batch HTTP/1.1\r\nhost: t\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut next = TcpStream::connect(server.addr).unwrap();
    next.set_read_timeout(Some(std::time::Duration::from_secs(120))).unwrap();
    next.write_all(b"GET /v1/health HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
    assert_eq!(read_one(&mut next).status, 200, "the unread answer kept the only connection");
    let mut received = Vec::new();
    let _ = unread.read_to_end(&mut received);
    let text = String::from_utf8_lossy(&received);
    let (head, answer) = text.split_once("\r\n\r\n").unwrap();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length: ")).unwrap().parse().unwrap();
    assert!(answer.len() < length, "the whole answer was written: {} bytes", answer.len());
}

/// #15: with the connection limit reached, a caller waits, unaccepted,
/// and is answered once a connection closes; callers within the limit are
/// answered meanwhile.
#[test]
fn with_the_connection_limit_reached_a_caller_is_answered_once_a_slot_frees() {
    let server = start(connection_limits(600_000, 600_000, 2));
    let first = answered_and_kept(server.addr);
    // Within the limit: answered, and its connection closes after.
    assert_eq!(get(server.addr, "/v1/health").status, 200);
    let _second = answered_and_kept(server.addr);

    let mut waiting = unanswered(server.addr);
    drop(first);
    assert_eq!(read_one(&mut waiting).status, 200);
}

/// A health call sent past the connection limit, not answered a moment
/// after (were it answered, the limit would not hold: the wait cannot make
/// the test fail when it does).
fn unanswered(addr: SocketAddr) -> TcpStream {
    let mut waiting = TcpStream::connect(addr).unwrap();
    waiting.write_all(b"GET /v1/health HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    waiting.set_nonblocking(true).unwrap();
    assert!(waiting.peek(&mut [0]).is_err(), "answered past the connection limit");
    waiting.set_nonblocking(false).unwrap();
    waiting.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    waiting
}

/// #19: requests hyper cannot read are answered with the JSON errors of
/// every other failure, not empty bodies, and the service goes on.
#[test]
fn requests_that_are_not_http_get_json_errors() {
    let server = start(options(&crm()));
    let huge = format!("GET /v1/health HTTP/1.1\r\nhost: t\r\nx-big: {}\r\n\r\n", "a".repeat(70_000));
    let many: String = (0..120).map(|n| format!("x-{n}: 1\r\n")).collect();
    for (raw, status, code) in [
        (huge, 431, "headers_too_large"),
        (format!("GET /v1/health HTTP/1.1\r\nhost: t\r\n{many}\r\n"), 431, "headers_too_large"),
        ("NOT A REQUEST LINE\r\n\r\n".to_owned(), 400, "malformed_request"),
        ("GET /v1/health HTTP/1.1\r\nbad header\r\n\r\n".to_owned(), 400, "malformed_request"),
    ] {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        let _ = stream.write_all(raw.as_bytes());
        let reply = read_reply(stream);
        assert_eq!((reply.status, error_code(&reply)), (status, code), "{reply:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
    }
    let reply = read_reply({
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.write_all(b"NOT A REQUEST LINE\r\n\r\n").unwrap();
        stream
    });
    assert_eq!(
        reply.body["error"]["message"],
        "the request is not HTTP/1.1: its request line or a header cannot be read"
    );
    assert_eq!(get(server.addr, "/v1/health").status, 200);
}

/// #19: a body announced over the limit is refused with 413 before
/// `100 Continue`, so that the client never sends it.
#[test]
fn an_expected_body_over_the_limit_is_a_413_before_100_continue() {
    let server = start(options(&crm()));
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"POST /v1/decide HTTP/1.1\r\nhost: t\r\ncontent-length: 99000000\r\nexpect: 100-continue\r\n\r\n")
        .unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let reply = read_one(&mut stream);
    assert_eq!((reply.status, error_code(&reply)), (413, "body_too_large"), "{reply:?}");
}

/// `/v1/health` says `degraded`, with the reason, while the policy files
/// hold a set that was refused, and `ok` again once a reload is taken.
#[test]
fn health_is_degraded_while_reloads_are_refused() {
    let (_dir, path) = editable_policy();
    let server = start(options(&path));
    assert_eq!(get(server.addr, "/v1/health").body, json!({ "status": "ok" }));

    std::fs::write(&path, "rule broken { permit delet }\n").unwrap();
    runtime().block_on(server.reloader.reload(Scope::Policies, "api")).unwrap_err();
    let health = get(server.addr, "/v1/health");
    assert_eq!((health.status, &health.body["status"]), (200, &json!("degraded")));
    let reason = health.body["reason"].as_str().unwrap();
    assert!(reason.starts_with("the last reload (api) was refused: "), "{reason}");
    assert!(reason.contains("unknown action `delet`"), "{reason}");

    std::fs::write(&path, "rule nobody { forbid unblock }\n").unwrap();
    runtime().block_on(server.reloader.reload(Scope::Policies, "api")).unwrap();
    assert_eq!(get(server.addr, "/v1/health").body, json!({ "status": "ok" }));
}

#[test]
fn health_answers_without_a_token() {
    let mut options = options(&crm());
    options.token = Some("s3cret".into());
    let server = start(options);
    let reply = get(server.addr, "/v1/health");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
}

#[test]
fn every_other_endpoint_asks_for_the_token() {
    let mut options = options(&crm());
    options.token = Some("s3cret".into());
    let server = start(options);
    let body = unblock_bo().to_string();
    for (method, path) in [
        ("GET", "/v1/policies"),
        ("POST", "/v1/decide"),
        ("POST", "/v1/decide/batch"),
        ("POST", "/v1/impact"),
        ("POST", "/v1/plan"),
    ] {
        for token in [None, Some("wrong"), Some("S3CRET"), Some("s3cre")] {
            let reply = call(server.addr, method, path, token, body.as_bytes());
            assert_eq!(reply.status, 401, "{method} {path} with {token:?}");
            assert_eq!(error_code(&reply), "unauthorized");
        }
    }
    let reply = call(server.addr, "POST", "/v1/decide", Some("s3cret"), body.as_bytes());
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["decision"], "allow");
    // The scheme's name is case-insensitive.
    let head = format!(
        "POST /v1/decide HTTP/1.1\r\nhost: t\r\nauthorization: bearer s3cret\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
}

/// `STEWARD_TOKEN=` (empty, as a template leaves it) is no token given: the
/// token of steward.yaml still guards every endpoint.
#[test]
fn an_empty_token_never_switches_off_the_configured_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = file(dir.path(), "steward.yaml", "token: s3cret\n");
    let child = spawn(
        serve_command(&crm(), &example_file("crm")).arg("--config").arg(&config).env("STEWARD_TOKEN", ""),
    );
    let open = get(child.addr, "/v1/policies").status;
    let with_token = call(child.addr, "GET", "/v1/policies", Some("s3cret"), b"").status;
    assert_eq!((open, with_token), (401, 200));
}

#[test]
fn c4_decide_allows_and_c2_denies_with_the_rules_and_reasons() {
    let server = start(options(&crm()));
    let allowed = post(server.addr, "/v1/decide", &unblock_bo());
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.body["decision"], "allow");
    assert_eq!(allowed.body["rules"][0]["id"], "superusers_manage_accounts");
    assert_eq!(allowed.body["impact"]["license"]["after"], 5);

    // A deny is an answer, not an error: 200 with the deciding rule (C2).
    let denied = post(server.addr, "/v1/decide", &block_uma_unconfirmed());
    assert_eq!(denied.status, 200);
    assert_eq!(denied.body["decision"], "deny");
    assert_eq!(denied.body["rules"][0]["id"], "confirmed_with_reason");
    assert_eq!(denied.body["reasons"][0], "blocking and deleting must be confirmed and given a reason");
}

#[test]
fn a_request_that_cannot_be_decided_is_a_422_with_its_reason() {
    let server = start(options(&crm()));
    let mut request = unblock_bo();
    request["target"] = json!("crm.Nobody");
    let reply = post(server.addr, "/v1/decide", &request);
    assert_eq!(reply.status, 422);
    assert_eq!(error_code(&reply), "invalid_request");
    assert_eq!(reply.body["error"]["message"], "unknown user `crm.Nobody`");
}

#[test]
fn malformed_bodies_are_400s_and_change_nothing() {
    let server = start(options(&crm()));
    for body in [
        &b"{"[..],
        b"",
        b"[]",
        b"null",
        b"{\"actor\": 1}",
        b"\xff\xfe",
        b"{\"actor\":\"a\",\"action\":\"b\",\"env\":\"c\",\"bogus\":1}",
    ] {
        for path in ["/v1/decide", "/v1/decide/batch", "/v1/impact", "/v1/plan", "/v1/who"] {
            let reply = call(server.addr, "POST", path, None, body);
            assert_eq!(reply.status, 400, "{path} {:?}", String::from_utf8_lossy(body));
            assert_eq!(error_code(&reply), "malformed_body");
        }
    }
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");
}

/// A misspelt key is a 400 on every endpoint, inside a body that is valid
/// without it: never silently ignored.
#[test]
fn unknown_keys_are_400s_on_every_endpoint() {
    let server = start(options(&crm()));
    let plan = json!({ "actor": "crm.Ada", "action": "block", "targets": ["crm.Uma"], "env": "CRM1", "reason": "left" });
    let valid = [
        ("/v1/decide", unblock_bo()),
        ("/v1/decide/batch", json!({ "requests": [unblock_bo()] })),
        ("/v1/impact", json!({ "target": "crm.Uma", "env": "CRM1" })),
        ("/v1/plan", plan.clone()),
    ];
    for (path, body) in valid {
        assert_eq!(post(server.addr, path, &body).status, 200, "{path} without the key");
        let mut misspelt = body.clone();
        misspelt["bogus"] = json!(1);
        let reply = post(server.addr, path, &misspelt);
        assert_eq!((reply.status, error_code(&reply)), (400, "malformed_body"), "{path}");
    }
    // Inside a listed target too: `evn` is not the target's environment.
    let mut target = plan;
    target["targets"] = json!([{ "user": "crm.Uma", "evn": "CRM9" }]);
    let reply = post(server.addr, "/v1/plan", &target);
    assert_eq!((reply.status, error_code(&reply)), (400, "malformed_body"));
}

/// A batch that takes longer than the time limit is answered 503, and its
/// decisions stop: the work runs off the request threads.
#[test]
fn a_batch_past_the_time_limit_is_a_503() {
    let mut options = options(&crm());
    // Reading the body takes well under the limit; deciding 60,000 requests
    // (with their impacts) takes well over it, in debug and release builds.
    options.limits = Limits {
        timeout: std::time::Duration::from_millis(100),
        batch: 60_000,
        body_bytes: 32 << 20,
        ..Limits::default()
    };
    let server = start(options);
    let reply = post(server.addr, "/v1/decide/batch", &json!({ "requests": vec![unblock_bo(); 60_000] }));
    assert_eq!((reply.status, error_code(&reply)), (503, "timeout"));
    assert!(get(server.addr, "/v1/health").status == 200);
}

/// Past the limit of calls in flight a call is refused at once with a 503
/// that says when to retry, not queued; health still answers, and the slot
/// is free again once the call in flight ends.
#[test]
fn calls_past_the_in_flight_limit_are_503s_with_retry_after() {
    let mut options = options(&crm());
    options.limits = Limits { in_flight: 1, ..Limits::default() };
    let server = start(options);
    let (held, refused) = hold_the_only_slot(server.addr);
    assert_eq!(error_code(&refused), "overloaded");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.body["error"]["message"], "the calls in flight are at the limit (1); retry shortly");
    assert_eq!(get(server.addr, "/v1/health").status, 200);

    assert_eq!(held.finish().body["decision"], "allow");
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");
}

#[test]
fn oversized_bodies_are_413s() {
    let mut options = options(&crm());
    options.limits = Limits { body_bytes: 1024, ..Limits::default() };
    let server = start(options);
    let mut request = unblock_bo();
    request["reason"] = json!("x".repeat(2000));
    let reply = post(server.addr, "/v1/decide", &request);
    assert_eq!(reply.status, 413);
    assert_eq!(error_code(&reply), "body_too_large");
    assert_eq!(reply.body["error"]["message"], "the body is larger than the limit of 1024 bytes");
}

#[test]
fn unknown_paths_and_methods_are_json_errors() {
    let server = start(options(&crm()));
    let reply = get(server.addr, "/v2/decide");
    assert_eq!((reply.status, error_code(&reply)), (404, "not_found"));
    let reply = get(server.addr, "/v1/decide");
    assert_eq!((reply.status, error_code(&reply)), (405, "method_not_allowed"));
}

#[test]
fn a_batch_answers_each_request_in_order_and_fails_them_alone() {
    let server = start(options(&crm()));
    let batch = json!({ "requests": [unblock_bo(), { "actor": 1 }, block_uma_unconfirmed(),
        { "actor": "crm.Ada", "action": "unblock", "env": "CRM9", "target": "crm.Bo" }] });
    let reply = post(server.addr, "/v1/decide/batch", &batch);
    assert_eq!(reply.status, 200);
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["decision"], "allow");
    assert_eq!(results[1]["error"]["code"], "malformed_body");
    assert_eq!(results[2]["decision"], "deny");
    assert_eq!(results[3]["error"]["code"], "invalid_request");
    assert_eq!(results[3]["error"]["message"], "unknown environment `CRM9`");
}

#[test]
fn a_batch_over_the_limit_is_an_error_that_says_so() {
    let mut options = options(&crm());
    options.limits = Limits { batch: 3, ..Limits::default() };
    let server = start(options);
    let reply = post(server.addr, "/v1/decide/batch", &json!({ "requests": vec![unblock_bo(); 4] }));
    assert_eq!(reply.status, 413);
    assert_eq!(error_code(&reply), "batch_too_large");
    assert_eq!(reply.body["error"]["message"], "the batch has 4 requests; the limit is 3 per call");
    let reply = post(server.addr, "/v1/decide/batch", &json!({ "requests": vec![unblock_bo(); 3] }));
    assert_eq!(reply.body["results"].as_array().unwrap().len(), 3);
}

#[test]
fn impact_is_the_json_of_steward_impact() {
    let server = start(options(&crm()));
    let reply =
        post(server.addr, "/v1/impact", &json!({ "target": "crm.Uma", "env": "CRM1", "action": "block" }));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["action"], "block");
    assert_eq!(reply.body["license"], json!({ "license": "crm", "before": 4, "after": 3 }));
    let reply = post(server.addr, "/v1/impact", &json!({ "target": "crm.Uma", "env": "CRM9" }));
    assert_eq!((reply.status, error_code(&reply)), (422, "invalid_request"));
}

#[test]
fn c3_plan_is_a_dry_run_with_its_digests() {
    let server = start(options(&crm()));
    let body = json!({ "actor": "crm.Ada", "action": "block", "targets": ["crm.Uma", { "user": "crm.Vic", "env": "CRM1" }],
        "env": "CRM1", "reason": "left", "now": NOW });
    let reply = post(server.addr, "/v1/plan", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["summary"]["outcomes"]["block"], 2);
    assert_eq!(reply.body["policy_digest"].as_str().unwrap().len(), 64);

    let both = json!({ "actor": "crm.Ada", "action": "block", "targets": ["crm.Uma"], "where": "true", "reason": "x" });
    let reply = post(server.addr, "/v1/plan", &both);
    assert_eq!((reply.status, error_code(&reply)), (400, "malformed_body"));
    let bad = json!({ "actor": "crm.Ada", "action": "block", "where": "target.nope", "reason": "x" });
    let reply = post(server.addr, "/v1/plan", &bad);
    assert_eq!((reply.status, error_code(&reply)), (422, "invalid_plan"));
}

/// An invalid plan's message places each diagnostic in its text and gives
/// its help, on one line, as a refused reload does.
#[test]
fn an_invalid_plan_says_where_and_what_would_do() {
    let server = start(options(&crm()));
    let bad = json!({ "actor": "crm.Ada", "action": "block", "where": "target.status == \"activ\"", "reason": "x" });
    let reply = post(server.addr, "/v1/plan", &bad);
    assert_eq!((reply.status, error_code(&reply)), (422, "invalid_plan"));
    assert_eq!(
        reply.body["error"]["message"],
        "where:1:18: `activ` is not an account status (did you mean `active`? the values are: pending, active, blocked)"
    );
}

/// A body that cannot be read (its chunked encoding breaks off) is a 400
/// `unreadable_body` on every endpoint, and the service keeps answering.
#[test]
fn an_unreadable_body_is_a_400_on_every_endpoint() {
    let server = start(options(&crm()));
    for path in ["/v1/decide", "/v1/decide/batch", "/v1/impact", "/v1/plan"] {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n4\r\n{{\"ac\r\nnot a chunk size\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let reply = read_reply(stream);
        assert_eq!((reply.status, error_code(&reply)), (400, "unreadable_body"), "{path}: {reply:?}");
    }
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");
}

#[test]
fn policies_names_what_is_loaded_with_its_digest() {
    let server = start(options(&crm()));
    let reply = get(server.addr, "/v1/policies");
    assert_eq!(reply.status, 200);
    let digest = Engine::load_paths(&[crm()], &example_file("crm")).unwrap().policies().digest().to_owned();
    assert_eq!(reply.body["digest"], digest);
    assert!(reply.body["rules"].as_array().unwrap().iter().any(|r| r["id"] == "last_superuser_stays"));
}

/// A copy of the CRM policy in a folder of its own, to edit.
fn editable_policy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.policy");
    std::fs::copy(crm(), &path).unwrap();
    (dir, path)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn an_invalid_policy_set_is_refused_and_the_old_one_keeps_serving() {
    let (_dir, path) = editable_policy();
    let server = start(options(&path));
    let before = get(server.addr, "/v1/policies").body["digest"].clone();

    std::fs::write(&path, "rule broken { permit delet }\n").unwrap();
    let refused = runtime().block_on(server.reloader.reload(Scope::Policies, "api")).unwrap_err();
    assert!(refused.contains("unknown action `delet`"), "{refused}");
    assert_eq!(get(server.addr, "/v1/policies").body["digest"], before);
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");
    assert!(server.notices.lock().unwrap().iter().any(|n| matches!(n, Notice::ReloadRefused { .. })));

    // A valid set is taken: nobody may unblock any more.
    std::fs::write(&path, "rule nobody { forbid unblock }\n").unwrap();
    let digest = runtime().block_on(server.reloader.reload(Scope::Policies, "api")).unwrap();
    assert_eq!(get(server.addr, "/v1/policies").body["digest"], digest.as_str());
    assert_ne!(json!(digest), before);
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], "deny");
}

/// A policy reload shares the directory in memory and its reference graph
/// with the engine it replaces, copying and building nothing; a reload of
/// everything (SIGHUP) reads the directory anew.
#[test]
fn a_policy_reload_keeps_serving_the_same_directory() {
    let (_dir, path) = editable_policy();
    let engine = Engine::load_paths(std::slice::from_ref(&path), &example_file("crm")).unwrap();
    let _ = engine.graph();
    let snapshot = Snapshot { engine, loaded_at: jiff::Timestamp::now() };
    let current = Arc::new(arc_swap::ArcSwap::from_pointee(snapshot));
    let reloader =
        Reloader::new(current.clone(), std::slice::from_ref(&path), &example_file("crm"), Arc::new(|_| {}));
    let before = current.load_full();

    std::fs::write(&path, "rule nobody { forbid unblock }\n").unwrap();
    runtime().block_on(reloader.reload(Scope::Policies, "api")).unwrap();
    let after = current.load_full();
    assert_ne!(after.engine.policies().digest(), before.engine.policies().digest());
    assert!(std::ptr::eq(after.engine.directory(), before.engine.directory()));
    assert!(std::ptr::eq(after.engine.graph(), before.engine.graph()));

    runtime().block_on(reloader.reload(Scope::Everything, "api")).unwrap();
    assert!(!std::ptr::eq(current.load().engine.directory(), before.engine.directory()));
}

/// Polls until `done` holds; a missed change fails after a generous wait
/// (the wait bounds the test, it does not measure anything).
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn a_policy_file_change_reloads_and_a_broken_one_is_refused() {
    let (_dir, path) = editable_policy();
    let mut options = options(&path);
    options.reload.file_change = true;
    let server = start(options);
    let before = get(server.addr, "/v1/policies").body["digest"].clone();

    std::fs::write(&path, "rule nobody { forbid unblock }\n").unwrap();
    assert!(eventually(|| get(server.addr, "/v1/policies").body["digest"] != before));
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], "deny");

    let served = get(server.addr, "/v1/policies").body["digest"].clone();
    std::fs::write(&path, "rule broken {").unwrap();
    assert!(eventually(|| server
        .notices
        .lock()
        .unwrap()
        .iter()
        .any(|n| matches!(n, Notice::ReloadRefused { .. }))));
    assert_eq!(get(server.addr, "/v1/policies").body["digest"], served);
}

/// A policy folder is watched whole: a `.policy` file that appears in it
/// joins the set served.
#[test]
fn a_policy_file_new_in_a_watched_folder_reloads() {
    let (dir, _) = editable_policy();
    let mut options = options(dir.path());
    options.reload.file_change = true;
    let server = start(options);
    let before = get(server.addr, "/v1/policies").body["digest"].clone();
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");

    file(dir.path(), "nobody.policy", "rule nobody { forbid unblock }\n");
    assert!(eventually(|| post(server.addr, "/v1/decide", &unblock_bo()).body["decision"] == "deny"));
    let policies = get(server.addr, "/v1/policies").body;
    assert_ne!(policies["digest"], before);
    assert_eq!(policies["files"].as_array().unwrap().len(), 2);
}

#[test]
fn concurrent_requests_get_the_same_answers() {
    let server = start(options(&crm()));
    let addr = server.addr;
    let workers: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| {
                        let request = if i % 2 == 0 { unblock_bo() } else { block_uma_unconfirmed() };
                        let reply = post(addr, "/v1/decide", &request);
                        (reply.status, reply.body["decision"].as_str().unwrap_or("").to_owned())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (i, worker) in workers.into_iter().enumerate() {
        let expected = if i % 2 == 0 { "allow" } else { "deny" };
        for (status, decision) in worker.join().unwrap() {
            assert_eq!((status, decision.as_str()), (200, expected));
        }
    }
}

/// The CRM pack served with a decision log in `dir`.
fn start_logging(dir: &Path) -> (Running, PathBuf) {
    let log = dir.join("decisions.jsonl");
    let mut options = options(&crm());
    options.decision_log = Some(log.clone());
    (start(options), log)
}

fn log_lines(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_decision_log_has_one_line_per_decision() {
    let dir = tempfile::tempdir().unwrap();
    let (server, log) = start_logging(dir.path());
    post(server.addr, "/v1/decide", &unblock_bo());
    post(
        server.addr,
        "/v1/decide/batch",
        &json!({ "requests": [block_uma_unconfirmed(), { "actor": 1 }, unblock_bo()] }),
    );
    let digest = get(server.addr, "/v1/policies").body["digest"].clone();
    let lines = log_lines(&log);
    assert_eq!(lines.len(), 3, "the malformed request decided nothing");
    assert_eq!(lines[1]["decision"], "deny");
    assert_eq!(lines[1]["rules"], json!(["confirmed_with_reason"]));
    assert_eq!(lines[1]["request"]["target"], "crm.Uma");
    assert_eq!(lines[0]["policy_digest"], digest);
    assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
}

/// A request without `now` is decided at the service's clock (P5's
/// employment ends are compared with it): the time recorded for it lies
/// between the test's clock before and after the call. A batch has one
/// clock; a plan without `now` is made at the service's clock too.
#[test]
fn now_defaults_to_the_services_clock() {
    let dir = tempfile::tempdir().unwrap();
    let (server, log) = start_logging(dir.path());
    let mut request = unblock_bo();
    request.as_object_mut().unwrap().remove("now");
    let plan = json!({ "actor": "crm.Ada", "action": "block", "targets": ["crm.Uma"], "env": "CRM1", "reason": "left" });

    let before = jiff::Timestamp::now();
    assert_eq!(post(server.addr, "/v1/decide", &request).body["decision"], "allow");
    assert_eq!(post(server.addr, "/v1/decide/batch", &json!({ "requests": [request, request] })).status, 200);
    let planned = post(server.addr, "/v1/plan", &plan);
    let after = jiff::Timestamp::now();

    let time = |value: &Value| -> jiff::Timestamp { value.as_str().unwrap().parse().unwrap() };
    let lines = log_lines(&log);
    assert_eq!(lines.len(), 3);
    for line in &lines {
        let now = time(&line["request"]["now"]);
        assert!(before <= now && now <= after, "{now} not between {before} and {after}");
    }
    assert_eq!(lines[1]["request"]["now"], lines[2]["request"]["now"], "one clock per batch");
    let now = time(&planned.body["now"]);
    assert!(before <= now && now <= after, "the plan's {now} not between {before} and {after}");
}

/// A decision log that cannot be written to is reported in a notice; the
/// answers still go out.
#[test]
fn a_failed_log_write_is_a_notice_and_the_answer_goes_out() {
    let mut options = options(&crm());
    // Opens for appending; every write fails with "no space left on device".
    options.decision_log = Some(PathBuf::from("/dev/full"));
    let server = start(options);
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");
    let failed = |n: &Notice| matches!(n, Notice::LogFailed(m) if m.contains("No space left on device"));
    assert_eq!(server.notices.lock().unwrap().iter().filter(|n| failed(n)).count(), 1);
    let batch = post(server.addr, "/v1/decide/batch", &json!({ "requests": [unblock_bo(), unblock_bo()] }));
    assert_eq!(batch.body["results"][1]["decision"], "allow");
    assert_eq!(server.notices.lock().unwrap().iter().filter(|n| failed(n)).count(), 2, "one per batch");
}

/// On shutdown the service stops accepting connections, and a call in
/// flight still gets its answer.
#[test]
fn a_call_in_flight_finishes_on_graceful_shutdown() {
    let mut options = options(&crm());
    // With one slot, a refused call shows that the held one is in flight.
    options.limits = Limits { in_flight: 1, ..Limits::default() };
    let mut server = start(options);
    let (held, _) = hold_the_only_slot(server.addr);

    server.shut_down();
    assert!(eventually(|| server.noticed(|n| *n == Notice::ShuttingDown)));
    assert!(eventually(|| TcpStream::connect(server.addr).is_err()), "still accepting connections");
    let reply = held.finish();
    assert_eq!((reply.status, &reply.body["decision"]), (200, &json!("allow")));
}

/// `steward serve` as a child process, with its address read from its
/// first notice; killed when dropped, so that a failed test leaves no
/// service behind.
struct Child {
    process: std::process::Child,
    addr: SocketAddr,
    notices: std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Child {
    /// The next notice on standard error, past the warning of a service
    /// without a token.
    fn notice(&mut self) -> String {
        loop {
            let notice = self.notices.next().unwrap().unwrap();
            if !notice.contains("warning: no token is set") {
                return notice;
            }
        }
    }
}

/// `steward serve` of `policy` over `directory` on a free port, without a
/// token and without watching files.
fn serve_command(policy: &Path, directory: &Path) -> std::process::Command {
    let mut command = steward_process();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--no-watch", "--directory"])
        .arg(directory)
        .arg("--policy")
        .arg(policy)
        .env_remove("STEWARD_TOKEN");
    command
}

fn spawn(command: &mut std::process::Command) -> Child {
    let mut process = command.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut notices = std::io::BufReader::new(process.stderr.take().unwrap()).lines();
    let first = notices.next().unwrap().unwrap();
    let addr = first.rsplit(' ').next().unwrap().parse().unwrap();
    Child { process, addr, notices }
}

fn spawn_serve(policy: &Path) -> Child {
    spawn(&mut serve_command(policy, &example_file("crm")))
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.process.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sighup_reloads_refuses_an_invalid_set_and_sigterm_stops_gracefully() {
    let (_dir, path) = editable_policy();
    let mut child = spawn_serve(&path);
    assert_eq!(post(child.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");

    std::fs::write(&path, "rule broken { permit delet }\n").unwrap();
    signal(&child, "HUP");
    let refused = child.notice();
    assert!(refused.contains("reload refused (SIGHUP)") && refused.contains("delet"), "{refused}");
    assert_eq!(post(child.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");

    std::fs::write(&path, "rule nobody { forbid unblock }\n").unwrap();
    signal(&child, "HUP");
    assert!(child.notice().contains("reloaded (SIGHUP)"));
    assert_eq!(post(child.addr, "/v1/decide", &unblock_bo()).body["decision"], "deny");

    signal(&child, "TERM");
    assert!(child.notice().contains("shutting down"));
    assert_eq!(child.process.wait().unwrap().code(), Some(0));
}

/// Log rotation: after `mv log log.1` and `SIGHUP`, new lines go to a new
/// file at the configured path, none to the moved one.
#[test]
fn sighup_reopens_the_decision_log() {
    let dir = tempfile::tempdir().unwrap();
    let (log, rotated) = (dir.path().join("decisions.jsonl"), dir.path().join("decisions.jsonl.1"));
    let mut child = spawn(serve_command(&crm(), &example_file("crm")).arg("--decision-log").arg(&log));
    assert_eq!(post(child.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");

    std::fs::rename(&log, &rotated).unwrap();
    signal(&child, "HUP");
    assert!(child.notice().contains("reloaded (SIGHUP)"));
    assert_eq!(post(child.addr, "/v1/decide", &block_uma_unconfirmed()).body["decision"], "deny");

    let decisions = |path: &Path| log_lines(path).iter().map(|l| l["decision"].clone()).collect::<Vec<_>>();
    assert_eq!(decisions(&rotated), [json!("allow")]);
    assert_eq!(decisions(&log), [json!("deny")]);
}

#[test]
fn an_invalid_policy_set_never_starts_serving() {
    let (_dir, path) = editable_policy();
    std::fs::write(&path, "rule broken { permit delet }\n").unwrap();
    let output = steward_process()
        .args(["serve", "--listen", "127.0.0.1:0", "--directory"])
        .arg(example_file("crm"))
        .arg("--policy")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown action `delet`"));
}

/// `SIGHUP` re-reads the directory file too: an invalid one is refused and
/// the directory in memory keeps serving; a valid one is served.
#[test]
fn sighup_rereads_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let original = example("crm");
    let directory = file(dir.path(), "crm.yaml", &original);
    let mut child = spawn(&mut serve_command(&crm(), &directory));
    assert_eq!(post(child.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");

    std::fs::write(&directory, "users: [").unwrap();
    signal(&child, "HUP");
    assert!(child.notice().contains("reload refused (SIGHUP)"));
    assert_eq!(post(child.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");

    // Bo is renamed: the directory served no longer knows `crm.Bo`.
    assert!(original.contains("id: crm.Bo\n"));
    std::fs::write(&directory, original.replace("id: crm.Bo\n", "id: crm.Bea\n")).unwrap();
    signal(&child, "HUP");
    assert!(child.notice().contains("reloaded (SIGHUP)"));
    let reply = post(child.addr, "/v1/decide", &unblock_bo());
    assert_eq!((reply.status, &reply.body["error"]["message"]), (422, &json!("unknown user `crm.Bo`")));
}

/// With no `--listen` and no `--token`, the service listens where
/// steward.yaml says and asks for its token.
#[test]
fn the_listen_address_and_token_come_from_steward_yaml() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let config = file(dir.path(), "steward.yaml", &format!("listen: 127.0.0.1:{port}\ntoken: s3cret\n"));
    let child = spawn(
        steward_process()
            .args(["serve", "--no-watch", "--config"])
            .arg(&config)
            .arg("--directory")
            .arg(example_file("crm"))
            .arg("--policy")
            .arg(crm())
            .env_remove("STEWARD_TOKEN"),
    );
    assert_eq!(child.addr, SocketAddr::from(([127, 0, 0, 1], port)));
    assert_eq!(get(child.addr, "/v1/policies").status, 401);
    assert_eq!(call(child.addr, "GET", "/v1/policies", Some("s3cret"), b"").status, 200);
}

/// `steward serve --help`: each limit with its default and what is answered
/// past it, the signals, the exit codes.
#[test]
fn serve_help_says_the_limits_signals_and_exit_codes() {
    let output = steward_process().args(["serve", "--help"]).env("COLUMNS", "100").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn a_limit_of_no_calls_in_flight_is_refused() {
    let output = steward_process().args(["serve", "--max-in-flight", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("0 would refuse every call; give at least 1"));
}

/// #15: a deep `where` is a 422, and a policy as deep as the limit allows
/// reloads and decides on the service's worker threads; it keeps serving.
#[test]
fn deep_input_is_refused_or_served_never_a_crash() {
    let (_dir, path) = editable_policy();
    let server = start(options(&path));
    let deep = format!("{}true{}", "(".repeat(5_000), ")".repeat(5_000));
    let body = json!({ "actor": "crm.Ada", "action": "block", "where": deep, "env": "CRM1", "reason": "x" });
    let reply = post(server.addr, "/v1/plan", &body);
    assert_eq!((reply.status, error_code(&reply)), (422, "invalid_plan"), "{}", reply.body);
    assert!(reply.body.to_string().contains("nests deeper than"), "{}", reply.body);

    let levels = steward::policy::ast::MAX_NESTING;
    let condition = format!("{}actor.status == \"active\"", "not ".repeat(levels - 2));
    std::fs::write(&path, format!("rule deep {{ permit unblock when {condition} }}\n")).unwrap();
    runtime().block_on(server.reloader.reload(Scope::Policies, "api")).unwrap();
    let expected = if levels.is_multiple_of(2) { "allow" } else { "deny" };
    assert_eq!(post(server.addr, "/v1/decide", &unblock_bo()).body["decision"], expected);
    assert_eq!(get(server.addr, "/v1/health").status, 200);
}

#[test]
fn no_connections_and_zero_timeouts_are_refused() {
    for (flag, message) in [
        ("--max-connections", "0 would refuse every call; give at least 1"),
        ("--header-timeout-ms", "0 would close every connection at once; give at least 1"),
        ("--idle-timeout-ms", "0 would close every connection at once; give at least 1"),
    ] {
        let output = steward_process().args(["serve", flag, "0"]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{flag}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(message), "{flag}");
    }
}

/// `serve` without a token warns that every local process can call it;
/// with one, it does not.
#[test]
fn serve_without_a_token_warns_on_stderr() {
    let mut open = spawn_serve(&crm());
    let warning = open.notices.next().unwrap().unwrap();
    assert_eq!(
        warning,
        "steward serve: warning: no token is set: every process on this machine can call the service \
         (set one with --token, STEWARD_TOKEN or `token` in steward.yaml)"
    );

    let mut guarded = spawn(serve_command(&crm(), &example_file("crm")).arg("--token").arg("s3cret"));
    // Serving: its signal handlers are set.
    assert_eq!(get(guarded.addr, "/v1/health").status, 200);
    signal(&guarded, "TERM");
    assert_eq!(guarded.process.wait().unwrap().code(), Some(0));
    let rest: Vec<String> = guarded.notices.by_ref().map(Result::unwrap).collect();
    assert_eq!(rest, ["steward serve: shutting down; finishing in-flight requests"]);
}

/// #15: the README's `--policy policies/crm`, relative to where serve
/// runs, is watched: an edit to one of its files reloads.
#[test]
fn a_relative_policy_folder_is_watched() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("policies/crm");
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("crm.policy");
    std::fs::copy(crm(), &path).unwrap();
    let child = spawn(
        steward_process()
            .current_dir(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--policy", "policies/crm", "--directory"])
            .arg(example_file("crm"))
            .env_remove("STEWARD_TOKEN"),
    );
    assert_eq!(post(child.addr, "/v1/decide", &unblock_bo()).body["decision"], "allow");
    std::fs::write(&path, "rule nobody { forbid unblock }\n").unwrap();
    assert!(eventually(|| post(child.addr, "/v1/decide", &unblock_bo()).body["decision"] == "deny"));
}

/// The connection limits come from steward.yaml when no flag gives them,
/// and a flag overrides the file.
#[test]
fn the_connection_limits_come_from_steward_yaml_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let config = file(dir.path(), "steward.yaml", "max_connections: 1\nheader_timeout_ms: 200\n");
    let child = spawn(serve_command(&crm(), &example_file("crm")).arg("--config").arg(&config));
    // One connection: a kept one makes the next caller wait.
    let kept = answered_and_kept(child.addr);
    let mut waiting = unanswered(child.addr);
    drop(kept);
    assert_eq!(read_one(&mut waiting).status, 200);
    let mut half = TcpStream::connect(child.addr).unwrap();
    half.write_all(b"GET /v1/heal").unwrap();
    assert!(closed_by_the_service(&mut half), "header_timeout_ms was not taken");

    let child = spawn(
        serve_command(&crm(), &example_file("crm"))
            .args(["--config"])
            .arg(&config)
            .args(["--idle-timeout-ms", "200"]),
    );
    let mut idle = answered_and_kept(child.addr);
    assert!(closed_by_the_service(&mut idle), "--idle-timeout-ms was not taken");
}

/// `/v1/impact` refuses what `/v1/decide` refuses, with the same status,
/// code and message: a misspelt action, one that does not act on accounts
/// (#14, item 5).
#[test]
fn impact_refuses_an_action_as_decide_does() {
    let server = start(options(&crm()));
    for (action, message) in
        [("delet", "unknown action `delet`"), ("invite", "`invite` does not take `target`")]
    {
        let mut request = unblock_bo();
        request["action"] = json!(action);
        let decided = post(server.addr, "/v1/decide", &request);
        let impact = json!({ "target": "crm.Bo", "env": "CRM1", "action": action, "actor": "crm.Ada" });
        let shown = post(server.addr, "/v1/impact", &impact);
        assert_eq!(
            (decided.status, &decided.body),
            (422, &json!({ "error": { "code": "invalid_request", "message": message } }))
        );
        assert_eq!((shown.status, &shown.body), (decided.status, &decided.body));
    }
}

/// `/v1/plan` takes new owners by name as `plan --reassign` does: a
/// misspelt asset is a 422 with the closest name, a good one is the owner
/// each item shows (#14, item 3).
#[test]
fn d7_a_plan_over_http_takes_new_owners_by_name() {
    let mut options = Options::new(vec![pack_dir("analytics")], example_file("analytics"));
    options.reload = ReloadOn { sighup: false, file_change: false };
    let server = start(options);
    let mut body = json!({ "actor": "acme.Olivia", "action": "delete", "targets": ["acme.Leo"], "env": "acme",
        "reason": "left", "now": NOW, "reassign": { "app-forecat": "acme.Anders" } });
    let reply = post(server.addr, "/v1/plan", &body);
    assert_eq!((reply.status, error_code(&reply)), (422, "invalid_plan"), "{}", reply.body);
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("did you mean `app-forecast`?"));

    body["reassign"] = json!({ "app-forecast": "acme.Anders" });
    let reply = post(server.addr, "/v1/plan", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let owners = &reply.body["items"][0]["impact"]["reassign"];
    let forecast = owners.as_array().unwrap().iter().find(|r| r["asset"] == "app-forecast").unwrap();
    assert_eq!(forecast["new_owner"], "acme.Anders");
}

/// `/v1/who`: the reverse query of `steward who`, in pages, over a socket.
#[test]
fn who_pages_through_every_account_over_http() {
    let server = start(options(&crm()));
    let body = json!({ "action": "block", "actor": "crm.Ada", "env": "CRM1", "confirm": true, "reason": "left",
        "why": true, "limit": 2, "now": NOW });
    let reply = post(server.addr, "/v1/who", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["asked"], "targets");
    let next = reply.body["next"].as_str().unwrap().to_owned();
    let mut seen =
        reply.body["allowed"].as_array().unwrap().len() + reply.body["denied"].as_array().unwrap().len();
    let mut after = Some(next);
    while let Some(cursor) = after {
        let mut page = body.clone();
        page["after"] = json!(cursor);
        let reply = post(server.addr, "/v1/who", &page);
        assert_eq!(reply.status, 200, "{}", reply.body);
        seen +=
            reply.body["allowed"].as_array().unwrap().len() + reply.body["denied"].as_array().unwrap().len();
        after = reply.body["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, reply_accounts(&server), "every account of CRM1, once");
    let both = json!({ "action": "block", "actor": "crm.Ada", "target": "crm.Uma", "env": "CRM1" });
    let reply = post(server.addr, "/v1/who", &both);
    assert_eq!((reply.status, error_code(&reply)), (422, "invalid_query"));
}

fn reply_accounts(server: &Running) -> usize {
    let body = json!({ "action": "block", "actor": "crm.Ada", "env": "CRM1", "why": true, "limit": 10000, "now": NOW });
    post(server.addr, "/v1/who", &body).body["accounts"].as_u64().unwrap() as usize
}

/// `steward replay` (#17): the decisions the service logged, decided again.
/// Under the same set nothing changes; under a set that no longer asks for
/// a confirmation and a reason (C2), the logged denial is now an allow, its line named;
/// a log with a line that is not a decision is refused, that line named,
/// and nothing is decided.
#[test]
fn replay_decides_the_logged_decisions_again() {
    let dir = tempfile::tempdir().unwrap();
    let (server, log) = start_logging(dir.path());
    post(server.addr, "/v1/decide", &unblock_bo());
    post(server.addr, "/v1/decide", &block_uma_unconfirmed());
    drop(server);
    let replay = |policy: &Path, log: &Path| {
        let mut command = steward_process();
        command
            .arg("replay")
            .arg(log)
            .arg("--policy")
            .arg(policy)
            .arg("--directory")
            .arg(example_file("crm"));
        command.output().unwrap()
    };
    let same = replay(&crm(), &log);
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stderr));
    assert!(String::from_utf8_lossy(&same.stdout).contains("2 decisions decided again: no answer changes"));

    let text = std::fs::read_to_string(crm()).unwrap();
    let lax = text.replace("when not request.confirm or not (request has reason)", "when false");
    assert_ne!(lax, text);
    let changed = dir.path().join("lax");
    std::fs::create_dir(&changed).unwrap();
    file(&changed, "superusers.policy", &lax);
    let out = replay(&changed, &log);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "block: 1 decision deny → allow: confirmed_with_reason → superusers_manage_accounts (line 2)"
        ),
        "{stdout}"
    );

    let broken = dir.path().join("broken.jsonl");
    let mut lines = std::fs::read_to_string(&log).unwrap();
    lines.push_str("{\"time\": \"yesterday\"}\n");
    std::fs::write(&broken, lines).unwrap();
    let out = replay(&crm(), &broken);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.jsonl:3:"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing decided");

    // A decision that is neither allow nor deny is not one the service logs.
    let first = std::fs::read_to_string(&log).unwrap().lines().next().unwrap().to_owned();
    std::fs::write(&broken, first.replace("\"decision\":\"allow\"", "\"decision\":\"maybe\"") + "\n")
        .unwrap();
    let out = replay(&crm(), &broken);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.jsonl:1: the decision is `maybe`"));
    // A request that cannot be decided any more (its action is gone) is a
    // difference, not a pass.
    std::fs::write(&broken, first.replace("\"action\":\"unblock\"", "\"action\":\"dlete\"") + "\n").unwrap();
    let out = replay(&crm(), &broken);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 decision decided again: no answer changes, 1 decision cannot be decided now"),
        "{stdout}"
    );
}
