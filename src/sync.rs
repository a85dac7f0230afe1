//! The nightly synchronisation of guests' names and e-mail addresses (G5,
//! G6): from each guest's account in their home *production* environment to
//! their guest accounts in customers' environments. Nothing flows from test
//! or acceptance environments; an address another account of the target
//! environment already holds is a conflict, reported and not applied there.

use std::collections::HashMap;

use serde::Serialize;

use crate::directory::Directory;
use crate::schema::{Counting, Schema};

/// One field to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The guest.
    pub user: String,
    /// The customer environment.
    pub env: String,
    /// `name` or `email`.
    pub field: &'static str,
    /// The value there now.
    pub from: Option<String>,
    /// The value at home.
    pub to: Option<String>,
}

/// An address that cannot be synchronised (G6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The guest.
    pub user: String,
    /// The customer environment.
    pub env: String,
    /// The address from home.
    pub email: String,
    /// The user whose account in `env` holds it.
    pub held_by: String,
}

/// What a synchronisation would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// The changes to make.
    pub changes: Vec<FieldChange>,
    /// The addresses that cannot be synchronised until the holder's is cleared.
    pub conflicts: Vec<Conflict>,
}

/// Computes the synchronisation of `directory`; changes nothing. A guest
/// account is one of a kind the schema counts at home (`counts home`).
pub fn sync(directory: &Directory, schema: &Schema) -> SyncReport {
    let mut report = SyncReport::default();
    // Who holds which address, per environment (G6: in any ASCII case, as
    // the store's unique index compares); an address this sync gives a
    // guest is held from then on, so no two guests are given one address.
    let mut holders: HashMap<(&str, String), &str> = HashMap::new();
    for account in directory.accounts() {
        if let Some(email) = &account.email {
            holders.insert((account.env.as_str(), email.to_ascii_lowercase()), account.user.as_str());
        }
    }
    for user in directory.users() {
        // G5: only the home production environment is the source.
        let production = directory.environment(&user.home).is_some_and(|e| schema.live(&e.kind));
        let Some(home) = directory.account(&user.id, &user.home).filter(|_| production) else { continue };
        for guest in directory
            .accounts_of(&user.id)
            .filter(|a| schema.counting(&a.kind) == Counting::Home && a.env != user.home)
        {
            if guest.name != home.name {
                report.changes.push(FieldChange {
                    user: user.id.to_string(),
                    env: guest.env.to_string(),
                    field: "name",
                    from: Some(guest.name.clone()),
                    to: Some(home.name.clone()),
                });
            }
            let same = guest.email.as_deref().map(str::to_ascii_lowercase)
                == home.email.as_deref().map(str::to_ascii_lowercase);
            if same {
                continue;
            }
            let held = home.email.as_ref().and_then(|email| {
                holders
                    .get(&(guest.env.as_str(), email.to_ascii_lowercase()))
                    .filter(|h| **h != user.id)
                    .map(|h| (email, *h))
            });
            match held {
                Some((email, holder)) => report.conflicts.push(Conflict {
                    user: user.id.to_string(),
                    env: guest.env.to_string(),
                    email: email.clone(),
                    held_by: holder.to_owned(),
                }),
                None => {
                    if let Some(email) = &home.email {
                        holders.insert((guest.env.as_str(), email.to_ascii_lowercase()), user.id.as_str());
                    }
                    report.changes.push(FieldChange {
                        user: user.id.to_string(),
                        env: guest.env.to_string(),
                        field: "email",
                        from: guest.email.clone(),
                        to: home.email.clone(),
                    });
                }
            }
        }
    }
    report
}
