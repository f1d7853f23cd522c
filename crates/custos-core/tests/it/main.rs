//! The vault over a real SQLite store, with a test clock and a scripted consent view.

// Test helpers may panic: a failed expectation is the point of a test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod consent;
mod harness;
mod keys;
mod reads;
mod rights;
mod writes;
