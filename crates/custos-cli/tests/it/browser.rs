//! A real browser for page tests: Debian's headless Chromium driven through
//! chromedriver (WebDriver) with fantoccini, wrapped in blocking calls so the tests
//! read as a person's steps. `.ci/run` installs both; on a developer machine
//! without them the browser tests say they are skipped, and under CI they fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    client: Option<Client>,
    driver: Child,
    rt: tokio::runtime::Runtime,
    pub base: String,
    _profile: PathBuf,
}

impl Browser {
    /// A fresh headless browser (own profile, no cookies) pointed at `base`
    /// (`http://127.0.0.1:PORT`). `None` when Chromium is not installed outside CI.
    pub fn start(base: &str) -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromium and chromedriver are required under CI (.ci/run installs them)"
            );
            eprintln!("skipped: {CHROMEDRIVER} not installed");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let profile = super::tempdir().join("chromium-profile");
        std::fs::create_dir_all(&profile).unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--lang=en-GB",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let client = rt.block_on(async {
            // chromedriver needs a moment to listen: try for at most 20 s.
            let mut last = None;
            for _ in 0..100 {
                let connector = hyper_util::client::legacy::connect::HttpConnector::new();
                match ClientBuilder::new(connector)
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await
                {
                    Ok(c) => return c,
                    Err(e) => last = Some(e),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("chromedriver did not start: {last:?}")
        });
        Some(Browser {
            client: Some(client),
            driver,
            rt,
            base: base.trim_end_matches('/').to_owned(),
            _profile: profile,
        })
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    pub fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(self.c().goto(&url)).unwrap();
    }

    /// The path of the page shown now.
    pub fn path(&self) -> String {
        let url = self.rt.block_on(self.c().current_url()).unwrap();
        url.path().to_owned()
    }

    /// The visible text of the whole page.
    pub fn text(&self) -> String {
        self.text_of("body")
    }

    pub fn text_of(&self, css: &str) -> String {
        // Right after a form submit the old page may still be going away: retry a
        // stale or missing element for up to 5 s.
        let mut last = None;
        for _ in 0..50 {
            let got = self.rt.block_on(async {
                let e = self.c().find(Locator::Css(css)).await?;
                e.text().await
            });
            match got {
                Ok(t) => return t,
                Err(e) => last = Some(e),
            }
            self.pause();
        }
        panic!("no text for {css}: {last:?}")
    }

    pub fn exists(&self, css: &str) -> bool {
        self.rt
            .block_on(self.c().find_all(Locator::Css(css)))
            .map(|v| !v.is_empty())
            .unwrap_or(false)
    }

    pub fn fill(&self, css: &str, value: &str) {
        self.rt.block_on(async {
            let e = self
                .c()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"));
            e.clear().await.unwrap();
            e.send_keys(value).await.unwrap();
        });
    }

    /// Clicks a link or button and waits for the page it opens.
    pub fn click(&self, css: &str) {
        self.navigating(|| {
            self.rt.block_on(async {
                self.c()
                    .find(Locator::Css(css))
                    .await
                    .unwrap_or_else(|e| panic!("no {css}: {e}"))
                    .click()
                    .await
                    .unwrap();
            });
        });
    }

    fn pause(&self) {
        self.rt
            .block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    }

    /// Clicks what does not leave the page (an option, a box).
    pub fn pick(&self, css: &str) {
        self.rt.block_on(async {
            self.c()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"))
                .click()
                .await
                .unwrap();
        });
    }

    /// Runs `act`, then waits (at most 30 s: a loaded CI machine is slow) until the
    /// page it caused has loaded.
    fn navigating(&self, act: impl FnOnce()) {
        self.eval("window.__custosOld = true; return null;");
        act();
        for _ in 0..300 {
            let done = self
                .rt
                .block_on(self.c().execute(
                    "return window.__custosOld === undefined && document.readyState === 'complete';",
                    Vec::new(),
                ))
                .map(|v| v == serde_json::json!(true))
                // The old document is going away mid-call: not loaded yet.
                .unwrap_or(false);
            if done {
                return;
            }
            self.pause();
        }
        panic!("no new page after the action; still on {}", self.path());
    }

    /// Types into whatever has the focus, as a keyboard does.
    pub fn keys(&self, text: &str) {
        self.rt.block_on(async {
            self.c()
                .active_element()
                .await
                .unwrap()
                .send_keys(text)
                .await
                .unwrap();
        });
    }

    pub fn tab(&self) {
        self.keys(&char::from(Key::Tab).to_string());
    }

    /// Enter on the focused control; waits for the page it opens.
    pub fn enter(&self) {
        self.navigating(|| self.keys(&char::from(Key::Enter).to_string()));
    }

    /// Enter where the browser must not leave the page (a form it holds back as
    /// invalid): checks, after a moment, that the same document is still shown.
    pub fn enter_stays(&self) {
        self.eval("window.__custosOld = true; return null;");
        self.keys(&char::from(Key::Enter).to_string());
        self.rt
            .block_on(async { tokio::time::sleep(Duration::from_millis(1500)).await });
        assert_eq!(
            self.eval("return window.__custosOld === true;"),
            serde_json::json!(true),
            "the page was left"
        );
    }

    pub fn space(&self) {
        self.keys(" ");
    }

    /// A description of the focused element: tag#id[name=value](href) and its text
    /// content (screen-reader-only parts included, as assistive technology reads it).
    pub fn focused(&self) -> String {
        let v = self.eval(
            "const e = document.activeElement; \
             if (!e || e === document.body) { return 'body'; } \
             const labels = e.labels ? [...e.labels].map(l => l.textContent).join(' ') : ''; \
             return `${e.tagName.toLowerCase()}#${e.id}[${e.getAttribute('name') || ''}=${e.getAttribute('value') || ''}](${e.getAttribute('href') || ''}) ${labels} ${e.textContent}`.replace(/\\s+/g, ' ').trim();",
        );
        v.as_str().unwrap_or_default().to_owned()
    }

    /// The value of a cookie the browser holds (HttpOnly ones included).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.rt
            .block_on(self.c().get_named_cookie(name))
            .ok()
            .map(|c| c.value().to_owned())
    }

    /// Presses Tab until the focused element's description contains `needle`
    /// (at most 80 presses): how a keyboard user reaches a control.
    pub fn tab_to(&self, needle: &str) {
        self.tab_to_all(&[needle]);
    }

    /// `tab_to` a control whose description holds every one of `needles`.
    pub fn tab_to_all(&self, needles: &[&str]) {
        for _ in 0..80 {
            self.tab();
            let f = self.focused();
            if needles.iter().all(|n| f.contains(n)) {
                return;
            }
        }
        panic!(
            "Tab never reached {needles:?}; last focus: {}",
            self.focused()
        );
    }

    /// Runs a script in the page and returns its JSON result.
    pub fn eval(&self, script: &str) -> serde_json::Value {
        self.rt
            .block_on(self.c().execute(script, Vec::new()))
            .unwrap()
    }

    pub fn set_window(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.c().set_window_size(width, height))
            .unwrap();
    }

    /// Saves a PNG of the page under target/screenshots, and under
    /// docs/screenshots when CUSTOS_UPDATE_SCREENSHOTS is set (for the README).
    pub fn screenshot(&self, name: &str) {
        let png = self.rt.block_on(self.c().screenshot()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let ws = super::workspace();
        let mut dirs = vec![ws.join("target").join("screenshots")];
        if std::env::var_os("CUSTOS_UPDATE_SCREENSHOTS").is_some() {
            dirs.push(ws.join("docs").join("screenshots"));
        }
        for dir in dirs {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The newest one-time code the file outbox holds for the tenant, waiting (bounded)
/// for the delivery job, which runs every 5 s.
// A real child process's job: the one place these tests read real time.
#[allow(clippy::disallowed_methods)]
pub fn latest_code(outbox: &Path, after: usize) -> String {
    let started = std::time::Instant::now();
    loop {
        let mut codes: Vec<(String, String)> = std::fs::read_dir(outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .filter_map(|p| {
                        let v: serde_json::Value =
                            serde_json::from_str(&std::fs::read_to_string(&p).ok()?).ok()?;
                        (v["kind"] == "verification.code").then(|| {
                            (
                                v["created_at"].as_str().unwrap_or("").to_owned(),
                                v["payload"]["code"].as_str().unwrap_or("").to_owned(),
                            )
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        codes.sort();
        if codes.len() > after {
            return codes.pop().unwrap().1;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no verification code delivered to {}",
            outbox.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One HTTP/1.1 exchange with raw headers: `(status, head, body)`. For what a
/// browser cannot show (downloads, headers, forged forms).
pub fn raw(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}
