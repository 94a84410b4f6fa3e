//! Drives the real cashier app (`pos-desktop`) through WebDriver for the end-to-end tests: a
//! private X server (Xvfb), `tauri-driver` in front of WebKitGTK's `WebKitWebDriver`, and a
//! fantoccini session whose capabilities name the app binary. Every prerequisite that is missing
//! fails with what to install; nothing is skipped.
//!
//! The API is blocking (the driver owns a small tokio runtime) so that a test reads as the
//! cashier's story, next to the blocking process helpers of [`crate::processes`].

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::processes::bin_dir;

/// How long a test id may take to appear.
pub const WAIT: Duration = Duration::from_secs(10);

/// Window sizes the screens are checked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 1280x800, the app's default window.
    Desktop,
    /// 1024x768, a landscape tablet.
    TabletLandscape,
    /// 800x1280, a portrait tablet.
    TabletPortrait,
}

impl Size {
    pub fn pixels(self) -> (u32, u32) {
        match self {
            Size::Desktop => (1280, 800),
            Size::TabletLandscape => (1024, 768),
            Size::TabletPortrait => (800, 1280),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Size::Desktop => "desktop",
            Size::TabletLandscape => "tablet-landscape",
            Size::TabletPortrait => "tablet-portrait",
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; the driver binds it a moment later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A private X server on a display number it picks itself (`-displayfd`), killed on drop.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    /// `:N`.
    pub display: String,
}

impl Xvfb {
    pub fn start() -> Xvfb {
        let xvfb = which("Xvfb").unwrap_or_else(|| {
            panic!("Xvfb is not installed: apt-get install -y xvfb webkit2gtk-driver")
        });
        // `-displayfd 1`: Xvfb writes the display number it found free to its stdout (a pipe to
        // us) once it accepts connections; its log goes to stderr.
        let mut child = Command::new(xvfb)
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1920x1200x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let mut out = child.stdout.take().expect("Xvfb stdout");
        let mut number = String::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte).map(|n| n == 1).unwrap_or(false) && byte[0] != b'\n' {
            number.push(byte[0] as char);
        }
        let number = number.trim().to_string();
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Xvfb did not report a display number ({number:?})");
        }
        Xvfb {
            child,
            display: format!(":{number}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `name` on PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The tauri-driver to use: `$TAURI_DRIVER`, else `tauri-driver` on PATH, else the copy
/// scripts/test installs into `<target>/tools/bin`.
pub fn tauri_driver() -> PathBuf {
    let tools = target_dir().join("tools/bin/tauri-driver");
    std::env::var_os("TAURI_DRIVER")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| which("tauri-driver"))
        .or_else(|| tools.is_file().then_some(tools))
        .unwrap_or_else(|| {
            panic!(
                "tauri-driver not found ($TAURI_DRIVER, PATH, target/tools/bin): scripts/test \
                 installs tauri-driver with cargo install (cargo install tauri-driver --locked \
                 --root <target dir>/tools)"
            )
        })
}

/// The cargo target directory (the parent of `target/debug`).
pub fn target_dir() -> PathBuf {
    bin_dir().parent().expect("target dir").to_path_buf()
}

/// Where screenshots go: `<target dir>/test-screens/cashier-app`.
pub fn screens_dir() -> PathBuf {
    target_dir().join("test-screens/cashier-app")
}

/// The app binary; fails with the commands that build it.
pub fn app_binary() -> PathBuf {
    let p = bin_dir().join("pos-desktop");
    assert!(
        p.is_file(),
        "{} is missing: build the UI and the app with `(cd pos-desktop/ui && npm install && npm run \
         build) && cargo build -p pos-desktop` (scripts/test does both)",
        p.display()
    );
    p
}

/// Where the app keeps its data.
#[derive(Debug, Clone, Copy)]
enum Data<'a> {
    /// `SNAPKASIR_DATA_DIR`.
    Dir(&'a Path),
    /// The OS app data folder of a user whose `HOME` is this.
    Home(&'a Path),
}

/// The running app, driven through tauri-driver. Dropping it ends the WebDriver session (which
/// closes the app) and stops tauri-driver, WebKitWebDriver and the X server.
#[derive(Debug)]
pub struct App {
    // Declared first so that it is dropped (session closed) before the processes.
    client: Option<Client>,
    rt: tokio::runtime::Runtime,
    driver: Child,
    _xvfb: Xvfb,
    /// SNAPKASIR_DATA_DIR of the app (its HOME when started by [`App::launch_with_home`]).
    pub data_dir: PathBuf,
    /// Prefix of this app's screenshot names (one per test, so parallel tests do not collide).
    prefix: String,
    shots: u32,
}

impl App {
    /// Starts the app with its data in `data_dir` (created if needed). `prefix` names this run's
    /// screenshots (`<NN>-<prefix>-<name>.png`).
    pub fn launch(data_dir: &Path, prefix: &str) -> App {
        App::launch_binary(&app_binary(), &[], Some("wry"), data_dir, prefix)
    }

    /// [`App::launch`] with another WebKitGTK application and its arguments (MiniBrowser wants
    /// `--automation`); `browser_name` is the name it reports to WebKitWebDriver (`wry` for a
    /// Tauri app).
    pub fn launch_binary(
        app: &Path,
        args: &[&str],
        browser_name: Option<&str>,
        data_dir: &Path,
        prefix: &str,
    ) -> App {
        App::start(app, args, browser_name, Data::Dir(data_dir), prefix)
    }

    /// Starts `app` (e.g. the binary a package installed) as a user whose home is `home`
    /// (created if needed): no `SNAPKASIR_DATA_DIR`, and no `XDG_*` directories, so the app keeps
    /// its data where it does on a shop's till, in the OS app data folder under `home`
    /// (`~/.local/share/id.snapkasir.pos` on Linux). [`App::data_dir`] is `home`, where
    /// tauri-driver's log goes.
    pub fn launch_with_home(app: &Path, home: &Path, prefix: &str) -> App {
        App::start(app, &[], Some("wry"), Data::Home(home), prefix)
    }

    fn start(
        app: &Path,
        args: &[&str],
        browser_name: Option<&str>,
        data: Data<'_>,
        prefix: &str,
    ) -> App {
        let data_dir = match data {
            Data::Dir(d) | Data::Home(d) => d,
        };
        let native = Path::new("/usr/bin/WebKitWebDriver");
        assert!(
            native.is_file(),
            "{} is missing: apt-get install -y xvfb webkit2gtk-driver",
            native.display()
        );
        let driver_bin = tauri_driver();
        std::fs::create_dir_all(data_dir).expect("data dir");
        std::fs::create_dir_all(screens_dir()).expect("screens dir");
        // This run's screenshots replace the last run's of the same prefix.
        let mine = format!("-{prefix}-");
        for e in std::fs::read_dir(screens_dir())
            .expect("screens dir")
            .flatten()
        {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(".png") && name.get(2..).is_some_and(|n| n.starts_with(&mine)) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let xvfb = Xvfb::start();
        let port = free_port();
        let native_port = free_port();
        let log = std::fs::File::create(data_dir.join("tauri-driver.log")).expect("driver log");
        // tauri-driver passes its environment on to WebKitWebDriver and from there to the app.
        // It stays in the test's process group, so that a test runner's timeout stops it too.
        let mut command = Command::new(&driver_bin);
        match data {
            Data::Dir(dir) => {
                command.env("SNAPKASIR_DATA_DIR", dir);
            }
            Data::Home(home) => {
                command.env_remove("SNAPKASIR_DATA_DIR").env("HOME", home);
                for var in [
                    "XDG_DATA_HOME",
                    "XDG_CONFIG_HOME",
                    "XDG_CACHE_HOME",
                    "XDG_STATE_HOME",
                ] {
                    command.env_remove(var);
                }
            }
        }
        let driver = command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
                "--native-driver",
            ])
            .arg(native)
            .env("DISPLAY", &xvfb.display)
            .env("SNAPKASIR_LOG", "info")
            // LAN sync on loopback only, on a free port: tests never listen on other addresses.
            .env("SNAPKASIR_LAN_LISTEN", "127.0.0.1:0")
            .env_remove("WAYLAND_DISPLAY")
            // (No WEBKIT_DISABLE_COMPOSITING_MODE: with it WebKitWebDriver's screenshots hang.)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", driver_bin.display()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut app_driver = App {
            client: None,
            rt,
            driver,
            _xvfb: xvfb,
            data_dir: data_dir.to_path_buf(),
            prefix: prefix.to_string(),
            shots: 0,
        };
        let start = Instant::now();
        // Both tauri-driver and the WebKitWebDriver it starts must listen before a session can
        // be made (tauri-driver forwards to the native port and fails if it is not up yet).
        while TcpStream::connect(("127.0.0.1", port)).is_err()
            || TcpStream::connect(("127.0.0.1", native_port)).is_err()
        {
            if let Ok(Some(status)) = app_driver.driver.try_wait() {
                panic!(
                    "tauri-driver exited ({status}); see {}",
                    data_dir.join("tauri-driver.log").display()
                );
            }
            assert!(
                start.elapsed() < WAIT,
                "tauri-driver did not listen on {port} and WebKitWebDriver on {native_port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut caps = serde_json::Map::new();
        if let Some(name) = browser_name {
            caps.insert("browserName".into(), json!(name));
        }
        caps.insert(
            "tauri:options".into(),
            json!({ "application": app.display().to_string(), "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let client = app_driver
            .rt
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(&url),
            )
            .unwrap_or_else(|e| {
                panic!(
                    "no WebDriver session with the app: {e}; see {}",
                    data_dir.join("tauri-driver.log").display()
                )
            });
        app_driver.client = Some(client);
        app_driver
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("session")
    }

    /// The CSS selector of a test id.
    pub fn sel(id: &str) -> String {
        format!("[data-testid=\"{id}\"]")
    }

    /// Waits until `f` answers `Some`, polling every 50 ms up to `timeout`.
    pub fn poll<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut(&mut App) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            if start.elapsed() > timeout {
                let shot = self.screenshot(&format!("FAILED-{}", slug(what)));
                panic!(
                    "timed out after {timeout:?} waiting for {what}; screenshot {}",
                    shot.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first displayed element with test id `id`, if any.
    pub fn find(&mut self, id: &str) -> Option<Element> {
        self.find_css(&App::sel(id))
    }

    /// The first displayed element matching `css`, if any.
    pub fn find_css(&mut self, css: &str) -> Option<Element> {
        let c = self.c().clone();
        self.rt.block_on(async {
            for e in c.find_all(Locator::Css(css)).await.ok()? {
                if e.is_displayed().await.unwrap_or(false) {
                    return Some(e);
                }
            }
            None
        })
    }

    /// Every element with test id `id` (displayed or not).
    pub fn all(&mut self, id: &str) -> Vec<Element> {
        let c = self.c().clone();
        let css = App::sel(id);
        self.rt
            .block_on(c.find_all(Locator::Css(&css)))
            .unwrap_or_default()
    }

    /// True if an element with test id `id` is displayed now.
    pub fn visible(&mut self, id: &str) -> bool {
        self.find(id).is_some()
    }

    /// Waits (up to [`WAIT`]) for a displayed element with test id `id`.
    pub fn wait_for(&mut self, id: &str) -> Element {
        self.poll(&format!("test id {id:?}"), WAIT, |a| a.find(id))
    }

    /// Waits for a displayed element matching `css`.
    pub fn wait_for_css(&mut self, css: &str) -> Element {
        self.poll(&format!("css {css:?}"), WAIT, |a| a.find_css(css))
    }

    /// Waits until no element with test id `id` is displayed.
    pub fn wait_gone(&mut self, id: &str) {
        self.poll(&format!("test id {id:?} to go away"), WAIT, |a| {
            (!a.visible(id)).then_some(())
        })
    }

    /// Clicks the element with test id `id` once it is displayed.
    pub fn click(&mut self, id: &str) {
        let e = self.wait_for(id);
        self.click_element(&e, id);
    }

    /// Clicks an element found before (`what` names it in a failure).
    pub fn click_element(&mut self, e: &Element, what: &str) {
        let r = self.rt.block_on(e.click());
        if let Err(err) = r {
            // An element under an animation or overlay: a script click still fires the handler.
            let res = self.rt.block_on(self.c().execute(
                "arguments[0].click()",
                vec![serde_json::to_value(e).expect("element json")],
            ));
            if let Err(e2) = res {
                let shot = self.screenshot(&format!("FAILED-click-{}", slug(what)));
                panic!(
                    "cannot click {what}: {err}; {e2}; screenshot {}",
                    shot.display()
                );
            }
        }
    }

    /// Replaces the value of the input with test id `id` by `text` (typed as keystrokes).
    ///
    /// A controlled input that re-renders while the keys arrive (its dialog's own data landing
    /// beside the typing) can keep only the first of them (seen: a folder typed as `/tmp/…`
    /// read back as `/`), or lose them all to the value that landed (seen: read back as the
    /// default folder `/root`). While the field holds something else than `text`, it is typed
    /// again, up to three times; a field that turns `text` into the same other value twice (an
    /// amount shown formatted) keeps it. An empty field is left alone: a PIN field empties
    /// itself once it submits.
    pub fn type_into(&mut self, id: &str, text: &str) {
        let mut before: Option<String> = None;
        for _ in 0..3 {
            let e = self.wait_for(id);
            self.rt.block_on(async {
                let _ = e.click().await;
                e.clear().await.expect("clear");
                e.send_keys(text).await.expect("type");
            });
            self.settle();
            let Some(e) = self.find(id) else { return };
            let held: String = self
                .rt
                .block_on(e.prop("value"))
                .ok()
                .flatten()
                .unwrap_or_default();
            if held.is_empty() || held == text || before.as_deref() == Some(held.as_str()) {
                return;
            }
            before = Some(held);
        }
    }

    /// Presses one key (W3C actions) in the focused element.
    pub fn press(&mut self, key: Key) {
        let k: char = key.into();
        self.keys(&[k], Duration::ZERO);
    }

    /// Presses `chars` one after the other, key down and up, with `gap` between keys.
    pub fn keys(&mut self, chars: &[char], gap: Duration) {
        let mut actions = KeyActions::new("keyboard".into());
        for (i, &ch) in chars.iter().enumerate() {
            if i > 0 && !gap.is_zero() {
                actions = actions.pause(gap);
            }
            actions = actions
                .then(KeyAction::Down { value: ch })
                .then(KeyAction::Up { value: ch });
        }
        let c = self.c().clone();
        self.rt
            .block_on(c.perform_actions(actions))
            .expect("key actions");
    }

    /// A barcode scanner: each character as its own key down and up, then Enter, into whatever
    /// has the focus (the UI catches scans at window level). Returns the largest gap between two
    /// of these keydowns as the page saw them, in ms (a scanner's are a few ms; the UI takes
    /// gaps up to 30 ms as a scanner).
    ///
    /// WebKitWebDriver dispatches one action tick at a time and waits for the page to handle
    /// it, so pauses only add to the gaps (a 5 ms pause gave 10–77 ms between keys on a busy
    /// machine). Instead the keys overlap as a scanner's do: two keyboards take turns, the next
    /// key going down in the tick the previous one comes up, which measured 1–15 ms.
    pub fn scan(&mut self, code: &str) -> f64 {
        self.settle();
        self.execute(
            "if (!window.__e2eKeys) { window.addEventListener('keydown', \
               e => window.__e2eKeys.push(performance.now()), true); } \
             window.__e2eKeys = [];",
            vec![],
        );
        let mut chars: Vec<char> = code.chars().collect();
        chars.push(Key::Enter.into());
        let mut boards = [
            KeyActions::new("scanner-a".into()),
            KeyActions::new("scanner-b".into()),
        ];
        for tick in 0..=chars.len() {
            let mut acts = [None, None];
            if tick >= 1 {
                acts[(tick - 1) % 2] = Some(KeyAction::Up {
                    value: chars[tick - 1],
                });
            }
            if tick < chars.len() {
                acts[tick % 2] = Some(KeyAction::Down { value: chars[tick] });
            }
            for (board, act) in boards.iter_mut().zip(acts) {
                let b = std::mem::replace(board, KeyActions::new(String::new()));
                *board = match act {
                    Some(a) => b.then(a),
                    None => b.pause(Duration::ZERO),
                };
            }
        }
        let [a, b] = boards;
        let c = self.c().clone();
        self.rt
            .block_on(c.perform_actions(fantoccini::actions::Actions::from(a).and(b)))
            .expect("scanner key actions");
        let times = self.execute("return window.__e2eKeys", vec![]);
        let times: Vec<f64> = times
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        assert_eq!(
            times.len(),
            chars.len(),
            "the page saw {} of the {} keys of scan {code}",
            times.len(),
            chars.len()
        );
        times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
    }

    /// Waits until the page has painted twice and had 50 ms more (what a screen does when it
    /// appears is done before a burst of keys comes).
    pub fn settle(&mut self) {
        let c = self.c().clone();
        let script = "const done = arguments[arguments.length - 1];\
             requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)));";
        self.rt
            .block_on(c.execute_async(script, vec![]))
            .unwrap_or_else(|e| panic!("settle: {e}"));
    }

    /// The visible text of the element with test id `id`.
    pub fn text(&mut self, id: &str) -> String {
        let e = self.wait_for(id);
        self.rt.block_on(e.text()).expect("text")
    }

    /// The text of an element found before.
    pub fn text_of(&mut self, e: &Element) -> String {
        self.rt.block_on(e.text()).unwrap_or_default()
    }

    /// An attribute of the element with test id `id`.
    pub fn attr(&mut self, id: &str, name: &str) -> Option<String> {
        let e = self.wait_for(id);
        self.rt.block_on(e.attr(name)).expect("attribute")
    }

    /// An attribute of an element found before.
    pub fn attr_of(&mut self, e: &Element, name: &str) -> Option<String> {
        self.rt.block_on(e.attr(name)).ok().flatten()
    }

    /// The value of an input found by test id.
    pub fn value(&mut self, id: &str) -> String {
        let e = self.wait_for(id);
        self.rt
            .block_on(e.prop("value"))
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Runs `script` in the page (`arguments` are `args`) and returns what it returns.
    pub fn execute(&mut self, script: &str, args: Vec<Value>) -> Value {
        let c = self.c().clone();
        self.rt
            .block_on(c.execute(script, args))
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Calls an app command as the UI would (`window.__TAURI_INTERNALS__.invoke`): the command's
    /// value, or its error object as `Err`. For test set-up only (e.g. adding the test printer).
    pub fn invoke(&mut self, command: &str, args: Value) -> Result<Value, Value> {
        let c = self.c().clone();
        let script = "const done = arguments[arguments.length - 1];\
             window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])\
               .then(v => done({ ok: v === undefined ? null : v }), e => done({ err: e }));";
        let out = self
            .rt
            .block_on(c.execute_async(script, vec![json!(command), args]))
            .unwrap_or_else(|e| panic!("invoke {command}: {e}"));
        match out.get("ok") {
            Some(v) => Ok(v.clone()),
            None => Err(out.get("err").cloned().unwrap_or(out)),
        }
    }

    /// Resizes the window (the page gets the size as its viewport, near enough).
    pub fn set_size(&mut self, size: Size) {
        let (w, h) = size.pixels();
        let c = self.c().clone();
        self.rt
            .block_on(c.set_window_size(w, h))
            .unwrap_or_else(|e| panic!("set window size {w}x{h}: {e}"));
        // Let layout settle: wait until the viewport has the new width and height (allowing for
        // borders), then for two frames, so that what is checked and screenshotted next is laid
        // out at the new size (a portrait screenshot once showed the landscape layout).
        self.poll(&format!("viewport {w}x{h}"), Duration::from_secs(5), |a| {
            let size = a.execute("return [window.innerWidth, window.innerHeight]", vec![]);
            let (vw, vh) = (size[0].as_u64()?, size[1].as_u64()?);
            (vw.abs_diff(u64::from(w)) <= 40 && vh.abs_diff(u64::from(h)) <= 80).then_some(())
        });
        let c = self.c().clone();
        self.rt
            .block_on(c.execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            ))
            .unwrap_or_else(|e| panic!("wait for two frames at {w}x{h}: {e}"));
    }

    /// Saves a screenshot of the window as `<target>/test-screens/cashier-app/NN-prefix-name.png`.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        self.shots += 1;
        let path = screens_dir().join(format!(
            "{:02}-{}-{}.png",
            self.shots,
            self.prefix,
            slug(name)
        ));
        let Some(c) = self.client.clone() else {
            return path;
        };
        match self
            .rt
            .block_on(async { tokio::time::timeout(WAIT, c.screenshot()).await })
        {
            Ok(Ok(png)) => std::fs::write(&path, png).expect("write screenshot"),
            Ok(Err(e)) => eprintln!("screenshot {name}: {e}"),
            Err(_) => eprintln!("screenshot {name}: no answer in {WAIT:?}"),
        }
        path
    }

    /// The page's `<html lang>`.
    pub fn html_lang(&mut self) -> String {
        self.execute("return document.documentElement.lang", vec![])
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// `name` as a file-name part.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

/// Every process below `pid` (from /proc's children lists), parents before children.
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut queue = vec![pid];
    while let Some(p) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                out.push(c);
                queue.push(c);
            }
        }
    }
    out
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), c.close()).await });
        }
        // tauri-driver, WebKitWebDriver, the app and WebKit's helper processes: every process
        // this driver started, by id, children first.
        let mut pids = descendants(self.driver.id());
        pids.reverse();
        pids.push(self.driver.id());
        for pid in pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.driver.wait();
    }
}
