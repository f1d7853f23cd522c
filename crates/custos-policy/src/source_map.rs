//! Maps a path inside the policy (`purpose.x.categories[2]`) to a line and column,
//! so that semantic errors found on the typed model point at the text.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use crate::diag::Position;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into the document, built with [`path!`](crate::path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn key(mut self, k: impl Into<String>) -> Self {
        self.0.push(Seg::Key(k.into()));
        self
    }

    pub fn index(mut self, i: usize) -> Self {
        self.0.push(Seg::Index(i));
        self
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in &self.0 {
            match s {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    if k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        f.write_str(k)?;
                    } else {
                        write!(f, "\"{k}\"")?;
                    }
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// The parsed document with spans, and the text to turn offsets into lines.
#[derive(Debug)]
pub struct SourceMap<'i> {
    text: &'i str,
    root: Option<Spanned<DeTable<'i>>>,
}

impl<'i> SourceMap<'i> {
    pub fn new(text: &'i str) -> Self {
        SourceMap {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// Line and column of the item at `path`, or of its nearest ancestor that exists.
    pub fn position(&self, path: &Path) -> Option<Position> {
        let span = self.span(path)?;
        Some(self.offset_to_position(span.start))
    }

    fn span(&self, path: &Path) -> Option<Range<usize>> {
        let root = self.root.as_ref()?;
        let mut table: Option<&DeTable<'i>> = Some(root.get_ref());
        let mut array: Option<&DeArray<'i>> = None;
        let mut best = None;
        for seg in &path.0 {
            let (key_span, value) = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => {
                    let Some((key, value)) = t.get_key_value(k.as_str()) else {
                        break;
                    };
                    (Some(key.span()), value)
                }
                (Seg::Index(i), _, Some(a)) => {
                    let Some(value) = a.get(*i) else { break };
                    (None, value)
                }
                _ => break,
            };
            // A table is best located by its key (its header line); a scalar by its value.
            best = match value.get_ref() {
                DeValue::Table(_) => key_span.or(Some(value.span())),
                _ => Some(value.span()),
            };
            table = None;
            array = None;
            match value.get_ref() {
                DeValue::Table(t) => table = Some(t),
                DeValue::Array(a) => array = Some(a),
                _ => {}
            }
        }
        best
    }

    pub fn offset_to_position(&self, offset: usize) -> Position {
        let before = self.text.get(..offset.min(self.text.len())).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        Position { line, column }
    }
}
