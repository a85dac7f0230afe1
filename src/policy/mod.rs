//! The policy language: source files, syntax tree, parser, validator and
//! compiler, evaluator, and the compiled [`PolicySet`].
//!
//! The stages, in order: `load` reads files, `parse` builds the `ast`,
//! `compile` resolves and type-checks it against the `schema`, `set`
//! assembles and indexes the [`PolicySet`], `eval` decides requests.

pub mod ast;
pub mod compile;
pub mod decision;
pub mod diagnostic;
pub mod eval;
pub mod fmt;
pub mod load;
pub mod parse;
pub mod report;
pub mod request;
pub mod schema;
pub mod set;
pub mod source;

pub use decision::{Builtin, Decision, DecisionReport, RuleRef, RuleReport};
pub use diagnostic::{Diagnostic, Severity};
pub use request::{Request, RequestError};
pub use set::{Error, LifecycleSpec, Loaded, PolicySet, RuleInfo, Selector, TriggerSpec};
pub use source::{FileId, SourceFile, Sources, Span};
