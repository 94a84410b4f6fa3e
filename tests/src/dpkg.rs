//! Installing a built Debian package the way a machine meets it, without touching this one: dpkg
//! itself into a throwaway root (`dpkg --root=ROOT --force-script-chrootless`), whose database
//! lists as installed the packages the .deb depends on (copied from this machine's database; with
//! chrootless scripts, this machine's programs are the ones that run). Shared by the server's
//! and the cashier app's package tests.
//!
//! Needs root: dpkg installs files owned by root. A missing tool fails with what to install.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// `tool` is an executable file on PATH.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(tool)).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        })
    })
}

/// Fails, saying what to install, when one of `tools` (`(program, Debian package)`) is missing;
/// and, saying how to run `test` as root, when the test does not run as root.
pub fn require(tools: &[(&str, &str)], test: &str) {
    let mut missing: Vec<&str> = tools
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(_, package)| *package)
        .collect();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "missing tools for the package test; run: sudo apt-get install -y {}",
        missing.join(" ")
    );
    let uid =
        String::from_utf8(Command::new("id").arg("-u").output().expect("id").stdout).expect("uid");
    assert_eq!(
        uid.trim(),
        "0",
        "the package test installs with dpkg, which makes files owned by root: run it as root \
         (sudo -E cargo nextest run -p snapkasir-tests --test {test})"
    );
}

/// Runs `cmd`; fails with its output unless it succeeds. Its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A control field of a .deb (`dpkg-deb --field`), trimmed.
pub fn field(deb: &Path, name: &str) -> String {
    run(Command::new("dpkg-deb").arg("--field").arg(deb).arg(name))
        .trim()
        .to_string()
}

/// A throwaway root for dpkg: its database (listing as installed this machine's packages that
/// the .deb depends on) and the account files of a Debian base system.
pub fn make_root(root: &Path, deb: &Path) {
    let admin = root.join("var/lib/dpkg");
    for dir in ["info", "updates"] {
        std::fs::create_dir_all(admin.join(dir)).unwrap();
    }
    std::fs::write(admin.join("available"), "").unwrap();
    let depends = field(deb, "Depends");
    let mut status = String::new();
    let mut seen = Vec::new();
    for name in depends.split([',', '|']) {
        let name = name.split_whitespace().next().expect("package name");
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let out = Command::new("dpkg-query")
            .args(["-s", name])
            .output()
            .unwrap();
        if !out.status.success() {
            continue; // an alternative that this machine does not have (adduser | passwd)
        }
        status.push_str(&String::from_utf8_lossy(&out.stdout));
        status.push('\n');
        // Its file list, empty (dpkg warns about a package without one).
        let full = run(Command::new("dpkg-query").args(["-W", "-f=${binary:Package}", name]));
        std::fs::write(admin.join("info").join(format!("{}.list", full.trim())), "").unwrap();
    }
    std::fs::write(admin.join("status"), status).unwrap();
    let etc = root.join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    for (file, text, mode) in [
        ("passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644),
        ("group", "root:x:0:\n", 0o644),
        ("shadow", "root:*:20000:0:99999:7:::\n", 0o640),
        ("gshadow", "root:*::\n", 0o640),
    ] {
        std::fs::write(etc.join(file), text).unwrap();
        std::fs::set_permissions(etc.join(file), std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// `dpkg` acting on `root`, with maintainer scripts run outside a chroot and `DPKG_ROOT` set.
pub fn dpkg(root: &Path, log: &Path) -> Command {
    let mut cmd = Command::new("dpkg");
    cmd.arg(format!("--root={}", root.display()))
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .arg(format!("--log={}", log.display()))
        .arg("--force-script-chrootless")
        // Never ask (a changed conffile): keep the operator's, as `apt-get -o
        // Dpkg::Options::=--force-confold` does.
        .arg("--force-confold")
        .env("DEBIAN_FRONTEND", "noninteractive");
    cmd
}

/// `${Status} ${Version}` of `package` in the root's dpkg database; empty if it is unknown.
pub fn package_status(root: &Path, package: &str) -> String {
    let out = Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args(["-W", "-f=${Status} ${Version}", package])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}
