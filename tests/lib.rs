//! The integration tests: one binary, one module per area, and `support`,
//! the helpers they share.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod apply;
mod audit;
mod cli;
mod conformance;
mod diagnostics;
mod diff;
mod directory_errors;
mod fmt;
mod gateway;
mod gateway_review;
mod help;
mod impact;
mod limits;
mod operations;
mod plan;
mod props;
mod review;
mod schema;
mod scim;
mod seeds;
mod server;
mod store;
mod support;
mod sync;
mod targets;
mod trust;
mod who;
