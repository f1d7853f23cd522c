//! Category names (`user.contact.email`) and the patterns purposes use to name
//! several at once (`user.contact.*`, `*`).

/// A category name: dot-separated lowercase segments, each starting with a letter.
pub fn is_valid_category_name(name: &str) -> bool {
    !name.is_empty() && name.split('.').all(is_valid_segment)
}

fn is_valid_segment(seg: &str) -> bool {
    let mut chars = seg.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// An id for a purpose, recipient, plan or jurisdiction: letters, digits, `_`, `-`, `.`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A pattern: a category name, a name followed by `.*` (everything below it), or `*`.
pub fn is_valid_pattern(pattern: &str) -> bool {
    match pattern.strip_suffix(".*") {
        _ if pattern == "*" => true,
        Some(prefix) => is_valid_category_name(prefix),
        None => is_valid_category_name(pattern),
    }
}

/// Whether `pattern` names `category`. `user.contact.*` matches `user.contact.email`
/// and `user.contact.address.postal`, but not `user.contact` itself.
pub fn pattern_matches(pattern: &str, category: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) => category
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => pattern == category,
    }
}

pub fn is_wildcard(pattern: &str) -> bool {
    pattern == "*" || pattern.ends_with(".*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_category_name("user.contact.email"));
        assert!(is_valid_category_name("user"));
        assert!(!is_valid_category_name("User.contact"));
        assert!(!is_valid_category_name("user..email"));
        assert!(!is_valid_category_name("user.1st"));
        assert!(!is_valid_category_name(""));
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("*", "user.contact.email"));
        assert!(pattern_matches("user.contact.*", "user.contact.email"));
        assert!(pattern_matches(
            "user.contact.*",
            "user.contact.address.postal"
        ));
        assert!(!pattern_matches("user.contact.*", "user.contact"));
        assert!(!pattern_matches("user.contact.*", "user.contactless"));
        assert!(pattern_matches("user.contact.email", "user.contact.email"));
        assert!(!pattern_matches(
            "user.contact.email",
            "user.contact.email.work"
        ));
        assert!(is_valid_pattern("user.*"));
        assert!(!is_valid_pattern("user.*.email"));
        assert!(!is_valid_pattern("us*"));
    }
}
