//! `steward gateway` as a process for the gateway's tests: started over
//! tests/gateway/directory.yaml in front of a service provider, and called
//! over loopback, one connection per call; the answer as `steward serve`'s
//! tests read it too.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::{root, steward, steward_process, stored};

/// The identity provider's bearer token.
pub const TOKEN: &str = "idp-s3cret";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A child process stopped when the test ends, whatever happens.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 answer: the status, the head and the body as JSON (`Null`
/// when it is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then_some(value.trim())
        })
    }

    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }
}

/// One call on its own connection, with `extra` header lines.
pub fn call_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    extra: &str,
    body: Option<&Value>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\n{auth}{extra}content-type: application/scim+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    read_reply(stream)
}

/// The answer on `stream`, read to its end (the call said
/// `connection: close`).
pub fn read_reply(mut stream: TcpStream) -> Reply {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply { status, head: head.to_owned(), body: serde_json::from_str(body).unwrap_or(Value::Null) }
}

/// One call on its own connection.
pub fn call(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
    call_with(addr, method, path, token, "", body)
}

pub fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

pub fn deactivate() -> Value {
    patch(json!([{"op": "replace", "path": "active", "value": false}]))
}

/// A gateway over tests/gateway/directory.yaml, in front of `upstream`.
pub struct Gateway {
    _process: Process,
    pub addr: SocketAddr,
    pub db: PathBuf,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Started with `extra` flags, and `config` as its steward.yaml when
    /// given (otherwise `--actor entra --token TOKEN`).
    pub fn start(upstream: SocketAddr, extra: &[&str], config: Option<&str>) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("saas.db");
        steward()
            .arg("import")
            .arg(root().join("tests/gateway/directory.yaml"))
            .arg("--policy")
            .arg(root().join("tests/gateway/pack"))
            .arg("-o")
            .arg(&db)
            .assert()
            .success();
        let mut command = steward_process();
        if let Some(config) = config {
            let path = dir.path().join("steward.yaml");
            std::fs::write(&path, config).unwrap();
            command.arg("--config").arg(path);
        }
        let mut child = command
            .arg("gateway")
            .arg("--policy")
            .arg(root().join("tests/gateway/pack"))
            .arg("--directory")
            .arg(&db)
            .args(["--env", "SAAS", "--listen", "127.0.0.1:0", "--upstream"])
            .arg(format!("http://{upstream}"))
            .args(if config.is_some() { vec![] } else { vec!["--actor", "entra", "--token", TOKEN] })
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines.next().expect("the gateway says where it listens").unwrap();
            if let Some(addr) = line.strip_prefix("steward gateway: listening on ") {
                break addr.parse().unwrap();
            }
        };
        // The rest of what it says is drained, so that it never blocks.
        std::thread::spawn(move || for _ in lines {});
        Gateway { _process: Process(child), addr, db, _dir: dir }
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self._process.0.id()
    }

    /// A call below `/scim/v2` with the identity provider's token.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        call(self.addr, method, &format!("/scim/v2{path}"), Some(TOKEN), body)
    }

    /// `user`'s status in steward's directory, as stored.
    pub fn status(&self, user: &str) -> Option<String> {
        stored(&self.db).account(user, "SAAS").map(|a| a.status.to_string())
    }

    /// `user`'s e-mail address in steward's directory, as stored.
    pub fn email(&self, user: &str) -> Option<String> {
        stored(&self.db).account(user, "SAAS").and_then(|a| a.email.clone())
    }

    /// Whether `user` holds `role` in steward's directory, as stored.
    pub fn has_role(&self, user: &str, role: &str) -> bool {
        stored(&self.db).account(user, "SAAS").is_some_and(|a| a.has_role(role))
    }
}
