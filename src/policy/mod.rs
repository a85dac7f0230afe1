//! The policy language: source files, syntax tree, parser, validator,
//! evaluator and formatter.

pub mod ast;
pub mod diagnostic;
pub mod parse;
pub mod source;

pub use diagnostic::{Diagnostic, Severity};
pub use source::{FileId, SourceFile, Sources, Span};
