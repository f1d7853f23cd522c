//! Finding personal data where it should not be. Today: payment card numbers
//! (P0-2: a card number is refused wherever it appears, also inside free text)
//! and field names that announce a card security code.
#![forbid(unsafe_code)]

pub mod cards;

pub use cards::{contains_card_number, find_card_numbers, is_cvv_field_name};
