//! A request: who wants to do what to whom, where, and with which details.
//! The JSON form (one key per `steward decide` flag) is a stable contract,
//! documented in docs/json.md.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One question for the policy set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The acting user; they act through their account in `env`.
    pub actor: String,
    /// The action, for example `delete`.
    pub action: String,
    /// The user acted on (through their account in `env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The asset acted on (`reassign`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The environment.
    pub env: String,
    /// Why (C2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The change is confirmed (C2).
    #[serde(default)]
    pub confirm: bool,
    /// Part of a bulk operation (C5, P4).
    #[serde(default)]
    pub bulk: bool,
    /// How many targets the bulk operation has; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<i64>,
    /// The new value of an edit (`edit_email`, `edit_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The new owner of a `reassign` (a user with an account in `env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The addresses of an `invite`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// The login method of a `login`: `password` or `sso` (G11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The clock; the current time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<Timestamp>,
}

impl Request {
    /// A request of `actor` to `action` in `env`, with no details yet.
    pub fn new(actor: impl Into<String>, action: impl Into<String>, env: impl Into<String>) -> Self {
        Request { actor: actor.into(), action: action.into(), env: env.into(), ..Request::default() }
    }

    /// Sets the target user.
    pub fn target(mut self, user: impl Into<String>) -> Self {
        self.target = Some(user.into());
        self
    }

    /// `request.batch_size`: 1 unless a bulk operation says otherwise.
    pub fn batch_size(&self) -> i64 {
        self.batch_size.unwrap_or(1)
    }
}

/// Splits an `--emails` argument: addresses separated by commas or spaces (Q3).
pub fn split_emails(text: &str) -> Vec<String> {
    text.split([',', ' ', '\t', '\n', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Why a request cannot be decided at all (exit code 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum RequestError {
    /// The action is not one the schema knows.
    #[error("unknown action `{action}`")]
    #[diagnostic(help("{help}"))]
    UnknownAction {
        /// The action.
        action: String,
        /// "did you mean" or the list of actions.
        help: String,
    },
    /// The environment does not exist.
    #[error("unknown environment `{0}`")]
    UnknownEnvironment(String),
    /// A user has no account in the environment.
    #[error("`{user}` has no account in `{env}`")]
    NoAccount {
        /// The user.
        user: String,
        /// The environment.
        env: String,
    },
    /// A user does not exist at all.
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    /// The asset does not exist, or is in another environment.
    #[error("unknown asset `{asset}` in `{env}`")]
    UnknownAsset {
        /// The asset.
        asset: String,
        /// The environment.
        env: String,
    },
    /// A field the action needs is missing.
    #[error("`{action}` needs `{field}`")]
    Missing {
        /// The action.
        action: String,
        /// The missing field.
        field: &'static str,
    },
    /// A field was given that the action does not take.
    #[error("`{action}` does not take `{field}`")]
    Unexpected {
        /// The action.
        action: String,
        /// The field.
        field: &'static str,
    },
    /// The value is not one the action takes (as its schema declares).
    #[error("`{value}` is not a valid value for `{action}`: {expected}")]
    InvalidValue {
        /// The action.
        action: String,
        /// The value given.
        value: String,
        /// What the action takes.
        expected: String,
    },
    /// The directory could not be read.
    #[error(transparent)]
    Lookup(#[from] crate::directory::LookupError),
}

impl RequestError {
    /// An action the schema does not know, with the closest action's name
    /// (or the list of actions) as help: the one error every path that
    /// takes an action gives.
    pub fn unknown_action(schema: &crate::schema::Schema, action: &str) -> Self {
        let help = match crate::diagnostic::did_you_mean(action, schema.action_names()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the actions are: {}", schema.action_names().collect::<Vec<_>>().join(", ")),
        };
        RequestError::UnknownAction { action: action.to_owned(), help }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q3_one_invitation_lists_addresses_separated_by_commas_or_spaces() {
        assert_eq!(
            split_emails("a@x.example, b@y.example c@z.example,,d@w.example"),
            ["a@x.example", "b@y.example", "c@z.example", "d@w.example"]
        );
        assert!(split_emails(" , ").is_empty());
    }
}
