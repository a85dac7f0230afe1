//! The directory and the requests every engine decides.
//!
//! The directory comes from steward's own generator (`directory::generate`),
//! with one change: in one environment every administrator but one loses the
//! role, so that "the last active administrator stays" has something to
//! deny. Requests are drawn with a fixed seed, biased so that every rule of
//! the model decides some of them: actors are often administrators, targets
//! sometimes administrators, superusers, guests or the actor themselves.

use steward::directory::generate::{GenerateOptions, Rng, generate};
use steward::directory::{Directory, DirectoryParts};

use crate::model::WORKLOAD_ACTIONS;

/// One request, in the terms all three engines share.
#[derive(Debug, Clone)]
pub struct Req {
    /// The acting user.
    pub actor: String,
    /// The user acted on.
    pub target: String,
    /// The environment both accounts live in.
    pub env: String,
    /// The action.
    pub action: &'static str,
    /// Part of a bulk operation.
    pub bulk: bool,
}

/// The generated directory, with one environment left a single active
/// administrator.
pub fn directory(accounts: usize) -> Directory {
    let mut parts: DirectoryParts = generate(GenerateOptions { accounts, seed: 8 }).into_parts();
    if let Some(last) = parts.environments.last().map(|e| e.id.clone()) {
        let mut kept = false;
        for account in parts.accounts.iter_mut().filter(|a| a.env == last) {
            let admin = account.roles.iter().any(|r| r == "administrator");
            if admin && account.status == "active" && !kept {
                kept = true;
            } else if admin {
                account.roles.retain(|r| r != "administrator");
            }
        }
    }
    Directory::new(parts)
}

/// `count` requests over `directory`.
pub fn requests(directory: &Directory, count: usize) -> Vec<Req> {
    let mut rng = Rng::new(42);
    let envs: Vec<(&str, Vec<usize>)> = directory
        .environments()
        .iter()
        .map(|e| {
            let members = directory
                .accounts()
                .iter()
                .enumerate()
                .filter(|(_, a)| a.env == e.id)
                .map(|(i, _)| i)
                .collect();
            (e.id.as_str(), members)
        })
        .filter(|(_, m): &(&str, Vec<usize>)| m.len() >= 2)
        .collect();
    let accounts = directory.accounts();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let Some((env, members)) = rng.pick(&envs) else { break };
        let of = |want: &dyn Fn(usize) -> bool| -> Vec<usize> {
            members.iter().copied().filter(|&i| want(i)).collect()
        };
        let admins = of(&|i| accounts[i].roles.iter().any(|r| r == "administrator" || r == "superuser"));
        let superusers = of(&|i| accounts[i].has_role("superuser"));
        let guests = of(&|i| {
            accounts[i].kind == "guest"
                || directory.user(&accounts[i].user).is_some_and(crate::engines::guest_license)
        });
        let any = |rng: &mut Rng| *rng.pick(members).unwrap_or(&0);
        let action = WORKLOAD_ACTIONS[rng.below(WORKLOAD_ACTIONS.len())];
        let actor = if rng.chance(60) {
            rng.pick(&admins).copied().unwrap_or_else(|| any(&mut rng))
        } else {
            any(&mut rng)
        };
        let roll = rng.below(100);
        let target = if action == "delete" && roll < 10 {
            actor
        } else if roll < 25 {
            rng.pick(&admins).copied().unwrap_or_else(|| any(&mut rng))
        } else if roll < 35 {
            rng.pick(&superusers).copied().unwrap_or_else(|| any(&mut rng))
        } else if action == "edit_email" && roll < 75 {
            rng.pick(&guests).copied().unwrap_or_else(|| any(&mut rng))
        } else {
            any(&mut rng)
        };
        out.push(Req {
            actor: accounts[actor].user.to_string(),
            target: accounts[target].user.to_string(),
            env: (*env).to_owned(),
            action,
            bulk: rng.chance(50),
        });
    }
    out
}
