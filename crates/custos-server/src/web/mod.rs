//! The pages: the privacy center (`/privacy`, for people) and the admin console
//! (`/console`, for staff). Server-rendered with askama, no script at all, one
//! embedded stylesheet; every form carries a CSRF token; every response carries a
//! strict Content-Security-Policy and is never cached. Handlers call the same
//! engine functions as the JSON API: the pages hold no policy logic of their own.

/// Implements [`Csrf`] for forms whose token is the field `csrf`.
macro_rules! csrf_forms {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::Csrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}

pub mod console;
pub mod i18n;
pub mod privacy;
pub mod privacy_contracts;
pub mod session;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::{AppState, Backend};
use i18n::{Lang, Strings};
use session::{Area, Session};

/// No script, no frames, no foreign anything; forms post only to us.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = include_str!("../../assets/custos.css");

pub fn routes<S: Backend>() -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/assets/custos.css", get(stylesheet))
        .merge(privacy::routes::<S>())
        .merge(privacy_contracts::routes::<S>())
        .merge(console::routes::<S>())
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// One page view: the visitor's session, language and whether the cookie must be
/// (re)sent.
///
/// A bare page view makes no session (issue 17.6): a visitor without a live one gets
/// a stand-in that is never stored — its id is the cookie's random value (set on the
/// first view) and its CSRF token a keyed hash of that value, so forms work with no
/// state on the server. The first form that needs state (sign-in, language) turns it
/// into a real session (`keep`), limited per client address.
#[derive(Debug)]
pub struct Visit {
    pub session: Session,
    pub area: Area,
    pub lang: Lang,
    pub secure: bool,
    /// The session is in the store (not a stand-in).
    stored: bool,
    /// The session id changed (new or rotated): send the cookie.
    send_cookie: bool,
    /// The session ended on this request: clear the cookie.
    clear_cookie: bool,
    /// The client address (`limits::client_in`), for per-client limits.
    client: String,
}

/// The CSRF token of a stand-in session: a keyed hash of its cookie value, so only
/// this server can make one and a cookie planted by someone else does not help them
/// (they would still need the token, which only a page of ours shows).
fn stand_in_csrf<S: Backend>(state: &AppState<S>, area: Area, nonce: &str) -> Option<String> {
    let key = state
        .vault
        .keys()
        .blind_index_key(state.site_tenant.as_str(), "web.csrf")
        .ok()?;
    let tag = custos_crypto::blind_index(&key, &format!("{}\0{nonce}", area.cookie()));
    Some(tag.iter().map(|b| format!("{b:02x}")).collect())
}

impl Visit {
    /// Finds the session of `area`, or a stand-in. `None` only if the system's random
    /// source or the key ring fails.
    pub fn start<S: Backend>(
        state: &AppState<S>,
        headers: &HeaderMap,
        area: Area,
    ) -> Option<Visit> {
        let now = state.vault.now();
        let secure = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
        let accepted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::En, Lang::negotiate);
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|h| session::cookie_value(h, area));
        let existing = cookie.and_then(|id| state.sessions.get(area, id, now));
        let (session, stored, send_cookie) = match existing {
            Some(s) => (s, true, false),
            None => {
                // An ended session's cookie serves as the stand-in's value: its old
                // token no longer matches, so a form from before fails as expired.
                let (nonce, fresh) = match cookie {
                    Some(c) => (c.to_owned(), false),
                    None => (session::random_token()?, true),
                };
                let csrf = stand_in_csrf(state, area, &nonce)?;
                (Session::stand_in(nonce, area, csrf, now), false, fresh)
            }
        };
        let lang = session.lang.unwrap_or(accepted);
        Some(Visit {
            session,
            area,
            lang,
            secure,
            stored,
            send_cookie,
            clear_cookie: false,
            client: crate::limits::client_in(headers).to_owned(),
        })
    }

    /// The client address of the request.
    pub fn client(&self) -> &str {
        &self.client
    }

    /// Makes the stand-in a stored session, keeping its CSRF token: at most
    /// `EdgeLimits::sessions` new ones per client address.
    pub fn keep<S: Backend>(&mut self, state: &AppState<S>) -> Result<(), Response> {
        if self.stored {
            return Ok(());
        }
        let now = state.vault.now();
        if let Err(wait) = state.edge.sessions.check(&self.client, now) {
            state.metrics.rate_limited();
            return Err(self.limited(crate::limits::SESSIONS_LIMITED, wait));
        }
        let lang = self.session.lang;
        match state
            .sessions
            .create(self.area, lang, self.session.csrf.clone(), now)
        {
            Ok(s) => {
                self.session = s;
                self.stored = true;
                self.send_cookie = true;
                Ok(())
            }
            Err(_) => Err(unavailable()),
        }
    }

    /// Signs the session in (its subject or staff key already set): a fresh id and
    /// token in a signed-in slot. `Err`: the page to answer instead (no room now).
    pub fn sign_in<S: Backend>(&mut self, state: &AppState<S>) -> Result<(), Response> {
        match state.sessions.sign_in(&self.session, state.vault.now()) {
            Ok(s) => {
                self.session = s;
                self.stored = true;
                self.send_cookie = true;
                Ok(())
            }
            Err(session::NoRoom::Full) => {
                tracing::warn!(
                    code = crate::limits::SESSIONS_FULL,
                    "no room for another signed-in session"
                );
                let mut r = unavailable();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                Err(r)
            }
            Err(session::NoRoom::Random) => Err(unavailable()),
        }
    }

    /// A 429 page with `Retry-After`, naming the limit by its stable code.
    pub fn limited(&self, code: &'static str, wait: u64) -> Response {
        tracing::info!(code, "page limit reached");
        let s = self.strings();
        let body = format!(
            "<!doctype html><html lang=\"{}\"><title>{}</title><p>{}</p><p><code>{code}</code></p>",
            self.lang.code(),
            s.error_title,
            s.slow_down
        );
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        self.finish(r)
    }

    pub fn strings(&self) -> &'static Strings {
        self.lang.strings()
    }

    /// The chrome every page template shares; takes the one-time message.
    pub fn chrome<S: Backend>(&mut self, state: &AppState<S>, title: &str) -> Chrome {
        let flash = self.session.flash.take();
        if flash.is_some() {
            state.sessions.save(&self.session);
        }
        Chrome {
            lang: self.lang,
            s: self.strings(),
            title: title.to_owned(),
            csrf: self.session.csrf.clone(),
            flash,
            signed_in: self.session.subject.is_some() || self.session.staff.is_some(),
            here: "/privacy",
            languages: Lang::ALL
                .iter()
                .map(|l| (l.code(), l.native_name()))
                .collect(),
        }
    }

    /// Checks the form's CSRF token against the session's.
    pub fn csrf_ok(&self, given: &str) -> bool {
        !self.send_cookie && self.session.csrf_ok(given)
    }

    /// A fresh session id and token (the console's revoked key: signed out).
    pub fn rotate<S: Backend>(&mut self, state: &AppState<S>) -> bool {
        match state.sessions.rotate(&self.session) {
            Some(s) => {
                self.session = s;
                self.send_cookie = true;
                true
            }
            None => false,
        }
    }

    pub fn end<S: Backend>(&mut self, state: &AppState<S>) {
        state.sessions.end(&self.session.id);
        self.clear_cookie = true;
        self.send_cookie = false;
    }

    /// Sets a one-time message for the next page and stores the session.
    pub fn flash<S: Backend>(&mut self, state: &AppState<S>, message: &str) {
        self.session.flash = Some(message.to_owned());
        state.sessions.save(&self.session);
    }

    /// Adds the session cookie and the page headers to a response.
    pub fn finish(&self, resp: impl IntoResponse) -> Response {
        let mut resp = resp.into_response();
        let cookie = if self.clear_cookie {
            Some(session::clear_cookie(self.area, self.secure))
        } else if self.send_cookie {
            Some(session::set_cookie(
                self.area,
                &self.session.id,
                self.secure,
            ))
        } else {
            None
        };
        if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
            resp.headers_mut().append(header::SET_COOKIE, c);
        }
        page_headers(&mut resp);
        resp
    }

    /// 303 to `to` (after a POST, so a reload does not repeat it).
    pub fn see_other(&self, to: &str) -> Response {
        self.finish(Redirect::to(to))
    }
}

/// A posted form: every form of the pages carries the session's CSRF token.
pub trait Csrf {
    fn csrf(&self) -> &str;
}

/// A form that carries nothing but its token (sign-out, lift a hold).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

csrf_forms!(CsrfOnly);

/// What the layout template needs on every page.
#[derive(Debug)]
pub struct Chrome {
    pub lang: Lang,
    pub s: &'static Strings,
    pub title: String,
    pub csrf: String,
    pub flash: Option<String>,
    pub signed_in: bool,
    /// Where the language form comes back to (the page it is on).
    pub here: &'static str,
    pub languages: Vec<(&'static str, &'static str)>,
}

impl Chrome {
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
}

/// Security headers of every page.
pub fn page_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Renders a template with a status; a template error becomes a bare 500 page.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!doctype html><title>Error</title><p>Internal error.</p>",
            )
                .into_response()
        }
    }
}

/// A page that says what went wrong, without internals.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub message: String,
    pub back: &'static str,
}

/// The page when no session could be made (random source failed).
pub fn unavailable() -> Response {
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><title>Unavailable</title><p>Service unavailable. Please try again.</p>",
    )
        .into_response();
    page_headers(&mut r);
    r
}

/// Dates as people read them in a table: the calendar day, UTC.
pub fn day(t: custos_store::Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// Runs an engine call off the async workers; a task that died is an internal error.
pub async fn engine<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, custos_core::VaultError> + Send + 'static,
) -> Result<T, custos_core::VaultError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| Err(custos_core::VaultError::Internal("task failed".into())))
}

/// Runs blocking work off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}
