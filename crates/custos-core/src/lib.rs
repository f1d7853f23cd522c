//! The custos domain: what happens to personal data, decided from the compiled policy.
//!
//! This crate knows nothing of HTTP or SQL. It works through the traits the
//! outside world implements — [`custos_store::Store`] for persistence,
//! [`clock::Clock`] for time, [`consent::ConsentView`] for consent state — and
//! holds the rules that run on top of them: the [`vault`] (validated, encrypted
//! writes and purpose-bound reads, each audited in the same transaction).
#![forbid(unsafe_code)]

pub mod api_keys;
pub mod audit;
pub mod clock;
pub mod consent;
pub mod contact;
pub mod contracts;
pub mod error;
pub mod incidents;
pub mod keys;
pub mod notices;
pub mod policy_change;
pub mod retention;
pub mod rights;
pub mod self_service;
pub mod staff;
pub mod tenant;
pub mod vault;
pub mod verification;

pub use error::{FieldError, VaultError};
