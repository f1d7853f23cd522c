//! Finding payment card data where it must not be kept (P0-2): card numbers in
//! any disguise, card security codes written next to their labels, expiry dates
//! next to a card number, and field names that announce a security code. Pure:
//! no I/O, no allocation beyond the text's size; safe on hostile input.
#![forbid(unsafe_code)]

pub mod cards;
#[doc(hidden)]
pub mod fuzzing;
mod norm;
pub mod security_codes;

pub use cards::{contains_card_number, find_card_numbers, is_cvv_field_name};
pub use security_codes::{find_card_expiry, find_security_codes};

/// Whether `text` shows anything to a reader: some character that is neither
/// white space nor invisible (zero-width, bidi controls, fillers). A notice made
/// only of such characters was never given (issue 13.6).
pub fn has_visible_text(text: &str) -> bool {
    text.chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && !norm::is_invisible(c))
}

#[cfg(test)]
mod tests;
