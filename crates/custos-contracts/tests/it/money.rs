use std::str::FromStr;

use custos_contracts::Currency;
use custos_contracts::money::{Money, MoneyError, line_total};
use rust_decimal::Decimal;

use crate::{eur, gbp};

#[test]
fn mixing_currencies_is_refused() {
    assert_eq!(
        eur(100).checked_add(gbp(100)),
        Err(MoneyError::CurrencyMismatch {
            left: Currency::Eur,
            right: Currency::Gbp
        })
    );
    assert!(eur(100).checked_sub(gbp(1)).is_err());
    assert!(eur(100).min(gbp(1)).is_err());
}

#[test]
fn rounding_is_half_up_and_only_per_line() {
    let unit = Money::new(Decimal::from_str("0.125").unwrap(), Currency::Eur);
    assert_eq!(
        line_total(unit, 1).unwrap(),
        eur(13),
        "half-up, not banker's 0.12"
    );
    assert_eq!(
        line_total(unit, 3).unwrap(),
        eur(38),
        "0.375 → 0.38 once for the line"
    );
    assert_eq!("20 EUR".parse::<Money>().unwrap(), eur(2000));
    assert_eq!("GBP 19.99".parse::<Money>().unwrap(), gbp(1999));
    assert!("20 USD".parse::<Money>().is_err());
    assert_eq!(eur(1999).to_string(), "EUR 19.99");
}
