//! The shape a value must have for its category before it is stored
//! (`Shape` in the policy). Errors name the category and the expected shape,
//! never the value: error messages must not carry personal data.

use custos_policy::model::Shape;
use serde_json::Value;

/// Longest text value accepted, in characters.
pub const MAX_TEXT: usize = 10_000;

/// Why a value does not fit its category's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("expected {expected}")]
    Expected { expected: &'static str },
    #[error("longer than {max} characters")]
    TooLong { max: usize },
}

fn expected(e: &'static str) -> ShapeError {
    ShapeError::Expected { expected: e }
}

/// Checks `value` against `shape` and returns its canonical form (what is sealed).
pub fn check(shape: Shape, value: &Value) -> Result<Value, ShapeError> {
    match shape {
        Shape::Json => Ok(value.clone()),
        Shape::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            _ => Err(expected("a number")),
        },
        Shape::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err(expected("true or false")),
        },
        _ => {
            let Value::String(s) = value else {
                return Err(expected("a string"));
            };
            if s.chars().count() > MAX_TEXT {
                return Err(ShapeError::TooLong { max: MAX_TEXT });
            }
            check_text(shape, s).map(Value::String)
        }
    }
}

fn check_text(shape: Shape, s: &str) -> Result<String, ShapeError> {
    let t = s.trim();
    match shape {
        Shape::Email => is_email(t)
            .then(|| t.to_owned())
            .ok_or(expected("an email address")),
        Shape::Phone => is_e164(t)
            .then(|| t.to_owned())
            .ok_or(expected("a phone number in E.164 form (+33612345678)")),
        Shape::Date => t
            .parse::<jiff::civil::Date>()
            .ok()
            .filter(|_| t.len() == 10)
            .map(|d| d.to_string())
            .ok_or(expected("a date YYYY-MM-DD")),
        Shape::Coordinates => coordinates(t).ok_or(expected("coordinates \"lat,lon\"")),
        Shape::Token => (!t.is_empty() && t.len() <= 512 && !t.chars().any(char::is_whitespace))
            .then(|| t.to_owned())
            .ok_or(expected("a token without spaces (at most 512 bytes)")),
        Shape::Text | Shape::PostalAddress => {
            if t.is_empty() {
                Err(expected("a non-empty text"))
            } else if s
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
            {
                Err(expected("text without control characters"))
            } else {
                Ok(s.to_owned())
            }
        }
        Shape::Json | Shape::Number | Shape::Boolean => Ok(s.to_owned()),
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = s.len() <= 254
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

fn coordinates(s: &str) -> Option<String> {
    let (lat, lon) = s.split_once(',')?;
    let lat: f64 = lat.trim().parse().ok()?;
    let lon: f64 = lon.trim().parse().ok()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
        .then(|| format!("{lat},{lon}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails() {
        assert!(check(Shape::Email, &json!(" alice@example.com ")).is_ok());
        for bad in [
            "alice",
            "alice@",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@b.com",
            "a@-b.com",
        ] {
            assert!(check(Shape::Email, &json!(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_e164() {
        assert!(check(Shape::Phone, &json!("+33612345678")).is_ok());
        for bad in [
            "0612345678",
            "+0612345678",
            "+33 6 12 34 56 78",
            "+12",
            "+1234567890123456",
        ] {
            assert!(check(Shape::Phone, &json!(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_exist() {
        assert_eq!(
            check(Shape::Date, &json!("2000-02-29")).unwrap(),
            json!("2000-02-29")
        );
        for bad in ["2001-02-29", "2001-2-3", "yesterday", "20010203"] {
            assert!(check(Shape::Date, &json!(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn types_are_enforced() {
        assert!(check(Shape::Email, &json!(12)).is_err());
        assert!(check(Shape::Number, &json!("12")).is_err());
        assert!(check(Shape::Boolean, &json!(true)).is_ok());
        assert!(check(Shape::Text, &json!("")).is_err());
        assert!(check(Shape::Text, &json!("x".repeat(MAX_TEXT + 1))).is_err());
        assert!(check(Shape::Coordinates, &json!("48.85, 2.35")).is_ok());
        assert!(check(Shape::Coordinates, &json!("91,0")).is_err());
    }

    #[test]
    fn errors_never_echo_the_value() {
        let e = check(Shape::Email, &json!("secret-value")).unwrap_err();
        assert!(!e.to_string().contains("secret-value"));
    }
}
