//! What an action on an account would do, before anyone does it: a walk of
//! the reference graph under the policy set's lifecycle block for the
//! action. Nothing here knows asset kinds: the lifecycle block says what
//! happens to each, and the policy says who may do the follow-up actions.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};

use super::build::{Edge, Node, ReferenceGraph};
use super::license::{LicenseIndex, license_of};
use crate::directory::Directory;
use crate::directory::model::Account;
use crate::operation::Operation;
use crate::policy::LifecycleSpec;
use crate::policy::schema::Consequence;
use crate::schema::{Effect, Schema};
use jiff::SignedDuration;

/// Answers "would the policy allow this follow-up request?" for the impact
/// walk: the fallback of a delete (P3) and who may reassign an asset (D7).
pub trait Authorizer {
    /// Whether `actor` may do `action` to the account of `target` in `env`.
    fn may_act(&self, actor: &str, action: &str, target: &str, env: &str) -> bool;
    /// Which of the `actors` (user ids of the asset's environment) may
    /// reassign `asset`.
    fn reassigners(&self, asset: &crate::directory::model::Asset, actors: &[String]) -> Arc<[String]>;
    /// The default new owner the lifecycle block of `action` names for `asset`.
    fn default_owner(&self, action: &str, asset: &crate::directory::model::Asset) -> Option<String>;
}

/// The question: which action, on whose account, asked by whom.
#[derive(Debug, Clone, Copy)]
pub struct ImpactQuery<'a> {
    /// The acting user (decides the fallback); `None` skips that decision.
    pub actor: Option<&'a str>,
    /// `delete`, `block`, `unblock`, ...
    pub action: &'a str,
    /// The user whose account is acted on.
    pub user: &'a str,
    /// The environment of the account.
    pub env: &'a str,
}

/// Everything an action would do. The JSON form is a stable contract
/// (docs/json.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// The action.
    pub action: String,
    /// The user acted on.
    pub target: String,
    /// The environment.
    pub env: String,
    /// The action asked, when it falls back (P3): what follows is then the
    /// impact of `action`, the fallback done instead. Left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instead_of: Option<String>,
    /// Records refer to the account, so the action is impossible (P3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Assets that need a new owner (D3, D6).
    pub reassign: Vec<Reassignment>,
    /// Assets of others that break because of this (D3).
    pub at_risk: Vec<AtRisk>,
    /// Assets revoked (API keys, D6).
    pub revoke: Vec<String>,
    /// Assets removed (alerts, notifications, sessions, Q8).
    pub remove: Vec<String>,
    /// Assets disabled (alerts on block, Q4).
    pub disable: Vec<String>,
    /// The license the account counts toward, before and after, even when
    /// its count does not move; for an account that counts toward none
    /// before the action (anonymous), the first of `licenses`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<LicenseChange>,
    /// Every license whose count the action moves, by license id: the own
    /// license and, for a guest converted to a normal user, the customer's
    /// too (G3, G12). Left out when no count moves, so that a plan saved
    /// before this key existed keeps its digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseChange>,
    /// The user record goes too: this was their last account and the
    /// lifecycle block says `orphaned user -> remove` (D4).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removes_user: bool,
    /// Assets the removed account owns that no `owns` line of the action's
    /// lifecycle block names: they stay, without owner (D3). Left out when
    /// there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_without_owner: Vec<String>,
    /// Things to know.
    pub warnings: Vec<Warning>,
}

/// The code of the warning that assets are left without owner.
pub const LEFT_WITHOUT_OWNER: &str = "left_without_owner";

/// The action cannot be done; this one is proposed instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fallback {
    /// The proposed action (`block`).
    pub action: String,
    /// `allow` or `deny`: whether the actor may do the fallback; `unknown`
    /// when no actor was given.
    pub decision: String,
    /// The records that prevent the action.
    pub references: Vec<ReferenceCount>,
}

/// Rows of one table that refer to the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceCount {
    /// The table.
    pub table: String,
    /// How many rows.
    pub rows: u64,
}

/// An asset that needs a new owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reassignment {
    /// The asset.
    pub asset: String,
    /// Its kind.
    pub kind: String,
    /// Who may take it: active members of the environment, the target excluded.
    pub candidates: Candidates,
    /// Who may reassign it, as the policy says (D7); one list shared by
    /// every asset the policy treats alike.
    pub reassigners: Arc<[String]>,
    /// The new owner the lifecycle block names (`reassign to ...`), if any;
    /// `apply` uses it when no other is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_owner: Option<String>,
    /// In a plan: who will own it when the plan is applied, the owner given
    /// by name or the default owner, decided by the policy when the plan was
    /// made; `None`: apply needs one (`--reassign ASSET=USER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_owner: Option<String>,
}

/// The active members of an environment but one: shared between every
/// asset of a batch (an environment may have thousands of members), and
/// serialized as the plain list of user ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Candidates {
    members: Arc<[String]>,
    except: String,
}

impl Candidates {
    /// The candidates, in directory order.
    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.members.iter().filter(move |m| **m != self.except)
    }

    /// Whether `user` is one of the candidates.
    pub fn contains(&self, user: &str) -> bool {
        user != self.except && self.members.iter().any(|m| m == user)
    }

    /// Whether there is no candidate.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl Serialize for Candidates {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Candidates {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let members: Vec<String> = Vec::deserialize(deserializer)?;
        Ok(Candidates { members: members.into(), except: String::new() })
    }
}

/// The active members of each environment, computed once per environment
/// and shared by every impact that uses it.
#[derive(Debug, Default)]
pub struct MemberCache {
    members: Mutex<HashMap<String, Arc<[String]>>>,
}

/// An asset of someone else that breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtRisk {
    /// The asset at risk.
    pub asset: String,
    /// From it to the asset the action takes away.
    pub path: Vec<String>,
}

/// The count of one license before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseChange {
    /// The license.
    pub license: String,
    /// Users counting now.
    pub before: usize,
    /// Users counting after.
    pub after: usize,
}

/// Something the administrator should know, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// `idp_recreates_user`, `active_in_other_environments`,
    /// `pending_invitation_voided`, `anonymous_not_member`.
    pub code: String,
    /// In words.
    pub message: String,
}

/// The code of the warning that a user keeps access elsewhere (P7).
pub const ACTIVE_ELSEWHERE: &str = "active_in_other_environments";

/// The warning that the user of `account` stays active in other
/// environments (P7), and keeps counting toward its license through those
/// of the same license (P2): among their other active accounts, those
/// `stays` keeps (a plan leaves out what its other items take).
pub(crate) fn active_elsewhere(
    directory: &Directory,
    schema: &Schema,
    account: &Account,
    stays: impl Fn(&Account) -> bool,
) -> Option<Warning> {
    let others: Vec<&Account> = directory
        .accounts_of(&account.user)
        .filter(|a| a.env != account.env && schema.login(&a.status) && stays(a))
        .collect();
    if others.is_empty() {
        return None;
    }
    let license = license_of(directory, schema, account);
    let shared: Vec<&str> = others
        .iter()
        .filter(|a| {
            license.is_some() && schema.counts(&a.status) && license_of(directory, schema, a) == license
        })
        .map(|a| a.env.as_str())
        .collect();
    let envs: Vec<&str> = others.iter().map(|a| a.env.as_str()).collect();
    let mut message = format!("`{}` stays active in {} (P7)", account.user, envs.join(", "));
    if !shared.is_empty() {
        message.push_str(&format!(
            "; they keep counting toward license {} through {} (P2)",
            license.unwrap_or_default(),
            shared.join(", ")
        ));
    }
    Some(Warning { code: ACTIVE_ELSEWHERE.into(), message })
}

/// Why an impact cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum ImpactError {
    /// The account does not exist.
    #[error("`{user}` has no account in `{env}`")]
    NoAccount {
        /// The user.
        user: String,
        /// The environment.
        env: String,
    },
}

/// An account of a member of the environment who may log in: a kind of
/// member, a status that may log in.
fn is_member(schema: &Schema, account: &Account) -> bool {
    schema.login(&account.status) && schema.member(&account.kind)
}

/// Computes impacts over one directory and its graph, sharing the license
/// index across a batch.
pub struct Analyzer<'a> {
    schema: &'a Schema,
    directory: &'a Directory,
    graph: &'a ReferenceGraph,
    licenses: &'a LicenseIndex,
    members: &'a MemberCache,
}

impl<'a> Analyzer<'a> {
    /// An analyzer for `directory`, its `graph`, its license index and a
    /// cache of environment members (keep one per directory for a batch).
    pub fn new(
        schema: &'a Schema,
        directory: &'a Directory,
        graph: &'a ReferenceGraph,
        licenses: &'a LicenseIndex,
        members: &'a MemberCache,
    ) -> Self {
        Analyzer { schema, directory, graph, licenses, members }
    }

    /// The impact of `query` under `lifecycle` (the policy's block for the
    /// action, if any), with follow-up decisions from `authorizer`.
    pub fn impact(
        &self,
        query: &ImpactQuery<'_>,
        lifecycle: Option<&LifecycleSpec>,
        authorizer: &dyn Authorizer,
    ) -> Result<Impact, ImpactError> {
        let no_account = || ImpactError::NoAccount { user: query.user.to_owned(), env: query.env.to_owned() };
        let node = self
            .directory
            .account_index(query.user, query.env)
            .and_then(|i| self.graph.account_node(i))
            .ok_or_else(no_account)?;
        let account = self.account_at(node).ok_or_else(no_account)?;
        let mut impact = Impact {
            action: query.action.to_owned(),
            target: query.user.to_owned(),
            env: query.env.to_owned(),
            ..Impact::default()
        };
        if let Some(spec) = lifecycle {
            impact.fallback = self.fallback(node, spec, query, authorizer);
            // A deletion that falls back changes nothing it owns: the block it
            // falls back to has its own impact.
            if impact.fallback.is_none() {
                self.consequences(node, account, spec, authorizer, &mut impact);
                impact.removes_user = spec.remove_orphaned_user
                    && self.directory.accounts_of(query.user).all(|a| a.env == query.env);
            }
        }
        let effective = match &impact.fallback {
            Some(fallback) => fallback.action.as_str(),
            None => query.action,
        };
        (impact.license, impact.licenses) = self.licenses(account, effective);
        impact.warnings = self.warnings(account, effective);
        Ok(impact)
    }

    /// The assets the account of `user` in `env` owns whose kind `spec`
    /// names no consequence for (all of them without a block), by id.
    pub fn unprovided(&self, user: &str, env: &str, spec: Option<&LifecycleSpec>) -> Vec<String> {
        let Some(node) = self.directory.account_index(user, env).and_then(|i| self.graph.account_node(i))
        else {
            return Vec::new();
        };
        let mut ids: Vec<String> = self
            .graph
            .outgoing(node)
            .filter(|(edge, _)| *edge == Edge::Owns)
            .filter_map(|(_, asset)| self.asset_id(asset))
            .filter(|asset| spec.is_none_or(|spec| spec.consequence(&asset.kind).is_none()))
            .map(|asset| asset.id.to_string())
            .collect();
        ids.sort();
        ids
    }

    /// The records that refer to the account of `user` in `env`, by table:
    /// what keeps it from being deleted (P3).
    pub fn references(&self, user: &str, env: &str) -> Vec<ReferenceCount> {
        self.directory
            .account_index(user, env)
            .and_then(|i| self.graph.account_node(i))
            .map(|node| self.references_at(node))
            .unwrap_or_default()
    }

    fn references_at(&self, node: NodeIndex) -> Vec<ReferenceCount> {
        let mut references: Vec<ReferenceCount> = self
            .graph
            .incoming(node)
            .filter_map(|(edge, from)| match (edge, self.graph.node(from)) {
                (Edge::Refers, Some(Node::Table(i))) => self
                    .directory
                    .references()
                    .get(i as usize)
                    .map(|r| ReferenceCount { table: r.table.to_string(), rows: r.rows }),
                _ => None,
            })
            .collect();
        references.sort_by(|a, b| a.table.cmp(&b.table));
        references
    }

    fn account_at(&self, node: NodeIndex) -> Option<&'a Account> {
        match self.graph.node(node)? {
            Node::Account(i) => self.directory.accounts().get(i as usize),
            _ => None,
        }
    }

    fn asset_id(&self, node: NodeIndex) -> Option<&'a crate::directory::model::Asset> {
        match self.graph.node(node)? {
            Node::Asset(i) => self.directory.assets().get(i as usize),
            _ => None,
        }
    }

    fn fallback(
        &self,
        node: NodeIndex,
        spec: &LifecycleSpec,
        query: &ImpactQuery<'_>,
        authorizer: &dyn Authorizer,
    ) -> Option<Fallback> {
        let action = spec.fallback.as_ref()?;
        let references = self.references_at(node);
        if references.is_empty() {
            return None;
        }
        let decision = match query.actor {
            Some(actor) if authorizer.may_act(actor, action, query.user, query.env) => "allow",
            Some(_) => "deny",
            None => "unknown",
        };
        Some(Fallback { action: action.clone(), decision: decision.to_owned(), references })
    }

    fn consequences(
        &self,
        node: NodeIndex,
        account: &Account,
        spec: &LifecycleSpec,
        authorizer: &dyn Authorizer,
        impact: &mut Impact,
    ) {
        let mut owned: Vec<(NodeIndex, &crate::directory::model::Asset)> = self
            .graph
            .outgoing(node)
            .filter(|(edge, _)| *edge == Edge::Owns)
            .filter_map(|(_, asset)| Some((asset, self.asset_id(asset)?)))
            .collect();
        owned.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        let mut affected = Vec::new();
        for (asset_node, asset) in owned {
            let Some(consequence) = spec.consequence(&asset.kind) else { continue };
            affected.push(asset_node);
            match consequence {
                Consequence::Reassign => impact.reassign.push(Reassignment {
                    asset: asset.id.to_string(),
                    kind: asset.kind.to_string(),
                    candidates: self.candidates(account),
                    reassigners: self.reassigners(asset, authorizer),
                    default_owner: authorizer.default_owner(&spec.action, asset),
                    new_owner: None,
                }),
                Consequence::Revoke => impact.revoke.push(asset.id.to_string()),
                Consequence::Remove => impact.remove.push(asset.id.to_string()),
                Consequence::Disable => impact.disable.push(asset.id.to_string()),
            }
        }
        impact.at_risk = self.at_risk(node, &affected);
    }

    /// Active member accounts of the environment, the target excluded
    /// (anonymous accounts are not members and own nothing, D2).
    fn candidates(&self, account: &Account) -> Candidates {
        Candidates { members: self.members_of(&account.env), except: account.user.to_string() }
    }

    fn members_of(&self, env: &str) -> Arc<[String]> {
        let compute = || -> Arc<[String]> {
            self.directory
                .accounts_in(env)
                .filter(|a| is_member(self.schema, a))
                .map(|a| a.user.to_string())
                .collect()
        };
        let Ok(mut cache) = self.members.members.lock() else { return compute() };
        if let Some(known) = cache.get(env) {
            return known.clone();
        }
        let members = compute();
        cache.insert(env.to_owned(), members.clone());
        members
    }

    fn reassigners(
        &self,
        asset: &crate::directory::model::Asset,
        authorizer: &dyn Authorizer,
    ) -> Arc<[String]> {
        // The members are the environment's, shared by every impact: an
        // authorizer that remembers its answers never walks them again.
        authorizer.reassigners(asset, &self.members_of(&asset.env))
    }

    /// Assets owned by others that sit in or use, directly or not, one of
    /// the `affected` assets; each with the path that links them.
    fn at_risk(&self, owner: NodeIndex, affected: &[NodeIndex]) -> Vec<AtRisk> {
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue: VecDeque<NodeIndex> = affected.iter().copied().collect();
        let mut seen: BTreeSet<NodeIndex> = affected.iter().copied().collect();
        let mut found = Vec::new();
        while let Some(node) = queue.pop_front() {
            for (edge, dependant) in self.graph.incoming(node) {
                if !matches!(edge, Edge::In | Edge::Uses) || !seen.insert(dependant) {
                    continue;
                }
                parent.insert(dependant, node);
                queue.push_back(dependant);
                let owned_by_target =
                    self.graph.incoming(dependant).any(|(e, from)| e == Edge::Owns && from == owner);
                if !owned_by_target {
                    found.push(dependant);
                }
            }
        }
        let mut at_risk: Vec<AtRisk> = found
            .into_iter()
            .filter_map(|node| {
                let mut path = Vec::new();
                let mut step = Some(node);
                while let Some(current) = step {
                    path.push(self.asset_id(current)?.id.to_string());
                    step = parent.get(&current).copied();
                }
                Some(AtRisk { asset: path.first()?.clone(), path })
            })
            .collect();
        at_risk.sort_by(|a, b| a.asset.cmp(&b.asset));
        at_risk
    }

    /// The own license of the account before and after, and every license
    /// whose count moves. The account after the operation comes from the
    /// one table plan and apply use, and the counts from the same index
    /// delta as a plan's summary, so one item's impact and a plan of that
    /// item agree: a user stops counting toward a license when this was
    /// their last counting account there, and starts when it is their
    /// first (P2, P6, D1); a guest converted to a normal account moves to
    /// the customer's license (G3, G12). An operation that needs a value
    /// the impact does not have (an edit) moves none.
    fn licenses(&self, account: &Account, action: &str) -> (Option<LicenseChange>, Vec<LicenseChange>) {
        let operation = Operation {
            schema: self.schema,
            outcome: action,
            user: &account.user,
            env: &account.env,
            value: None,
        };
        let moved: Vec<LicenseChange> =
            match operation.preview(self.directory, jiff::Timestamp::UNIX_EPOCH, SignedDuration::ZERO) {
                Ok(change) => self
                    .licenses
                    .after_changes(self.directory, self.schema, [(change.before, change.after.as_ref())])
                    .into_iter()
                    .filter(|(_, before, after)| before != after)
                    .map(|(license, before, after)| LicenseChange { license, before, after })
                    .collect(),
                Err(_) => Vec::new(),
            };
        let own = license_of(self.directory, self.schema, account).map(|license| {
            moved.iter().find(|c| c.license == license).cloned().unwrap_or_else(|| {
                let count = self.licenses.count(license);
                LicenseChange { license: license.to_owned(), before: count, after: count }
            })
        });
        (own.or_else(|| moved.first().cloned()), moved)
    }

    fn warnings(&self, account: &Account, action: &str) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let spec = self.schema.action(action);
        let removes = spec.is_some_and(|s| s.removes_account());
        // The account goes, or moves to a status that cannot log in.
        let removes_access = removes
            || spec.is_some_and(|s| matches!(&s.effect, Some(Effect::Move(to)) if !self.schema.login(to)));
        let environment = self.directory.environment(&account.env);
        if removes
            && let Some(env) = environment
            && crate::directory::conform::on_identity_provider(self.schema, env)
        {
            warnings.push(Warning {
                code: "idp_recreates_user".into(),
                message: format!(
                    "`{}` uses an identity provider: `{}` is created again at their next login unless removed from the identity provider first (D5)",
                    env.id, account.user
                ),
            });
        }
        if removes_access {
            warnings.extend(active_elsewhere(self.directory, self.schema, account, |_| true));
        }
        if removes && self.schema.expires(&account.status) {
            warnings.push(Warning {
                code: "pending_invitation_voided".into(),
                message: format!(
                    "the invitation of `{}` no longer works once the account is deleted (D1, Q7)",
                    account.user
                ),
            });
        }
        if !self.schema.member(&account.kind) {
            warnings.push(Warning {
                code: "anonymous_not_member".into(),
                message: format!(
                    "`{}` is a `{}` account, which is not a member of the environment: what made it (for anonymous access to an app, the setting or its access code) makes it again until it is turned off (D2)",
                    account.user, account.kind
                ),
            });
        }
        warnings
    }
}
