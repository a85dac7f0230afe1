//! Analysis of a policy set over a directory, for authors, reviewers and
//! auditors: reverse queries (`who`), exact and never cut.

pub mod who;

pub use who::{WhoEntry, WhoError, WhoPage, WhoQuery, who, who_until};
