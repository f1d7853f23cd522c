//! The vault over a real SQLite store, with a test clock and a scripted consent view.

// Test helpers may panic: a failed expectation is the point of a test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod audit_log;
mod consent;
mod contact;
mod contracts;
mod gates;
mod harness;
mod incidents;
mod keys;
mod lifecycle;
mod processor;
mod reads;
mod retention;
mod retention_events;
mod rights;
mod seed_promises;
mod verification;
mod writes;
