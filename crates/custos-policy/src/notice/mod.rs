//! The privacy notice people read, rendered from the policy file.
//!
//! The text is built once into a small document model ([`Notice`]) and only then
//! rendered, so Markdown and HTML say exactly the same thing and the wording lives
//! in one place ([`build`]). Nothing here reads a clock: the same policy always
//! renders to the same bytes, which lets a notice's hash prove what a person saw.

mod build;
mod duties;
mod html;
mod markdown;
mod terms;

pub use build::build;
pub use html::{escape_html, to_html, to_html_fragment};
pub use markdown::to_markdown;

pub(crate) use markdown::escape_inline as markdown_escape;

use crate::model::{Category, Policy};
use crate::names::pattern_matches;

/// A rendered-format-neutral privacy notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    /// BCP 47 tag of the text (`policy.language`), for the HTML `lang` attribute.
    pub language: String,
    pub sections: Vec<Section>,
}

/// One titled part of the notice; `id` is a stable anchor (`who-we-are`, `rights`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: &'static str,
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// Plain text only: renderers escape everything, so no block can carry markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(String),
    /// A heading inside a section (one purpose, one plan, one jurisdiction).
    Subheading(String),
    List(Vec<String>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// The declared categories a purpose's names and patterns cover, in file order,
/// each once even when several patterns match it.
pub(crate) fn categories_of<'a>(
    policy: &'a Policy,
    patterns: &[String],
) -> Vec<(&'a str, &'a Category)> {
    policy
        .category
        .iter()
        .filter(|(name, _)| patterns.iter().any(|p| pattern_matches(p, name)))
        .map(|(name, cat)| (name.as_str(), cat))
        .collect()
}

/// `a`, `a and b`, `a, b and c`: lists read as prose in a notice.
pub(crate) fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "and")
}

pub(crate) fn join_or<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "or")
}

/// Items that contain commas or the joining word themselves are separated by
/// semicolons, so that "Sales, orders and billing" stays one recipient.
fn join_with<S: AsRef<str>>(items: &[S], word: &str) -> String {
    let spaced = format!(" {word} ");
    let sep = if items
        .iter()
        .any(|i| i.as_ref().contains(',') || i.as_ref().contains(&spaced))
    {
        ";"
    } else {
        ","
    };
    let mut out = String::new();
    let last = items.len().saturating_sub(1);
    for (i, item) in items.iter().enumerate() {
        if i == last && i > 0 {
            if sep == ";" {
                out.push(';');
            }
            out.push(' ');
            out.push_str(word);
            out.push(' ');
        } else if i > 0 {
            out.push_str(sep);
            out.push(' ');
        }
        out.push_str(item.as_ref());
    }
    out
}

/// Ends a sentence with a full stop unless its last words (often a name such as
/// "Example S.A.") already end it.
pub(crate) fn sentence(text: String) -> String {
    let mut text = text;
    if !text
        .trim_end_matches(['"', '\'', ')'])
        .ends_with(['.', '!', '?'])
    {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(join_and::<&str>(&[]), "");
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b"]), "a and b");
        assert_eq!(join_or(&["a", "b", "c"]), "a, b or c");
        assert_eq!(
            join_and(&["Sales, orders and billing", "Support"]),
            "Sales, orders and billing; and Support"
        );
        assert_eq!(
            join_and(&["Support", "Finance and billing"]),
            "Support; and Finance and billing"
        );
        assert_eq!(
            sentence("We are Example S.A.".into()),
            "We are Example S.A."
        );
        assert_eq!(sentence("We are Example".into()), "We are Example.");
    }
}
