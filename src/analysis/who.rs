//! Reverse queries: who may do an action to a target, or whom an actor may
//! do it to. Complete by construction: every account of the environment is
//! decided, in order of user id, and a page that stops before the end says
//! where the next one starts (`next`), so nothing is ever cut silently.

use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::policy::{Request, RequestError};

/// The most entries one page holds.
pub const MAX_LIMIT: usize = 10_000;

/// How many entries a page holds when the query does not say.
pub const DEFAULT_LIMIT: usize = 100;

/// A reverse query: `actor` or `target` given, the other side asked for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhoQuery {
    /// The action.
    pub action: String,
    /// The environment.
    pub env: String,
    /// Given: whom may this actor do it to?
    #[serde(default)]
    pub actor: Option<String>,
    /// Given: who may do it to this target?
    #[serde(default)]
    pub target: Option<String>,
    /// List those who may not too, with the rules and reasons.
    #[serde(default)]
    pub why: bool,
    /// At most this many entries (allowed, and denied with `why`).
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Start after this user id (the `next` of the page before).
    #[serde(default)]
    pub after: Option<String>,
    /// The rest of every request: reason, confirmation, bulk, value, clock.
    #[serde(default)]
    pub reason: Option<String>,
    /// See [`Request::confirm`].
    #[serde(default)]
    pub confirm: bool,
    /// See [`Request::bulk`].
    #[serde(default)]
    pub bulk: bool,
    /// See [`Request::value`].
    #[serde(default)]
    pub value: Option<String>,
    /// The clock every request is decided at.
    #[serde(default)]
    pub now: Option<jiff::Timestamp>,
}

fn default_limit() -> usize {
    DEFAULT_LIMIT
}

/// One account on the asked side, with what decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoEntry {
    /// The user.
    pub user: String,
    /// The deciding rules.
    pub rules: Vec<String>,
    /// The reasons of a denial (`why`), as a decision gives them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// One page of the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoPage {
    /// The action.
    pub action: String,
    /// The environment.
    pub env: String,
    /// `actors` (who may do it to the target) or `targets` (whom the actor
    /// may do it to).
    pub asked: &'static str,
    /// The user given.
    pub given: String,
    /// Those who may, in order of user id.
    pub allowed: Vec<WhoEntry>,
    /// Those who may not (with `why`), in order of user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied: Option<Vec<WhoEntry>>,
    /// How many accounts of the environment this page decided.
    pub examined: usize,
    /// How many accounts the environment has: what the whole answer decides.
    pub accounts: usize,
    /// Where the next page starts (`after`), when this one stopped early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Why a reverse query cannot be answered.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum WhoError {
    /// A request of the query is not one steward can decide.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Request(#[from] RequestError),
    /// Neither or both sides given, a limit out of bounds, an action that
    /// acts on no account.
    #[error("{0}")]
    Query(String),
    /// The answer was not done by the deadline (the service's time limit).
    #[error("the query was still deciding at its deadline, after {examined} accounts")]
    Timeout {
        /// How many accounts were decided by then.
        examined: usize,
    },
}

/// Answers `query` over the engine's directory: every account of the
/// environment on the asked side is decided with the given one, in order of
/// user id, as `decide` decides it (a removal records refer to is denied by
/// `referenced` here too).
pub fn who(engine: &Engine, query: &WhoQuery) -> Result<WhoPage, WhoError> {
    who_until(engine, query, None)
}

/// [`who`], given up at `deadline`: the thread a caller stopped waiting for
/// is freed.
pub fn who_until(
    engine: &Engine,
    query: &WhoQuery,
    deadline: Option<std::time::Instant>,
) -> Result<WhoPage, WhoError> {
    let (policies, directory) = (engine.policies(), engine.directory());
    let schema = policies.schema();
    let action =
        schema.action(&query.action).ok_or_else(|| RequestError::unknown_action(schema, &query.action))?;
    if action.subject != crate::schema::Subject::Account {
        return Err(WhoError::Query(format!(
            "`{}` acts on {}, not on an account of the environment: `who` answers actions on accounts",
            query.action,
            action.subject.noun()
        )));
    }
    if !(1..=MAX_LIMIT).contains(&query.limit) {
        return Err(WhoError::Query(format!("the limit is from 1 to {MAX_LIMIT}, not {}", query.limit)));
    }
    if directory.environment(&query.env).is_none() {
        return Err(RequestError::UnknownEnvironment(query.env.clone()).into());
    }
    let (asked, given) = match (&query.actor, &query.target) {
        (Some(actor), None) => ("targets", actor),
        (None, Some(target)) => ("actors", target),
        _ => {
            return Err(WhoError::Query(
                "give the actor (whom may they act on?) or the target (who may act on them?), not both"
                    .into(),
            ));
        }
    };
    if directory.account(given, &query.env).is_none() {
        return Err(match directory.user(given) {
            None => RequestError::UnknownUser(given.clone()),
            Some(_) => RequestError::NoAccount { user: given.clone(), env: query.env.clone() },
        }
        .into());
    }
    let mut candidates: Vec<&str> = directory.accounts_in(&query.env).map(|a| a.user.as_str()).collect();
    candidates.sort_unstable();
    let accounts = candidates.len();
    let start = query.after.as_deref().map_or(0, |after| candidates.partition_point(|c| *c <= after));
    let base = Request {
        action: query.action.clone(),
        env: query.env.clone(),
        reason: query.reason.clone(),
        confirm: query.confirm,
        bulk: query.bulk,
        value: query.value.clone(),
        now: Some(query.now.unwrap_or_else(jiff::Timestamp::now)),
        ..Request::default()
    };
    let mut page = WhoPage {
        action: query.action.clone(),
        env: query.env.clone(),
        asked,
        given: given.clone(),
        allowed: Vec::new(),
        denied: query.why.then(Vec::new),
        examined: 0,
        accounts,
        next: None,
    };
    let mut listed = 0;
    for (position, candidate) in candidates.iter().enumerate().skip(start) {
        if position % 256 == 0 && deadline.is_some_and(|d| std::time::Instant::now() > d) {
            return Err(WhoError::Timeout { examined: page.examined });
        }
        if listed == query.limit {
            page.next = position.checked_sub(1).and_then(|p| candidates.get(p)).map(|c| (*c).to_owned());
            break;
        }
        let (actor, target) =
            if asked == "actors" { (*candidate, given.as_str()) } else { (given.as_str(), *candidate) };
        let request = Request { actor: actor.to_owned(), target: Some(target.to_owned()), ..base.clone() };
        let report = super::report(engine, &request, super::weighs_references(policies, &query.action))?;
        let allowed = report.decision == "allow";
        let entry = WhoEntry {
            user: (*candidate).to_owned(),
            rules: report.rules.iter().map(|r| r.id.clone()).collect(),
            reasons: Vec::new(),
        };
        page.examined += 1;
        if allowed {
            page.allowed.push(entry);
            listed += 1;
        } else if let Some(denied) = page.denied.as_mut() {
            denied.push(WhoEntry { reasons: report.reasons, ..entry });
            listed += 1;
        }
    }
    Ok(page)
}
