//! Reading [`crate::canonical`] bytes back, so a verifier can show what an entry it
//! proved says. The encoding (version 1), big-endian throughout:
//!
//! ```text
//! u8  version = 1
//! str tenant
//! u64 seq            (1-based, dense per tenant; leaf index = seq - 1)
//! i64 at_micros      (microseconds since the Unix epoch)
//! str actor, str key_id, str action, str purpose, str subject
//! u32 count, then `count` × str category
//! str decision, str reason, str request_id
//! ```
//!
//! where `str` is a `u32` byte length followed by that many bytes of UTF-8.

use crate::EntryFields;

/// An audit entry decoded from its canonical bytes; owns its strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub tenant: String,
    pub seq: u64,
    pub at_micros: i64,
    pub actor: String,
    pub key_id: String,
    pub action: String,
    pub purpose: String,
    pub subject: String,
    pub categories: Vec<String>,
    pub decision: String,
    pub reason: String,
    pub request_id: String,
}

/// Why bytes are not a canonical entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown entry encoding version {0}")]
    Version(u8),
    #[error("entry ends before its {0} field")]
    Truncated(&'static str),
    #[error("entry field {0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("{0} bytes after the end of the entry")]
    Trailing(usize),
}

impl Entry {
    /// Decodes canonical bytes. Decoding is exact: re-encoding gives the same bytes.
    pub fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
        let mut r = Reader { rest: bytes };
        let version = r.u8("version")?;
        if version != 1 {
            return Err(DecodeError::Version(version));
        }
        let tenant = r.str("tenant")?;
        let seq = u64::from_be_bytes(r.array("seq")?);
        let at_micros = i64::from_be_bytes(r.array("at_micros")?);
        let actor = r.str("actor")?;
        let key_id = r.str("key_id")?;
        let action = r.str("action")?;
        let purpose = r.str("purpose")?;
        let subject = r.str("subject")?;
        let count = u32::from_be_bytes(r.array("categories")?);
        // Each category takes at least its 4-byte length, which bounds the allocation.
        let mut categories = Vec::with_capacity((count as usize).min(r.rest.len() / 4));
        for _ in 0..count {
            categories.push(r.str("categories")?);
        }
        let decision = r.str("decision")?;
        let reason = r.str("reason")?;
        let request_id = r.str("request_id")?;
        if !r.rest.is_empty() {
            return Err(DecodeError::Trailing(r.rest.len()));
        }
        Ok(Entry {
            tenant,
            seq,
            at_micros,
            actor,
            key_id,
            action,
            purpose,
            subject,
            categories,
            decision,
            reason,
            request_id,
        })
    }

    /// The borrowed view [`crate::canonical`] encodes.
    pub fn fields(&self) -> EntryFields<'_> {
        EntryFields {
            tenant: &self.tenant,
            seq: self.seq,
            at_micros: self.at_micros,
            actor: &self.actor,
            key_id: &self.key_id,
            action: &self.action,
            purpose: &self.purpose,
            subject: &self.subject,
            categories: &self.categories,
            decision: &self.decision,
            reason: &self.reason,
            request_id: &self.request_id,
        }
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&[u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated(field));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        self.take(N, field)?
            .try_into()
            .map_err(|_| DecodeError::Truncated(field))
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array(field)?))
    }

    fn str(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let len = u32::from_be_bytes(self.array(field)?) as usize;
        let bytes = self.take(len, field)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::NotUtf8(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical;

    fn sample() -> Entry {
        Entry {
            tenant: "acme".into(),
            seq: 7,
            at_micros: -3,
            actor: "key:support".into(),
            key_id: "k1".into(),
            action: "read".into(),
            purpose: "support".into(),
            subject: "sub_1".into(),
            categories: vec!["user.contact.email".into(), "user.name".into()],
            decision: "allow".into(),
            reason: String::new(),
            request_id: "r-1".into(),
        }
    }

    #[test]
    fn decode_inverts_canonical() {
        let e = sample();
        let bytes = canonical(&e.fields());
        assert_eq!(Entry::decode(&bytes), Ok(e));
    }

    #[test]
    fn every_truncation_and_extension_is_refused() {
        let bytes = canonical(&sample().fields());
        for n in 0..bytes.len() {
            assert!(Entry::decode(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Entry::decode(&longer), Err(DecodeError::Trailing(1)));
        let mut v2 = bytes;
        v2[0] = 2;
        assert_eq!(Entry::decode(&v2), Err(DecodeError::Version(2)));
    }
}
