//! The server's Debian package (issue 15), built by `installers/server/build-deb.sh` from this
//! build's `sync-server` and checked the way an operator meets it:
//!
//! - `dpkg-deb --info/--contents`: the files, their modes, the conffile, the control fields;
//! - `systemd-analyze verify` of the packaged unit, with no warning;
//! - every setting the packaged config.toml documents (commented out) is one the binary knows;
//! - an installation by dpkg itself into a throwaway root: `dpkg --root=ROOT
//!   --force-script-chrootless -i`, so the maintainer scripts run on this machine with
//!   `DPKG_ROOT=ROOT` (dpkg(1)) and must act on ROOT only: they create the `snapkasir` user in
//!   ROOT's /etc/passwd, ROOT/var/lib/snapkasir 0700 and migrate the database in it, and enable
//!   the unit in ROOT (no service is started: ROOT runs no systemd);
//! - the installed binary, as that user with the installed config, serves `/healthz` and takes a
//!   tenant (`admin create-tenant`) into ROOT/var/lib/snapkasir;
//! - an upgrade to the next version (whose config.toml differs) keeps the operator's edited
//!   config (`--force-confold`, as an unattended upgrade answers dpkg's question) and the data:
//!   the owner still signs in through the API;
//! - `dpkg -r` keeps the data, the config and the user; `dpkg -P` deletes all three.
//!
//! ROOT is an empty directory with the few files a Debian base system always has and the
//! package needs (/etc/passwd, /etc/group and their shadows, as base-passwd makes them), and
//! dpkg's database there lists as installed the packages the .deb depends on, copied from this
//! machine's database: with chrootless scripts, those are the programs that run. Needs root
//! (dpkg installs files owned by root and the scripts change owners) and Debian's dpkg-dev,
//! binutils and systemd; a missing one fails the test with the command to install it.
//!
//! Needs `cargo build -p sync-server` first (scripts/test builds the whole workspace).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use snapkasir_tests::dpkg::{self, dpkg, make_root, run};
use snapkasir_tests::processes::{
    api_token, create_tenant_args, http_client, lines_of, workspace_bin,
};

const PACKAGE: &str = "snapkasir-server";
const OWNER: &str = "pemilik@toko-paket.example";
const PASSWORD: &str = "rahasia-panjang-1";

/// The tools the test and build-deb.sh run, and the Debian package of each.
const TOOLS: &[(&str, &str)] = &[
    ("dpkg", "dpkg"),
    ("dpkg-deb", "dpkg"),
    ("dpkg-query", "dpkg"),
    ("dpkg-shlibdeps", "dpkg-dev"),
    ("strip", "binutils"),
    ("systemd-analyze", "systemd"),
    ("deb-systemd-helper", "init-system-helpers"),
    ("useradd", "passwd"),
    ("setpriv", "util-linux"),
];

/// Fails, saying what to install, when a tool is missing or the test does not run as root.
fn require_prerequisites() {
    dpkg::require(TOOLS, "server_package");
}

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// Builds the package of `version` with `installers` (a copy of installers/server) into `out`.
fn build_deb(installers: &Path, out: &Path, version: &str) -> PathBuf {
    let printed = run(Command::new(installers.join("build-deb.sh"))
        .arg(workspace_bin("sync-server"))
        .arg(out)
        .arg(version)
        // Uncompressed: xz takes ~20 s for a debug binary; dpkg-deb handles both alike.
        .env("DEB_COMPRESSION", "none"));
    let arch = run(Command::new("dpkg").arg("--print-architecture"));
    let deb = out.join(format!("{PACKAGE}_{version}_{}.deb", arch.trim()));
    assert_eq!(printed.trim(), deb.display().to_string());
    assert!(deb.is_file(), "{} not built", deb.display());
    deb
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Checks the package's metadata and files without installing it.
fn check_package(deb: &Path, version: &str) {
    let field = |name: &str| run(Command::new("dpkg-deb").arg("--field").arg(deb).arg(name));
    assert_eq!(field("Package").trim(), PACKAGE);
    assert_eq!(field("Version").trim(), version);
    let arch = run(Command::new("dpkg").arg("--print-architecture"));
    assert_eq!(field("Architecture").trim(), arch.trim());
    let depends = field("Depends");
    assert!(
        depends.contains("libc6 (>=") && depends.contains("adduser | passwd"),
        "Depends: {depends}"
    );
    assert!(!field("Description").trim().is_empty());

    let info = run(Command::new("dpkg-deb").arg("--info").arg(deb));
    for script in ["postinst", "prerm", "postrm", "conffiles"] {
        assert!(info.contains(script), "no {script} in:\n{info}");
    }
    let conffiles = run(Command::new("dpkg-deb")
        .arg("--info")
        .arg(deb)
        .arg("conffiles"));
    assert_eq!(conffiles.trim(), "/etc/snapkasir/config.toml");

    // `-rwxr-xr-x root/root 35235424 2026-12-03 10:34 ./usr/bin/sync-server`
    let contents = run(Command::new("dpkg-deb").arg("--contents").arg(deb));
    let entry = |path: &str| -> (String, String) {
        let line = contents
            .lines()
            .find(|l| l.split_whitespace().nth(5) == Some(path))
            .unwrap_or_else(|| panic!("{path} is not in the package:\n{contents}"));
        let mut parts = line.split_whitespace();
        (
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
        )
    };
    for (path, mode) in [
        ("./usr/bin/sync-server", "-rwxr-xr-x"),
        (
            "./lib/systemd/system/snapkasir-server.service",
            "-rw-r--r--",
        ),
        ("./etc/snapkasir/config.toml", "-rw-r-----"),
        ("./usr/share/doc/snapkasir-server/README.md", "-rw-r--r--"),
        ("./usr/share/doc/snapkasir-server/copyright", "-rw-r--r--"),
    ] {
        assert_eq!(
            entry(path),
            (mode.to_string(), "root/root".to_string()),
            "{path}"
        );
    }
    // Nothing of the build machine's owners leaks into the package.
    for line in contents.lines() {
        assert_eq!(line.split_whitespace().nth(1), Some("root/root"), "{line}");
    }
}

/// `systemd-analyze verify` of the unit extracted from the package, with no output at all (it
/// exits 0 even on unknown keys and bad values, so its warnings are what fails the test).
///
/// It checks that ExecStart's binary exists. With systemd 252 (Debian 12), `--root=ROOT` also
/// looks for the units every service depends on (sysinit.target, …) in ROOT, and the throwaway
/// root has no systemd: "Unit sysinit.target not found". So the unit is verified against this
/// machine's units, as a copy whose only change is ExecStart's binary: the one extracted from
/// the package.
fn verify_unit(deb: &Path, dir: &Path) {
    let extracted = dir.join("extracted");
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&extracted));
    let unit =
        std::fs::read_to_string(extracted.join("lib/systemd/system/snapkasir-server.service"))
            .expect("unit file");
    for line in [
        "ExecStart=/usr/bin/sync-server --config /etc/snapkasir/config.toml serve",
        "User=snapkasir",
        "StateDirectory=snapkasir",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "ProtectHome=true",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "PrivateDevices=true",
        "ProtectKernelTunables=true",
        "ProtectKernelModules=true",
        "ProtectControlGroups=true",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "LockPersonality=true",
        "RestrictRealtime=true",
        "CapabilityBoundingSet=",
        "UMask=0077",
        "ReadWritePaths=/var/lib/snapkasir",
        "WantedBy=multi-user.target",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks {line:?}");
    }
    let binary = extracted.join("usr/bin/sync-server");
    let copy = unit.replace(
        "ExecStart=/usr/bin/sync-server ",
        &format!("ExecStart={} ", binary.display()),
    );
    let verify_dir = dir.join("verify");
    std::fs::create_dir_all(&verify_dir).unwrap();
    let unit_copy = verify_dir.join("snapkasir-server.service");
    std::fs::write(&unit_copy, copy).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit_copy)
        .output()
        .expect("systemd-analyze");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze verify of the packaged unit ({}):\n{said}",
        out.status
    );

    // The packaged config parses, and so does every setting it documents commented out (the
    // binary rejects unknown settings): all but database_url (PostgreSQL) and the TLS files.
    let config = std::fs::read_to_string(extracted.join("etc/snapkasir/config.toml")).unwrap();
    let mut all = String::new();
    let mut documented = 0;
    for line in config.lines() {
        let setting = line.strip_prefix('#').filter(|s| {
            s.split_once(" = ").is_some_and(|(k, _)| {
                k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
        });
        match setting {
            Some(s)
                // Files that must exist (the PostgreSQL server, the TLS pair, the SMTP password,
                // the payment key): documented, not switched on here.
                if [
                    "database_url",
                    "tls_cert",
                    "tls_key",
                    "smtp_password_file",
                    "payment_key_file",
                ]
                .iter()
                .any(|k| s.starts_with(k)) =>
            {
                documented += 1
            }
            Some(s) => {
                documented += 1;
                all.push_str(s);
                all.push('\n');
            }
            None => {
                all.push_str(line);
                all.push('\n');
            }
        }
    }
    assert!(documented >= 30, "only {documented} settings documented");
    for (name, text) in [("config.toml", &config), ("all.toml", &all)] {
        let file = verify_dir.join(name);
        std::fs::write(&file, text).unwrap();
        run(Command::new(&binary)
            .arg("--config")
            .arg(&file)
            .arg("--data-dir")
            .arg(verify_dir.join(format!("data-{name}")))
            .arg("migrate")
            .env("SNAPKASIR_LOG", "warn"));
    }
}

/// `(uid, gid)` of `snapkasir` in the root's account files, if it is there.
fn account(root: &Path) -> Option<(u32, u32)> {
    let id_in = |file: &str| {
        std::fs::read_to_string(root.join("etc").join(file))
            .unwrap()
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f[0] == "snapkasir").then(|| f[2].parse::<u32>().unwrap())
            })
    };
    match (id_in("passwd"), id_in("group")) {
        (Some(uid), Some(gid)) => Some((uid, gid)),
        (None, None) => None,
        other => panic!("user and group out of step: {other:?}"),
    }
}

fn package_status(root: &Path) -> String {
    dpkg::package_status(root, PACKAGE)
}

/// The installed binary, run as the installed user (as systemd would) with the installed
/// config; the data directory is the root's (`--data-dir`, the global flag that overrides the
/// config's `data_dir = "/var/lib/snapkasir"`).
fn installed(root: &Path, (uid, gid): (u32, u32)) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .args(["--clear-groups", "--"])
        .arg(root.join("usr/bin/sync-server"))
        .arg("--config")
        .arg(root.join("etc/snapkasir/config.toml"))
        .arg("--data-dir")
        .arg(root.join("var/lib/snapkasir"))
        .env("SNAPKASIR_LOG", "warn");
    cmd
}

/// The installed server, serving on a free port of 127.0.0.1 (`serve --listen`).
struct Served {
    child: Child,
    addr: SocketAddr,
}

impl Served {
    fn start(root: &Path, ids: (u32, u32), log: &Path) -> Served {
        let logfile = std::fs::File::create(log).unwrap();
        let mut child = installed(root, ids)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(logfile)
            .spawn()
            .expect("start the installed sync-server");
        let lines = lines_of(child.stdout.take().unwrap());
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| {
                let _ = child.kill();
                panic!(
                    "the installed server did not start ({e}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                )
            });
        let addr = line
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Served { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The status code of `GET path`.
    fn get_status(&self, path: &str) -> u16 {
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut status = String::new();
        BufReader::new(&mut stream).read_line(&mut status).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status:?}"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mode_and_owner(path: &Path) -> (u32, u32, u32) {
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (m.mode() & 0o7777, m.uid(), m.gid())
}

#[test]
fn server_package_installs_upgrades_and_purges() {
    require_prerequisites();
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The snapkasir user must reach the root's files below (postinst migrates as that user).
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for ancestor in dir.ancestors().skip(1) {
        let mode = std::fs::metadata(ancestor).unwrap().mode();
        assert!(
            mode & 0o001 != 0,
            "{} is not searchable by other users, so the package's user cannot reach the \
             throwaway root: set TMPDIR to a directory under one that is (e.g. /tmp)",
            ancestor.display()
        );
    }

    // Two releases: 0.1.1's config.toml documents something more, as a release that adds a
    // setting would, so the upgrade meets dpkg's changed-conffile case.
    let installers = repo_dir().join("installers/server");
    let next = dir.join("next/installers/server");
    copy_dir(&installers, &next);
    let mut config = std::fs::read_to_string(next.join("config.toml")).unwrap();
    config.push_str("\n# A note that only version 0.1.1 ships.\n");
    std::fs::write(next.join("config.toml"), config).unwrap();
    let old = build_deb(&installers, &dir.join("out"), "0.1.0");
    let new = build_deb(&next, &dir.join("out"), "0.1.1");
    eprintln!("built both packages in {:?}", started.elapsed());

    check_package(&old, "0.1.0");
    check_package(&new, "0.1.1");
    verify_unit(&old, dir);

    // Install.
    let root = dir.join("root");
    let log = dir.join("dpkg.log");
    make_root(&root, &old);
    run(dpkg(&root, &log).arg("-i").arg(&old));
    assert!(package_status(&root).starts_with("install ok installed 0.1.0"));
    let ids = account(&root).expect("postinst created no snapkasir user in the root");
    let (uid, gid) = ids;
    assert!((100..1000).contains(&uid), "not a system uid: {uid}");
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(
        passwd.contains(&format!(
            "snapkasir:x:{uid}:{gid}:SnapKasir server:/var/lib/snapkasir:/usr/sbin/nologin"
        )),
        "{passwd}"
    );
    let state = root.join("var/lib/snapkasir");
    let config = root.join("etc/snapkasir/config.toml");
    let database = state.join("snapkasir-server.db");
    assert_eq!(mode_and_owner(&state), (0o700, uid, gid));
    assert_eq!(mode_and_owner(&config), (0o640, 0, gid));
    // postinst migrated the database as the user.
    assert_eq!(mode_and_owner(&database), (0o600, uid, gid));
    // Enabled in the root (deb-systemd-helper honours DPKG_ROOT); nothing started.
    let wants = root.join("etc/systemd/system/multi-user.target.wants/snapkasir-server.service");
    assert_eq!(
        std::fs::read_link(&wants).expect("the unit is not enabled"),
        Path::new("/lib/systemd/system/snapkasir-server.service")
    );

    // The installed binary serves with the installed config, and takes a tenant.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = http_client();
    {
        let server = Served::start(&root, ids, &dir.join("server-0.1.0.log"));
        assert_eq!(server.get_status("/healthz"), 200);
        let made = run(installed(&root, ids).arg("admin").args(create_tenant_args(
            "Toko Paket",
            "PKT",
            "Toko Paket",
            OWNER,
        )));
        let made: serde_json::Value = serde_json::from_str(&made).unwrap();
        assert!(made["store_id"].is_string(), "{made}");
        rt.block_on(api_token(&client, &server.url(), OWNER, PASSWORD));
    }
    let size_before = std::fs::metadata(&database).unwrap().len();

    // The operator edits the config; then the upgrade.
    let edited = std::fs::read_to_string(&config).unwrap().replacen(
        "#listen = ",
        "# edited by the operator\n#listen = ",
        1,
    );
    std::fs::write(&config, &edited).unwrap();
    run(dpkg(&root, &log).arg("-i").arg(&new));
    assert!(package_status(&root).starts_with("install ok installed 0.1.1"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
    let shipped = std::fs::read_to_string(root.join("etc/snapkasir/config.toml.dpkg-dist"))
        .expect("dpkg keeps the new version's config beside the operator's");
    assert!(shipped.contains("only version 0.1.1 ships"));
    assert_eq!(account(&root), Some(ids), "the upgrade changed the user");
    assert_eq!(mode_and_owner(&state), (0o700, uid, gid));
    assert_eq!(mode_and_owner(&config), (0o640, 0, gid));
    assert!(std::fs::metadata(&database).unwrap().len() >= size_before);
    {
        let server = Served::start(&root, ids, &dir.join("server-0.1.1.log"));
        assert_eq!(server.get_status("/healthz"), 200);
        // The tenant made before the upgrade: its owner signs in, its store code is taken.
        rt.block_on(api_token(&client, &server.url(), OWNER, PASSWORD));
        let again = installed(&root, ids)
            .arg("admin")
            .args(create_tenant_args("Toko Paket", "PKT", "Toko Paket", OWNER))
            .output()
            .unwrap();
        assert!(
            !again.status.success(),
            "the same tenant was created twice: the upgrade lost the data"
        );
    }

    // Remove: the data, the config and the user stay.
    run(dpkg(&root, &log).args(["-r", PACKAGE]));
    assert!(package_status(&root).starts_with("deinstall ok config-files 0.1.1"));
    assert!(!root.join("usr/bin/sync-server").exists());
    assert!(database.is_file(), "dpkg -r deleted the data");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
    assert_eq!(account(&root), Some(ids));

    // Purge: all gone.
    run(dpkg(&root, &log).args(["-P", PACKAGE]));
    assert_eq!(package_status(&root), "");
    assert!(!state.exists(), "dpkg -P kept {}", state.display());
    assert!(
        !root.join("etc/snapkasir").exists(),
        "dpkg -P kept the config"
    );
    assert_eq!(account(&root), None, "dpkg -P kept the user");
    assert!(
        std::fs::symlink_metadata(&wants).is_err(),
        "dpkg -P kept the unit enabled"
    );
    eprintln!("package test done in {:?}", started.elapsed());
}
