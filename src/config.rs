//! `steward.yaml`: where the policies and the directory are, and the
//! defaults of lifecycle operations. Read from the working directory, or
//! from `--config FILE`; command-line flags override it. Every key is
//! documented in docs/configuration.md.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::source::{Sources, Span};

/// The file looked for in the working directory.
pub const FILE_NAME: &str = "steward.yaml";

/// The keys of the file.
const KEYS: [&str; 13] = [
    "policies",
    "directory",
    "invitation_validity",
    "sync_time",
    "timezone",
    "token",
    "listen",
    "max_in_flight",
    "header_timeout_ms",
    "idle_timeout_ms",
    "max_connections",
    "audit",
    "gateway",
];

/// The keys of its `audit:` section.
const AUDIT_KEYS: [&str; 3] = ["signing_key", "public_key", "anchor"];

/// The keys of its `gateway:` section, of a client, of its actions.
const GATEWAY_KEYS: [&str; 19] = [
    "listen",
    "upstream",
    "upstream_token",
    "upstream_timeout_ms",
    "env",
    "user_id",
    "clients",
    "actions",
    "unmapped",
    "token",
    "actor",
    "create",
    "delete",
    "deactivate",
    "activate",
    "email",
    "name",
    "add_role",
    "remove_role",
];

/// The configuration, with defaults for what the file leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Policy files or folders, relative to the configuration file.
    pub policies: Vec<PathBuf>,
    /// The directory file or database, relative to the configuration file.
    pub directory: Option<PathBuf>,
    /// How long an invitation is valid (Q3): a number and a unit, `d` or `h`.
    pub invitation_validity: String,
    /// When the nightly name and e-mail sync runs (G5), `HH:MM`.
    pub sync_time: String,
    /// The time zone of `sync_time` and of dates shown to people (IANA name).
    pub timezone: String,
    /// The bearer token of the HTTP service.
    pub token: Option<String>,
    /// Where the HTTP service listens.
    pub listen: String,
    /// The most calls the HTTP service answers at once; none: 128 per core.
    pub max_in_flight: Option<usize>,
    /// How long a request's head may take to reach the HTTP service, in ms.
    pub header_timeout_ms: Option<u64>,
    /// How long a connection to the HTTP service may stay idle, in ms.
    pub idle_timeout_ms: Option<u64>,
    /// The most connections the HTTP service keeps open at once.
    pub max_connections: Option<usize>,
    /// What anchors the audit log outside the database (#15).
    pub audit: AuditConfig,
    /// The SCIM gateway (docs/scim.md).
    pub gateway: GatewayConfig,
}

/// `gateway:` in steward.yaml: where the SCIM gateway listens, the service
/// provider it forwards to, the provisioning clients and what each write is
/// decided as.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Where the gateway listens.
    pub listen: String,
    /// The service provider's base URL.
    pub upstream: Option<String>,
    /// The bearer token the gateway sends the service provider.
    pub upstream_token: Option<String>,
    /// How long the service provider may take, in ms.
    pub upstream_timeout_ms: Option<u64>,
    /// The environment the service provider is.
    pub env: Option<String>,
    /// The SCIM attribute that is the steward user id: `userName`,
    /// `externalId` or `id`.
    pub user_id: Option<String>,
    /// The provisioning clients: a token each and the user it acts as.
    pub clients: Vec<GatewayClient>,
    /// The action each kind of write is decided as.
    pub actions: crate::gateway::ActionNames,
    /// Whether writes that also change attributes steward does not decide
    /// on are forwarded (default) or refused.
    pub unmapped: crate::gateway::Unmapped,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: "127.0.0.1:8282".into(),
            upstream: None,
            upstream_token: None,
            upstream_timeout_ms: None,
            env: None,
            user_id: None,
            clients: Vec::new(),
            actions: crate::gateway::ActionNames::default(),
            unmapped: crate::gateway::Unmapped::Forward,
        }
    }
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("listen", &self.listen)
            .field("upstream", &self.upstream)
            .field("env", &self.env)
            .field("clients", &self.clients)
            .field("actions", &self.actions)
            .finish_non_exhaustive()
    }
}

/// One provisioning client of the gateway.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayClient {
    /// The bearer token it sends.
    pub token: String,
    /// The steward user it acts as.
    pub actor: String,
}

impl std::fmt::Debug for GatewayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayClient").field("token", &"…").field("actor", &self.actor).finish()
    }
}

/// `audit:` in steward.yaml: the key that signs each apply's head of the
/// audit log, and the file each signed head is appended to. Paths are
/// relative to the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The Ed25519 signing key (`steward keygen -o FILE`).
    pub signing_key: Option<PathBuf>,
    /// The public key `audit verify` checks with where the signing key is
    /// not at hand; without it, the signing key's public half.
    pub public_key: Option<PathBuf>,
    /// The append-only file of signed heads, one JSON line each.
    pub anchor: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            policies: Vec::new(),
            directory: None,
            invitation_validity: "14d".into(),
            sync_time: "23:00".into(),
            timezone: "UTC".into(),
            token: None,
            listen: "127.0.0.1:8181".into(),
            max_in_flight: None,
            header_timeout_ms: None,
            idle_timeout_ms: None,
            max_connections: None,
            audit: AuditConfig::default(),
            gateway: GatewayConfig::default(),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid configuration.
    #[error("`{}` is not a valid configuration", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Its text.
        sources: Sources,
        /// What is wrong.
        diagnostics: Vec<Diagnostic>,
    },
}

impl Config {
    /// Reads `explicit`, or `steward.yaml` in the working directory when it
    /// exists, or the defaults. Relative paths in the file are taken from
    /// the file's folder.
    pub fn load(explicit: Option<&Path>) -> Result<Config, Error> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new(FILE_NAME).exists() => PathBuf::from(FILE_NAME),
            None => return Ok(Config::default()),
        };
        let text =
            std::fs::read_to_string(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        let mut config = Config::parse(&path.display().to_string(), &text)
            .map_err(|(sources, diagnostics)| Error::Invalid { path: path.clone(), sources, diagnostics })?;
        let base = path.parent().unwrap_or(Path::new(""));
        config.policies = config.policies.iter().map(|p| base.join(p)).collect();
        config.directory = config.directory.as_ref().map(|d| base.join(d));
        let audit = &mut config.audit;
        for path in [&mut audit.signing_key, &mut audit.public_key, &mut audit.anchor].into_iter().flatten() {
            *path = base.join(&*path);
        }
        Ok(config)
    }

    /// Parses configuration text; every value is checked.
    pub fn parse(name: &str, text: &str) -> Result<Config, (Sources, Vec<Diagnostic>)> {
        let mut sources = Sources::new();
        let file = sources.add(name, text);
        let whole = Span::new(file, 0, text.len().min(1));
        let config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let message = e.to_string();
                let first = message.lines().next().unwrap_or("").trim();
                let first = first.strip_prefix("error: ").unwrap_or(first);
                let first =
                    first.split_once(": ").filter(|(p, _)| p.starts_with("line ")).map_or(first, |(_, r)| r);
                let mut d = Diagnostic::error("invalid-config", first.to_owned());
                if let Some(loc) = e.location() {
                    let offset = line_offset(text, loc.line(), loc.column());
                    d = d.at(Span::new(file, offset, offset + 1), "here");
                }
                if let Some(key) = first.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
                    // The error does not say which mapping the key is in:
                    // the nearest name of either is the likely one.
                    d.code = "unknown-key";
                    d.message = format!("unknown key `{key}`");
                    d.help = Some(
                        match did_you_mean(key, KEYS.into_iter().chain(AUDIT_KEYS).chain(GATEWAY_KEYS)) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "the keys are: {}; under `audit`: {}; under `gateway`: {}",
                                KEYS.join(", "),
                                AUDIT_KEYS.join(", "),
                                GATEWAY_KEYS.join(", ")
                            ),
                        },
                    );
                }
                (sources.clone(), vec![d])
            })?
        };
        let mut problems = Vec::new();
        if config.invitation_validity().is_none() {
            problems.push(
                Diagnostic::error(
                    "invalid-config",
                    format!("`invitation_validity: {}` is not a duration", config.invitation_validity),
                )
                .at(whole, "in this file")
                .with_help("write a number and `d` or `h`, for example `14d`"),
            );
        }
        if config.sync_time().is_none() {
            problems.push(
                Diagnostic::error(
                    "invalid-config",
                    format!("`sync_time: {}` is not a time of day", config.sync_time),
                )
                .at(whole, "in this file")
                .with_help("write HH:MM, for example `23:00`"),
            );
        }
        if jiff::tz::TimeZone::get(&config.timezone).is_err() {
            problems.push(
                Diagnostic::error(
                    "invalid-config",
                    format!("`timezone: {}` is not a known time zone", config.timezone),
                )
                .at(whole, "in this file")
                .with_help("use an IANA name such as `Europe/Amsterdam`, or `UTC`"),
            );
        }
        if config.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(
                Diagnostic::error(
                    "invalid-config",
                    format!("`listen: {}` is not an address and port", config.listen),
                )
                .at(whole, "in this file")
                .with_help("for example `127.0.0.1:8181`"),
            );
        }
        if config.gateway.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(
                Diagnostic::error(
                    "invalid-config",
                    format!("`gateway.listen: {}` is not an address and port", config.gateway.listen),
                )
                .at(whole, "in this file")
                .with_help("for example `127.0.0.1:8282`"),
            );
        }
        if let Some(id) = &config.gateway.user_id
            && crate::directory::scim::IdSource::parse(id).is_none()
        {
            problems.push(
                Diagnostic::error(
                    "invalid-config",
                    format!("`gateway.user_id: {id}` is not a SCIM attribute the gateway reads"),
                )
                .at(whole, "in this file")
                .with_help("write `userName`, `externalId` or `id`"),
            );
        }
        if config.gateway.upstream_timeout_ms == Some(0) {
            problems.push(
                Diagnostic::error(
                    "invalid-config",
                    "`gateway.upstream_timeout_ms: 0` would fail every write".to_owned(),
                )
                .at(whole, "in this file")
                .with_help("give at least 1, or leave the key out for 10000"),
            );
        }
        if config.max_in_flight == Some(0) {
            problems.push(
                Diagnostic::error("invalid-config", "`max_in_flight: 0` would refuse every call".to_owned())
                    .at(whole, "in this file")
                    .with_help("give at least 1, or leave the key out for 128 per core"),
            );
        }
        for (key, zero) in [
            ("max_connections", config.max_connections == Some(0)),
            ("header_timeout_ms", config.header_timeout_ms == Some(0)),
            ("idle_timeout_ms", config.idle_timeout_ms == Some(0)),
        ] {
            if zero {
                problems.push(
                    Diagnostic::error("invalid-config", format!("`{key}: 0` would close every connection"))
                        .at(whole, "in this file")
                        .with_help("give at least 1, or leave the key out for the default"),
                );
            }
        }
        if problems.is_empty() { Ok(config) } else { Err((sources, problems)) }
    }

    /// `invitation_validity` as a span of time.
    pub fn invitation_validity(&self) -> Option<jiff::SignedDuration> {
        let text = self.invitation_validity.trim();
        let (number, unit) = text.split_at(text.len().saturating_sub(1));
        let n: i64 = number.trim().parse().ok().filter(|n| *n > 0)?;
        match unit {
            "d" => Some(jiff::SignedDuration::from_hours(n.checked_mul(24)?)),
            "h" => Some(jiff::SignedDuration::from_hours(n)),
            _ => None,
        }
    }

    /// `sync_time` as a time of day.
    pub fn sync_time(&self) -> Option<jiff::civil::Time> {
        let (h, m) = self.sync_time.split_once(':')?;
        jiff::civil::Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
    }

    /// The policy paths: the flags when given, else the file's.
    pub fn policies_or(&self, flags: &[PathBuf]) -> Vec<PathBuf> {
        if flags.is_empty() { self.policies.clone() } else { flags.to_vec() }
    }

    /// The directory: the flag when given, else the file's.
    pub fn directory_or(&self, flag: Option<&Path>) -> Option<PathBuf> {
        flag.map(Path::to_path_buf).or_else(|| self.directory.clone())
    }
}

fn line_offset(text: &str, line: u64, column: u64) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(usize::try_from(line.saturating_sub(1)).unwrap_or(0))
        .map(str::len)
        .sum();
    (start + usize::try_from(column.saturating_sub(1)).unwrap_or(0)).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_empty() {
        let config = Config::parse("s.yaml", "").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.invitation_validity().unwrap(), jiff::SignedDuration::from_hours(14 * 24));
        assert_eq!(config.sync_time().unwrap(), jiff::civil::time(23, 0, 0, 0));
    }

    #[test]
    fn reads_every_key() {
        let config = Config::parse(
            "s.yaml",
            "policies: [policies/erp]\ndirectory: erp.db\ninvitation_validity: 48h\nsync_time: \"22:30\"\ntimezone: Europe/Amsterdam\ntoken: secret\nlisten: 127.0.0.1:9000\nmax_in_flight: 64\nheader_timeout_ms: 5000\nidle_timeout_ms: 20000\nmax_connections: 100\n",
        )
        .unwrap();
        assert_eq!(config.max_in_flight, Some(64));
        assert_eq!(
            (config.header_timeout_ms, config.idle_timeout_ms, config.max_connections),
            (Some(5000), Some(20000), Some(100))
        );
        assert_eq!(config.invitation_validity().unwrap(), jiff::SignedDuration::from_hours(48));
        assert_eq!(config.token.as_deref(), Some("secret"));
        let config = Config::parse(
            "s.yaml",
            "audit: { signing_key: keys/audit.pem, anchor: /var/log/anchor.jsonl }\n",
        )
        .unwrap();
        assert_eq!(config.audit.signing_key, Some(PathBuf::from("keys/audit.pem")));
        assert_eq!(config.audit.anchor, Some(PathBuf::from("/var/log/anchor.jsonl")));
    }

    #[test]
    fn audit_paths_are_taken_from_the_file_s_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.yaml");
        std::fs::write(&path, "audit: { signing_key: audit.key, public_key: audit.pub, anchor: /a.jsonl }\n")
            .unwrap();
        let audit = Config::load(Some(&path)).unwrap().audit;
        assert_eq!(audit.signing_key, Some(dir.path().join("audit.key")));
        assert_eq!(audit.public_key, Some(dir.path().join("audit.pub")));
        assert_eq!(audit.anchor, Some(PathBuf::from("/a.jsonl")));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let (_, d) = Config::parse("s.yaml", "polices: [x]\n").unwrap_err();
        assert_eq!(d[0].code, "unknown-key");
        assert_eq!(d[0].help.as_deref(), Some("did you mean `policies`?"));
        let (_, d) = Config::parse("s.yaml", "sync_time: \"25:00\"\ntimezone: Mars/Olympus\n").unwrap_err();
        assert_eq!(d.len(), 2);
        let (_, d) = Config::parse("s.yaml", "audit: { signing_kye: k.pem }\n").unwrap_err();
        assert_eq!((d[0].code, d[0].help.as_deref()), ("unknown-key", Some("did you mean `signing_key`?")));
        let (_, d) = Config::parse("s.yaml", "max_in_flight: 0\n").unwrap_err();
        assert_eq!(d[0].message, "`max_in_flight: 0` would refuse every call");
        let (_, d) = Config::parse("s.yaml", "max_connections: 0\nidle_timeout_ms: 0\n").unwrap_err();
        assert_eq!(d[0].message, "`max_connections: 0` would close every connection");
        assert_eq!(d[1].message, "`idle_timeout_ms: 0` would close every connection");
    }
}
