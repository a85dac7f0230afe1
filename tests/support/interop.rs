//! Real SCIM software from the venv `STEWARD_INTEROP_PYTHON` names (the
//! Python `.ci/run` sets, with tests/interop/requirements.txt installed):
//! scim2-server started on a free loopback port and stopped on drop, and
//! scim2-tester's conformance checks (tests/interop/conformance.py) run
//! against a base URL. Self-contained (std and serde only), so that the
//! gateway bench includes this file too.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable `.ci/run` sets to the Python of the venv that holds
/// tests/interop/requirements.txt.
pub const PYTHON: &str = "STEWARD_INTEROP_PYTHON";

/// The venv's Python, or `None` when [`PYTHON`] is not set, said on the
/// standard error as `SKIPPED TEST: ...` (CI always sets it; a developer's
/// `cargo test` without the venv says so rather than passing as if it had
/// run). Written to the stderr handle, not with `eprintln!`, which the test
/// harness captures and hides for a test that passes. `TEST` is the test's
/// name, which the harness gives the thread it runs on.
pub fn python() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os(PYTHON) {
        return Some(python.into());
    }
    let thread = std::thread::current();
    let test = thread.name().filter(|name| *name != "main").unwrap_or("an interop test");
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {PYTHON} is not set (run .ci/run, or see README's Test section)"
    );
    None
}

/// scim2-server's test server on `127.0.0.1`, killed when dropped,
/// whatever happens to the test.
pub struct ScimServer {
    child: Child,
    port: u16,
    python: PathBuf,
}

impl ScimServer {
    /// A fresh server (no users, no groups) from the venv of [`PYTHON`],
    /// listening when this returns; `None` (the test skips) when the
    /// variable is not set.
    pub fn start() -> Option<ScimServer> {
        python().map(|python| ScimServer::start_with(&python, None))
    }

    /// A fresh server that answers only requests with `Authorization:
    /// Bearer TOKEN` (401 otherwise) and announces the bearer scheme in its
    /// `ServiceProviderConfig`; `None` as [`ScimServer::start`].
    pub fn start_with_token(token: &str) -> Option<ScimServer> {
        python().map(|python| ScimServer::start_with(&python, Some(token)))
    }

    /// A fresh server from the venv whose Python is `python`, with a
    /// bearer token when `token` is given.
    pub fn start_with(python: &Path, token: Option<&str>) -> ScimServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(python);
        command
            .args(["-m", "scim2_server.testserver.cli", "--hostname", "127.0.0.1", "--port"])
            .arg(port.to_string());
        if let Some(token) = token {
            command.args(["--bearer-token", token]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("scim2-server does not start from {}: {e}", python.display()));
        let mut server = ScimServer { child, port, python: python.to_owned() };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("scim2-server exited ({status}) before it listened on {port}");
            }
            assert!(started.elapsed() < Duration::from_secs(30), "scim2-server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Its base URL, `http://127.0.0.1:PORT` (no trailing slash): the SCIM
    /// endpoints are `/Users`, `/Groups`, `/ServiceProviderConfig`...
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The Python it runs on, for the scripts of tests/interop/.
    pub fn python(&self) -> &Path {
        &self.python
    }
}

impl Drop for ScimServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One result of tests/interop/conformance.py.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Check {
    /// A stable name: `RESOURCE/check[detail]` (`User/check_add_attribute[emails]`).
    pub check: String,
    /// `passed`, `deviation`, `failed`, `critical` or `skipped`.
    pub status: String,
    /// Why, in scim2-tester's words.
    pub reason: String,
}

/// Every check scim2-tester runs against the SCIM service provider at
/// `base_url` (with `Authorization: Bearer TOKEN` when `token` is given),
/// in the order it ran them. Panics when the script cannot run at all (the
/// server unreachable, [`PYTHON`] not set: start a [`ScimServer`] first).
pub fn conformance_checks(base_url: &str, token: Option<&str>) -> Vec<Check> {
    let python = std::env::var_os(PYTHON).unwrap_or_else(|| panic!("{PYTHON} is not set"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.json");
    let mut command = Command::new(python);
    command.arg(interop_dir().join("conformance.py")).arg(base_url).arg("--out").arg(&out);
    if let Some(token) = token {
        command.args(["--token", token]);
    }
    let ran = command.output().unwrap();
    assert!(
        ran.status.success(),
        "conformance.py {base_url} did not run ({}): {}",
        ran.status,
        String::from_utf8_lossy(&ran.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

/// The names of the checks that pass against `base_url`: what a test holds
/// to [`expected_conformance`], or to the set that passes upstream.
pub fn conformance(base_url: &str, token: Option<&str>) -> BTreeSet<String> {
    conformance_checks(base_url, token)
        .into_iter()
        .filter(|check| check.status == "passed")
        .map(|check| check.check)
        .collect()
}

/// The checks that pass against scim2-server itself, as
/// tests/interop/conformance-expected.txt lists them (`#` lines are
/// comments).
pub fn expected_conformance() -> BTreeSet<String> {
    std::fs::read_to_string(interop_dir().join("conformance-expected.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// tests/interop/, where the scripts and their expectations live.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}
