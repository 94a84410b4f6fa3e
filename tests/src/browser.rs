//! Drives Debian's headless Chromium through chromedriver (WebDriver, fantoccini) for the
//! dashboard's browser tests: open pages of a real sync server, fill and click by test id, wait
//! for text, resize to a phone (390x844) or a desktop (1366x900), take full-page screenshots
//! into `<target dir>/test-output/dashboard/<test>/<name>-<size>-<lang>.png`, read the
//! browser's cookies, and fetch through the page (with its cookies) to compare downloads with
//! the API. A missing chromium or chromedriver fails with what to install; nothing is skipped.
//!
//! The API is blocking (the browser owns a small tokio runtime), like [`crate::app_driver`].

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::cookies::Cookie;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::app_driver::{free_port, target_dir};

/// How long an element or a text may take to appear.
pub const WAIT: Duration = Duration::from_secs(15);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The widths a page is checked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 390x844, a common phone.
    Phone,
    /// 1366x900, a laptop.
    Desktop,
}

impl Size {
    pub const BOTH: [Size; 2] = [Size::Phone, Size::Desktop];

    pub fn pixels(self) -> (u32, u32) {
        match self {
            Size::Phone => (390, 844),
            Size::Desktop => (1366, 900),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Size::Phone => "phone",
            Size::Desktop => "desktop",
        }
    }
}

/// Where the screenshots of test `test` go.
pub fn output_dir(test: &str) -> PathBuf {
    target_dir().join("test-output/dashboard").join(test)
}

/// A headless Chromium with its chromedriver; dropping it ends the session and both processes.
#[derive(Debug)]
pub struct Browser {
    // Declared first: the session is closed before the processes go.
    client: Option<Client>,
    rt: tokio::runtime::Runtime,
    driver: Child,
    profile: tempfile::TempDir,
    /// The server every relative path is opened on, `http://127.0.0.1:port`.
    pub base: String,
    test: String,
    size: Size,
}

impl Browser {
    /// Starts Chromium for test `test` (names its screenshot folder, emptied here) against the
    /// server at `base`, at desktop size.
    pub fn start(test: &str, base: &str) -> Browser {
        for (bin, what) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")] {
            assert!(
                Path::new(bin).is_file(),
                "{what} is missing ({bin}): apt-get install -y chromium chromium-driver"
            );
        }
        let out = output_dir(test);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).expect("screenshot dir");
        let profile = tempfile::tempdir().expect("chromium profile dir");
        let port = free_port();
        let log = std::fs::File::create(profile.path().join("chromedriver.log")).expect("log");
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}"));
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.try_wait() {
                panic!("chromedriver exited ({status})");
            }
            assert!(
                start.elapsed() < WAIT,
                "chromedriver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (w, h) = Size::Desktop.pixels();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        // The TLS tests' servers present a certificate of a throwaway CA.
        caps.insert("acceptInsecureCerts".into(), json!(true));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-extensions",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    "--lang=en-US",
                    format!("--window-size={w},{h}"),
                    format!("--user-data-dir={}", profile.path().join("profile").display()),
                ],
            }),
        );
        let client = rt
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .unwrap_or_else(|e| panic!("no WebDriver session with chromium: {e}"));
        let mut b = Browser {
            client: Some(client),
            rt,
            driver,
            profile,
            base: base.trim_end_matches('/').to_string(),
            test: test.to_string(),
            size: Size::Desktop,
        };
        b.set_size(Size::Desktop);
        b
    }

    fn c(&self) -> Client {
        self.client.clone().expect("session")
    }

    /// The CSS selector of a test id.
    pub fn sel(id: &str) -> String {
        format!("[data-testid=\"{id}\"]")
    }

    /// Opens `path` (relative to the server) or a full URL, and waits for the page to load.
    pub fn open(&mut self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let c = self.c();
        self.rt
            .block_on(c.goto(&url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The current URL's path and query.
    pub fn path(&mut self) -> String {
        let c = self.c();
        let u = self.rt.block_on(c.current_url()).expect("current url");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    /// Runs `script` in the page (its `arguments` are `args`) and returns its result.
    pub fn execute(&mut self, script: &str, args: Vec<Value>) -> Value {
        let c = self.c();
        self.rt
            .block_on(c.execute(script, args))
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs an async script: the last of `arguments` is the callback to call with the result.
    pub fn execute_async(&mut self, script: &str, args: Vec<Value>) -> Value {
        let c = self.c();
        self.rt
            .block_on(c.execute_async(script, args))
            .unwrap_or_else(|e| panic!("async script failed: {e}\n{script}"))
    }

    /// Waits until `f` answers `Some`, polling every 100 ms up to [`WAIT`]; on timeout fails
    /// with a screenshot.
    pub fn poll<T>(&mut self, what: &str, mut f: impl FnMut(&mut Browser) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            if start.elapsed() > WAIT {
                let shot = self.shot_file(&format!("FAILED-{}", slug(what)));
                panic!(
                    "timed out after {WAIT:?} waiting for {what} on {}; screenshot {}\npage text:\n{}",
                    self.path(),
                    shot.display(),
                    self.page_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first displayed element matching `css`, if any.
    pub fn find_css(&mut self, css: &str) -> Option<Element> {
        let c = self.c();
        self.rt.block_on(async {
            for e in c.find_all(Locator::Css(css)).await.ok()? {
                if e.is_displayed().await.unwrap_or(false) {
                    return Some(e);
                }
            }
            None
        })
    }

    /// The first displayed element with test id `id`, if any.
    pub fn find(&mut self, id: &str) -> Option<Element> {
        self.find_css(&Browser::sel(id))
    }

    /// Waits for a displayed element with test id `id`.
    pub fn wait_for(&mut self, id: &str) -> Element {
        self.poll(&format!("test id {id:?}"), |b| b.find(id))
    }

    /// Waits until the page's text contains `text`.
    pub fn wait_for_text(&mut self, text: &str) {
        self.poll(&format!("text {text:?}"), |b| {
            b.page_text().contains(text).then_some(())
        })
    }

    /// The visible text of the element with test id `id` (waits for it). An element the page
    /// re-rendered between finding it and reading it is stale: it is looked up again.
    pub fn text(&mut self, id: &str) -> String {
        self.poll(&format!("the text of test id {id:?}"), |b| {
            let e = b.find(id)?;
            match b.rt.block_on(e.text()) {
                Ok(text) => Some(text),
                Err(err) if err.is_stale_element_reference() => None,
                Err(err) => panic!("text of test id {id:?}: {err}"),
            }
        })
    }

    /// The visible text of the whole page.
    pub fn page_text(&mut self) -> String {
        let c = self.c();
        self.rt
            .block_on(c.execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            ))
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Clicks the element with test id `id` once displayed.
    pub fn click(&mut self, id: &str) {
        self.click_css(&Browser::sel(id));
    }

    /// Clicks the first element matching the CSS selector `css`, once there is one.
    /// An element found on the page before it reloaded (a search form's submit) is stale: it is
    /// looked up again, a few times.
    pub fn click_css(&mut self, css: &str) {
        for attempt in 1.. {
            let e = self.poll(&format!("an element {css}"), |b| b.find_css(css));
            let c = self.c();
            let stale = match self.rt.block_on(e.click()) {
                Ok(_) => return,
                Err(err) if err.is_stale_element_reference() => err,
                Err(err) => {
                    // Covered by something (a sticky header): a script click still submits.
                    let v = serde_json::to_value(&e).expect("element json");
                    match self.rt.block_on(c.execute("arguments[0].click()", vec![v])) {
                        Ok(_) => return,
                        Err(e2) if e2.is_stale_element_reference() => e2,
                        Err(e2) => panic!("cannot click {css}: {err}; {e2}"),
                    }
                }
            };
            assert!(
                attempt < 10,
                "cannot click {css}: {stale} ({attempt} tries)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Replaces the value of the input with test id `id` by `text`.
    pub fn fill(&mut self, id: &str, text: &str) {
        let e = self.wait_for(id);
        self.rt.block_on(async {
            e.clear().await.expect("clear");
            e.send_keys(text).await.expect("type");
        });
    }

    /// Sets the value of an input with test id `id` through script (date inputs, whose typing
    /// depends on the locale).
    pub fn set_value(&mut self, id: &str, value: &str) {
        let e = self.wait_for(id);
        let v = serde_json::to_value(&e).expect("element json");
        self.execute("arguments[0].value = arguments[1];", vec![v, json!(value)]);
    }

    /// Resizes the window so that the page's viewport is `size`.
    pub fn set_size(&mut self, size: Size) {
        let (w, h) = size.pixels();
        let c = self.c();
        self.rt
            .block_on(c.set_window_size(w, h))
            .expect("window size");
        // The window includes the browser's frame, if any: grow it by the difference.
        let inner = self.execute("return [window.innerWidth, window.innerHeight]", vec![]);
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(u64::from(w)) as u32,
            inner[1].as_u64().unwrap_or(u64::from(h)) as u32,
        );
        if iw != w || ih != h {
            self.rt
                .block_on(c.set_window_size(w + w.saturating_sub(iw), h + h.saturating_sub(ih)))
                .expect("window size");
        }
        self.size = size;
    }

    /// The width of the page's content beyond the viewport, in CSS pixels (0 when nothing but
    /// designated scroll areas overflow sideways).
    pub fn horizontal_overflow(&mut self) -> i64 {
        self.execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .as_i64()
        .unwrap_or(0)
    }

    /// A full-page screenshot named `<name>-<size>-<lang>.png` in this test's folder.
    pub fn screenshot(&mut self, name: &str, lang: &str) -> PathBuf {
        self.shot_file(&format!("{name}-{}-{lang}", self.size.name()))
    }

    fn shot_file(&mut self, file: &str) -> PathBuf {
        let (w, h) = self.size.pixels();
        let c = self.c();
        // The window is the page's height plus the browser's frame, at its present width, or
        // the shot loses the page's foot.
        let measured = self
            .rt
            .block_on(c.execute(
                "return [Math.max(document.documentElement.scrollHeight, window.innerHeight),\
                         window.innerHeight]",
                vec![],
            ))
            .ok();
        let num = |i: usize| {
            measured
                .as_ref()
                .and_then(|v| v[i].as_u64())
                .map(|n| n as u32)
        };
        let (outer_w, outer_h) = self
            .rt
            .block_on(c.get_window_size())
            .map_or((w, h), |(ow, oh)| (ow as u32, oh as u32));
        let full = num(0).unwrap_or(h).min(6000);
        let frame = outer_h.saturating_sub(num(1).unwrap_or(outer_h));
        let _ = self.rt.block_on(c.set_window_size(outer_w, full + frame));
        std::thread::sleep(Duration::from_millis(150));
        let png = self.rt.block_on(c.screenshot());
        let _ = self.rt.block_on(c.set_window_size(w, h));
        let path = output_dir(&self.test).join(format!("{file}.png"));
        match png {
            Ok(bytes) => std::fs::write(&path, bytes).expect("write screenshot"),
            Err(e) => eprintln!("screenshot {file} failed: {e}"),
        }
        self.set_size(self.size);
        path
    }

    /// Screenshots of the current page at phone and desktop width in `lang` (the page is in
    /// that language); on a phone nothing may scroll sideways but the tables' own boxes. Ends
    /// at desktop width.
    pub fn shots(&mut self, name: &str, lang: &str) {
        for size in Size::BOTH {
            self.set_size(size);
            self.screenshot(name, lang);
            if size == Size::Phone {
                assert!(
                    self.horizontal_overflow() <= 0,
                    "{name} ({lang}) scrolls sideways on a phone: tables must scroll in their own box"
                );
            }
        }
        self.set_size(Size::Desktop);
    }

    /// Fails when the page's text holds any of `english` (words of the page that an
    /// Indonesian page must have translated).
    pub fn assert_no_english(&mut self, page: &str, english: &[&str]) {
        let text = self.page_text();
        for w in english {
            assert!(
                !text.contains(w),
                "English {w:?} on the Indonesian {page} page:\n{text}"
            );
        }
    }

    /// [`Browser::shots`] in English, then in Indonesian with none of `english` left on the
    /// page (the language switch reloads it); ends in English.
    pub fn shots_both(&mut self, name: &str, english: &[&str]) {
        self.shots(name, "en");
        self.switch_lang("id");
        self.assert_no_english(name, english);
        self.shots(name, "id");
        self.switch_lang("en");
    }

    /// The body rows of the table `data-testid=id`, each as its cells' text.
    pub fn table_rows(&mut self, id: &str) -> Vec<Vec<String>> {
        let v = self.execute(
            "const t = document.querySelector(arguments[0]);\
             if (!t) return null;\
             return [...t.querySelectorAll('tbody tr')]\
               .map(r => [...r.querySelectorAll('td')].map(c => c.innerText.trim()));",
            vec![json!(Browser::sel(id))],
        );
        serde_json::from_value(v.clone())
            .unwrap_or_else(|_| panic!("no table {id} on {}: {v}", self.base))
    }

    /// The browser's cookies for the current page (with their flags).
    pub fn cookies(&mut self) -> Vec<Cookie<'static>> {
        let c = self.c();
        self.rt.block_on(c.get_all_cookies()).expect("cookies")
    }

    /// Deletes every cookie of the current site.
    pub fn clear_cookies(&mut self) {
        let c = self.c();
        self.rt
            .block_on(c.delete_all_cookies())
            .expect("delete cookies");
    }

    /// Puts a cookie into the browser for the current site (through `document.cookie`:
    /// chromedriver refuses WebDriver cookies for an IP address's "domain").
    pub fn add_cookie(&mut self, name: &str, value: &str) {
        self.execute(
            "document.cookie = arguments[0] + '=' + arguments[1] + '; path=/';",
            vec![json!(name), json!(value)],
        );
    }

    /// `fetch(path)` from the page (same origin, with its cookies): the status and the body.
    pub fn fetch(&mut self, path: &str) -> (u16, String) {
        let v = self.execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch(arguments[0], {credentials: 'same-origin'})\
               .then(r => r.text().then(t => done([r.status, t])))\
               .catch(e => done([0, String(e)]));",
            vec![json!(path)],
        );
        (
            v[0].as_u64().unwrap_or(0) as u16,
            v[1].as_str().unwrap_or_default().to_string(),
        )
    }

    /// A form POST from the page (`application/x-www-form-urlencoded`, with its cookies):
    /// status and body. `fields` go as given (add `_csrf` or leave it out).
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let body: Vec<Value> = fields.iter().map(|(k, v)| json!([k, v])).collect();
        let v = self.execute_async(
            "const done = arguments[arguments.length - 1];\
             const body = new URLSearchParams(arguments[1]);\
             fetch(arguments[0], {method: 'POST', body, credentials: 'same-origin', redirect: 'manual'})\
               .then(r => r.text().then(t => done([r.status, t])))\
               .catch(e => done([0, String(e)]));",
            vec![json!(path), Value::Array(body)],
        );
        (
            v[0].as_u64().unwrap_or(0) as u16,
            v[1].as_str().unwrap_or_default().to_string(),
        )
    }

    /// The page's CSRF token (`<meta name="csrf-token">` or the `_csrf` field of a form).
    pub fn csrf_token(&mut self) -> String {
        self.execute(
            "const m = document.querySelector('meta[name=csrf-token]');\
             if (m && m.content) return m.content;\
             const f = document.querySelector('input[name=_csrf]');\
             return f ? f.value : '';",
            vec![],
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Signs in on `/signin` as `email` and waits to leave the sign-in page.
    pub fn sign_in(&mut self, email: &str, password: &str) {
        self.open("/signin");
        self.fill("email", email);
        self.fill("password", password);
        self.click("signin-submit");
        self.poll("to leave /signin", |b| {
            (!b.path().starts_with("/signin")).then_some(())
        });
    }

    /// Switches the dashboard's language with the header's switch (`id` or `en`).
    pub fn switch_lang(&mut self, lang: &str) {
        // Already in it: a click would post the form again, and its redirect could land after
        // the caller's next navigation (seen: a page opened next showed the overview instead).
        let now = self.execute("return document.documentElement.lang", vec![]);
        if now.as_str() == Some(lang) {
            return;
        }
        self.click(&format!("lang-{lang}"));
        self.poll(&format!("the page in {lang}"), |b| {
            let l = b.execute("return document.documentElement.lang", vec![]);
            (l.as_str() == Some(lang)).then_some(())
        });
    }

    /// Navigation and resource timing of the current page: (bytes transferred, ms to
    /// `domInteractive`, ms to `loadEventEnd`).
    pub fn timing(&mut self) -> (u64, f64, f64) {
        let v = self.execute(
            "const n = performance.getEntriesByType('navigation')[0];\
             const r = performance.getEntriesByType('resource');\
             const bytes = n.transferSize + r.reduce((s, e) => s + e.transferSize, 0);\
             return [bytes, n.domInteractive, n.loadEventEnd];",
            vec![],
        );
        (
            v[0].as_u64().unwrap_or(0),
            v[1].as_f64().unwrap_or(0.0),
            v[2].as_f64().unwrap_or(0.0),
        )
    }

    /// The chromedriver log's path (for failure messages).
    pub fn driver_log(&self) -> PathBuf {
        self.profile.path().join("chromedriver.log")
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

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect()
}
