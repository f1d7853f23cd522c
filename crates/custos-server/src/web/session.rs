//! Server-side sessions for the pages. The cookie holds only a random id; what the
//! session knows (the signed-in subject, the console's API key, the CSRF token)
//! stays in memory, so signing out ends it at once and nothing personal travels.
//!
//! Sessions live in the instance that made them: behind a load balancer the pages
//! need sticky sessions (recorded in ARCHITECTURE.md). The API itself is stateless.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use custos_crypto::{SecretKey, Zeroizing, ct_eq};
use custos_store::{SubjectId, TenantId, Timestamp, Uuid};
use jiff::SignedDuration;

use super::i18n::Lang;

/// Idle time after which a session ends.
pub const IDLE: SignedDuration = SignedDuration::from_mins(30);
/// Longest life of a session, however busy.
pub const ABSOLUTE: SignedDuration = SignedDuration::from_hours(8);
/// Anonymous sessions (people part-way through signing in): more than this and the
/// oldest make room, so memory stays bounded.
pub const MAX_SESSIONS: usize = 20_000;
/// Signed-in sessions: never evicted; with this many live, sign-ins wait.
pub const MAX_SIGNED_IN: usize = 20_000;

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
    /// Drawn before the sign-in's work; for an address that matched nobody it names
    /// no stored challenge, and the code page and its checks look the same.
    pub challenge: Uuid,
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
    /// The unstored session of a visitor who has none (see `web::Visit`).
    pub fn stand_in(id: String, area: Area, csrf: String, now: Timestamp) -> Session {
        Session {
            id,
            area,
            csrf,
            lang: None,
            created: now,
            seen: now,
            pending: None,
            subject: None,
            staff: None,
            flash: None,
        }
    }

    pub fn csrf_ok(&self, given: &str) -> bool {
        ct_eq(self.csrf.as_bytes(), given.as_bytes())
    }
}

/// All live sessions of this instance. A session exists only once a visitor has
/// posted a form (bare page views make none: their CSRF token is derived from the
/// cookie, see `web::Visit`). Anonymous and signed-in sessions are counted apart:
/// anonymous ones make room for each other, oldest first; signed-in ones are never
/// evicted — when they are full a sign-in waits (issue 17.6). Each kind keeps its ids
/// in a queue swept a few entries per insert (expired or stale entries dropped, live
/// ones moved to the back), so no operation scans the whole map under the lock.
#[derive(Debug)]
pub struct Sessions {
    inner: Mutex<Inner>,
    max_anonymous: usize,
    max_signed_in: usize,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::with_limits(MAX_SESSIONS, MAX_SIGNED_IN)
    }
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, Session>,
    anonymous: Queue,
    signed_in: Queue,
}

/// Session ids of one kind with when they were queued, oldest first; may hold ids
/// since ended or changed kind (dropped when they reach the front).
#[derive(Debug, Default)]
struct Queue {
    ids: VecDeque<(String, Timestamp)>,
    live: usize,
}

/// Queue entries examined per insert: more than the one it adds, so stale ones drain.
const SWEEP: usize = 2;
/// Entries examined at most when looking for room.
const ROOM_STEPS: usize = 64;

pub(super) fn random_token() -> Option<String> {
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

impl Session {
    /// Signed in: a person (privacy center) or staff (console).
    pub fn is_signed_in(&self) -> bool {
        self.subject.is_some() || self.staff.is_some()
    }
}

/// Why no session could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoom {
    /// Every slot is taken by a live session that may not be evicted.
    Full,
    /// The system's random source failed.
    Random,
}

/// What the front of a queue held.
enum Front {
    Empty,
    /// Dropped (stale entry or expired session) or moved back (used since queued).
    Handled,
    /// A live session not used since it was queued: the least recently used.
    Idle(String),
}

impl Inner {
    fn queue(&mut self, signed_in: bool) -> &mut Queue {
        if signed_in {
            &mut self.signed_in
        } else {
            &mut self.anonymous
        }
    }

    fn insert(&mut self, s: Session) {
        let signed_in = s.is_signed_in();
        let (id, seen) = (s.id.clone(), s.seen);
        if let Some(old) = self.map.insert(id.clone(), s) {
            if old.is_signed_in() == signed_in {
                return;
            }
            self.queue(old.is_signed_in()).live -= 1;
        }
        let q = self.queue(signed_in);
        q.live += 1;
        q.ids.push_back((id, seen));
    }

    fn remove(&mut self, id: &str) -> Option<Session> {
        let s = self.map.remove(id)?;
        self.queue(s.is_signed_in()).live -= 1;
        Some(s)
    }

    /// One step of the clock sweep over a queue's front: a stale entry is dropped,
    /// an expired session ended, one used since it was queued gets a second chance
    /// at the back; a session unused since queued is left in front and named.
    fn front(&mut self, signed_in: bool, now: Timestamp) -> Front {
        let Some((id, queued)) = self.queue(signed_in).ids.pop_front() else {
            return Front::Empty;
        };
        let state = match self.map.get(&id) {
            Some(s) if s.is_signed_in() == signed_in => Some((expired(s, now), s.seen > queued)),
            _ => None,
        };
        match state {
            None => Front::Handled,
            Some((true, _)) => {
                self.remove(&id);
                Front::Handled
            }
            Some((false, true)) => {
                self.queue(signed_in).ids.push_back((id, now));
                Front::Handled
            }
            Some((false, false)) => {
                self.queue(signed_in).ids.push_front((id.clone(), queued));
                Front::Idle(id)
            }
        }
    }

    /// Room for one more session of a kind, in a bounded number of steps: a few
    /// front entries are swept in any case; when full, anonymous sessions give way
    /// least recently used first, signed-in ones only when they expire.
    fn make_room(&mut self, signed_in: bool, max: usize, now: Timestamp) -> bool {
        for _ in 0..SWEEP {
            if !matches!(self.front(signed_in, now), Front::Handled) {
                break;
            }
        }
        let mut steps = 0;
        while self.queue(signed_in).live >= max {
            match self.front(signed_in, now) {
                Front::Idle(id) if !signed_in => {
                    self.queue(signed_in).ids.pop_front();
                    self.remove(&id);
                }
                Front::Handled => {}
                Front::Idle(_) | Front::Empty => return false,
            }
            steps += 1;
            if steps > ROOM_STEPS {
                return false;
            }
        }
        true
    }
}

impl Sessions {
    /// At most `max_anonymous` anonymous and `max_signed_in` signed-in sessions.
    pub fn with_limits(max_anonymous: usize, max_signed_in: usize) -> Self {
        Sessions {
            inner: Mutex::default(),
            max_anonymous: max_anonymous.max(1),
            max_signed_in: max_signed_in.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The live session of `area` with this id, its idle clock restarted.
    pub fn get(&self, area: Area, id: &str, now: Timestamp) -> Option<Session> {
        let mut inner = self.lock();
        let s = inner.map.get_mut(id)?;
        if s.area != area || expired(s, now) {
            inner.remove(id);
            return None;
        }
        s.seen = now;
        Some(s.clone())
    }

    /// A new anonymous session with this CSRF token (the one its form carried, so
    /// the page already shown keeps working). The oldest anonymous session makes
    /// room if need be.
    pub fn create(
        &self,
        area: Area,
        lang: Option<Lang>,
        csrf: String,
        now: Timestamp,
    ) -> Result<Session, NoRoom> {
        let s = Session {
            id: random_token().ok_or(NoRoom::Random)?,
            area,
            csrf,
            lang,
            created: now,
            seen: now,
            pending: None,
            subject: None,
            staff: None,
            flash: None,
        };
        let mut inner = self.lock();
        if !inner.make_room(false, self.max_anonymous, now) {
            return Err(NoRoom::Full);
        }
        inner.insert(s.clone());
        Ok(s)
    }

    /// Writes back a changed session (it must still exist).
    pub fn save(&self, s: &Session) {
        let mut inner = self.lock();
        if inner.map.contains_key(&s.id) {
            inner.insert(s.clone());
        }
    }

    /// A new id and CSRF token for the same session: done at sign-in, so an id
    /// planted before sign-in is worth nothing after it.
    pub fn rotate(&self, s: &Session) -> Option<Session> {
        let mut next = s.clone();
        next.id = random_token()?;
        next.csrf = random_token()?;
        let mut inner = self.lock();
        inner.remove(&s.id);
        inner.insert(next.clone());
        Some(next)
    }

    /// Signs in `s` (its subject or staff key set by the caller): a new id and CSRF
    /// token, in a signed-in slot. Never evicts anyone: with every slot held by a
    /// live session the sign-in is refused (`Full`) and the caller asks to retry.
    pub fn sign_in(&self, s: &Session, now: Timestamp) -> Result<Session, NoRoom> {
        let mut next = s.clone();
        next.id = random_token().ok_or(NoRoom::Random)?;
        next.csrf = random_token().ok_or(NoRoom::Random)?;
        let mut inner = self.lock();
        if !inner.make_room(true, self.max_signed_in, now) {
            return Err(NoRoom::Full);
        }
        inner.remove(&s.id);
        inner.insert(next.clone());
        Ok(next)
    }

    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Ends every session of a subject (after erasure, the account is gone). A scan,
    /// but only on an erasure by the person themselves, never on anonymous traffic.
    pub fn end_subject(&self, subject: SubjectId) {
        let mut inner = self.lock();
        let ids: Vec<String> = inner
            .map
            .values()
            .filter(|s| s.subject.as_ref().is_some_and(|(_, x)| *x == subject))
            .map(|s| s.id.clone())
            .collect();
        for id in ids {
            inner.remove(&id);
        }
    }

    /// Live sessions (anonymous, signed in): for tests and metrics.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.anonymous.live, inner.signed_in.live)
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
            .create(
                Area::Privacy,
                None,
                String::new(),
                t("2026-01-01T10:00:00Z"),
            )
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
            .create(
                Area::Privacy,
                None,
                String::new(),
                t("2026-01-02T10:00:00Z"),
            )
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
        let s = sessions
            .create(Area::Privacy, None, String::new(), now)
            .unwrap();
        assert!(sessions.get(Area::Console, &s.id, now).is_none());
        let s = sessions
            .create(Area::Privacy, None, String::new(), now)
            .unwrap();
        let r = sessions.rotate(&s).unwrap();
        assert!(sessions.get(Area::Privacy, &s.id, now).is_none());
        assert!(sessions.get(Area::Privacy, &r.id, now).is_some());
        assert_ne!(s.csrf, r.csrf);
        assert!(r.csrf_ok(&r.csrf));
        assert!(!r.csrf_ok(&s.csrf));
        assert!(!r.csrf_ok(""));
    }

    fn signed_in(sessions: &Sessions, n: u128, now: Timestamp) -> Session {
        let mut s = sessions
            .create(Area::Privacy, None, String::new(), now)
            .unwrap();
        s.subject = Some((TenantId::default_tenant(), SubjectId(Uuid::from_u128(n))));
        sessions.sign_in(&s, now).unwrap()
    }

    #[test]
    fn a_flood_of_anonymous_sessions_evicts_only_anonymous_ones() {
        let sessions = Sessions::default();
        let now = t("2026-01-01T10:00:00Z");
        let person = signed_in(&sessions, 1, now);
        let first = sessions
            .create(Area::Privacy, None, String::new(), now)
            .unwrap();
        for _ in 0..MAX_SESSIONS + 10 {
            sessions
                .create(Area::Privacy, None, String::new(), now)
                .unwrap();
        }
        assert_eq!(sessions.counts(), (MAX_SESSIONS, 1));
        assert!(sessions.get(Area::Privacy, &person.id, now).is_some());
        assert!(
            sessions.get(Area::Privacy, &first.id, now).is_none(),
            "the oldest anonymous session made room"
        );
    }

    #[test]
    fn signed_in_sessions_are_never_evicted_a_sign_in_waits_for_an_expiry() {
        let sessions = Sessions::default();
        let now = t("2026-01-01T10:00:00Z");
        let first = signed_in(&sessions, 0, now);
        for n in 1..MAX_SIGNED_IN as u128 {
            signed_in(&sessions, n, now);
        }
        let s = sessions
            .create(Area::Privacy, None, String::new(), now)
            .unwrap();
        assert_eq!(sessions.sign_in(&s, now).unwrap_err(), NoRoom::Full);
        assert!(sessions.get(Area::Privacy, &first.id, now).is_some());
        // Half an hour later the idle ones have ended: room again.
        let later = t("2026-01-01T10:31:00Z");
        let mut s = sessions
            .create(Area::Privacy, None, String::new(), later)
            .unwrap();
        s.subject = Some((TenantId::default_tenant(), SubjectId(Uuid::from_u128(9))));
        assert!(sessions.sign_in(&s, later).is_ok());
    }

    #[test]
    fn a_printed_session_does_not_show_the_console_key() {
        let sessions = Sessions::default();
        let mut s = sessions
            .create(
                Area::Console,
                None,
                String::new(),
                t("2026-01-01T10:00:00Z"),
            )
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
