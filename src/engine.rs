//! The library's front door: a policy set and a directory, loaded once and
//! shared, answering "may this happen, and what would it break?".
//!
//! ```
//! use steward::{Engine, policy::{PolicySet, Request, Sources}};
//! use steward::directory::yaml;
//!
//! let mut sources = Sources::new();
//! sources.add("p.policy", r#"rule admins { permit block when actor has role "admin" }"#);
//! let policies = PolicySet::from_sources(sources).unwrap().set;
//! // The directory is read for the model the policies are written for.
//! let directory = yaml::parse("d.yaml", "
//! environments: [{ id: E, license: L, kind: production }]
//! users:
//!   - { id: ann, home: E, accounts: [{ env: E, status: active, roles: [admin] }] }
//!   - { id: bob, home: E, accounts: [{ env: E, status: active }] }
//! ", policies.schema()).unwrap();
//! let engine = Engine::new(policies, directory);
//! let verdict = engine.decide(&Request::new("ann", "block", "E").target("bob")).unwrap();
//! assert_eq!(verdict.report.decision, "allow");
//! assert_eq!(verdict.impact.unwrap().license.unwrap().after, 1);
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::directory::Directory;
use crate::graph::{
    Analyzer, Authorizer, Fallback, Impact, ImpactError, ImpactQuery, LicenseIndex, MemberCache,
    ReferenceGraph,
};
use crate::policy::{DecisionReport, PolicySet, Request, RequestError, RuleReport};
use crate::schema::ActionDecl;

/// A policy set over a directory. `Send + Sync`; every method takes `&self`.
/// The reference graph and license counts are built on first use.
#[derive(Debug)]
pub struct Engine {
    /// Shared with the engines made by [`Engine::with_directory`]: a plan
    /// decides each item over the directory the items before it leave.
    policies: Arc<PolicySet>,
    /// Shared with the engines made by [`Engine::with_policies`]: a policy
    /// reload neither copies the directory nor builds its graph again.
    facts: Arc<Facts>,
    /// Who may reassign assets, per environment and asset signature (see
    /// [`PolicySet::asset_signature`]): computed once, shared by every impact.
    /// It depends on the policies, so it is never shared.
    reassigners: Mutex<HashMap<ReassignerKey, Arc<[String]>>>,
}

/// What depends on the directory alone, whatever the policy set (the
/// counts the directory remembers are keyed by the condition itself, not by
/// its place in a set, so they hold for every set too).
#[derive(Debug, Default)]
struct Facts {
    directory: Directory,
    graph: OnceLock<(ReferenceGraph, LicenseIndex)>,
    /// Active members per environment, shared by every impact.
    members: MemberCache,
}

/// An environment and an asset signature: assets alike for the policy.
type ReassignerKey = (String, String);

/// A decision with, for actions that change an account, what it would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The decision, its rules and reasons.
    #[serde(flatten)]
    pub report: DecisionReport,
    /// The action is impossible (records refer to the account, P3) and this
    /// one is proposed instead, with whether the actor may do it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// What the action would do (for the fallback action, when it falls back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
}

impl Verdict {
    /// Whether the request is allowed.
    pub fn allowed(&self) -> bool {
        self.report.decision == "allow"
    }
}

impl Engine {
    /// An engine over `policies` and `directory`.
    pub fn new(policies: PolicySet, directory: Directory) -> Self {
        let facts = Facts { directory, graph: OnceLock::new(), members: MemberCache::default() };
        Engine {
            policies: Arc::new(policies),
            facts: Arc::new(facts),
            reassigners: Mutex::new(HashMap::new()),
        }
    }

    /// An engine of this engine's policy set (shared, not copied) over
    /// `directory`: what a plan decides its next item over.
    pub fn with_directory(&self, directory: Directory) -> Engine {
        let facts = Facts { directory, graph: OnceLock::new(), members: MemberCache::default() };
        Engine {
            policies: self.policies.clone(),
            facts: Arc::new(facts),
            reassigners: Mutex::new(HashMap::new()),
        }
    }

    /// This engine's policy set and directory (shared, not copied), with
    /// a memo of its own.
    pub(crate) fn shared(&self) -> Engine {
        Engine {
            policies: self.policies.clone(),
            facts: self.facts.clone(),
            reassigners: Mutex::new(HashMap::new()),
        }
    }

    /// Applies `mutations` to this engine's directory: where it lies when
    /// no other engine shares it, on a copy otherwise. The reference graph
    /// is kept when they move nothing it holds (statuses, fields, flags:
    /// what a block or an edit changes), and so are the license counts,
    /// with only the users the mutations touch counted again: a plan's next
    /// item costs what its own change touches, not a count of the whole
    /// directory.
    pub(crate) fn mutate(&mut self, mutations: &[crate::directory::mutation::Mutation]) {
        let facts = std::mem::take(&mut self.facts);
        let (mut directory, mut built) = match Arc::try_unwrap(facts) {
            Ok(facts) => (facts.directory, facts.graph.into_inner()),
            Err(shared) => (shared.directory.clone(), shared.graph.get().cloned()),
        };
        let schema = self.policies.schema();
        let users: std::collections::BTreeSet<&str> =
            mutations.iter().filter_map(crate::directory::mutation::Mutation::user).collect();
        if let Some((_, licenses)) = built.as_mut() {
            users.iter().for_each(|user| licenses.recount_user(&directory, schema, user, -1));
        }
        let kept = directory.mutate(mutations);
        let cell = OnceLock::new();
        if let Some((graph, mut licenses)) = built.filter(|_| kept) {
            users.iter().for_each(|user| licenses.recount_user(&directory, schema, user, 1));
            let _ = cell.set((graph, licenses));
        }
        self.facts = Arc::new(Facts { directory, graph: cell, members: MemberCache::default() });
        self.reassigners = Mutex::new(HashMap::new());
    }

    /// The directory, given back (copied when another engine shares it).
    pub fn into_directory(self) -> Directory {
        Arc::try_unwrap(self.facts).map_or_else(|shared| shared.directory.clone(), |f| f.directory)
    }

    /// An engine of `policies` over this engine's directory, shared, not
    /// copied, with its reference graph and license counts once built (a
    /// policy reload of `steward serve`).
    ///
    /// ```
    /// # fn main() -> Result<(), steward::Error> {
    /// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    /// let engine = steward::Engine::load_paths(&[root.join("policies/crm")], &root.join("examples/crm.yaml"))?;
    /// let set = steward::policy::PolicySet::load(&[root.join("policies/crm")])?.set;
    /// let reloaded = engine.with_policies(set);
    /// assert!(std::ptr::eq(engine.directory(), reloaded.directory()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_policies(&self, policies: PolicySet) -> Engine {
        Engine {
            policies: Arc::new(policies),
            facts: self.facts.clone(),
            reassigners: Mutex::new(HashMap::new()),
        }
    }

    /// Loads the policy files at `policies` and the directory file at
    /// `directory` (`.yaml`, `.json` or `.db`).
    ///
    /// ```
    /// # fn main() -> Result<(), steward::Error> {
    /// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    /// let engine = steward::Engine::load_paths(&[root.join("policies/crm")], &root.join("examples/crm.yaml"))?;
    /// let mut request = steward::policy::Request::new("crm.Ada", "unblock", "CRM1").target("crm.Bo");
    /// request.now = Some("2026-11-23T09:00:00Z".parse().unwrap());
    /// assert!(engine.decide(&request)?.allowed());
    /// # Ok(())
    /// # }
    /// ```
    pub fn load_paths(
        policies: &[std::path::PathBuf],
        directory: &std::path::Path,
    ) -> Result<Self, crate::Error> {
        let set = PolicySet::load(policies)?.set;
        let directory = crate::directory::load(directory, set.schema())?;
        Ok(Engine::new(set, directory))
    }

    /// The policy set and the directory, given back (the directory is
    /// copied when another engine shares it).
    pub fn into_parts(self) -> (PolicySet, Directory) {
        let directory =
            Arc::try_unwrap(self.facts).map_or_else(|shared| shared.directory.clone(), |f| f.directory);
        (Arc::unwrap_or_clone(self.policies), directory)
    }

    /// The policy set.
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The directory.
    pub fn directory(&self) -> &Directory {
        &self.facts.directory
    }

    /// The reference graph (built on first use).
    pub fn graph(&self) -> &ReferenceGraph {
        &self.graph_and_licenses().0
    }

    /// Who counts toward which license (built on first use).
    pub fn licenses(&self) -> &LicenseIndex {
        &self.graph_and_licenses().1
    }

    fn graph_and_licenses(&self) -> &(ReferenceGraph, LicenseIndex) {
        let directory = &self.facts.directory;
        let schema = self.policies.schema();
        self.facts
            .graph
            .get_or_init(|| (ReferenceGraph::build(directory), LicenseIndex::build(directory, schema)))
    }

    /// Decides `request` and, for actions that change an account, computes
    /// their impact. A delete that records prevent (P3) is denied by the
    /// built-in rule `referenced`, with the fallback it proposes.
    pub fn decide(&self, request: &Request) -> Result<Verdict, RequestError> {
        self.verdict(request, &self.own())
    }

    /// Decides `request` over `directory` instead of the engine's own: a host
    /// that keeps its accounts elsewhere passes the entities of one request
    /// (the actor's and the target's users, accounts and assets, the
    /// references to them) as a small directory. The impact is computed over
    /// that directory too, so it counts only the accounts given.
    ///
    /// ```
    /// # fn main() -> Result<(), steward::Error> {
    /// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    /// let engine = steward::Engine::load_paths(&[root.join("policies/crm")], &root.join("examples/crm.yaml"))?;
    /// // The host's own view of the two accounts involved, as JSON.
    /// let entities = r#"{
    ///   "environments": [{"id": "CRM1", "license": "crm", "kind": "production"}],
    ///   "users": [
    ///     {"id": "ann", "home": "CRM1", "accounts": [{"env": "CRM1", "status": "active", "roles": ["superuser"]}]},
    ///     {"id": "ben", "home": "CRM1", "accounts": [{"env": "CRM1", "status": "active", "roles": ["sales"]}]}
    ///   ]
    /// }"#;
    /// let schema = engine.policies().schema();
    /// let directory = steward::directory::yaml::parse("host.json", entities, schema).unwrap();
    /// let mut request = steward::Request::new("ann", "block", "CRM1").target("ben");
    /// request.reason = Some("left".into());
    /// request.confirm = true;
    /// let verdict = engine.decide_with(&request, &directory)?;
    /// assert!(verdict.allowed());
    /// assert_eq!(verdict.impact.unwrap().license.unwrap().after, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn decide_with(&self, request: &Request, directory: &Directory) -> Result<Verdict, RequestError> {
        let graph =
            (ReferenceGraph::build(directory), LicenseIndex::build(directory, self.policies.schema()));
        let members = MemberCache::default();
        self.verdict(request, &Over { directory, graph: &graph, members: &members, memo: false })
    }

    /// The engine's own directory, graph and caches.
    fn own(&self) -> Over<'_> {
        Over {
            directory: &self.facts.directory,
            graph: self.graph_and_licenses(),
            members: &self.facts.members,
            memo: true,
        }
    }

    fn verdict(&self, request: &Request, over: &Over<'_>) -> Result<Verdict, RequestError> {
        let decision = self.policies.decide(request, over.directory)?;
        let mut report = self.policies.report(request, &decision);
        let Some(target) = request.target.as_deref() else {
            return Ok(Verdict { report, fallback: None, impact: None });
        };
        // Without a lifecycle block, only an action that changes the
        // account's status (and so the license count) has an impact to report.
        let reported = self.policies.lifecycle(&request.action).is_some()
            || self.policies.schema().action(&request.action).is_some_and(ActionDecl::changes_status);
        if !reported {
            return Ok(Verdict { report, fallback: None, impact: None });
        }
        let query = ImpactQuery {
            actor: Some(&request.actor),
            action: &request.action,
            user: target,
            env: &request.env,
        };
        let mut impact = match self.impact_or_fallback(&query, request, over) {
            Ok(impact) => impact,
            // The account exists (the decision resolved it), so this is unreachable;
            // a verdict without impact is still a correct verdict.
            Err(ImpactError::NoAccount { .. }) => {
                return Ok(Verdict { report, fallback: None, impact: None });
            }
        };
        let fallback = impact.fallback.take();
        if let Some(fallback) = &fallback
            && decision.allowed()
        {
            let verb =
                self.policies.schema().action(&request.action).map_or("changed", |spec| spec.done.as_str());
            let instead = format!("{} instead", fallback.action);
            deny_referenced(&mut report, target, verb, &fallback.references, &instead);
        } else if fallback.is_none()
            && decision.allowed()
            && self.policies.schema().action(&request.action).is_some_and(ActionDecl::removes_account)
        {
            // Records that refer to an account keep it (the store's foreign
            // keys refuse its deletion): without a fallback in the policy
            // set, the deletion is denied here rather than failing in apply.
            let (graph, licenses) = over.graph;
            let references =
                Analyzer::new(self.policies.schema(), over.directory, graph, licenses, over.members)
                    .references(target, &request.env);
            if !references.is_empty() {
                let none = format!(
                    "the policy set names no fallback (`referenced -> block` in `lifecycle {}`)",
                    request.action
                );
                let verb = self
                    .policies
                    .schema()
                    .action(&request.action)
                    .map_or("removed", |spec| spec.done.as_str());
                deny_referenced(&mut report, target, verb, &references, &none);
            } else {
                // What no `owns` line provides for stays, without owner
                // (D3): said in the impact, never done silently.
                let lifecycle = self.policies.lifecycle(&request.action);
                let left =
                    Analyzer::new(self.policies.schema(), over.directory, graph, licenses, over.members)
                        .unprovided(target, &request.env, lifecycle);
                if !left.is_empty() {
                    let listed: Vec<String> = left.iter().map(|a| format!("`{a}`")).collect();
                    let stay = if left.len() == 1 { "stays" } else { "stay" };
                    let why = match lifecycle {
                        Some(_) => format!("no `owns` line of `lifecycle {}` names its kind", request.action),
                        None => format!("the policy set has no `lifecycle {}` block", request.action),
                    };
                    impact.warnings.push(crate::graph::Warning {
                        code: crate::graph::impact::LEFT_WITHOUT_OWNER.into(),
                        message: format!("{} {stay} without owner: {why} (D3)", listed.join(", ")),
                    });
                    impact.left_without_owner = left;
                }
            }
        }
        Ok(Verdict { report, fallback, impact: Some(impact) })
    }

    /// Decides many requests; each answer in the order asked.
    pub fn decide_batch(&self, requests: &[Request]) -> Vec<Result<Verdict, RequestError>> {
        requests.iter().map(|r| self.decide(r)).collect()
    }

    /// The impact of `action` on the account of `user` in `env`, with the
    /// follow-up decisions (fallback, reassigners) made for `actor`. The
    /// query is checked as [`Engine::decide`] checks a request: an unknown
    /// action (with the closest one's name), one that does not act on
    /// accounts, an unknown environment or user is the error `decide` gives.
    /// When the action falls back (P3), the impact is the fallback action's,
    /// with `fallback` and `instead_of` saying so.
    pub fn impact(&self, query: &ImpactQuery<'_>) -> Result<Impact, RequestError> {
        self.impact_in_context(query, &Request::default())
    }

    /// [`Engine::impact`], its follow-up decisions made in the context of
    /// `context` (its clock, reason, confirmation, bulk flags; its actor,
    /// action, target and environment are the query's): the fallback
    /// decision is then the one `decide` gives for that request.
    ///
    /// ```
    /// # fn main() -> Result<(), steward::Error> {
    /// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    /// let engine = steward::Engine::load_paths(&[root.join("policies/erp")], &root.join("examples/erp.yaml"))?;
    /// let query = steward::ImpactQuery {
    ///     actor: Some("12345.Admin"), action: "delete", user: "12345.JJansen", env: "O12345AA",
    /// };
    /// let mut context = steward::Request::default();
    /// context.reason = Some("left".into());
    /// context.confirm = true;
    /// let impact = engine.impact_in_context(&query, &context)?;
    /// assert_eq!((impact.action.as_str(), impact.instead_of.as_deref()), ("block", Some("delete")));
    /// assert_eq!(impact.fallback.unwrap().decision, "allow");
    /// # Ok(())
    /// # }
    /// ```
    pub fn impact_in_context(
        &self,
        query: &ImpactQuery<'_>,
        context: &Request,
    ) -> Result<Impact, RequestError> {
        self.check(query)?;
        let base = Request {
            actor: query.actor.unwrap_or_default().to_owned(),
            action: query.action.to_owned(),
            target: Some(query.user.to_owned()),
            env: query.env.to_owned(),
            ..context.clone()
        };
        self.impact_or_fallback(query, &base, &self.own()).map_err(|e| match e {
            ImpactError::NoAccount { user, env } => RequestError::NoAccount { user, env },
        })
    }

    /// The checks [`PolicySet::decide`] makes of the names in a request, in
    /// its order, for a query that is not decided itself.
    fn check(&self, query: &ImpactQuery<'_>) -> Result<(), RequestError> {
        let directory = &self.facts.directory;
        let schema = self.policies.schema();
        let action =
            schema.action(query.action).ok_or_else(|| RequestError::unknown_action(schema, query.action))?;
        if !action.subject.has_target() {
            // As `decide` answers a target given to an action on assets or on nothing.
            return Err(RequestError::Unexpected { action: query.action.to_owned(), field: "target" });
        }
        if directory.environment(query.env).is_none() {
            return Err(RequestError::UnknownEnvironment(query.env.to_owned()));
        }
        let account = |user: &str| match directory.account(user, query.env) {
            Some(_) => Ok(()),
            None if directory.user(user).is_none() => Err(RequestError::UnknownUser(user.to_owned())),
            None => Err(RequestError::NoAccount { user: user.to_owned(), env: query.env.to_owned() }),
        };
        if let Some(actor) = query.actor {
            account(actor)?;
        }
        account(query.user)
    }

    /// The impacts of many queries, computed on every core; each answer in
    /// the order asked.
    pub fn impact_batch(&self, queries: &[ImpactQuery<'_>]) -> Vec<Result<Impact, RequestError>> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from).max(1);
        let chunk = queries.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = queries
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(|q| self.impact(q)).collect::<Vec<_>>()))
                .collect();
            workers
                .into_iter()
                .zip(queries.chunks(chunk))
                .flat_map(|(worker, part)| {
                    // A worker that panicked (it cannot: impact returns errors)
                    // is answered one by one on this thread.
                    worker.join().unwrap_or_else(|_| part.iter().map(|q| self.impact(q)).collect())
                })
                .collect()
        })
    }

    /// The impact of the query's action or, when it falls back (P3), of the
    /// fallback action, with the fallback kept and `instead_of` naming the
    /// action asked.
    fn impact_or_fallback(
        &self,
        query: &ImpactQuery<'_>,
        base: &Request,
        over: &Over<'_>,
    ) -> Result<Impact, ImpactError> {
        let impact = self.impact_with(query, base, over)?;
        let Some(fallback) = &impact.fallback else { return Ok(impact) };
        match self.impact_with(&ImpactQuery { action: &fallback.action, ..*query }, base, over) {
            Ok(mut instead) => {
                instead.instead_of = Some(query.action.to_owned());
                instead.fallback = impact.fallback;
                Ok(instead)
            }
            Err(_) => Ok(impact),
        }
    }

    fn impact_with(
        &self,
        query: &ImpactQuery<'_>,
        base: &Request,
        over: &Over<'_>,
    ) -> Result<Impact, ImpactError> {
        let (graph, licenses) = over.graph;
        let analyzer = Analyzer::new(self.policies.schema(), over.directory, graph, licenses, over.members);
        let authorizer = PolicyAuthorizer { engine: self, base, over };
        analyzer.impact(query, self.policies.lifecycle(query.action), &authorizer)
    }
}

/// `report` turned into a deny by the built-in rule `referenced`: records
/// refer to `target`, so it cannot be `verb`; `then` says what instead.
fn deny_referenced(
    report: &mut DecisionReport,
    target: &str,
    verb: &str,
    references: &[crate::graph::ReferenceCount],
    then: &str,
) {
    let rows: Vec<String> = references
        .iter()
        .map(|r| format!("{} in {}", crate::graph::report::plural(r.rows as usize, "row"), r.table))
        .collect();
    report.decision = "deny".into();
    report.rules = vec![RuleReport {
        id: crate::policy::decision::REFERENCED.into(),
        effect: "forbid".into(),
        source: "lifecycle".into(),
    }];
    report.reasons =
        vec![format!("`{target}` cannot be {verb}: {} still refer to them; {then} (P3)", rows.join(", "))];
}

/// The graph's follow-up questions, answered by the policy set in the
/// context of the original request (same clock, reason, confirmation).
struct PolicyAuthorizer<'a> {
    engine: &'a Engine,
    base: &'a Request,
    over: &'a Over<'a>,
}

/// The entities a verdict is computed over: the engine's own directory, or
/// one a host passed in.
struct Over<'a> {
    directory: &'a Directory,
    graph: &'a (ReferenceGraph, LicenseIndex),
    members: &'a MemberCache,
    /// Whether the engine's reassigner memo holds for this directory.
    memo: bool,
}

impl Authorizer for PolicyAuthorizer<'_> {
    fn may_act(&self, actor: &str, action: &str, target: &str, env: &str) -> bool {
        let request = Request {
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: Some(target.to_owned()),
            env: env.to_owned(),
            asset: None,
            to: None,
            ..self.base.clone()
        };
        self.engine.policies.decide(&request, self.over.directory).is_ok_and(|d| d.allowed())
    }

    fn default_owner(&self, action: &str, asset: &crate::directory::model::Asset) -> Option<String> {
        // `request.to` stays: `reassign to request.to` names the new owner
        // the request gives.
        let request = Request { action: action.to_owned(), asset: None, ..self.base.clone() };
        self.engine.policies.default_owner(&asset.kind, &request, self.over.directory)
    }

    fn reassigners(&self, asset: &crate::directory::model::Asset, actors: &[String]) -> Arc<[String]> {
        let now = self.base.now.unwrap_or_else(jiff::Timestamp::now);
        let policies = &self.engine.policies;
        let directory = self.over.directory;
        let decide = |actor: &str| {
            let request = Request {
                actor: actor.to_owned(),
                action: "reassign".to_owned(),
                asset: Some(asset.id.to_string()),
                env: asset.env.to_string(),
                now: Some(now),
                ..Request::default()
            };
            policies.decide(&request, directory).is_ok_and(|d| d.allowed())
        };
        // Only actors with a role some permit asks for can be allowed: the
        // others are skipped undecided.
        let may = |actor: &&String| {
            directory.account(actor, &asset.env).is_some_and(|a| policies.may_permit("reassign", a))
                && decide(actor)
        };
        let signature = policies.asset_signature("reassign", asset, directory, now);
        let Some(signature) = signature.ok().filter(|_| self.over.memo) else {
            return actors.iter().filter(may).cloned().collect();
        };
        let key = (asset.env.to_string(), signature);
        if let Some(known) = self.engine.reassigners.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return known;
        }
        let found: Arc<[String]> = actors.iter().filter(may).cloned().collect();
        if let Ok(mut memo) = self.engine.reassigners.lock() {
            memo.insert(key, found.clone());
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::model::Id;
    use crate::directory::mutation::Mutation;

    /// The license counts an engine keeps across in-place mutations are
    /// the counts of the directory after them: every account of every
    /// shipped example blocked, unblocked, and made a guest and back, one
    /// at a time and all together.
    #[test]
    fn kept_license_counts_equal_a_count_of_the_directory() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in ["erp", "crm", "analytics"] {
            let path = root.join(format!("examples/{name}.yaml"));
            let policies = PolicySet::load(&[root.join(format!("policies/{name}"))]).unwrap().set;
            let mut engine = Engine::new(
                policies,
                crate::directory::load(&path, &crate::policy::declare::standard()).unwrap(),
            );
            let accounts: Vec<(String, String, Id, Id)> = engine
                .directory()
                .accounts()
                .iter()
                .map(|a| (a.user.to_string(), a.env.to_string(), a.status.clone(), a.kind.clone()))
                .collect();
            let flip = |s: &Id| Id::from(if s == "active" { "blocked" } else { "active" });
            let schema = crate::policy::declare::standard();
            let mut all = Vec::new();
            for (user, env, status, kind) in &accounts {
                let other = Id::from(if kind == "guest" { "normal" } else { "guest" });
                let steps = [
                    Mutation::SetStatus { user: user.clone(), env: env.clone(), status: flip(status) },
                    Mutation::SetKind { user: user.clone(), env: env.clone(), kind: other },
                    Mutation::SetKind { user: user.clone(), env: env.clone(), kind: kind.clone() },
                    Mutation::SetStatus { user: user.clone(), env: env.clone(), status: status.clone() },
                ];
                for step in steps {
                    engine.licenses();
                    engine.mutate(std::slice::from_ref(&step));
                    assert_eq!(
                        engine.licenses(),
                        &LicenseIndex::build(engine.directory(), &schema),
                        "{name}: {step:?}"
                    );
                }
                all.push(Mutation::SetStatus { user: user.clone(), env: env.clone(), status: flip(status) });
            }
            engine.licenses();
            engine.mutate(&all);
            assert_eq!(
                engine.licenses(),
                &LicenseIndex::build(engine.directory(), &schema),
                "{name}: all at once"
            );
        }
    }
}
