//! Side-by-side decision benchmark (placeholder while the crates build).
fn main() {}
