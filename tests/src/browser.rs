//! A headless Chromium for browser tests, driven over WebDriver (chromedriver + fantoccini).
//!
//! `Browser::start().await` starts Debian's `chromedriver` on a free port and opens a session in
//! headless `chromium` with an empty profile; the browser derefs to a `fantoccini::Client`.
//! Nothing is skipped: without Chromium the test fails and says how to install it
//! (`local/scripts/test.sh` installs it when missing). `CHROMIUM` and `CHROMEDRIVER` override
//! the binaries' paths.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

pub struct Browser {
    client: Client,
    _driver: Child,
    profile: PathBuf,
}

fn binary(variable: &str, default: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(variable).unwrap_or_else(|_| default.to_string()));
    assert!(
        path.exists(),
        "{} is missing: browser tests need Debian's chromium and chromium-driver \
         (`apt-get install -y chromium chromium-driver`; `make test` installs them), or set {variable}",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(address) => address.port(),
        Err(err) => panic!("no free port for chromedriver: {err}"),
    }
}

impl Browser {
    /// A fresh headless Chromium session (empty profile, no network of its own).
    pub async fn start() -> Browser {
        let chromium = binary("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
        let profile = std::env::temp_dir().join(format!(
            "insta-chromium-{}",
            ulid::Ulid::new().to_string().to_lowercase()
        ));
        if let Err(err) = std::fs::create_dir_all(&profile) {
            panic!("creating {}: {err}", profile.display());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,2000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut last_error = String::new();
        // chromedriver takes a moment to listen.
        for _ in 0..100 {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: driver,
                        profile,
                    }
                }
                Err(err) => last_error = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no WebDriver session from {}: {last_error}",
            chromedriver.display()
        );
    }

    /// The first element matching `css`, waiting up to `within` for it to appear.
    pub async fn wait_for(&self, css: &str, within: Duration) -> Element {
        match self
            .client
            .wait()
            .at_most(within)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(err) => {
                let url = self.client.current_url().await.map(|u| u.to_string());
                panic!("no {css:?} within {within:?} on {url:?}: {err}")
            }
        }
    }

    /// Ends the session and the browser (do call it: a dropped session leaves Chromium running
    /// until chromedriver is killed).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl std::ops::Deref for Browser {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}
