//! CommonMark (with GitHub tables) rendering of a [`Notice`].

use super::{Block, Notice};

/// Renders the notice as Markdown. Every text is escaped, so a policy string can
/// never inject markup, raw HTML or break a table.
pub fn to_markdown(notice: &Notice) -> String {
    let mut out = format!("# {}\n", escape_inline(&notice.title));
    for section in &notice.sections {
        out.push_str(&format!("\n## {}\n", escape_inline(&section.heading)));
        for block in &section.blocks {
            out.push('\n');
            block_to_markdown(&mut out, block);
        }
    }
    out
}

fn block_to_markdown(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(text) => {
            out.push_str(&escape_inline(text));
            out.push('\n');
        }
        Block::Subheading(text) => {
            out.push_str(&format!("### {}\n", escape_inline(text)));
        }
        Block::List(items) => {
            for item in items {
                out.push_str(&format!("- {}\n", escape_inline(item)));
            }
        }
        Block::Table { header, rows } => table(out, header, rows),
    }
}

fn table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let width = rows.iter().map(Vec::len).fold(header.len(), usize::max);
    if width == 0 {
        return;
    }
    let row = |out: &mut String, cells: &[String]| {
        out.push('|');
        for i in 0..width {
            let cell = cells.get(i).map_or(String::new(), |c| escape_inline(c));
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    };
    row(out, header);
    out.push('|');
    for _ in 0..width {
        out.push_str(" --- |");
    }
    out.push('\n');
    for r in rows {
        row(out, r);
    }
}

/// Escapes one line of text for any inline Markdown context: paragraph, list item,
/// heading or table cell. Line breaks become spaces, because in Markdown a newline
/// inside a cell or a list item would end it and let the rest be read as markup.
pub(crate) fn escape_inline(text: &str) -> String {
    let text = text.trim();
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\r' | '\n' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // Inside a word (`date_of_birth`) an underscore cannot open emphasis, and
            // leaving it bare keeps ids readable in the source.
            '_' if !inside_word(&chars, i) => out.push_str("\\_"),
            // Only where it would start an entity reference (`&amp;`), so ordinary
            // ampersands stay readable in the source.
            '&' if starts_entity(chars.get(i + 1..).unwrap_or_default()) => out.push_str("\\&"),
            // At the start of the text these would open a heading or a list.
            '#' | '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if is_list_number(chars.get(..i).unwrap_or_default()) => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn inside_word(chars: &[char], i: usize) -> bool {
    let alnum = |j: Option<usize>| {
        j.and_then(|j| chars.get(j))
            .is_some_and(|c| c.is_alphanumeric())
    };
    alnum(i.checked_sub(1)) && alnum(i.checked_add(1))
}

fn starts_entity(rest: &[char]) -> bool {
    let name = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .count();
    name > 0 && rest.get(name) == Some(&';')
}

/// `1.` or `12)` at the start of a line opens an ordered list.
fn is_list_number(before: &[char]) -> bool {
    !before.is_empty() && before.len() <= 9 && before.iter().all(char::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_neutralised() {
        assert_eq!(escape_inline("a | b"), "a \\| b");
        assert_eq!(escape_inline("<script>"), "\\<script\\>");
        assert_eq!(escape_inline("# not a heading"), "\\# not a heading");
        assert_eq!(escape_inline("1. not a list"), "1\\. not a list");
        assert_eq!(escape_inline("A & B &amp;"), "A & B \\&amp;");
        assert_eq!(escape_inline("two\nlines"), "two lines");
        assert_eq!(escape_inline("user_id 3.5"), "user_id 3.5");
        assert_eq!(escape_inline("_emphasis_"), "\\_emphasis\\_");
    }
}
