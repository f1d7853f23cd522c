//! A standalone HTML5 page for a [`Notice`]: no scripts, no external assets, so
//! the page can be served from anywhere or saved as proof of what was shown.

use super::{Block, Notice};

const STYLE: &str = "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:48rem;\
margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
h2{margin-top:2.5rem;border-bottom:1px solid #ddd}\
.table{overflow-x:auto}\
table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #ccc;padding:.4rem .6rem;text-align:left;vertical-align:top}\
th{background:#f4f4f4}";

/// Renders the notice as a complete HTML5 document. Every text and attribute
/// value goes through [`escape_html`].
pub fn to_html(notice: &Notice) -> String {
    let mut out = String::new();
    out.push_str("<!doctype html>\n");
    out.push_str(&format!(
        "<html lang=\"{}\">\n<head>\n",
        escape_html(&notice.language)
    ));
    out.push_str("<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Belt and braces: even if some text slipped through unescaped, the page may
    // load nothing and run nothing.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    out.push_str(&format!("<title>{}</title>\n", escape_html(&notice.title)));
    out.push_str(&format!(
        "<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    ));
    out.push_str(&to_html_fragment(notice));
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The notice's content (title, contents, sections) without the document around
/// it, for pages that frame it in their own layout. Escaped like [`to_html`].
pub fn to_html_fragment(notice: &Notice) -> String {
    let mut out = String::new();
    out.push_str(&format!("<h1>{}</h1>\n", escape_html(&notice.title)));
    if !notice.sections.is_empty() {
        out.push_str("<nav aria-label=\"Contents\">\n<ul>\n");
        for s in &notice.sections {
            out.push_str(&format!(
                "<li><a href=\"#{}\">{}</a></li>\n",
                escape_html(s.id),
                escape_html(&s.heading)
            ));
        }
        out.push_str("</ul>\n</nav>\n");
    }
    for s in &notice.sections {
        out.push_str(&format!(
            "<section id=\"{}\">\n<h2>{}</h2>\n",
            escape_html(s.id),
            escape_html(&s.heading)
        ));
        for block in &s.blocks {
            block_to_html(&mut out, block);
        }
        out.push_str("</section>\n");
    }
    out
}

fn block_to_html(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", escape_html(text))),
        Block::Subheading(text) => out.push_str(&format!("<h3>{}</h3>\n", escape_html(text))),
        Block::List(items) => {
            out.push_str("<ul>\n");
            for item in items {
                out.push_str(&format!("<li>{}</li>\n", escape_html(item)));
            }
            out.push_str("</ul>\n");
        }
        Block::Table { header, rows } => {
            out.push_str("<div class=\"table\">\n<table>\n");
            if !header.is_empty() {
                out.push_str("<thead>\n<tr>");
                for h in header {
                    out.push_str(&format!("<th scope=\"col\">{}</th>", escape_html(h)));
                }
                out.push_str("</tr>\n</thead>\n");
            }
            out.push_str("<tbody>\n");
            for row in rows {
                out.push_str("<tr>");
                for cell in row {
                    out.push_str(&format!("<td>{}</td>", escape_html(cell)));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody>\n</table>\n</div>\n");
        }
    }
}

/// Escapes text for HTML element content and quoted attribute values alike.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            escape_html(r#"A & B <script>"x"'y'</script>"#),
            "A &amp; B &lt;script&gt;&quot;x&quot;&#39;y&#39;&lt;/script&gt;"
        );
    }
}
