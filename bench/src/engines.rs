//! The three engines, each prepared once (policies compiled, entities
//! loaded, requests built) so that the timed loop does a decision only.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use anyhow::{Context as _, Result, anyhow};
use serde_json::{Value as Json, json};
use steward::directory::Directory;
use steward::policy::{Builtin, RuleRef, Sources};

use crate::workload::Req;

/// What an engine decided, and which rules decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Allowed.
    pub allowed: bool,
    /// The deciding rules: matching forbids when denied, matching permits
    /// when allowed, nothing for a default deny.
    pub rules: BTreeSet<String>,
}

/// steward's side.
pub struct Steward {
    /// The compiled set.
    pub set: steward::policy::PolicySet,
    /// The requests, built.
    pub requests: Vec<steward::policy::Request>,
}

impl Steward {
    /// Compiles `text` (parse, validate, index).
    pub fn compile(text: &str) -> Result<steward::policy::PolicySet> {
        let mut sources = Sources::new();
        sources.add("model.policy", text.to_owned());
        Ok(steward::policy::PolicySet::from_sources(sources).map_err(|e| anyhow!("steward: {e}"))?.set)
    }

    /// Prepares the set and the requests.
    pub fn new(text: &str, requests: &[Req]) -> Result<Self> {
        let clock = jiff::Timestamp::from_second(1_790_000_000)?;
        let requests = requests
            .iter()
            .map(|r| {
                let mut q = steward::policy::Request::new(&r.actor, r.action, &r.env).target(&r.target);
                q.bulk = r.bulk;
                q.now = Some(clock);
                q
            })
            .collect();
        Ok(Steward { set: Self::compile(text)?, requests })
    }

    /// One decision, as timed.
    #[inline]
    pub fn decide(&self, i: usize, directory: &Directory) -> bool {
        match self.requests.get(i).map(|q| self.set.decide(q, directory)) {
            Some(Ok(d)) => d.allowed(),
            _ => false,
        }
    }

    /// One decision with its rules, for the agreement check.
    pub fn outcome(&self, i: usize, directory: &Directory) -> Result<Outcome> {
        let q = self.requests.get(i).context("no such request")?;
        let d = self.set.decide(q, directory).map_err(|e| anyhow!("steward: {e}"))?;
        if let Some((_, e)) = d.errors().first() {
            return Err(anyhow!("steward: runtime error {e}"));
        }
        let rules = d
            .rules()
            .iter()
            .filter_map(|r| match r {
                RuleRef::Builtin(Builtin::DefaultDeny) => None,
                // Written out as one rule per action in Cedar and Rego.
                RuleRef::Builtin(Builtin::StatusTransition) => {
                    Some(format!("status_transition_{}", q.action))
                }
                other => Some(self.set.rule_name(*other).to_owned()),
            })
            .collect();
        Ok(Outcome { allowed: d.allowed(), rules })
    }
}

/// Cedar's side.
pub struct Cedar {
    /// The parsed policy set.
    pub policies: cedar_policy::PolicySet,
    /// The entities.
    pub entities: cedar_policy::Entities,
    /// The requests, built.
    pub requests: Vec<cedar_policy::Request>,
    authorizer: cedar_policy::Authorizer,
}

fn uid(kind: &str, id: &str) -> Result<cedar_policy::EntityUid> {
    Ok(cedar_policy::EntityUid::from_type_name_and_id(
        cedar_policy::EntityTypeName::from_str(kind)?,
        cedar_policy::EntityId::new(id),
    ))
}

/// Cedar's entities as JSON: accounts, users, environments with the
/// precomputed number of active administrators.
pub fn cedar_entities_json(directory: &Directory) -> Json {
    let mut admins: HashMap<&str, i64> = HashMap::new();
    for a in directory.accounts() {
        if a.status == "active" && a.has_role("administrator") {
            *admins.entry(a.env.as_str()).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for e in directory.environments() {
        out.push(json!({
            "uid": {"type": "Env", "id": e.id},
            "attrs": {"kind": e.kind.as_str(), "license": e.license,
                      "active_admins": admins.get(e.id.as_str()).copied().unwrap_or(0)},
            "parents": []
        }));
    }
    for u in directory.users() {
        out.push(json!({
            "uid": {"type": "User", "id": u.id},
            "attrs": {"home": {"__entity": {"type": "Env", "id": u.home}}, "guest_license": guest_license(u)},
            "parents": []
        }));
    }
    for a in directory.accounts() {
        out.push(json!({
            "uid": {"type": "Account", "id": format!("{}@{}", a.user, a.env)},
            "attrs": {
                "user": {"__entity": {"type": "User", "id": a.user}},
                "env": {"__entity": {"type": "Env", "id": a.env}},
                "status": a.status.as_str(), "kind": a.kind.as_str(), "roles": a.roles
            },
            "parents": []
        }));
    }
    Json::Array(out)
}

impl Cedar {
    /// Parses `text`.
    pub fn compile(text: &str) -> Result<cedar_policy::PolicySet> {
        cedar_policy::PolicySet::from_str(text).map_err(|e| anyhow!("cedar: {e}"))
    }

    /// Loads entities from their JSON form.
    pub fn entities(json: Json) -> Result<cedar_policy::Entities> {
        cedar_policy::Entities::from_json_value(json, None).map_err(|e| anyhow!("cedar entities: {e}"))
    }

    /// Prepares the set, the entities and the requests.
    pub fn new(text: &str, entities: Json, requests: &[Req]) -> Result<Self> {
        let requests = requests
            .iter()
            .map(|r| {
                let context = cedar_policy::Context::from_pairs([(
                    "bulk".to_owned(),
                    cedar_policy::RestrictedExpression::new_bool(r.bulk),
                )])?;
                Ok(cedar_policy::Request::new(
                    uid("Account", &format!("{}@{}", r.actor, r.env))?,
                    uid("Action", r.action)?,
                    uid("Account", &format!("{}@{}", r.target, r.env))?,
                    context,
                    None,
                )?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Cedar {
            policies: Self::compile(text)?,
            entities: Self::entities(entities)?,
            requests,
            authorizer: cedar_policy::Authorizer::new(),
        })
    }

    /// One decision, as timed.
    #[inline]
    pub fn decide(&self, i: usize) -> bool {
        self.requests.get(i).is_some_and(|q| {
            self.authorizer.is_authorized(q, &self.policies, &self.entities).decision()
                == cedar_policy::Decision::Allow
        })
    }

    /// One decision with its rules.
    pub fn outcome(&self, i: usize) -> Result<Outcome> {
        let q = self.requests.get(i).context("no such request")?;
        let response = self.authorizer.is_authorized(q, &self.policies, &self.entities);
        if let Some(e) = response.diagnostics().errors().next() {
            return Err(anyhow!("cedar: {e}"));
        }
        let rules = response
            .diagnostics()
            .reason()
            .map(|id| {
                self.policies.policy(id).and_then(|p| p.annotation("id")).unwrap_or(id.as_ref()).to_owned()
            })
            .collect();
        Ok(Outcome { allowed: response.decision() == cedar_policy::Decision::Allow, rules })
    }
}

/// Rego's side (regorus).
pub struct Rego {
    engine: regorus::Engine,
    /// The inputs, built.
    pub inputs: Vec<regorus::Value>,
}

/// Rego's data: accounts by environment and user, users by id.
pub fn rego_data_json(directory: &Directory) -> Json {
    let mut accounts = serde_json::Map::new();
    for a in directory.accounts() {
        let env = accounts.entry(a.env.to_string()).or_insert_with(|| json!({}));
        if let Some(map) = env.as_object_mut() {
            map.insert(
                a.user.to_string(),
                json!({"user": a.user, "env": a.env, "status": a.status.as_str(),
                       "kind": a.kind.as_str(), "roles": a.roles}),
            );
        }
    }
    let users: serde_json::Map<String, Json> = directory
        .users()
        .iter()
        .map(|u| (u.id.to_string(), json!({"home": u.home, "guest_license": guest_license(u)})))
        .collect();
    json!({"accounts": accounts, "users": users})
}

impl Rego {
    /// Parses `text` and compiles its `allow` rule (no data).
    pub fn compile(text: &str) -> Result<regorus::Engine> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("model.rego".to_owned(), text.to_owned())?;
        engine.compile_with_entrypoint(&"data.steward.allow".into())?;
        Ok(engine)
    }

    /// Prepares the module, the data and the inputs.
    pub fn new(text: &str, data: Json, requests: &[Req]) -> Result<Self> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("model.rego".to_owned(), text.to_owned())?;
        engine.add_data(regorus::Value::from(data))?;
        let inputs = requests
            .iter()
            .map(|r| {
                regorus::Value::from(json!({"actor": r.actor, "target": r.target, "env": r.env,
                                             "action": r.action, "bulk": r.bulk}))
            })
            .collect();
        Ok(Rego { engine, inputs })
    }

    /// One decision, as timed: the engine is kept between decisions (as
    /// fast as regorus's compiled entry point at 6 rules, faster at 100).
    #[inline]
    pub fn decide(&mut self, i: usize) -> bool {
        let Some(input) = self.inputs.get(i) else { return false };
        self.engine.set_input(input.clone());
        self.engine.eval_rule("data.steward.allow".to_owned()).is_ok_and(|v| v == regorus::Value::from(true))
    }

    /// One decision with its rules.
    pub fn outcome(&mut self, i: usize) -> Result<Outcome> {
        let input = self.inputs.get(i).context("no such request")?.clone();
        self.engine.set_input(input);
        let allowed = self.engine.eval_rule("data.steward.allow".to_owned())? == regorus::Value::from(true);
        let set = if allowed { "permits" } else { "forbids" };
        let names = self.engine.eval_rule(format!("data.steward.{set}"))?;
        let rules = match names {
            regorus::Value::Set(s) => {
                s.iter().map(|v| v.as_string().map(|s| s.to_string())).collect::<Result<_>>()?
            }
            regorus::Value::Undefined => BTreeSet::new(),
            other => return Err(anyhow!("rego: unexpected {set}: {other}")),
        };
        Ok(Outcome { allowed, rules })
    }
}

/// The standard schema's `guest_license` of `user` (false when left out).
pub fn guest_license(user: &steward::directory::model::User) -> bool {
    user.attrs.get("guest_license") == Some(&steward::directory::model::AttrValue::Bool(true))
}
