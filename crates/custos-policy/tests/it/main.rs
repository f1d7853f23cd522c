//! Integration tests of custos-policy, one binary (STYLE.md habit 3).

// Test helpers may panic: a failed expectation is the point of a test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod compiler;
mod diff;
mod notice;
mod robustness;
mod seeds_privacy;
mod seeds_terms;
mod snapshots;
mod validation;
