//! Integration tests of custos-policy, one binary (STYLE.md habit 3).

mod notice;
mod seeds_privacy;
mod seeds_terms;
mod validation;
