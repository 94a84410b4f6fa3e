//! The cashier app's Linux packages (installers issue), built by `scripts/package-app` (the Tauri
//! CLI's bundler) and checked the way a shop's till meets them:
//!
//! - the .deb's control fields and files (`dpkg-deb`): the binary, the .desktop entry, the
//!   icons, no maintainer scripts (the package never touches a user's data folder); the .rpm's
//!   version and files (`rpm -qp`);
//! - 0.1.0 installed by dpkg itself into a throwaway root ([`snapkasir_tests::dpkg`]), and the
//!   INSTALLED binary (ROOT/usr/bin/pos-desktop) started under Xvfb through tauri-driver with a
//!   throwaway HOME and no `SNAPKASIR_DATA_DIR`, so it keeps its data where a till does:
//!   `~/.local/share/id.snapkasir.pos/terminal.db`. It enrols against a real `sync-server` and
//!   sells one sale;
//! - the upgrade to 0.1.1 by dpkg: `dpkg-query` shows 0.1.1, the data file is byte for byte the
//!   same, and the app started again is still enrolled (the PIN screen, not the first run) with
//!   the sale in the day's sales; `dpkg -r` leaves the data folder too.
//!
//! Both packages bundle this build's `target/debug/pos-desktop` (`scripts/package-app --debug
//! --bundle-only`, 4 s): the binary the workspace build made and cashier_app.rs drives, with the
//! release's bundler and config. `scripts/package-app --debug` without `--bundle-only` runs
//! `tauri build`, whose `cargo build` selects pos-desktop alone: other features for shared
//! dependencies than the workspace build, so it compiled 166 crates again (7m48s on the 2-core CI
//! machine) and the next workspace build relinks them back; too dear for every run, for nothing
//! more that is tested. 0.1.1 is the same binary bundled as 0.1.1: an upgrade as dpkg sees it.
//!
//! Needs root (dpkg installs files owned by root), Debian's dpkg, rpm, xvfb, webkit2gtk-driver,
//! nodejs/npm, tauri-driver (scripts/test installs it) and the built binaries (`cargo build -p
//! pos-desktop -p sync-server -p snapkasir-tests` after the UI build; scripts/test builds the
//! whole workspace); a missing one fails the test with what to install or build.
//! Screenshots: `<target>/test-screens/cashier-app/NN-package-*.png`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pos_core::Terminal;
use pos_core::shared_model::catalog::Unit;
use serde_json::json;
use snapkasir_tests::app_driver::{App, app_binary, target_dir, tauri_driver};
use snapkasir_tests::dpkg::{self, dpkg, field, make_root, package_status, run};
use snapkasir_tests::processes::{ServerProcess, TerminalProcess, create_tenant_args};

/// The Debian package name the bundler gives the app (its productName, "SnapKasir", in kebab
/// case).
const PACKAGE: &str = "snap-kasir";

/// The tools the test and scripts/package-app run, and the Debian package of each.
const TOOLS: &[(&str, &str)] = &[
    ("dpkg", "dpkg"),
    ("dpkg-deb", "dpkg"),
    ("dpkg-query", "dpkg"),
    ("rpm", "rpm"),
    ("Xvfb", "xvfb"),
    ("WebKitWebDriver", "webkit2gtk-driver"),
    ("npm", "nodejs npm"),
    ("python3", "python3"),
];

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// `scripts/package-app --debug --bundle-only --version VERSION` in this build's target
/// directory; the .deb and the .rpm it printed, copied into `out` (a later run may replace the
/// originals).
fn package_app(version: &str, out: &Path) -> (PathBuf, PathBuf) {
    let started = Instant::now();
    let printed = run(Command::new(repo_dir().join("scripts/package-app"))
        .args(["--debug", "--bundle-only", "--version", version])
        .env("CARGO_TARGET_DIR", target_dir()));
    eprintln!(
        "scripts/package-app --debug --bundle-only --version {version}: {:?}",
        started.elapsed()
    );
    let paths: Vec<PathBuf> = printed.lines().map(PathBuf::from).collect();
    assert_eq!(paths.len(), 2, "expected a .deb and an .rpm:\n{printed}");
    std::fs::create_dir_all(out).unwrap();
    let copy = |p: &Path, ext: &str| {
        assert!(
            p.extension().is_some_and(|e| e == ext) && p.is_file(),
            "no .{ext}: {}",
            p.display()
        );
        let to = out.join(p.file_name().unwrap());
        std::fs::copy(p, &to).unwrap();
        to
    };
    (copy(&paths[0], "deb"), copy(&paths[1], "rpm"))
}

/// The .deb's metadata and files, without installing it.
fn check_deb(deb: &Path, version: &str, dir: &Path) {
    assert_eq!(field(deb, "Package"), PACKAGE);
    assert_eq!(field(deb, "Version"), version);
    let arch = run(Command::new("dpkg").arg("--print-architecture"));
    assert_eq!(field(deb, "Architecture"), arch.trim());
    let depends = field(deb, "Depends");
    let names: Vec<&str> = depends
        .split(',')
        .map(|d| d.split_whitespace().next().unwrap_or_default())
        .collect();
    for needed in ["libwebkit2gtk-4.1-0", "libgtk-3-0"] {
        assert!(names.contains(&needed), "Depends lacks {needed}: {depends}");
    }
    assert!(!field(deb, "Description").is_empty());

    // No maintainer scripts: nothing runs at install, upgrade or removal, so nothing can touch
    // a user's data folder.
    let info = run(Command::new("dpkg-deb").arg("--info").arg(deb));
    for script in ["preinst", "postinst", "prerm", "postrm"] {
        assert!(
            !info.contains(script),
            "the package has a {script}:\n{info}"
        );
    }

    // `-rwxr-xr-x 0/0 66977992 2026-12-03 13:28 usr/bin/pos-desktop` (no leading `./`)
    let contents = run(Command::new("dpkg-deb").arg("--contents").arg(deb));
    let files: Vec<(&str, &str)> = contents
        .lines()
        .filter_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            Some((*parts.first()?, *parts.get(5)?))
        })
        .collect();
    let mode_of = |path: &str| {
        files
            .iter()
            .find(|(_, p)| *p == path)
            .map(|(m, _)| *m)
            .unwrap_or_else(|| panic!("{path} is not in the package:\n{contents}"))
    };
    assert_eq!(mode_of("usr/bin/pos-desktop"), "-rwxr-xr-x");
    assert!(mode_of("usr/share/applications/SnapKasir.desktop").starts_with("-rw-r--r--"));
    for size in ["32x32", "128x128", "512x512"] {
        mode_of(&format!(
            "usr/share/icons/hicolor/{size}/apps/pos-desktop.png"
        ));
    }
    for (_, path) in &files {
        assert!(
            *path == "usr" || path.starts_with("usr/"),
            "a file outside /usr: {path}"
        );
    }

    // The menu entry starts the installed binary.
    let extracted = dir.join(format!("extracted-{version}"));
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&extracted));
    let desktop =
        std::fs::read_to_string(extracted.join("usr/share/applications/SnapKasir.desktop"))
            .unwrap();
    for line in ["Exec=pos-desktop", "Name=SnapKasir", "Icon=pos-desktop"] {
        assert!(
            desktop.lines().any(|l| l == line),
            "the .desktop file lacks {line:?}:\n{desktop}"
        );
    }
}

/// The .rpm's version and files (`rpm -qp`, Debian's `rpm`: reading a package needs no RPM
/// database).
fn check_rpm(rpm: &Path, version: &str) {
    let query = |args: &[&str]| run(Command::new("rpm").args(args).arg(rpm));
    assert_eq!(
        query(&["-qp", "--queryformat", "%{NAME} %{VERSION}"]).trim(),
        format!("{PACKAGE} {version}")
    );
    let files = query(&["-qpl"]);
    for path in [
        "/usr/bin/pos-desktop",
        "/usr/share/applications/SnapKasir.desktop",
    ] {
        assert!(
            files.lines().any(|l| l == path),
            "{path} is not in the rpm:\n{files}"
        );
    }
    let requires = query(&["-qpR"]);
    assert!(
        requires.contains("webkit2gtk4.1") || requires.contains("libwebkit2gtk-4.1"),
        "the rpm does not require WebKitGTK 4.1:\n{requires}"
    );
}

/// A piece product of the demo catalog (name, id) and the demo cashier's name, from the seeding
/// till's store.
fn demo_data(db: &Path) -> ((String, String), String) {
    let mut t = Terminal::open(db).expect("open the seeding till's database");
    let mut product = None;
    'found: for c in t.categories().expect("categories") {
        for hit in t.category_products(c.id, 200).expect("category products") {
            let p = t.product(hit.product_id).expect("product").expect("exists");
            if p.unit != Unit::Kilogram && p.active {
                product = Some((p.name.clone(), p.id.to_string()));
                break 'found;
            }
        }
    }
    let users = t.users().expect("users");
    let cashier = users
        .iter()
        .find(|u| format!("{:?}", u.role) == "Cashier" && u.active)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| panic!("the demo store has no cashier: {users:?}"));
    (
        product.expect("the demo catalog has a piece product"),
        cashier,
    )
}

/// Logs in on the PIN screen by tapping the user and the PIN pad (the demo cashier's PIN).
fn login(app: &mut App, name: &str) {
    app.click(&format!("user-{name}"));
    for d in "1234".chars() {
        app.click(&format!("pin-key-{d}"));
    }
    app.click("pin-enter");
    // A shift left open before is still open; otherwise the opening float comes first.
    let float = app.poll(
        "the opening float or the selling screen",
        Duration::from_secs(15),
        |a| {
            if a.visible("opening-float") {
                Some(true)
            } else {
                a.visible("search-input").then_some(false)
            }
        },
    );
    if float {
        app.type_into("opening-float", "100000");
        app.click("start-shift");
        app.wait_for("search-input");
    }
}

/// Opens the day's sales and waits for the sale with `receipt`.
fn sale_listed(app: &mut App, receipt: &str) {
    app.click("sales-button");
    let css = format!("[data-testid=\"sale-row\"][data-receipt=\"{receipt}\"]");
    app.poll(
        &format!("sale {receipt} in the day's sales"),
        Duration::from_secs(15),
        |a| a.find_css(&css).map(|_| ()),
    );
}

/// `(inode, size, bytes)` of the data file.
fn snapshot(path: &Path) -> (u64, u64, Vec<u8>) {
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (m.ino(), m.len(), std::fs::read(path).unwrap())
}

#[test]
fn cashier_package_installs_and_upgrades_keeping_the_data() {
    dpkg::require(TOOLS, "cashier_package");
    tauri_driver(); // fails with how to install it
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // Two releases of this build's binary (see the top of the file).
    app_binary(); // fails with the commands that build it
    let out = dir.join("packages");
    let (old_deb, old_rpm) = package_app("0.1.0", &out);
    let (new_deb, new_rpm) = package_app("0.1.1", &out);
    check_deb(&old_deb, "0.1.0", dir);
    check_deb(&new_deb, "0.1.1", dir);
    check_rpm(&old_rpm, "0.1.0");
    check_rpm(&new_rpm, "0.1.1");

    // Install 0.1.0.
    let root = dir.join("root");
    let log = dir.join("dpkg.log");
    make_root(&root, &old_deb);
    run(dpkg(&root, &log).arg("-i").arg(&old_deb));
    assert!(
        package_status(&root, PACKAGE).starts_with("install ok installed 0.1.0"),
        "{}",
        package_status(&root, PACKAGE)
    );
    let installed = root.join("usr/bin/pos-desktop");
    assert!(installed.is_file(), "dpkg did not install the binary");

    // The server, a store, and a headless till that seeds the store with the demo catalog and
    // users (as cashier_app.rs does).
    let server_args = vec![
        "--data-dir".to_string(),
        dir.join("server").display().to_string(),
    ];
    let server = ServerProcess::start_with(&server_args, &[], "127.0.0.1:0", &dir.join("srv.log"));
    let made = server.admin(&create_tenant_args(
        "Toko Paket",
        "PKT",
        "Toko Paket",
        "owner@paket.test",
    ));
    let store_id = made["store_id"].as_str().expect("store id").to_string();
    let code_for = |name: &str| server.enrollment_code(&store_id, name);
    let seed_db = dir.join("seed.db");
    {
        let mut seed = TerminalProcess::spawn(&seed_db, "T1");
        let code = code_for("Gudang");
        seed.cmd(json!({"cmd": "enrol", "server": server.url(), "code": code, "demo": true}))
            .unwrap_or_else(|e| panic!("the seeding till could not enrol: {e}"));
        seed.cmd(json!({"cmd": "sync"}))
            .unwrap_or_else(|e| panic!("the seeding till could not sync: {e}"));
        // The store's documents are on the server before the app joins them.
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let s = seed.cmd(json!({"cmd": "status"})).expect("status");
            if s["sync"]["online"] == true
                && s["sync"]["last_sync"].is_string()
                && s["sync"]["waiting_documents"] == 0
            {
                break;
            }
            assert!(
                Instant::now() < until,
                "the seeding till's documents never reached the server: {s}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let ((product, product_id), cashier) = demo_data(&seed_db);

    // The installed app, as a shop's user: enrol, log in, sell one sale.
    let home = dir.join("home");
    let data_file = home.join(".local/share/id.snapkasir.pos/terminal.db");
    let receipt;
    {
        let mut app = App::launch_with_home(&installed, &home, "package");
        app.wait_for("enrol-button");
        app.settle();
        app.screenshot("0.1.0-first-run");
        app.type_into("server-url", &server.url());
        app.type_into("enrol-code", &code_for("Kasir Paket"));
        app.click("enrol-submit");
        app.wait_for(&format!("user-{cashier}"));
        login(&mut app, &cashier);
        let word = product.split_whitespace().next().expect("name").to_string();
        app.type_into("search-input", &word);
        let hit = app.wait_for_css(&format!(
            "[data-testid=\"search-result\"][data-product-id=\"{product_id}\"]"
        ));
        app.click_element(&hit, "search hit");
        app.poll("one cart line", Duration::from_secs(10), |a| {
            (a.all("cart-line").len() == 1).then_some(())
        });
        app.click("pay-button");
        app.click("method-cash");
        app.poll("the amount due", Duration::from_secs(10), |a| {
            let due = a.attr("tender-amount", "placeholder")?;
            due.chars()
                .any(|c| c.is_ascii_digit() && c != '0')
                .then_some(())
        });
        app.click("uang-pas");
        app.click("pay-confirm");
        app.wait_for("paid-screen");
        let line = app.execute(
            "return [...document.querySelectorAll('[data-testid=\"paid-screen\"] p')]\
               .map(p => p.textContent.trim()).find(t => /^(Nota|Receipt) /.test(t)) || null",
            vec![],
        );
        receipt = line
            .as_str()
            .and_then(|l| l.split_once(' '))
            .map(|(_, r)| r.trim().to_string())
            .unwrap_or_else(|| panic!("no receipt number on the paid screen: {line}"));
        app.screenshot("0.1.0-paid");
        app.click("new-sale");
        app.wait_for("search-input");
        sale_listed(&mut app, &receipt);
        app.screenshot("0.1.0-sales");
    }
    assert!(
        data_file.is_file(),
        "the app kept no {} (the OS app data folder)",
        data_file.display()
    );

    // Upgrade to 0.1.1: the data file is untouched.
    let before = snapshot(&data_file);
    run(dpkg(&root, &log).arg("-i").arg(&new_deb));
    let version = run(Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args(["-W", PACKAGE]));
    assert_eq!(version.trim(), format!("{PACKAGE}\t0.1.1"));
    assert!(package_status(&root, PACKAGE).starts_with("install ok installed 0.1.1"));
    assert!(
        snapshot(&data_file) == before,
        "the upgrade changed {}",
        data_file.display()
    );

    // The upgraded app: still enrolled (the PIN screen, not the first run), the sale is there.
    {
        let mut app = App::launch_with_home(&installed, &home, "package-upgraded");
        app.wait_for(&format!("user-{cashier}"));
        assert!(
            !app.visible("enrol-button"),
            "the upgraded app is back at the first run"
        );
        app.screenshot("0.1.1-pin");
        login(&mut app, &cashier);
        sale_listed(&mut app, &receipt);
        app.screenshot("0.1.1-sales");
    }

    // Removing the package leaves the user's data alone too.
    run(dpkg(&root, &log).args(["-r", PACKAGE]));
    assert!(!installed.exists(), "dpkg -r left the binary");
    assert!(data_file.is_file(), "dpkg -r deleted the data");
    drop(server);
    eprintln!("cashier package test done in {:?}", started.elapsed());
}
