//! The custos domain: what happens to personal data, decided from the compiled policy.
//!
//! This crate knows nothing of HTTP or SQL. It defines the traits the outside
//! world implements (the clock now; the store, key ring and outbox as their
//! issues land) and the rules that run on top of them.
#![forbid(unsafe_code)]

pub mod clock;
