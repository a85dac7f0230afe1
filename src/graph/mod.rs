//! The reference graph and impact analysis: what an action on an account
//! would do before anyone does it (issue-level overview in ARCHITECTURE.md).
//!
//! `build` makes the petgraph graph of a directory, `impact` walks it under
//! a lifecycle block, `license` counts who counts toward which license,
//! `dot` and `report` show an impact to people.

pub mod build;
pub mod dot;
pub mod impact;
pub mod license;
pub mod report;

pub use build::{Edge, Node, ReferenceGraph};
pub use impact::{
    Analyzer, AtRisk, Authorizer, Candidates, Fallback, Impact, ImpactError, ImpactQuery, LicenseChange,
    MemberCache, Reassignment, ReferenceCount, Warning,
};
pub use license::{LicenseCount, LicenseIndex};
