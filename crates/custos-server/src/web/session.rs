//! Server-side sessions for the pages. The cookie holds only a random id; what the
//! session knows (the signed-in subject, the console's API key, the CSRF token)
//! stays in memory, so signing out ends it at once and nothing personal travels.
//!
//! Sessions live in the instance that made them: behind a load balancer the pages
//! need sticky sessions (recorded in ARCHITECTURE.md). The API itself is stateless.

use std::collections::HashMap;
use std::sync::Mutex;

use custos_crypto::{SecretKey, Zeroizing, ct_eq};
use custos_store::{SubjectId, TenantId, Timestamp, Uuid};
use jiff::SignedDuration;

use super::i18n::Lang;

/// Idle time after which a session ends.
pub const IDLE: SignedDuration = SignedDuration::from_mins(30);
/// Longest life of a session, however busy.
pub const ABSOLUTE: SignedDuration = SignedDuration::from_hours(8);
/// More sessions than this and the oldest make room: memory stays bounded.
pub const MAX_SESSIONS: usize = 20_000;

/// Which area a session belongs to; each has its own cookie and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Privacy,
    Console,
}

impl Area {
    pub fn cookie(self) -> &'static str {
        match self {
            Area::Privacy => "custos_privacy",
            Area::Console => "custos_console",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Area::Privacy => "/privacy",
            Area::Console => "/console",
        }
    }
}

/// A person part-way through signing in: a code was (maybe) sent.
#[derive(Debug, Clone)]
pub struct Pending {
    pub tenant: TenantId,
    /// `None` when the address matched nobody: the code page looks the same.
    pub challenge: Option<Uuid>,
}

/// A console user: the API key they signed in with, re-checked on every request
/// so a revoked key ends the session.
#[derive(Clone)]
pub struct Staff {
    pub token: Zeroizing<String>,
}

// By hand: a session printed by mistake must not print the key.
impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub area: Area,
    pub csrf: String,
    pub lang: Option<Lang>,
    pub created: Timestamp,
    pub seen: Timestamp,
    pub pending: Option<Pending>,
    /// The signed-in person (privacy center).
    pub subject: Option<(TenantId, SubjectId)>,
    pub staff: Option<Staff>,
    /// One message shown on the next page, then dropped.
    pub flash: Option<String>,
}

impl Session {
    pub fn csrf_ok(&self, given: &str) -> bool {
        ct_eq(self.csrf.as_bytes(), given.as_bytes())
    }
}

/// All live sessions of this instance.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

fn random_token() -> Option<String> {
    let k = SecretKey::generate().ok()?;
    Some(
        k.expose_secret()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

fn expired(s: &Session, now: Timestamp) -> bool {
    let idle = s.seen.checked_add(IDLE).map_or(true, |t| now > t);
    let old = s.created.checked_add(ABSOLUTE).map_or(true, |t| now > t);
    idle || old
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The live session of `area` with this id, its idle clock restarted.
    pub fn get(&self, area: Area, id: &str, now: Timestamp) -> Option<Session> {
        let mut map = self.lock();
        let s = map.get_mut(id)?;
        if s.area != area || expired(s, now) {
            map.remove(id);
            return None;
        }
        s.seen = now;
        Some(s.clone())
    }

    /// A new anonymous session.
    pub fn create(&self, area: Area, lang: Option<Lang>, now: Timestamp) -> Option<Session> {
        let s = Session {
            id: random_token()?,
            area,
            csrf: random_token()?,
            lang,
            created: now,
            seen: now,
            pending: None,
            subject: None,
            staff: None,
            flash: None,
        };
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| !expired(s, now));
        }
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.values().min_by_key(|s| s.seen).map(|s| s.id.clone())
        {
            map.remove(&oldest);
        }
        map.insert(s.id.clone(), s.clone());
        Some(s)
    }

    /// Writes back a changed session (it must still exist).
    pub fn save(&self, s: &Session) {
        let mut map = self.lock();
        if let Some(slot) = map.get_mut(&s.id) {
            *slot = s.clone();
        }
    }

    /// A new id and CSRF token for the same session: done at sign-in, so an id
    /// planted before sign-in is worth nothing after it.
    pub fn rotate(&self, s: &Session) -> Option<Session> {
        let mut next = s.clone();
        next.id = random_token()?;
        next.csrf = random_token()?;
        let mut map = self.lock();
        map.remove(&s.id);
        map.insert(next.id.clone(), next.clone());
        Some(next)
    }

    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Ends every session of a subject (after erasure, the account is gone).
    pub fn end_subject(&self, subject: SubjectId) {
        self.lock()
            .retain(|_, s| s.subject.as_ref().is_none_or(|(_, x)| *x != subject));
    }
}

/// The `Set-Cookie` value for a session. `Secure` when the page was reached over
/// TLS (directly or as told by the proxy's `X-Forwarded-Proto`).
pub fn set_cookie(area: Area, id: &str, secure: bool) -> String {
    format!(
        "{}={id}; Path={}; HttpOnly; SameSite=Strict; Max-Age={}{}",
        area.cookie(),
        area.path(),
        ABSOLUTE.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(area: Area, secure: bool) -> String {
    format!(
        "{}=; Path={}; HttpOnly; SameSite=Strict; Max-Age=0{}",
        area.cookie(),
        area.path(),
        if secure { "; Secure" } else { "" }
    )
}

/// The session id sent in the `Cookie` header for `area`, if any.
pub fn cookie_value(header: &str, area: Area) -> Option<&str> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == area.cookie())
        .map(|(_, v)| v)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_session_ends_after_idle_time_and_after_its_absolute_life() {
        let sessions = Sessions::default();
        let s = sessions
            .create(Area::Privacy, None, t("2026-01-01T10:00:00Z"))
            .unwrap();
        assert!(
            sessions
                .get(Area::Privacy, &s.id, t("2026-01-01T10:29:00Z"))
                .is_some()
        );
        // Busy every 20 minutes: still ends 8 h after creation.
        for h in 0..8 {
            for m in [0, 20, 40] {
                let now = t(&format!("2026-01-01T{:02}:{m:02}:00Z", 10 + h));
                assert!(sessions.get(Area::Privacy, &s.id, now).is_some(), "{now}");
            }
        }
        assert!(
            sessions
                .get(Area::Privacy, &s.id, t("2026-01-01T18:10:00Z"))
                .is_none()
        );
        let idle = sessions
            .create(Area::Privacy, None, t("2026-01-02T10:00:00Z"))
            .unwrap();
        assert!(
            sessions
                .get(Area::Privacy, &idle.id, t("2026-01-02T10:31:00Z"))
                .is_none()
        );
    }

    #[test]
    fn a_session_is_valid_only_in_its_own_area_and_rotation_drops_the_old_id() {
        let sessions = Sessions::default();
        let now = t("2026-01-01T10:00:00Z");
        let s = sessions.create(Area::Privacy, None, now).unwrap();
        assert!(sessions.get(Area::Console, &s.id, now).is_none());
        let s = sessions.create(Area::Privacy, None, now).unwrap();
        let r = sessions.rotate(&s).unwrap();
        assert!(sessions.get(Area::Privacy, &s.id, now).is_none());
        assert!(sessions.get(Area::Privacy, &r.id, now).is_some());
        assert_ne!(s.csrf, r.csrf);
        assert!(r.csrf_ok(&r.csrf));
        assert!(!r.csrf_ok(&s.csrf));
        assert!(!r.csrf_ok(""));
    }

    #[test]
    fn a_printed_session_does_not_show_the_console_key() {
        let sessions = Sessions::default();
        let mut s = sessions
            .create(Area::Console, None, t("2026-01-01T10:00:00Z"))
            .unwrap();
        s.staff = Some(Staff {
            token: Zeroizing::new("ck_secret.token".to_owned()),
        });
        assert!(!format!("{s:?}").contains("ck_secret"));
    }

    #[test]
    fn cookie_values_are_read_only_when_well_formed() {
        let id = "a".repeat(64);
        let h = format!("x=1; custos_privacy={id}; custos_console=zz");
        assert_eq!(cookie_value(&h, Area::Privacy), Some(id.as_str()));
        assert_eq!(cookie_value(&h, Area::Console), None);
        assert!(set_cookie(Area::Console, &id, true).contains("; Secure"));
        assert!(set_cookie(Area::Console, &id, false).contains("SameSite=Strict"));
    }
}
