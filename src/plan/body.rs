//! A plan request as JSON: the body of `POST /v1/plan` and the `plan:` of a
//! policy test case. One form for both, so that what a test proves of a
//! pack is what the service plans.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use super::{PlanRequest, Target, Targets};

/// The flags of `steward plan`, with exactly one of `targets`, `emails`,
/// `where` and `trigger`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    actor: String,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    targets: Option<Vec<PlanTarget>>,
    #[serde(default, rename = "where")]
    selector: Option<String>,
    #[serde(default)]
    trigger: Option<String>,
    /// The addresses of an `invite` plan (a list, or one text separated by
    /// commas or spaces, Q3).
    #[serde(default)]
    emails: Option<Emails>,
    #[serde(default)]
    env: Option<String>,
    /// The value of items without their own (`edit_email`, `edit_name`, `add_guest`).
    #[serde(default)]
    value: Option<String>,
    reason: String,
    #[serde(default)]
    now: Option<Timestamp>,
    /// New owners by name, `{ "ASSET": "USER" }`, as `--reassign` gives them.
    #[serde(default)]
    reassign: BTreeMap<String, String>,
}

/// A listed target: a user id, or a user with an environment and a value.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum PlanTarget {
    User(String),
    InEnv(ListedTarget),
}

/// A user with an environment and a value; a misspelt key is an error, not
/// a target in the plan's environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListedTarget {
    user: String,
    #[serde(default)]
    env: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// E-mail addresses: a list, or one text as on the command line.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Emails {
    List(Vec<String>),
    Text(String),
}

impl PlanBody {
    /// The request, its clock `now` when the body gives none; an error when
    /// it names no targets or more than one kind.
    pub fn into_request(self, now: Timestamp) -> Result<PlanRequest, String> {
        let targets = match (self.targets, self.emails, self.selector, self.trigger) {
            (Some(list), None, None, None) => Targets::List(
                list.into_iter()
                    .map(|t| match t {
                        PlanTarget::User(user) => Target::user(user),
                        PlanTarget::InEnv(ListedTarget { user, env, value }) => Target { user, env, value },
                    })
                    .collect(),
            ),
            (None, Some(Emails::List(list)), None, None) => Targets::Emails(list),
            (None, Some(Emails::Text(text)), None, None) => {
                Targets::Emails(crate::policy::request::split_emails(&text))
            }
            (None, None, Some(selector), None) => Targets::Where(selector),
            (None, None, None, Some(trigger)) => Targets::Trigger(trigger),
            _ => return Err("give exactly one of `targets`, `emails`, `where` and `trigger`".into()),
        };
        Ok(PlanRequest {
            actor: self.actor,
            action: self.action,
            targets,
            env: self.env,
            value: self.value,
            reason: self.reason,
            now: self.now.unwrap_or(now),
            reassign: self.reassign,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> PlanBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn one_kind_of_targets_and_the_clock_of_the_body_first() {
        let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let request =
            body(r#"{"actor":"a","targets":["b",{"user":"c","env":"E"}],"reason":"r","reassign":{"x":"d"}}"#)
                .into_request(now)
                .unwrap();
        assert_eq!(request.now, now);
        assert_eq!(request.reassign.get("x").map(String::as_str), Some("d"));
        let Targets::List(list) = request.targets else { panic!("a list") };
        assert_eq!(list[1], Target { user: "c".into(), env: Some("E".into()), value: None });
        let both = body(r#"{"actor":"a","targets":["b"],"where":"true","reason":"r"}"#);
        assert!(both.into_request(now).unwrap_err().contains("exactly one of"));
        let earlier = body(r#"{"actor":"a","trigger":"t","reason":"r","now":"2026-01-01T00:00:00Z"}"#);
        assert_eq!(
            earlier.into_request(now).unwrap().now,
            "2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
