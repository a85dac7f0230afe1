//! The SCIM gateway figures of docs/benchmarks.md: what `steward gateway`
//! adds to each write it forwards, against the same writes sent to the
//! upstream SCIM service provider directly, side by side in one run.
//!
//! `cargo bench --bench gateway` with `STEWARD_INTEROP_PYTHON` set (the
//! venv of tests/interop/requirements.txt, as for the interop tests):
//! scim2-server runs on a loopback port, `STEWARD_GATEWAY_USERS` users
//! (default 200) are created in it directly, then the write mix (each
//! user's `active` set to false, back to true, then its `displayName`
//! changed: three PATCHes per user, round the users) is timed one write at a
//! time on one connection per target and round, `STEWARD_GATEWAY_WRITES`
//! (default 3,000) per target in `STEWARD_GATEWAY_ROUNDS` (default 6)
//! interleaved rounds, upstream then gateway, so that the noisy machine
//! weighs on both alike.
//!
//! scim2-server answers HTTP/1.0 and closes the connection after each
//! answer: a client that writes to it directly connects once per write,
//! and that connect is timed with the write, as the client pays it. The
//! generator keeps its connection where the server keeps it (HTTP/1.1
//! without `connection: close`), as a client of the gateway would.
//!
//! The gateway is started here ([`start_gateway`]), not named by a URL:
//! it has to stand in front of the upstream this run creates the users in.
//!
//! `STEWARD_GATEWAY_BASELINE=PATH` also starts the gateway of another
//! build (`PATH` to its `steward`) and times it in the same rounds, on its
//! own share of the users: a change for speed measured before and after
//! side by side.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[allow(dead_code)]
#[path = "../tests/support/interop.rs"]
mod interop;

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::interop::ScimServer;

fn main() {
    let setting = |name: &str, default: usize| -> usize {
        std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
    };
    let users = setting("STEWARD_GATEWAY_USERS", 200);
    let writes = setting("STEWARD_GATEWAY_WRITES", 3000);
    let rounds = setting("STEWARD_GATEWAY_ROUNDS", 6).max(1);
    let Some(python) = std::env::var_os(interop::PYTHON) else {
        eprintln!(
            "the gateway bench needs scim2-server: set {} to the Python of a venv with \
             tests/interop/requirements.txt installed (README's Test section)",
            interop::PYTHON
        );
        std::process::exit(1);
    };
    let upstream = ScimServer::start_with(python.as_ref(), None);
    let direct = upstream.url();
    println!("load average {}", load_average());
    let started = Instant::now();
    let ids = provision(&direct, users);
    println!("{users} users created directly in {:.1} s", started.elapsed().as_secs_f64());

    // Each target writes to its own share of the users, so that steward's
    // directory stays what the service provider holds of the gateway's.
    let baseline_bin = std::env::var_os("STEWARD_GATEWAY_BASELINE").map(std::path::PathBuf::from);
    let shares = if baseline_bin.is_some() { 3 } else { 2 };
    let share = ids.len() / shares;
    let (direct_ids, rest) = ids.split_at(share);
    let (gateway_ids, baseline_ids) = rest.split_at(share);
    let dir = tempfile::tempdir().unwrap();
    let this_build = std::path::Path::new(env!("CARGO_BIN_EXE_steward"));
    // The gateways timed, each with its own users and times: this build's,
    // and the baseline's when one is given.
    let mut targets = vec![(
        "gateway",
        start_gateway(this_build, &direct, users, &dir.path().join("this")),
        gateway_ids,
        Vec::new(),
    )];
    if let Some(bin) = baseline_bin.as_deref() {
        let started = start_gateway(bin, &direct, users, &dir.path().join("baseline"));
        targets.push(("baseline", started, baseline_ids, Vec::new()));
    }
    for (_, started, ids, _) in &targets {
        if let Some((_, url)) = started {
            // Each user's SCIM id is looked up once, on the first write.
            measure(url, Some(GATEWAY_TOKEN), ids, ids.len());
        }
    }
    let per_round = writes.div_ceil(rounds);
    println!(
        "PATCH mix (active false, active true, displayName), {per_round} writes per round, {rounds} rounds"
    );
    let mut upstream_times = Vec::new();
    for round in 1..=rounds {
        let times = measure(&direct, None, direct_ids, per_round);
        print!("  round {round}: upstream {}", Figures::of(&times));
        upstream_times.extend(times);
        for (name, started, ids, all) in &mut targets {
            if let Some((_, url)) = started {
                let times = measure(url, Some(GATEWAY_TOKEN), ids, per_round);
                print!(", {name} {}", Figures::of(&times));
                all.extend(times);
            }
        }
        println!();
    }
    let direct_figures = Figures::of(&upstream_times);
    println!("upstream directly: {direct_figures}");
    for (name, started, _, all) in &mut targets {
        let Some((child, _)) = started else { continue };
        let through = Figures::of(all);
        println!("through the {name}: {through}");
        println!(
            "added latency ({name}): median {:.3} ms, p99 {:.3} ms",
            through.median - direct_figures.median,
            through.p99 - direct_figures.p99
        );
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
    println!("load average {}", load_average());
}

/// The identity provider's token at the gateway.
const GATEWAY_TOKEN: &str = "bench-token";

/// `steward gateway` in front of `upstream_url` on a free loopback port,
/// over a directory of the `users` provisioned (and the provisioning
/// client's account) with the gateway tests' pack: the process and its
/// base URL, read from the notice that says where it listens. `None`, with
/// the reason printed, when it does not start: the bench then gives the
/// upstream's figures alone.
fn start_gateway(
    bin: &std::path::Path,
    upstream_url: &str,
    users: usize,
    dir: &std::path::Path,
) -> Option<(Child, String)> {
    std::fs::create_dir_all(dir).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut yaml = String::from(
        "environments: [{ id: SAAS, license: SAAS, kind: production, identity: idp, idp_active: true }]\nusers:\n  - { id: entra, home: SAAS, accounts: [{ env: SAAS, status: active, kind: system, roles: [provisioning] }] }\n",
    );
    for i in 0..users {
        yaml.push_str(&format!(
            "  - {{ id: user{i:04}, home: SAAS, accounts: [{{ env: SAAS, status: active, name: User {i}, email: user{i:04}@example.com }}] }}\n"
        ));
    }
    let file = dir.join("saas.yaml");
    std::fs::write(&file, yaml).unwrap();
    let db = dir.join("saas.db");
    let imported = Command::new(bin)
        .arg("import")
        .arg(&file)
        .arg("--policy")
        .arg(root.join("tests/gateway/pack"))
        .arg("-o")
        .arg(&db)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let mut child = Command::new(bin)
        .args(["gateway", "--listen", "127.0.0.1:0", "--upstream", upstream_url, "--env", "SAAS"])
        .args(["--actor", "entra", "--token", GATEWAY_TOKEN, "--policy"])
        .arg(root.join("tests/gateway/pack"))
        .arg("--directory")
        .arg(&db)
        .env_remove("STEWARD_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("steward starts");
    let stderr = child.stderr.take().unwrap();
    let (send, first_line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufReader::new(stderr).lines();
        // The notice that says where it listens; the first line when it
        // never comes (an error).
        let mut first = None;
        for line in lines.by_ref().map_while(Result::ok).take(5) {
            if line.contains("listening on") {
                first = Some(line);
                break;
            }
            first.get_or_insert(line);
        }
        let _ = send.send(first.unwrap_or_default());
        // Drained, so that a talkative gateway never blocks on a full pipe.
        for _ in lines {}
    });
    let line = first_line.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let addr = line.rsplit(' ').next().and_then(|word| word.parse::<std::net::SocketAddr>().ok());
    if let Some(addr) = addr {
        return Some((child, format!("http://{addr}/scim/v2")));
    }
    // A usage error exits at once; anything else still running is stopped.
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let status = child.wait().ok().and_then(|s| s.code());
    // steward exits 1 on a usage error, never 2 (2 is a deny: README's
    // command table), and clap names a subcommand it does not know.
    if status == Some(1) && line.contains("unrecognized subcommand") {
        println!("no gateway figures: this `steward` has no `gateway` subcommand ({line})");
    } else if status == Some(1) && line.starts_with("error:") {
        println!(
            "no gateway figures: `steward gateway` refused its arguments (a usage error, exit 1): {line}"
        );
    } else {
        println!(
            "no gateway figures: `steward gateway` did not say where it listens (exit {status:?}): {line}"
        );
    }
    None
}

/// Times `writes` PATCHes of the mix to the users `ids` at `base`
/// (`Authorization: Bearer TOKEN` when `token` is given), one at a time,
/// each from its first byte sent to its answer read in full (a connect
/// counted in when the server closed the last connection).
fn measure(base: &str, token: Option<&str>, ids: &[String], writes: usize) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let target = Target::new(base, token);
    let bodies = [
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#.to_owned(),
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}"#.to_owned(),
    ];
    runtime.block_on(async {
        let mut connection = None;
        let mut buffer = Vec::with_capacity(1 << 16);
        let mut times = Vec::with_capacity(writes);
        for i in 0..writes {
            let id = &ids[(i / 3) % ids.len()];
            let body = match i % 3 {
                2 => format!(
                    r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"replace","path":"displayName","value":"User {i}"}}]}}"#
                ),
                k => bodies[k].clone(),
            };
            let message = target.request("PATCH", &format!("/Users/{id}"), &body);
            let sent = Instant::now();
            let answer = target.call(&mut connection, &message, &mut buffer).await;
            times.push(sent.elapsed());
            assert!(answer.status / 100 == 2, "PATCH /Users/{id}: {}", answer.status);
        }
        times
    })
}

/// Creates `count` users at `base`, one request each: their ids.
fn provision(base: &str, count: usize) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let target = Target::new(base, None);
    runtime.block_on(async {
        let mut connection = None;
        let mut buffer = Vec::new();
        let mut ids = Vec::with_capacity(count);
        for i in 0..count {
            let body = serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": format!("user{i:04}"),
                "displayName": format!("User {i}"),
                "emails": [{"value": format!("user{i:04}@example.com"), "type": "work", "primary": true}],
                "active": true,
            });
            let message = target.request("POST", "/Users", &body.to_string());
            let answer = target.call(&mut connection, &message, &mut buffer).await;
            assert_eq!(answer.status, 201, "POST /Users: {}", String::from_utf8_lossy(answer.body(&buffer)));
            let user: serde_json::Value = serde_json::from_slice(answer.body(&buffer)).unwrap();
            ids.push(user["id"].as_str().unwrap().to_owned());
        }
        ids
    })
}

/// A SCIM base URL (`http://HOST:PORT[/PREFIX]`) and the header a call sends.
struct Target {
    addr: String,
    prefix: String,
    authorization: String,
}

/// What a call read: the status and where the body sits in the buffer.
struct Answer {
    status: u16,
    body_start: usize,
    keep_alive: bool,
}

impl Answer {
    fn body<'a>(&self, buffer: &'a [u8]) -> &'a [u8] {
        &buffer[self.body_start..]
    }
}

impl Target {
    fn new(base: &str, token: Option<&str>) -> Target {
        let rest = base.strip_prefix("http://").unwrap_or_else(|| panic!("{base} is not an http:// URL"));
        let (addr, prefix) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
        let prefix =
            if prefix.is_empty() { String::new() } else { format!("/{}", prefix.trim_end_matches('/')) };
        let authorization = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
        Target { addr: addr.to_owned(), prefix, authorization }
    }

    fn request(&self, method: &str, path: &str, body: &str) -> Vec<u8> {
        format!(
            "{method} {}{path} HTTP/1.1\r\nhost: {}\r\n{}content-type: application/scim+json\r\n\
             accept: application/scim+json\r\ncontent-length: {}\r\n\r\n{body}",
            self.prefix,
            self.addr,
            self.authorization,
            body.len()
        )
        .into_bytes()
    }

    /// Sends `message` on `connection` (connecting first when there is
    /// none) and reads the answer into `buffer`; the connection is kept
    /// when the answer lets it be.
    async fn call(&self, connection: &mut Option<TcpStream>, message: &[u8], buffer: &mut Vec<u8>) -> Answer {
        let mut stream = match connection.take() {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(&self.addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                stream
            }
        };
        stream.write_all(message).await.unwrap();
        let answer = read_answer(&mut stream, buffer).await;
        if answer.keep_alive {
            *connection = Some(stream);
        }
        answer
    }
}

/// Reads one answer: its head, then the body its `content-length` gives
/// (to the end of the stream without one). Reads go straight into the
/// buffer's spare capacity, as in benches/http.rs.
async fn read_answer(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Answer {
    buffer.clear();
    let (head_end, status, length, keep_alive) = loop {
        let n = stream.read_buf(buffer).await.unwrap();
        assert!(n > 0, "the server closed the connection before it answered");
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).unwrap().to_ascii_lowercase();
            let mut lines = head.lines();
            let status_line = lines.next().unwrap();
            let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
            let mut length = None;
            let mut connection = None;
            for line in lines {
                if let Some((k, v)) = line.split_once(':') {
                    match k.trim() {
                        "content-length" => length = v.trim().parse::<usize>().ok(),
                        "connection" => connection = Some(v.trim().to_owned()),
                        _ => {}
                    }
                }
            }
            let keep_alive = match connection.as_deref() {
                Some("close") => false,
                Some("keep-alive") => true,
                _ => status_line.starts_with("http/1.1"),
            };
            break (end + 4, status, length, keep_alive && length.is_some());
        }
    };
    match length {
        Some(length) => {
            while buffer.len() < head_end + length {
                buffer.reserve(head_end + length - buffer.len());
                let n = stream.read_buf(buffer).await.unwrap();
                assert!(n > 0, "the server closed the connection mid-answer");
            }
        }
        None if status == 204 || status == 304 => {}
        None => while stream.read_buf(buffer).await.unwrap() > 0 {},
    }
    Answer { status, body_start: head_end, keep_alive }
}

/// Median, p99 and max of a list of latencies, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Figures {
    median: f64,
    p99: f64,
    max: f64,
    count: usize,
}

impl Figures {
    fn of(times: &[Duration]) -> Figures {
        let mut sorted = times.to_vec();
        sorted.sort();
        let at = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
        Figures { median: at(0.5), p99: at(0.99), max: at(1.0), count: sorted.len() }
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "median {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} writes)",
            self.median, self.p99, self.max, self.count
        )
    }
}

/// The first three fields of /proc/loadavg, or `?` off Linux.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
