//! steward: a policy engine for user lifecycle administration.
//!
//! Policies say who may invite, block, unblock, delete or edit whom; the
//! directory says who exists where and what they own; the reference graph
//! says what an action would break. See `ARCHITECTURE.md` for the map.
//!
//! # Embedding
//!
//! An [`Engine`] is a policy set over a directory, loaded once and shared:
//! it is `Send + Sync` and every method takes `&self`, so one `Arc<Engine>`
//! serves every thread. It answers with the types of docs/json.md, which all
//! implement serde: a [`Request`] gets a [`Verdict`] (the [`DecisionReport`],
//! the fallback and the [`Impact`]); a [`PlanRequest`] gets a [`Plan`].
//!
//! ```
//! # fn main() -> Result<(), steward::Error> {
//! use steward::{Engine, ImpactQuery, PlanRequest, Request, Target, Targets};
//!
//! let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
//! let engine = Engine::load_paths(&[root.join("policies/crm")], &root.join("examples/crm.yaml"))?;
//! let now: jiff::Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
//!
//! // One decision: blocking needs a reason and a confirmation (C2).
//! let mut request = Request::new("crm.Ada", "block", "CRM1").target("crm.Uma");
//! request.now = Some(now);
//! let verdict = engine.decide(&request)?;
//! assert!(!verdict.allowed());
//! assert_eq!(verdict.report.rules[0].id, "confirmed_with_reason");
//!
//! // Many decisions, each answered in the order asked.
//! request.reason = Some("left the company".into());
//! request.confirm = true;
//! let verdicts = engine.decide_batch(&[request.clone(), request]);
//! assert!(verdicts.iter().all(|v| v.as_ref().is_ok_and(|v| v.allowed())));
//!
//! // What blocking Uma would do: one fewer user on the `crm` license.
//! let query = ImpactQuery { actor: Some("crm.Ada"), action: "block", user: "crm.Uma", env: "CRM1" };
//! let impact = engine.impact(&query)?;
//! assert_eq!(impact.license.map(|l| (l.before, l.after)), Some((4, 3)));
//!
//! // The dry run of a bulk change: nothing is applied.
//! let plan = engine.plan(&PlanRequest {
//!     actor: "crm.Ada".into(),
//!     action: Some("block".into()),
//!     targets: Targets::List(vec![Target::user("crm.Uma"), Target::user("crm.Vic")]),
//!     env: Some("CRM1".into()),
//!     value: None,
//!     reason: "contracts ended".into(),
//!     now,
//!     reassign: Default::default(),
//! })?;
//! assert_eq!(plan.summary.outcomes.get("block"), Some(&2));
//! # Ok(())
//! # }
//! ```
//!
//! A host that keeps its accounts elsewhere passes the entities of one
//! request as a small [`Directory`] to [`Engine::decide_with`]; the HTTP
//! service ([`server`], `steward serve`) answers the same questions over HTTP.

pub mod analysis;
pub mod apply;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod digest;
pub mod directory;
pub mod engine;
pub mod error;
pub mod gateway;
pub mod graph;
pub mod operation;
pub mod plan;
pub mod policy;
pub mod schema;
pub mod server;
pub mod source;
pub mod sync;
pub mod testing;

pub use directory::Directory;
pub use engine::{Engine, Verdict};
pub use error::Error;
pub use graph::{Impact, ImpactQuery};
pub use plan::{Plan, PlanRequest, Target, Targets};
pub use policy::{DecisionReport, Request, RequestError};
