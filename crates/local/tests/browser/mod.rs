//! Browser harness for the console tests: a headless Debian `chromium` driven through
//! `chromedriver` (WebDriver, via fantoccini), and a whole local stack on 127.0.0.1:0.
//!
//! chromium and chromium-driver come from Debian's packages (`scripts/tools` installs them).
//! Screenshots go to `$DURAPIPE_SCREENSHOTS` (relative to the repository's root) if set (the
//! README's images:
//! `DURAPIPE_SCREENSHOTS=docs/console cargo test -p durapipe-local --test console`), otherwise
//! to `console-screenshots/` under cargo's test temp dir.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// At most this many browsers run at once (the tests of one binary run in parallel).
static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless browser session; the driver dies with it.
pub struct Browser {
    pub client: Client,
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
    _permit: tokio::sync::SemaphorePermit<'static>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver and a headless chromium with a fresh profile.
pub async fn browser() -> Browser {
    let permit = BROWSERS.acquire().await.unwrap();
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(tool).exists(),
            "{tool} is missing: install Debian's chromium and chromium-driver (scripts/tools does)"
        );
    }
    let port = free_port();
    let driver = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1440,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start a chromium session through chromedriver: {e}"),
        }
    };
    Browser {
        client,
        driver,
        _profile: profile,
        _permit: permit,
    }
}

impl Browser {
    /// Opens `url` and waits until the console rendered `page`.
    pub async fn open(&self, url: &str, page: &str) {
        // A fresh document each time (the same URL again would not even fire `hashchange`).
        self.client.goto("about:blank").await.unwrap();
        self.client.goto(url).await.unwrap();
        self.ready(page).await;
    }

    /// Waits until `#app` shows `page` rendered (`data-state="ready"`).
    pub async fn ready(&self, page: &str) {
        let selector = format!("#app[data-page=\"{page}\"][data-state=\"ready\"]");
        self.wait_css(&selector, Duration::from_secs(20)).await;
    }

    /// Waits for an element matching `css`.
    pub async fn wait_css(&self, css: &str, within: Duration) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(within)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let text = self.js("return document.body.innerText").await;
                panic!("no {css} within {within:?}: {e}; page text: {text}")
            }
        }
    }

    /// Finds the element `locator` names and clicks it.
    pub async fn click(&self, locator: Locator<'_>) {
        self.client
            .find(locator)
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Runs `script` (a function body) in the page; returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    /// Polls `script` until it returns something truthy; returns it.
    pub async fn until(&self, what: &str, within: Duration, script: &str) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let v = self.js(script).await;
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let text = self.js("return document.body.innerText").await;
                panic!("{what}: not true within {within:?}; page text: {text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the viewport as `name.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // A relative $DURAPIPE_SCREENSHOTS is relative to the repository's root.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = std::env::var_os("DURAPIPE_SCREENSHOTS").map_or_else(
            || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots"),
            |d| root.join(d),
        );
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session (the driver is killed on drop).
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

/// `#/execution/<arn>` of the console at `endpoint`.
pub fn execution_url(endpoint: &str, arn: &str) -> String {
    let encoded: String = arn
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{endpoint}/#/execution/{encoded}")
}
