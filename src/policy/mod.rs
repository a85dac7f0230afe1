//! The policy language: source files, syntax tree, parser, validator and
//! compiler, evaluator, and the compiled [`PolicySet`].
//!
//! The stages, in order: `load` reads files, `parse` builds the `ast`,
//! `compile` resolves and type-checks it against the `schema`, `set`
//! assembles and indexes the [`PolicySet`], `eval` decides requests.

pub mod ast;
pub mod compile;
pub mod decision;
pub mod declare;
pub mod eval;
pub mod fmt;
pub mod lint;
pub mod load;
pub mod parse;
pub mod report;
pub mod request;
pub mod schema;
pub mod set;

pub use decision::{Builtin, Decision, DecisionReport, RuleRef, RuleReport};
// Diagnostics and sources are shared with the directory loader: they live at
// the crate's root, and are named here too, where policy code and callers
// have always found them.
pub use crate::diagnostic::{self, Diagnostic, Severity};
pub use crate::source::{self, FileId, SourceFile, Sources, Span};
pub use request::{Request, RequestError};
pub use set::{Error, LifecycleSpec, Loaded, PolicySet, RuleInfo, Selector, TriggerSpec};
