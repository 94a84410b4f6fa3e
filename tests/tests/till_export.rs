//! Issue 15's till side: a till exports its whole store into a folder while it sells (as onto
//! a USB stick), and a new till of the same store is set up from that export plus an
//! enrolment code: it has the store's catalog before its first sync, sells, and the server
//! acknowledges the sale. An export whose document was changed, and an export of another
//! store, are refused. Real parts: `sync-server` on its embedded store, `snapkasir-terminal`.

use std::time::Duration;

use serde_json::json;
use snapkasir_tests::gate::{Shop, enrolled_till, sell_and_wait_ack, start_sync};
use snapkasir_tests::processes::{ServerProcess, TerminalProcess};

fn code(server: &ServerProcess, shop: &Shop, name: &str) -> String {
    server.enrollment_code(&shop.store_id, name)
}

#[test]
fn a_new_till_is_set_up_from_another_tills_export_and_sells() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::on_sqlite(dir.path());
    let shop = Shop::create(&server, "Toko Ekspor", "EX1");
    let mut first = enrolled_till(&server, dir.path(), &shop, "K1");
    start_sync(&mut first);
    sell_and_wait_ack(&mut first, Duration::from_secs(30)).expect("first till's sale");

    // The export, while the first till is running and syncing.
    let usb = dir.path().join("usb");
    std::fs::create_dir_all(&usb).unwrap();
    let made = first
        .cmd(json!({"cmd": "export_store", "dir": usb.display().to_string()}))
        .expect("export");
    let export = std::path::PathBuf::from(made["path"].as_str().unwrap());
    assert!(export.join("terminal.db").is_file() && export.join("manifest.json").is_file());
    let catalog = first.cmd(json!({"cmd": "status"})).expect("status")["stock"].clone();
    assert!(
        catalog.as_object().is_some_and(|c| !c.is_empty()),
        "{catalog}"
    );

    // A damaged copy is refused and leaves the new till unenrolled.
    let damaged = dir.path().join("damaged");
    copy_tree(&export, &damaged);
    let doc = std::fs::read_dir(damaged.join("documents"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&doc).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&doc, bytes).unwrap();
    let mut second = TerminalProcess::spawn(&dir.path().join("k2.db"), "K2");
    let refused = second.cmd(json!({
        "cmd": "enrol", "server": server.url(), "code": code(&server, &shop, "K2"),
        "export": damaged.display().to_string(),
    }));
    let why = refused.expect_err("a damaged export must be refused");
    assert!(why.contains("changed or damaged"), "{why}");

    // Another store's export is refused too.
    let other = Shop::create(&server, "Toko Lain", "LN1");
    let refused = second.cmd(json!({
        "cmd": "enrol", "server": server.url(), "code": code(&server, &other, "K9"),
        "export": export.display().to_string(),
    }));
    let why = refused.expect_err("another store's export must be refused");
    assert!(why.contains("another store"), "{why}");

    // The real export: the catalog is there before any sync; then it sells and is acknowledged.
    second
        .cmd(json!({
            "cmd": "enrol", "server": server.url(), "code": code(&server, &shop, "K2"),
            "export": export.display().to_string(),
        }))
        .expect("enrol from the export");
    let before_sync = second.cmd(json!({"cmd": "status"})).expect("status")["stock"].clone();
    assert_eq!(
        before_sync
            .as_object()
            .map(|c| c.keys().collect::<Vec<_>>()),
        catalog.as_object().map(|c| c.keys().collect::<Vec<_>>()),
        "the new till has the store's catalog from the export"
    );
    second.cmd(json!({"cmd": "start_shift"})).expect("shift");
    start_sync(&mut second);
    sell_and_wait_ack(&mut second, Duration::from_secs(30)).expect("the new till's sale");
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
