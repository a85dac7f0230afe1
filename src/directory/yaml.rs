//! The directory file format (YAML, or JSON, which is YAML too): raw serde
//! types that keep each entity's position, then validation that reports
//! every problem of a file at once, each at its line and column.
//!
//! The keys are a contract with users and other tools (docs/directory.md):
//! keys may be added, never renamed.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::model::{
    Account, AccountKind, Asset, AssetKind, Attrs, EnvKind, Environment, Id, IdentityMode, Reference,
    SpaceType, Status, User,
};
use super::{Directory, DirectoryParts};
use crate::policy::diagnostic::{Diagnostic, did_you_mean};
use crate::policy::source::{FileId, Sources, Span};

/// Parses and validates directory text. On failure, every problem found,
/// each pointing into `sources`.
pub fn parse(name: &str, text: &str) -> Result<Directory, (Sources, Vec<Diagnostic>)> {
    let mut sources = Sources::new();
    let file = sources.add(name, text);
    let raw: RawDirectory = match serde_saphyr::from_str_with_options(text, options()) {
        Ok(raw) => raw,
        Err(e) => {
            let diagnostic = serde_error(file, text, &e);
            return Err((sources, vec![diagnostic]));
        }
    };
    let mut checker = Checker { file, text, diagnostics: Vec::new() };
    let parts = checker.check(raw);
    if checker.diagnostics.is_empty() {
        Ok(Directory::new(parts))
    } else {
        Err((sources, checker.diagnostics))
    }
}

// ---------------------------------------------------------------------------
// The raw format.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirectory {
    #[serde(default)]
    environments: Vec<Spanned<RawEnvironment>>,
    #[serde(default)]
    users: Vec<Spanned<RawUser>>,
    #[serde(default)]
    assets: Vec<Spanned<RawAsset>>,
    #[serde(default)]
    references: Vec<Spanned<RawReference>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    id: Spanned<Scalar>,
    license: Spanned<Scalar>,
    kind: Spanned<String>,
    #[serde(default)]
    identity: Option<Spanned<String>>,
    #[serde(default)]
    idp_active: bool,
    #[serde(default)]
    anonymous_access: bool,
    #[serde(default)]
    attrs: Attrs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    id: Spanned<Scalar>,
    home: Spanned<Scalar>,
    #[serde(default)]
    guest_license: bool,
    #[serde(default)]
    desktop_access: bool,
    #[serde(default)]
    employment_end: Option<Spanned<Scalar>>,
    #[serde(default)]
    idp_subject: Option<Scalar>,
    #[serde(default)]
    attrs: Attrs,
    #[serde(default)]
    accounts: Vec<Spanned<RawAccount>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    env: Spanned<Scalar>,
    status: Spanned<String>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<Spanned<String>>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    portal: bool,
    #[serde(default)]
    invited_until: Option<Spanned<Scalar>>,
    #[serde(default)]
    attrs: Attrs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    id: Spanned<Scalar>,
    kind: Spanned<String>,
    env: Spanned<Scalar>,
    #[serde(default)]
    owner: Option<Spanned<Scalar>>,
    #[serde(default)]
    space_type: Option<Spanned<String>>,
    #[serde(default)]
    space: Option<Spanned<Scalar>>,
    #[serde(default)]
    uses: Vec<Spanned<Scalar>>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    attrs: Attrs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReference {
    table: String,
    env: Spanned<Scalar>,
    user: Spanned<Scalar>,
    rows: u64,
}

/// Ids, licenses and dates may be written bare (`license: 12345`,
/// `employment_end: 2026-10-31`, an id `y`): a string field keeps the
/// scalar exactly as written, never as the number or boolean YAML would
/// infer.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
struct Scalar(String);

impl Scalar {
    fn text(&self) -> String {
        self.0.clone()
    }
}

/// YAML 1.2 booleans only: `yes`, `no`, `on`, `off` stay text (an id `no`,
/// a department `on`), as in JSON.
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options
}

// ---------------------------------------------------------------------------
// Validation.

struct Checker<'t> {
    file: FileId,
    text: &'t str,
    diagnostics: Vec<Diagnostic>,
}

/// Where an entity was defined: its location, for "first defined here".
type Seen = HashMap<String, Span>;

impl Checker<'_> {
    fn span<T>(&self, spanned: &Spanned<T>) -> Span {
        span_at(self.file, self.text, spanned.referenced.line(), spanned.referenced.column())
    }

    fn error(&mut self, code: &'static str, message: String, span: Span, label: &str) {
        self.report(code, message, span, label, None);
    }

    fn report(&mut self, code: &'static str, message: String, span: Span, label: &str, help: Option<String>) {
        let mut diagnostic = Diagnostic::error(code, message).at(span, label);
        diagnostic.help = help;
        self.diagnostics.push(diagnostic);
    }

    fn check(&mut self, raw: RawDirectory) -> DirectoryParts {
        let mut parts = DirectoryParts::default();
        let mut env_seen = Seen::new();
        for env in &raw.environments {
            if let Some(e) = self.environment(env, &mut env_seen) {
                parts.environments.push(e);
            }
        }
        let env_ids: Vec<String> = parts.environments.iter().map(|e| e.id.clone()).collect();
        let mut user_seen = Seen::new();
        let mut emails: HashMap<(String, String), (String, Span)> = HashMap::new();
        for user in &raw.users {
            self.user(user, &env_ids, &mut user_seen, &mut emails, &mut parts);
        }
        let accounts: HashSet<(Id, Id)> =
            parts.accounts.iter().map(|a| (a.user.clone(), a.env.clone())).collect();
        let mut asset_seen = Seen::new();
        for asset in &raw.assets {
            if let Some(a) = self.asset(asset, &env_ids, &accounts, &mut asset_seen) {
                parts.assets.push(a);
            }
        }
        self.asset_links(&raw.assets, &parts.assets);
        for reference in &raw.references {
            if let Some(r) = self.reference(reference, &accounts) {
                parts.references.push(r);
            }
        }
        parts
    }

    fn unique(&mut self, what: &str, id: &str, span: Span, seen: &mut Seen) -> bool {
        if let Some(first) = seen.get(id).copied() {
            self.diagnostics.push(
                Diagnostic::error("duplicate-id", format!("the {what} id `{id}` is used twice"))
                    .at(span, "used again here")
                    .with_related(first, "first used here"),
            );
            return false;
        }
        seen.insert(id.to_owned(), span);
        true
    }

    fn known_env(&mut self, id: &Spanned<Scalar>, env_ids: &[String], what: &str) -> Option<String> {
        let text = id.value.text();
        if env_ids.contains(&text) {
            return Some(text);
        }
        let span = self.span(id);
        let suggestion = did_you_mean(&text, env_ids.iter().map(String::as_str)).map(str::to_owned);
        self.report(
            "unknown-environment",
            format!("{what} is in unknown environment `{text}`"),
            span,
            "not an environment of this directory",
            suggestion.map(|s| format!("did you mean `{s}`?")),
        );
        None
    }

    fn vocabulary<T: Copy>(
        &mut self,
        value: &Spanned<String>,
        parse: fn(&str) -> Option<T>,
        names: &[&str],
        what: &str,
    ) -> Option<T> {
        if let Some(v) = parse(&value.value) {
            return Some(v);
        }
        let span = self.span(value);
        let help = match did_you_mean(&value.value, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? the values are: {}", names.join(", ")),
            None => format!("the values are: {}", names.join(", ")),
        };
        self.report(
            "unknown-value",
            format!("`{}` is not {what}", value.value),
            span,
            "unknown value",
            Some(help),
        );
        None
    }

    fn environment(&mut self, raw: &Spanned<RawEnvironment>, seen: &mut Seen) -> Option<Environment> {
        let env = &raw.value;
        let id = env.id.value.text();
        let span = self.span(&env.id);
        let unique = self.unique("environment", &id, span, seen);
        let kind = self.vocabulary(
            &env.kind,
            EnvKind::parse,
            &EnvKind::names().collect::<Vec<_>>(),
            "an environment kind",
        );
        let identity = match &env.identity {
            Some(i) => self.vocabulary(
                i,
                IdentityMode::parse,
                &IdentityMode::names().collect::<Vec<_>>(),
                "an identity mode",
            ),
            None => Some(IdentityMode::Invitations),
        };
        let (true, Some(kind), Some(identity)) = (unique, kind, identity) else { return None };
        Some(Environment {
            id,
            license: env.license.value.text(),
            kind,
            identity,
            idp_active: env.idp_active,
            anonymous_access: env.anonymous_access,
            attrs: env.attrs.clone(),
        })
    }

    fn user(
        &mut self,
        raw: &Spanned<RawUser>,
        env_ids: &[String],
        seen: &mut Seen,
        emails: &mut HashMap<(String, String), (String, Span)>,
        parts: &mut DirectoryParts,
    ) {
        let user = &raw.value;
        let id = user.id.value.text();
        let span = self.span(&user.id);
        let unique = self.unique("user", &id, span, seen);
        let home = self.known_env(&user.home, env_ids, &format!("the home of `{id}`"));
        let employment_end = user.employment_end.as_ref().and_then(|d| self.date(d));
        let mut account_envs = Seen::new();
        for account in &user.accounts {
            if let Some(a) = self.account(&id, account, env_ids, &mut account_envs, emails) {
                parts.accounts.push(a);
            }
        }
        let (true, Some(home)) = (unique, home) else { return };
        parts.users.push(User {
            id: id.into(),
            home: home.into(),
            guest_license: user.guest_license,
            desktop_access: user.desktop_access,
            employment_end,
            idp_subject: user.idp_subject.as_ref().map(Scalar::text),
            attrs: user.attrs.clone(),
        });
    }

    fn account(
        &mut self,
        user: &str,
        raw: &Spanned<RawAccount>,
        env_ids: &[String],
        envs: &mut Seen,
        emails: &mut HashMap<(String, String), (String, Span)>,
    ) -> Option<Account> {
        let account = &raw.value;
        let env = self.known_env(&account.env, env_ids, &format!("an account of `{user}`"))?;
        let span = self.span(&account.env);
        if let Some(first) = envs.get(&env).copied() {
            self.diagnostics.push(
                Diagnostic::error("duplicate-account", format!("`{user}` has two accounts in `{env}`"))
                    .at(span, "second account")
                    .with_related(first, "first account"),
            );
            return None;
        }
        envs.insert(env.clone(), span);
        let status = self.vocabulary(
            &account.status,
            Status::parse,
            &Status::names().collect::<Vec<_>>(),
            "an account status",
        )?;
        let kind = match &account.kind {
            Some(k) => self.vocabulary(
                k,
                AccountKind::parse,
                &AccountKind::names().collect::<Vec<_>>(),
                "an account kind",
            )?,
            None => AccountKind::Normal,
        };
        let invited_until = match &account.invited_until {
            Some(t) if status != Status::Pending => {
                let span = self.span(t);
                self.report(
                    "invitation-not-pending",
                    format!("`invited_until` is set on a {status} account of `{user}`"),
                    span,
                    "only pending accounts have an invitation",
                    Some("remove the key, or make the account `status: pending`".into()),
                );
                return None;
            }
            Some(t) => Some(self.timestamp(t)?),
            None => None,
        };
        if let Some(email) = &account.email {
            let key = (env.clone(), email.value.to_lowercase());
            let span = self.span(email);
            if let Some((holder, first)) = emails.get(&key) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "duplicate-email",
                        format!("`{}` already belongs to `{holder}` in `{env}`", email.value),
                    )
                    .at(span, "used again here")
                    .with_related(*first, "first used here")
                    .with_help("e-mail addresses are unique among the accounts of one environment (G6)"),
                );
                return None;
            }
            emails.insert(key, (user.to_owned(), span));
        }
        let mut roles = account.roles.clone();
        roles.sort_unstable();
        roles.dedup();
        Some(Account {
            user: user.to_owned().into(),
            env: env.into(),
            status,
            kind,
            name: account.name.clone().unwrap_or_else(|| user.to_owned()),
            email: account.email.as_ref().map(|e| e.value.clone()),
            roles,
            portal: account.portal,
            invited_until,
            attrs: account.attrs.clone(),
        })
    }

    fn asset(
        &mut self,
        raw: &Spanned<RawAsset>,
        env_ids: &[String],
        accounts: &HashSet<(Id, Id)>,
        seen: &mut Seen,
    ) -> Option<Asset> {
        let asset = &raw.value;
        let id = asset.id.value.text();
        let span = self.span(&asset.id);
        let unique = self.unique("asset", &id, span, seen);
        let kind = self.vocabulary(
            &asset.kind,
            AssetKind::parse,
            &AssetKind::names().collect::<Vec<_>>(),
            "an asset kind",
        );
        let env = self.known_env(&asset.env, env_ids, &format!("asset `{id}`"));
        let space_type = match &asset.space_type {
            Some(t) => {
                self.vocabulary(t, SpaceType::parse, &SpaceType::names().collect::<Vec<_>>(), "a space type")
            }
            None => None,
        };
        let (true, Some(kind), Some(env)) = (unique, kind, env) else { return None };
        match (kind, &asset.space_type) {
            (AssetKind::Space, None) => {
                self.report(
                    "space-type",
                    format!("space `{id}` has no `space_type`"),
                    span,
                    "this space",
                    Some("add `space_type: personal | shared | managed | data` (D7)".into()),
                );
                return None;
            }
            (AssetKind::Space, Some(_)) => {}
            (_, Some(t)) => {
                let span = self.span(t);
                self.error(
                    "space-type",
                    format!("`{id}` is not a space and has no `space_type`"),
                    span,
                    "only spaces have a type",
                );
                return None;
            }
            (_, None) => {}
        }
        let owner = match &asset.owner {
            Some(owner) => {
                let user = owner.value.text();
                if !accounts.contains(&(Id::from(user.as_str()), Id::from(env.as_str()))) {
                    let span = self.span(owner);
                    self.report(
                        "owner-without-account",
                        format!("the owner of `{id}`, `{user}`, has no account in `{env}`"),
                        span,
                        "no account in the asset's environment",
                        Some("an asset is owned by an account of its own environment".into()),
                    );
                    return None;
                }
                Some(user)
            }
            None => None,
        };
        Some(Asset {
            id: id.into(),
            kind,
            env: env.into(),
            owner: owner.map(Id::from),
            space_type,
            space: asset.space.as_ref().map(|s| s.value.text().into()),
            uses: asset.uses.iter().map(|u| u.value.text().into()).collect(),
            disabled: asset.disabled,
            attrs: asset.attrs.clone(),
        })
    }

    /// `space` and `uses` must name existing assets (a space for `space`), of
    /// the same environment, without cycles.
    fn asset_links(&mut self, raw: &[Spanned<RawAsset>], assets: &[Asset]) {
        let by_id: HashMap<&str, &Asset> = assets.iter().map(|a| (a.id.as_str(), a)).collect();
        let ids: Vec<&str> = assets.iter().map(|a| a.id.as_str()).collect();
        for asset in raw {
            let a = &asset.value;
            let id = a.id.value.text();
            let Some(this) = by_id.get(id.as_str()) else { continue };
            let links = a.space.iter().map(|s| (s, true)).chain(a.uses.iter().map(|u| (u, false)));
            for (link, is_space) in links {
                let target = link.value.text();
                let span = self.span(link);
                match by_id.get(target.as_str()) {
                    None => {
                        let suggestion = did_you_mean(&target, ids.iter().copied()).map(str::to_owned);
                        self.report(
                            "unknown-asset",
                            format!("`{id}` refers to unknown asset `{target}`"),
                            span,
                            "no such asset",
                            suggestion.map(|s| format!("did you mean `{s}`?")),
                        );
                    }
                    Some(t) if is_space && t.kind != AssetKind::Space => {
                        self.error(
                            "not-a-space",
                            format!("`{id}` sits in `{target}`, which is a {}, not a space", t.kind),
                            span,
                            "not a space",
                        );
                    }
                    Some(t) if t.env != this.env => {
                        self.error(
                            "cross-environment",
                            format!("`{id}` in `{}` refers to `{target}` in `{}`", this.env, t.env),
                            span,
                            "another environment",
                        );
                    }
                    Some(_) => {}
                }
            }
        }
        self.cycles(raw, &by_id);
    }

    fn cycles(&mut self, raw: &[Spanned<RawAsset>], by_id: &HashMap<&str, &Asset>) {
        // Depth-first search with three colours; one error per cycle found.
        let mut state: HashMap<&str, u8> = HashMap::new();
        let spans: BTreeMap<String, Span> =
            raw.iter().map(|a| (a.value.id.value.text(), self.span(&a.value.id))).collect();
        let mut reported = HashSet::new();
        // In file order, so that the same file always reports the same cycle
        // at the same place.
        let starts: Vec<String> = raw.iter().map(|a| a.value.id.value.text()).collect();
        for start in starts.iter().filter_map(|id| by_id.get_key_value(id.as_str()).map(|(k, _)| *k)) {
            let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
            let mut path: Vec<&str> = Vec::new();
            while let Some((node, next)) = stack.pop() {
                if next == 0 {
                    match state.get(node) {
                        Some(2) => continue,
                        Some(1) => {
                            let cycle_start = path.iter().position(|n| *n == node).unwrap_or(0);
                            let cycle: Vec<&str> = path.get(cycle_start..).unwrap_or_default().to_vec();
                            let key: Vec<&str> = {
                                let mut k = cycle.clone();
                                k.sort_unstable();
                                k
                            };
                            if reported.insert(key) {
                                let span = spans.get(node).copied().unwrap_or_default();
                                let mut shown = cycle.join(" -> ");
                                shown.push_str(" -> ");
                                shown.push_str(node);
                                self.error(
                                    "cycle",
                                    format!("assets depend on each other in a cycle: {shown}"),
                                    span,
                                    "part of a cycle",
                                );
                            }
                            continue;
                        }
                        _ => {
                            state.insert(node, 1);
                            path.push(node);
                        }
                    }
                }
                let links: Vec<&str> = by_id
                    .get(node)
                    .map(|a| a.space.iter().chain(a.uses.iter()).map(Id::as_str).collect())
                    .unwrap_or_default();
                if let Some(link) = links.get(next) {
                    stack.push((node, next + 1));
                    if let Some((key, _)) = by_id.get_key_value(link) {
                        stack.push((key, 0));
                    }
                } else {
                    state.insert(node, 2);
                    path.pop();
                }
            }
        }
    }

    fn reference(&mut self, raw: &Spanned<RawReference>, accounts: &HashSet<(Id, Id)>) -> Option<Reference> {
        let r = &raw.value;
        let (user, env) = (r.user.value.text(), r.env.value.text());
        if !accounts.contains(&(Id::from(user.as_str()), Id::from(env.as_str()))) {
            let span = self.span(&r.user);
            self.error(
                "reference-without-account",
                format!("`{}` refers to `{user}`, who has no account in `{env}`", r.table),
                span,
                "no such account",
            );
            return None;
        }
        Some(Reference { table: r.table.clone().into(), env: env.into(), user: user.into(), rows: r.rows })
    }

    fn date(&mut self, raw: &Spanned<Scalar>) -> Option<Date> {
        let text = raw.value.text();
        match text.parse::<Date>() {
            Ok(d) => Some(d),
            Err(e) => {
                let span = self.span(raw);
                self.report(
                    "invalid-date",
                    format!("`{text}` is not a date"),
                    span,
                    &e.to_string(),
                    Some("dates are written YYYY-MM-DD, for example 2026-10-31".into()),
                );
                None
            }
        }
    }

    fn timestamp(&mut self, raw: &Spanned<Scalar>) -> Option<Timestamp> {
        let text = raw.value.text();
        match text.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(e) => {
                let span = self.span(raw);
                self.report(
                    "invalid-date",
                    format!("`{text}` is not a date-time"),
                    span,
                    &e.to_string(),
                    Some("date-times are RFC 3339 with an offset, for example 2026-12-01T00:00:00Z".into()),
                );
                None
            }
        }
    }
}

/// The byte span of the token at 1-based `line`, `column`.
fn span_at(file: FileId, text: &str, line: u64, column: u64) -> Span {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
        .map(str::len)
        .sum();
    let rest = text.get(line_start..).unwrap_or("");
    let col = usize::try_from(column.saturating_sub(1)).unwrap_or(0);
    let start = line_start + rest.char_indices().nth(col).map_or(0, |(i, _)| i);
    let token = text.get(start..).unwrap_or("");
    let len = token.find(['\n', ',', '}', ']', '#']).unwrap_or(token.len());
    let len = token.get(..len).map_or(0, |t| t.trim_end().len()).max(1).min(token.len());
    Span::new(file, start, start + len)
}

fn serde_error(file: FileId, text: &str, error: &serde_saphyr::Error) -> Diagnostic {
    let message = error.to_string();
    // The message may repeat the location; keep the first line, without it.
    let first = message.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 2 column 14: ..." repeats what the span already says.
    let first = match first.split_once(": ") {
        Some((place, rest)) if place.starts_with("line ") => rest,
        _ => first,
    };
    let first = first.split(" at line ").next().unwrap_or(first).trim_end_matches('.');
    let mut d = Diagnostic::error("invalid-yaml", first.to_owned());
    if let Some(loc) = error.location() {
        d = d.at(span_at(file, text, loc.line(), loc.column()), "here");
    }
    if let Some(unknown) = first.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
        let expected: Vec<&str> = first.split("expected one of ").nth(1).map_or_else(Vec::new, |list| {
            list.split(", ")
                .map(|s| s.trim_matches(|c: char| c == '`' || c == '.' || c.is_whitespace()))
                .collect()
        });
        d.code = "unknown-key";
        d.message = format!("unknown key `{unknown}`");
        d.help = Some(match did_you_mean(unknown, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? the keys here are: {}", expected.join(", ")),
            None => format!("the keys here are: {}", expected.join(", ")),
        });
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(String, String)> {
        match parse("dir.yaml", text) {
            Ok(_) => Vec::new(),
            Err((sources, ds)) => ds
                .iter()
                .map(|d| (d.code.to_owned(), d.span.map(|s| sources.locate(s)).unwrap_or_default()))
                .collect(),
        }
    }

    const ENVS: &str = "environments:\n  - { id: A, license: 1, kind: production }\n";

    #[test]
    fn loads_the_documented_example() {
        let dir = parse(
            "dir.yaml",
            &format!(
                "{ENVS}users:\n  - id: 1.X\n    home: A\n    employment_end: 2026-10-31\n    accounts:\n      - env: A\n        status: pending\n        invited_until: 2026-12-01T00:00:00Z\n        roles: [b, a, a]\n"
            ),
        )
        .unwrap();
        let account = dir.account("1.X", "A").unwrap();
        assert_eq!(account.roles, ["a", "b"]);
        assert_eq!(dir.environment("A").unwrap().license, "1");
        assert_eq!(dir.user("1.X").unwrap().employment_end.unwrap().to_string(), "2026-10-31");
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let text = format!(
            "{ENVS}users:\n  - id: u\n    home: B\n    accounts:\n      - {{ env: A, status: actve }}\n  - id: u\n    home: A\n"
        );
        let found = errors(&text);
        assert_eq!(
            found,
            [
                ("unknown-environment".to_owned(), "dir.yaml:5:11".to_owned()),
                ("unknown-value".to_owned(), "dir.yaml:7:27".to_owned()),
                ("duplicate-id".to_owned(), "dir.yaml:8:9".to_owned()),
            ]
        );
    }

    #[test]
    fn unknown_keys_suggest_the_right_one() {
        let err = parse("d.yaml", "environments:\n  - { id: A, licence: 1, kind: test }\n").unwrap_err();
        assert_eq!(err.1[0].code, "unknown-key", "{:?}", err.1[0]);
        assert!(err.1[0].help.as_deref().unwrap().contains("`license`"), "{:?}", err.1[0]);
    }

    #[test]
    fn asset_links_are_checked() {
        let text = format!(
            "{ENVS}users:\n  - {{ id: o, home: A, accounts: [{{ env: A, status: active }}] }}\nassets:\n  - {{ id: s, kind: space, env: A, space_type: shared, uses: [a] }}\n  - {{ id: a, kind: app, env: A, space: s, uses: [x] }}\n  - {{ id: b, kind: app, env: A, space: a, owner: nobody }}\n"
        );
        let codes: Vec<String> = errors(&text).into_iter().map(|(c, _)| c).collect();
        assert!(codes.contains(&"owner-without-account".to_owned()), "{codes:?}");
        assert!(codes.contains(&"unknown-asset".to_owned()), "{codes:?}");
        assert!(codes.contains(&"cycle".to_owned()), "{codes:?}");
    }

    #[test]
    fn duplicate_emails_in_one_environment_are_refused() {
        let text = format!(
            "{ENVS}users:\n  - {{ id: a, home: A, accounts: [{{ env: A, status: active, email: x@y }}] }}\n  - {{ id: b, home: A, accounts: [{{ env: A, status: active, email: X@y }}] }}\n"
        );
        assert_eq!(errors(&text)[0].0, "duplicate-email");
    }
}

#[cfg(test)]
mod scalars {
    use super::*;

    #[test]
    fn bare_scalars_stay_text_as_written() {
        let dir = parse(
            "d.yaml",
            "environments:\n  - { id: y, license: 00123, kind: test, attrs: { department: no } }\n",
        )
        .unwrap();
        let env = dir.environment("y").unwrap();
        assert_eq!(env.license, "00123");
        assert_eq!(env.attrs.get("department"), Some(&crate::directory::model::AttrValue::Str("no".into())));
    }
}
