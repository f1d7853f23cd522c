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

/// One page view: the visitor's session (made on first visit), language and
/// whether the cookie must be (re)sent.
#[derive(Debug)]
pub struct Visit {
    pub session: Session,
    pub area: Area,
    pub lang: Lang,
    pub secure: bool,
    /// The session id changed (new or rotated): send the cookie.
    send_cookie: bool,
    /// The session ended on this request: clear the cookie.
    clear_cookie: bool,
}

impl Visit {
    /// Finds or makes the session of `area`. `None` only if the system's random
    /// source fails.
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
        let existing = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|h| session::cookie_value(h, area))
            .and_then(|id| state.sessions.get(area, id, now));
        let (session, send_cookie) = match existing {
            Some(s) => (s, false),
            None => (state.sessions.create(area, None, now)?, true),
        };
        let lang = session.lang.unwrap_or(accepted);
        Some(Visit {
            session,
            area,
            lang,
            secure,
            send_cookie,
            clear_cookie: false,
        })
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

    /// Signs in: a fresh session id and token, so one planted earlier is worthless.
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
