//! Large, realistic directories for benchmarks and tests (`steward gen`).
//!
//! Deterministic for a seed. The shape follows the seed systems: licenses
//! with a production and a test environment, users with one or two
//! accounts, a few administrators, guests in other licenses' production
//! environments, blocked and pending accounts; four assets per account
//! (data connections, apps in spaces using other users' data connections,
//! a reload schedule, API key or alert, a notification or session) and about
//! one reference per account: five assets and references per account.

use super::model::{Account, Asset, AttrValue, Attrs, Environment, Id, Reference, User};
use super::{Directory, DirectoryParts};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// About how many accounts (the result has exactly this many).
    pub accounts: usize,
    /// The seed: the same seed gives the same directory.
    pub seed: u64,
}

/// Accounts per license: one production and one test environment each.
const ACCOUNTS_PER_LICENSE: usize = 5_000;

/// A small, fast, deterministic generator (SplitMix64): the same seed gives
/// the same directory, and the same workload in the comparison benchmark.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`, or none when there are none.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// Generates a directory.
pub fn generate(options: GenerateOptions) -> Directory {
    generate_licensed(options, ACCOUNTS_PER_LICENSE)
}

/// Generates a directory with about `per_license` accounts per license:
/// small licenses give a small directory many environments and guests
/// (what tests that decide every pair need).
pub fn generate_licensed(options: GenerateOptions, per_license: usize) -> Directory {
    let mut rng = Rng::new(options.seed);
    let licenses = options.accounts.div_ceil(per_license.max(1)).max(1);
    let mut parts = DirectoryParts::default();
    for l in 0..licenses {
        let license = format!("{:05}", 10_000 + l);
        for (suffix, kind) in [("AA", "production"), ("TT", "test")] {
            // The standard schema's attributes, left out where they are
            // their defaults, as a file would.
            let mut attrs = Attrs::new();
            if l.is_multiple_of(3) {
                attrs.insert("identity".into(), AttrValue::Str("idp".into()));
                attrs.insert("idp_active".into(), AttrValue::Bool(true));
            }
            parts.environments.push(Environment {
                id: format!("O{license}{suffix}"),
                license: license.clone(),
                kind: kind.into(),
                attrs,
            });
        }
    }
    let mut per_env: Vec<Vec<usize>> = vec![Vec::new(); parts.environments.len()];
    let mut user_no = 0usize;
    while parts.accounts.len() < options.accounts {
        let l = rng.below(licenses);
        let license = format!("{:05}", 10_000 + l);
        let home = l * 2;
        let id = format!("{license}.U{user_no:07}");
        user_no += 1;
        let guest = rng.chance(3);
        let mut attrs = Attrs::new();
        let desktop = guest || rng.chance(50);
        let end =
            rng.chance(5).then(|| jiff::civil::date(2026, 1 + rng.below(12) as i8, 1 + rng.below(28) as i8));
        for (key, on) in [("guest_license", guest), ("desktop_access", desktop)] {
            if on {
                attrs.insert(key.into(), AttrValue::Bool(true));
            }
        }
        if let Some(end) = end {
            attrs.insert("employment_end".into(), AttrValue::Date(end));
        }
        if l.is_multiple_of(3) {
            attrs.insert("idp_subject".into(), AttrValue::Str(format!("idp|{user_no}")));
        }
        parts.users.push(User { id: id.clone().into(), home: format!("O{license}AA").into(), attrs });
        let mut envs = vec![(home, "normal")];
        if rng.chance(40) {
            envs.push((home + 1, "normal"));
        }
        if guest && licenses > 1 {
            let other = (l + 1 + rng.below(licenses - 1)) % licenses;
            envs.push((other * 2, "guest"));
        }
        for (env_index, kind) in envs {
            if parts.accounts.len() >= options.accounts {
                break;
            }
            let Some(env) = parts.environments.get(env_index) else { continue };
            let status = match rng.below(100) {
                0..=84 => "active",
                85..=94 => "blocked",
                _ => "pending",
            };
            let admin = rng.chance(2);
            let mut roles = Vec::new();
            if admin {
                roles.push("administrator".to_owned());
            }
            if rng.chance(1) {
                roles.push("superuser".to_owned());
            }
            if let Some(list) = per_env.get_mut(env_index) {
                list.push(parts.accounts.len());
            }
            parts.accounts.push(Account {
                user: id.clone().into(),
                env: env.id.clone().into(),
                status: status.into(),
                kind: kind.into(),
                name: format!("User {user_no}"),
                email: Some(format!("{}@{}.example", id.to_lowercase(), env.license)),
                roles,
                invited_until: None,
                attrs: if rng.chance(10) {
                    Attrs::from([("portal".into(), AttrValue::Bool(true))])
                } else {
                    Attrs::new()
                },
            });
        }
    }
    // A pending account's invitation expires some time in 2026.
    for account in parts.accounts.iter_mut().filter(|a| a.status == "pending") {
        account.invited_until =
            jiff::Timestamp::from_second(1_767_225_600 + rng.below(365 * 86_400) as i64).ok();
    }
    assets(&mut parts, &per_env, &mut rng);
    Directory::new(parts)
}

fn assets(parts: &mut DirectoryParts, per_env: &[Vec<usize>], rng: &mut Rng) {
    let mut next = 0usize;
    let mut id = || {
        next += 1;
        format!("a{next:08}")
    };
    for (env_index, accounts) in per_env.iter().enumerate() {
        let (Some(env), Some(&first)) = (parts.environments.get(env_index), accounts.first()) else {
            continue;
        };
        let env_id = env.id.clone();
        let owner_of = |i: usize, parts: &DirectoryParts| parts.accounts.get(i).map(|a| a.user.clone());
        // One shared and one data space per environment.
        let shared = id();
        let data = id();
        for (space, space_type) in [(&shared, "shared"), (&data, "data")] {
            parts.assets.push(asset(
                space.clone(),
                "space",
                &env_id,
                owner_of(first, parts),
                None,
                vec![],
                Some(space_type),
            ));
        }
        let mut connections: Vec<String> = Vec::new();
        for &account in accounts {
            let owner = owner_of(account, parts);
            let connection = id();
            parts.assets.push(asset(
                connection.clone(),
                "data_connection",
                &env_id,
                owner.clone(),
                Some(&data),
                vec![],
                None,
            ));
            // Apps often use someone else's data connection: what makes
            // deleting a user break other users' reloads (D3).
            let used = if connections.is_empty() {
                connection.clone()
            } else {
                connections.get(rng.below(connections.len())).cloned().unwrap_or_else(|| connection.clone())
            };
            connections.push(connection);
            let app = id();
            parts.assets.push(asset(
                app.clone(),
                "app",
                &env_id,
                owner.clone(),
                Some(&shared),
                vec![used],
                None,
            ));
            let kind = match rng.below(3) {
                0 => "reload_schedule",
                1 => "api_key",
                _ => "alert",
            };
            let uses = if kind == "reload_schedule" { vec![app] } else { vec![] };
            parts.assets.push(asset(id(), kind, &env_id, owner.clone(), None, uses, None));
            let personal = if rng.chance(50) { "notification" } else { "session" };
            parts.assets.push(asset(id(), personal, &env_id, owner.clone(), None, vec![], None));
            let Some(user) = owner else { continue };
            for (table, percent) in [("journal_entries", 60), ("invoices", 30)] {
                if rng.chance(percent) {
                    parts.references.push(Reference {
                        table: table.to_owned().into(),
                        env: env_id.clone().into(),
                        user: user.clone(),
                        rows: 1 + rng.below(500) as u64,
                    });
                }
            }
        }
    }
}

fn asset(
    id: String,
    kind: &str,
    env: &str,
    owner: Option<Id>,
    space: Option<&String>,
    uses: Vec<String>,
    space_type: Option<&str>,
) -> Asset {
    Asset {
        id: id.into(),
        kind: kind.into(),
        env: env.into(),
        owner,
        space_type: space_type.map(Id::from),
        space: space.map(|s| Id::from(s.as_str())),
        uses: uses.into_iter().map(Id::from).collect(),
        disabled: false,
        attrs: Attrs::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_exact_in_size() {
        let a = generate(GenerateOptions { accounts: 500, seed: 7 });
        let b = generate(GenerateOptions { accounts: 500, seed: 7 });
        assert_eq!(a.accounts().len(), 500);
        assert_eq!(a.clone().into_parts(), b.into_parts());
        assert!(a.assets().len() >= 3 * 500);
    }

    #[test]
    fn passes_the_file_format_validation() {
        let directory = generate(GenerateOptions { accounts: 300, seed: 1 });
        let yaml =
            crate::directory::export::to_yaml(&directory, &crate::policy::declare::standard()).unwrap();
        let reloaded =
            crate::directory::yaml::parse("gen.yaml", &yaml, &crate::policy::declare::standard()).unwrap();
        assert_eq!(reloaded.into_parts(), directory.into_parts());
    }
}
