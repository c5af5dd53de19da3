//! The few W3C WebDriver commands the browser test uses, over the `ureq` the workspace
//! already has. (fantoccini was the first choice; its `webdriver` crate brings an ICU 1
//! stack whose derives turn on more of syn's features in the test build than in
//! `cargo otai-plugin`'s, so every derive, and wasmtime above them, would be compiled
//! twice: `tests/tests/architecture.rs` caught it.)

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process, killed on drop.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts `chromedriver` on a free port and waits until it answers `/status`.
    pub fn start(binary: &str) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        // Readiness, not timing: it answers once it listens.
        while ureq::get(&format!("{}/status", driver.url)).call().is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// A new browser session with `chrome_options` (`goog:chromeOptions`). Finding an
    /// element waits up to 20 s for it (WebDriver's implicit wait), so a test waits for
    /// what the page will show by asking for it.
    pub fn session(&self, chrome_options: Value) -> Session {
        let created = call(
            "POST",
            &format!("{}/session", self.url),
            Some(json!({
                "capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": chrome_options}}
            })),
        );
        let id = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        let session = Session {
            base: format!("{}/session/{id}", self.url),
        };
        session.post("/timeouts", json!({"implicit": 20_000}));
        session
    }
}

/// A browser session; deleted on drop (the browser exits).
pub struct Session {
    base: String,
}

/// An element of the page.
pub struct Element<'a> {
    session: &'a Session,
    id: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.base).call();
    }
}

fn call(method: &str, url: &str, body: Option<Value>) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, body) => agent
            .post(url)
            .header("content-type", "application/json")
            .send(body.unwrap_or_else(|| json!({})).to_string()),
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert!(status.is_success(), "{method} {url}: {status}: {value}");
    value["value"].clone()
}

impl Session {
    fn post(&self, path: &str, body: Value) -> Value {
        call("POST", &format!("{}{path}", self.base), Some(body))
    }

    fn get(&self, path: &str) -> Value {
        call("GET", &format!("{}{path}", self.base), None)
    }

    /// Navigates and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url}));
    }

    /// The first element matching a CSS selector, waiting for it.
    pub fn css(&self, selector: &str) -> Element<'_> {
        self.find("css selector", selector)
    }

    /// The first element matching an XPath, waiting for it: `//p[contains(., 'x')]`
    /// waits until the page shows `x`.
    pub fn xpath(&self, path: &str) -> Element<'_> {
        self.find("xpath", path)
    }

    fn find(&self, using: &str, value: &str) -> Element<'_> {
        let found = self.post("/element", json!({"using": using, "value": value}));
        let id = found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {value:?}; the page is:\n{}", self.source()))
            .to_owned();
        Element { session: self, id }
    }

    /// The address of the page shown.
    pub fn url(&self) -> String {
        self.get("/url").as_str().unwrap_or_default().to_owned()
    }

    /// Reloads the page as the browser's reload button does.
    pub fn refresh(&self) {
        self.post("/refresh", json!({}));
    }

    /// The page's HTML as the browser has it now.
    pub fn source(&self) -> String {
        self.get("/source").as_str().unwrap_or_default().to_owned()
    }

    /// Switches back to the page from an iframe.
    pub fn leave_frame(&self) {
        self.post("/frame", json!({"id": null}));
    }

    /// Switches into an iframe.
    pub fn enter_frame(&self, frame: &Element<'_>) {
        self.post("/frame", json!({"id": {ELEMENT: frame.id}}));
    }
}

impl Element<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// Clicks it.
    pub fn click(&self) {
        self.session.post(&self.path("/click"), json!({}));
    }

    /// Types into it.
    pub fn send_keys(&self, text: &str) {
        self.session
            .post(&self.path("/value"), json!({"text": text}));
    }

    /// Empties an input.
    pub fn clear(&self) {
        self.session.post(&self.path("/clear"), json!({}));
    }

    /// Its rendered text.
    pub fn text(&self) -> String {
        self.session
            .get(&self.path("/text"))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A CSS property's computed value, as the browser writes it (`rgba(29, 35, 48, 1)`).
    pub fn css_value(&self, property: &str) -> String {
        self.session
            .get(&self.path(&format!("/css/{property}")))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.session
            .get(&self.path(&format!("/attribute/{name}")))
            .as_str()
            .map(str::to_owned)
    }

    /// A DOM property's value: what a form field holds now (its `value` attribute is
    /// what the page was sent with).
    pub fn property(&self, name: &str) -> Option<String> {
        self.session
            .get(&self.path(&format!("/property/{name}")))
            .as_str()
            .map(str::to_owned)
    }
}
