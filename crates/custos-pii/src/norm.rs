//! Text as a scanner must see it: what a reader sees, not how it is encoded.
//!
//! Every character goes through NFKC (full-width, superscript and circled
//! digits become ASCII digits; no-break and ideographic spaces become spaces),
//! characters that render as nothing (zero-width, soft hyphen, bidi controls)
//! are dropped, and each kept character remembers the byte range of the
//! original character it came from, so findings point into the caller's text.

use std::ops::Range;
use unicode_normalization::UnicodeNormalization;

/// One visible character of the normalised text.
#[derive(Debug, Clone)]
pub(crate) struct Ch {
    /// The NFKC character, dashes folded to `-`.
    pub c: char,
    /// Lower case without accents, for matching labels (`Prüfnummer` → `prufnummer`).
    pub folded: char,
    /// Byte range of the original character.
    pub span: Range<usize>,
}

/// Characters that render as nothing or only steer direction: a card number
/// with them inside reads the same to a person, so they must not hide it.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                       // soft hyphen
        | '\u{034F}'                     // combining grapheme joiner
        | '\u{061C}'                     // Arabic letter mark
        | '\u{115F}' | '\u{1160}'        // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'        // Mongolian variation selectors and vowel separator
        | '\u{200B}'..='\u{200F}'        // zero-width space/non-joiner/joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'        // bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}'        // word joiner, invisible operators, bidi isolates
        | '\u{3164}' | '\u{FFA0}'        // Hangul fillers
        | '\u{FE00}'..='\u{FE0F}'        // variation selectors
        | '\u{FEFF}'                     // byte-order mark / zero-width no-break space
        | '\u{E0000}'..='\u{E007F}'      // tags
    )
}

fn fold_dash(c: char) -> char {
    match c {
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
        c if c.is_whitespace() => {
            if c == '\n' || c == '\t' || c == '\r' {
                c
            } else {
                ' '
            }
        }
        c => c,
    }
}

fn fold_for_labels(c: char) -> char {
    let mut base = c;
    unicode_normalization::char::decompose_canonical(c, |d| {
        if base == c && !unicode_normalization::char::is_combining_mark(d) {
            base = d;
        }
    });
    base.to_lowercase().next().unwrap_or(base)
}

/// The visible characters of `text`, normalised.
pub(crate) fn normalise(text: &str) -> Vec<Ch> {
    let mut out = Vec::with_capacity(text.len());
    for (i, orig) in text.char_indices() {
        if is_invisible(orig) {
            continue;
        }
        let span = i..i + orig.len_utf8();
        for n in std::iter::once(orig).nfkc() {
            if is_invisible(n) {
                continue;
            }
            let c = fold_dash(n);
            out.push(Ch {
                c,
                folded: fold_for_labels(c),
                span: span.clone(),
            });
        }
    }
    out
}

/// Characters allowed between the digit groups of one number.
pub(crate) fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '/' | '-' | '_' | ',' | '\t' | '\n' | '\r')
}

/// At most this many separators in a row still join two digit groups.
pub(crate) const MAX_SEPARATOR_RUN: usize = 3;

/// Byte range in the original text covered by normalised characters `from..to`.
pub(crate) fn span_of(chars: &[Ch], from: usize, to: usize) -> Option<Range<usize>> {
    let first = chars.get(from)?;
    let last = chars.get(to.checked_sub(1)?)?;
    Some(first.span.start..last.span.end)
}
