//! The server's container image (issue 15): `installers/container/Containerfile` and
//! `compose.yaml`, checked without a registry and without starting a container.
//!
//! No registry is reachable here and `podman run` is refused by the cgroup set-up, so:
//!
//! - a base image is made locally: `buildah from scratch` plus a small root filesystem copied
//!   from this (Debian) machine: what the runtime stage's `RUN` uses (`sh`, `groupadd`,
//!   `useradd`, `install`, `nologin`), perl-base for the health check, their shared libraries
//!   (`ldd`) and the dynamic loader, and base-passwd's /etc files;
//! - the Containerfile's `runtime` stage is built on it by `buildah build --isolation chroot
//!   --target runtime --build-arg BASE=… --build-context build=DIR`, DIR holding this build's
//!   debug `sync-server` and this machine's CA bundle where the `build` stage would have them
//!   (the build stage itself never runs: it needs the Rust image from the registry);
//! - the built image's root filesystem is mounted (`buildah from` + `buildah mount`) and its
//!   ENTRYPOINT + CMD, read from `buildah inspect`, run in a chroot of it (`unshare --root
//!   --setuid --setgid`) as the image's USER with the image's Env (SNAPKASIR_LISTEN moved to a
//!   free loopback port): `/healthz` answers 200, the image's HEALTHCHECK command passes (and
//!   fails while nothing listens), `admin create-tenant` and `admin enrollment-code` run the
//!   same way, and a real till (`snapkasir-terminal`) enrols, sells and has the sale
//!   acknowledged by the server in the image; the README's backup (`admin backup --to` a folder
//!   of the volume) runs the same way while the server runs;
//! - compose.yaml parses as YAML (Debian's python3-yaml) with the services, health checks,
//!   volumes and required secret it must have.
//!
//! Every container, mount and image the test makes is removed when it ends, pass or fail. Needs
//! root, buildah, util-linux, coreutils, perl-base, ca-certificates and python3-yaml; a missing
//! one fails the test with the command to install it. Needs `cargo build -p sync-server` first.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snapkasir_tests::gate::{sell_and_wait_ack, start_sync};
use snapkasir_tests::processes::{TerminalProcess, create_tenant_args, workspace_bin};

/// The tools the test runs, and the Debian package of each.
const TOOLS: &[(&str, &str)] = &[
    ("buildah", "buildah"),
    ("unshare", "util-linux"),
    ("ldd", "libc-bin"),
    ("dpkg-query", "dpkg"),
    ("cp", "coreutils"),
    ("perl", "perl-base"),
    ("useradd", "passwd"),
    ("groupadd", "passwd"),
    ("nologin", "login"),
    ("install", "coreutils"),
    ("mkdir", "coreutils"),
    ("python3", "python3"),
];

/// Programs the runtime stage's RUN and HEALTHCHECK use, copied into the local base image with
/// their libraries (perl comes with all of perl-base).
const BASE_PROGRAMS: &[&str] = &["sh", "groupadd", "useradd", "install", "nologin", "mkdir"];

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(tool))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0))
}

fn require_prerequisites() {
    let mut missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, _)| on_path(tool).is_none())
        .map(|(_, package)| *package)
        .collect();
    if !Path::new("/etc/ssl/certs/ca-certificates.crt").is_file() {
        missing.push("ca-certificates");
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "missing tools for the container test; run: sudo apt-get install -y {}",
        missing.join(" ")
    );
    let uid =
        String::from_utf8(Command::new("id").arg("-u").output().expect("id").stdout).expect("uid");
    assert_eq!(
        uid.trim(),
        "0",
        "the container test builds with buildah and chroots: run it as root \
         (sudo -E cargo nextest run -p snapkasir-tests --test server_container)"
    );
}

/// Runs `cmd`; fails with its output unless it succeeds. Its stdout.
fn run(cmd: &mut Command) -> String {
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

fn buildah(args: &[&str]) -> String {
    run(Command::new("buildah").args(args)).trim().to_string()
}

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// What the test made with buildah, removed on drop (pass or fail): mounts, containers, images.
#[derive(Debug, Default)]
struct Buildah {
    containers: Vec<String>,
    images: Vec<String>,
}

impl Buildah {
    /// A working container from `image` (`scratch` for none).
    fn from(&mut self, image: &str) -> String {
        let name = format!("snapkasir-test-{}", rand::random::<u32>());
        self.containers.push(name.clone());
        buildah(&["from", "--name", &name, "--pull=never", image]);
        name
    }

    fn mount(&self, container: &str) -> PathBuf {
        PathBuf::from(buildah(&["mount", container]))
    }

    fn remove_container(&mut self, container: &str) {
        let _ = Command::new("buildah").args(["umount", container]).output();
        let _ = Command::new("buildah").args(["rm", container]).output();
        self.containers.retain(|c| c != container);
    }

    fn cleanup(&mut self) {
        for c in self.containers.clone() {
            self.remove_container(&c);
        }
        for image in self.images.drain(..).rev() {
            let _ = Command::new("buildah").args(["rmi", "-f", &image]).output();
        }
    }
}

impl Drop for Buildah {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// A process in the image's chroot, killed on drop.
struct Chrooted(Child);

impl Drop for Chrooted {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How the image runs a process: its root filesystem, user, working directory and environment.
#[derive(Debug, Clone)]
struct ImageRun {
    root: PathBuf,
    uid: u32,
    gid: u32,
    workdir: String,
    env: Vec<(String, String)>,
}

impl ImageRun {
    /// `argv` in a chroot of the image as its user, with its environment (plus `extra_env`).
    fn command(&self, argv: &[String], extra_env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.arg(format!("--root={}", self.root.display()))
            .arg(format!("--wd={}", self.workdir))
            .args(["--setgid", &self.gid.to_string()])
            .args(["--setuid", &self.uid.to_string()])
            .arg("--")
            .args(argv)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra_env.iter().copied());
        cmd
    }
}

/// Copies `from` (following symlinks) to the same path under `root`.
fn copy_into(root: &Path, from: &Path, as_path: &Path) {
    let target = root.join(as_path.strip_prefix("/").expect("absolute path"));
    if target.exists() {
        return;
    }
    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    std::fs::copy(from, &target)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), target.display()));
}

/// The shared libraries and loader `ldd` lists for `program`.
fn libraries_of(program: &Path) -> Vec<PathBuf> {
    let out = run(Command::new("ldd").arg(program));
    out.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// A Debian-like root filesystem (merged /usr) with what the runtime stage needs of its base:
/// the programs its RUN and HEALTHCHECK use and the libraries the server binary links.
fn make_base_rootfs(root: &Path, server_bin: &Path) {
    for dir in [
        "usr/bin",
        "usr/sbin",
        "usr/lib",
        "usr/lib64",
        "etc",
        "tmp",
        "root",
    ] {
        std::fs::create_dir_all(root.join(dir)).expect("mkdir");
    }
    for (link, to) in [
        ("bin", "usr/bin"),
        ("sbin", "usr/sbin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        std::os::unix::fs::symlink(to, root.join(link)).expect("symlink");
    }
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod tmp");
    let mut programs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for name in BASE_PROGRAMS {
        let found = on_path(name).expect("checked by require_prerequisites");
        let real = std::fs::canonicalize(&found).expect("canonical path");
        programs.push((real.clone(), real.clone()));
        if real.file_name() != Some(std::ffi::OsStr::new(name)) {
            // /bin/sh is a link to dash: the same in the image.
            let link = root.join(
                real.parent()
                    .expect("dir")
                    .join(name)
                    .strip_prefix("/")
                    .expect("abs"),
            );
            std::fs::create_dir_all(link.parent().expect("dir")).expect("mkdir");
            std::os::unix::fs::symlink(real.file_name().expect("name"), link).expect("symlink");
        }
    }
    let perl_files = run(Command::new("dpkg-query").args(["-L", "perl-base"]));
    for f in perl_files.lines().map(Path::new) {
        if f.is_file() {
            programs.push((f.to_path_buf(), f.to_path_buf()));
        }
    }
    for (from, as_path) in &programs {
        copy_into(root, from, as_path);
    }
    for (program, _) in &programs {
        let is_elf = std::fs::File::open(program)
            .and_then(|mut f| {
                let mut magic = [0u8; 4];
                f.read_exact(&mut magic).map(|_| magic)
            })
            .is_ok_and(|m| &m == b"\x7fELF");
        if is_elf && program.metadata().is_ok_and(|m| m.mode() & 0o111 != 0) {
            for lib in libraries_of(program) {
                copy_into(root, &lib, &lib);
            }
        }
    }
    // What Debian's base has that the server needs: its libraries (libgcc_s, libm, libc).
    for lib in libraries_of(server_bin) {
        copy_into(root, &lib, &lib);
    }
    // base-passwd's files and shadow's configuration, as a Debian base has them.
    let etc = root.join("etc");
    let files = [
        (
            "passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
            0o644,
        ),
        ("group", "root:x:0:\nnogroup:x:65534:\n", 0o644),
        (
            "shadow",
            "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
            0o640,
        ),
        ("gshadow", "root:*::\nnogroup:*::\n", 0o640),
        (
            "nsswitch.conf",
            "passwd: files\ngroup: files\nshadow: files\ngshadow: files\nhosts: files dns\n",
            0o644,
        ),
    ];
    for (name, text, mode) in files {
        std::fs::write(etc.join(name), text).expect("write etc file");
        std::fs::set_permissions(etc.join(name), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    }
    std::fs::copy("/etc/login.defs", etc.join("login.defs")).expect("login.defs (login)");
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port()
}

/// GET `path` over plain HTTP/1.0; the status code and body.
fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The image's numeric user and group: `USER` as `uid[:gid]` or names of its /etc/passwd.
fn resolve_user(root: &Path, user: &str) -> (u32, u32) {
    let (u, g) = user.split_once(':').unwrap_or((user, ""));
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).expect("image /etc/passwd");
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && (f[0] == u || f[2] == u))
        .unwrap_or_else(|| panic!("USER {user} is not in the image's /etc/passwd:\n{passwd}"));
    let uid: u32 = entry[2].parse().expect("uid");
    let gid: u32 = if g.is_empty() {
        entry[3].parse().expect("gid")
    } else if let Ok(n) = g.parse() {
        n
    } else {
        let group = std::fs::read_to_string(root.join("etc/group")).expect("image /etc/group");
        group
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 2 && f[0] == g)
            .and_then(|f| f[2].parse().ok())
            .unwrap_or_else(|| panic!("group {g} not in the image's /etc/group"))
    };
    (uid, gid)
}

/// Checks compose.yaml, parsed by Debian's python3-yaml (printed back as JSON).
fn check_compose(dir: &Path, image_healthcheck: &[String]) {
    let file = dir.join("compose.yaml");
    let script = "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)";
    // The first python3 on PATH may be a private one without yaml: Debian's is the fallback.
    let out = ["python3", "/usr/bin/python3"]
        .iter()
        .filter_map(|py| {
            Command::new(py)
                .args(["-c", script])
                .arg(&file)
                .output()
                .ok()
        })
        .find(|o| o.status.success())
        .unwrap_or_else(|| {
            panic!(
                "compose.yaml did not parse, or python3's yaml is missing \
                 (sudo apt-get install -y python3-yaml)"
            )
        });
    let compose: Value = serde_json::from_slice(&out.stdout).expect("compose as JSON");
    let services = &compose["services"];
    let pg = &services["postgres"];
    assert!(
        pg["image"]
            .as_str()
            .is_some_and(|i| i.ends_with("postgres:15")),
        "postgres image: {pg}"
    );
    assert!(
        strings(&pg["healthcheck"]["test"]).contains(&"pg_isready".to_string()),
        "postgres health check: {pg}"
    );
    let pg_password = pg["environment"]["POSTGRES_PASSWORD"]
        .as_str()
        .unwrap_or_default();
    assert!(
        pg_password.starts_with("${POSTGRES_PASSWORD:?"),
        "the Postgres password must be a required variable: {pg_password}"
    );
    let pg_volume = strings(&pg["volumes"]);
    assert!(
        pg_volume
            .iter()
            .any(|v| v.ends_with(":/var/lib/postgresql/data") && !v.starts_with(['.', '/'])),
        "postgres needs a named volume: {pg_volume:?}"
    );

    let server = &services["sync-server"];
    assert_eq!(
        server["depends_on"]["postgres"]["condition"], "service_healthy",
        "{server}"
    );
    let url = server["environment"]["SNAPKASIR_DATABASE_URL"]
        .as_str()
        .unwrap_or_default();
    assert!(
        url.starts_with("postgres://")
            && url.contains("${POSTGRES_PASSWORD")
            && url.contains("@postgres:5432/"),
        "SNAPKASIR_DATABASE_URL: {url}"
    );
    assert_eq!(
        strings(&server["healthcheck"]["test"]),
        image_healthcheck,
        "the compose health check is the image's"
    );
    assert!(
        strings(&server["volumes"])
            .iter()
            .any(|v| v.ends_with(":/var/lib/snapkasir") && !v.starts_with(['.', '/'])),
        "the server needs a named volume for /var/lib/snapkasir: {server}"
    );
    assert!(
        strings(&server["ports"])
            .iter()
            .any(|p| p.ends_with(":8080")),
        "port 8080: {server}"
    );
    if let Some(context) = server["build"]["context"].as_str() {
        let resolved = std::fs::canonicalize(dir.join(context)).expect("build context exists");
        assert!(
            resolved.starts_with(std::fs::canonicalize(repo_dir()).expect("repo")),
            "the build context must be inside the repository (Coolify): {context}"
        );
        let dockerfile = server["build"]["dockerfile"].as_str().expect("dockerfile");
        assert!(resolved.join(dockerfile).is_file(), "{dockerfile}");
    }
    for volume in ["postgres-data", "snapkasir-data"] {
        assert!(
            compose["volumes"].get(volume).is_some(),
            "top-level volume {volume}: {}",
            compose["volumes"]
        );
    }
}

#[test]
fn runtime_stage_builds_serves_and_syncs_in_a_chroot() {
    let started = Instant::now();
    require_prerequisites();
    let server_bin = workspace_bin("sync-server");
    let terminal_bin = workspace_bin("snapkasir-terminal");
    assert!(terminal_bin.is_file());
    let repo = repo_dir();
    let installers = repo.join("installers/container");
    let containerfile = installers.join("Containerfile");
    let text = std::fs::read_to_string(&containerfile).expect("Containerfile");
    // The user-facing build is the multi-stage one from the registry's images.
    for needle in [
        "ARG RUST_IMAGE=docker.io/library/rust:1-bookworm",
        "FROM ${RUST_IMAGE} AS build",
        "ARG BASE=docker.io/library/debian:bookworm-slim",
        "FROM ${BASE} AS runtime",
        "COPY --from=build /usr/local/bin/sync-server /usr/bin/sync-server",
    ] {
        assert!(text.contains(needle), "Containerfile lacks {needle:?}");
    }

    let tmp = tempfile::Builder::new()
        .prefix("snapkasir-container-")
        .tempdir()
        .expect("tempdir");
    let tag = format!("{}-{}", std::process::id(), rand::random::<u32>());
    let mut b = Buildah::default();

    // 1. The local base image.
    let rootfs = tmp.path().join("base-rootfs");
    make_base_rootfs(&rootfs, &server_bin);
    let base_image = format!("localhost/snapkasir-test-base:{tag}");
    let base = b.from("scratch");
    let base_mnt = b.mount(&base);
    run(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", rootfs.display()))
        .arg(&base_mnt));
    buildah(&[
        "config",
        "--env",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--cmd",
        "/bin/sh",
        &base,
    ]);
    b.images.push(base_image.clone());
    buildah(&["commit", "--quiet", &base, &base_image]);
    b.remove_container(&base);
    let base_done = started.elapsed();

    // 2. The runtime stage on it, with this build's binary where the build stage puts its own.
    let from_build = tmp.path().join("from-build");
    let bin_target = from_build.join("usr/local/bin/sync-server");
    std::fs::create_dir_all(bin_target.parent().expect("dir")).expect("mkdir");
    if std::fs::hard_link(&server_bin, &bin_target).is_err() {
        std::fs::copy(&server_bin, &bin_target).expect("copy sync-server");
    }
    copy_into(
        &from_build,
        Path::new("/etc/ssl/certs/ca-certificates.crt"),
        Path::new("/etc/ssl/certs/ca-certificates.crt"),
    );
    let image = format!("localhost/snapkasir-test-server:{tag}");
    b.images.push(image.clone());
    run(Command::new("buildah")
        .args(["build", "--isolation", "chroot", "--format", "docker"])
        .args(["--target", "runtime", "--pull=never"])
        .arg(format!("--build-arg=BASE={base_image}"))
        .arg(format!("--build-context=build={}", from_build.display()))
        .arg("--file")
        .arg(&containerfile)
        .args(["--tag", &image])
        .arg(&repo));
    let build_done = started.elapsed();

    // 3. What the image says about itself.
    let inspect: Value =
        serde_json::from_str(&buildah(&["inspect", "--type", "image", &image])).expect("inspect");
    let config = &inspect["Docker"]["config"];
    let entrypoint = strings(&config["Entrypoint"]);
    let cmd = strings(&config["Cmd"]);
    assert_eq!(entrypoint, ["/usr/bin/sync-server"], "{config}");
    assert_eq!(cmd, ["serve"], "{config}");
    assert!(config["ExposedPorts"].get("8080/tcp").is_some(), "{config}");
    assert!(
        config["Volumes"].get("/var/lib/snapkasir").is_some(),
        "{config}"
    );
    let env: Vec<(String, String)> = strings(&config["Env"])
        .iter()
        .filter_map(|e| e.split_once('=').map(|(k, v)| (k.into(), v.into())))
        .collect();
    let env_of = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(env_of("SNAPKASIR_LISTEN"), Some("0.0.0.0:8080"), "{env:?}");
    assert_eq!(env_of("SNAPKASIR_DATA_DIR"), Some("/var/lib/snapkasir"));
    let user = config["User"].as_str().unwrap_or_default().to_string();
    let healthcheck = strings(&config["Healthcheck"]["Test"]);
    assert_eq!(
        healthcheck.first().map(String::as_str),
        Some("CMD"),
        "an exec-form HEALTHCHECK (kept by --format docker): {config}"
    );
    assert!(
        !healthcheck.iter().any(|a| a.contains("curl")),
        "{healthcheck:?}"
    );

    // 4. The image's filesystem, and its processes in a chroot of it.
    let ctr = b.from(&image);
    let root = b.mount(&ctr);
    let (uid, gid) = resolve_user(&root, &user);
    assert_ne!(uid, 0, "the image must not run as root (USER {user:?})");
    let data = root.join("var/lib/snapkasir");
    let meta = std::fs::metadata(&data).expect("/var/lib/snapkasir in the image");
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o777),
        (uid, gid, 0o700),
        "/var/lib/snapkasir belongs to the image's user"
    );
    let workdir = match config["WorkingDir"].as_str() {
        Some(w) if !w.is_empty() => w.to_string(),
        _ => "/".to_string(),
    };
    let image_run = ImageRun {
        root: root.clone(),
        uid,
        gid,
        workdir,
        env: env.clone(),
    };
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let extra = [
        ("SNAPKASIR_LISTEN", listen.as_str()),
        ("SNAPKASIR_LOG", "warn"),
    ];

    let health_argv = healthcheck[1..].to_vec();
    let status = image_run
        .command(&health_argv, &extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("health check");
    assert!(!status.success(), "the health check passes with no server");

    let mut argv = entrypoint.clone();
    argv.extend(cmd.iter().cloned());
    let log = tmp.path().join("server.log");
    let mut server = Chrooted(
        image_run
            .command(&argv, &extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start the image's entrypoint"),
    );
    let mut first = String::new();
    let _ = BufReader::new(server.0.stdout.take().expect("stdout")).read_line(&mut first);
    assert_eq!(
        first.trim(),
        format!("listening on http://{listen}"),
        "server log: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let (code, body) = http_get(port, "/healthz").expect("GET /healthz");
    assert_eq!(code, 200, "/healthz: {body}");
    let status = image_run
        .command(&health_argv, &extra)
        .output()
        .expect("health check");
    assert!(
        status.status.success(),
        "the image's HEALTHCHECK {health_argv:?} fails: {}",
        String::from_utf8_lossy(&status.stderr)
    );

    let admin = |args: &[&str]| -> Value {
        let mut argv = entrypoint.clone();
        argv.push("admin".into());
        argv.extend(args.iter().map(|a| a.to_string()));
        let out = run(&mut image_run.command(&argv, &extra));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("admin {args:?}: {e}: {out}"))
    };
    let made = admin(&create_tenant_args(
        "Toko Kontainer",
        "TKC",
        "Toko Kontainer",
        "pemilik@toko-kontainer.example",
    ));
    let store_id = made["store_id"].as_str().expect("store_id").to_string();
    let code = admin(&[
        "enrollment-code",
        "--store-id",
        &store_id,
        "--terminal-name",
        "Kasir 1",
    ]);
    let code = code["code"].as_str().expect("enrollment code");

    let mut till = TerminalProcess::spawn(&tmp.path().join("till.db"), "Kasir 1");
    let server_url = format!("http://{listen}");
    till.cmd(json!({"cmd": "enrol", "server": server_url, "code": code, "demo": true}))
        .unwrap_or_else(|e| panic!("the till could not enrol with the server in the image: {e}"));
    till.cmd(json!({"cmd": "start_shift"})).expect("shift");
    start_sync(&mut till);
    let sale = sell_and_wait_ack(&mut till, Duration::from_secs(30))
        .unwrap_or_else(|s| panic!("the server in the image did not acknowledge the sale: {s}"));
    assert!(!sale.is_empty());
    drop(till);

    // The README's backup, as `podman exec` runs it: in the running image, as its user.
    run(&mut image_run.command(
        &[
            "mkdir".into(),
            "-p".into(),
            "/var/lib/snapkasir/backups".into(),
        ],
        &extra,
    ));
    let mut argv = entrypoint.clone();
    argv.extend(["admin", "backup", "--to", "/var/lib/snapkasir/backups/"].map(String::from));
    let summary = run(&mut image_run.command(&argv, &extra));
    let backups: Vec<_> = std::fs::read_dir(data.join("backups"))
        .expect("backups dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".skb"))
        .collect();
    assert_eq!(backups.len(), 1, "one backup file: {summary}");
    assert!(
        backups[0].metadata().expect("meta").len() > 0,
        "empty backup: {summary}"
    );

    // The server shuts down on SIGTERM (what `podman stop` sends) and wrote as its user.
    run(Command::new("kill").args(["-TERM", &server.0.id().to_string()]));
    let exit = server.0.wait().expect("wait");
    assert!(exit.success(), "server exit on SIGTERM: {exit}");
    let files: Vec<_> = std::fs::read_dir(&data)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .collect();
    assert!(
        !files.is_empty(),
        "the server wrote nothing in /var/lib/snapkasir"
    );
    for f in &files {
        assert_eq!(
            f.metadata().expect("meta").uid(),
            uid,
            "{} not owned by the image's user",
            f.path().display()
        );
    }
    drop(server);

    // 5. compose.yaml.
    check_compose(&installers, &healthcheck);

    // 6. Nothing left behind.
    b.cleanup();
    let containers = buildah(&["containers", "--all", "--format", "{{.ContainerName}}"]);
    assert!(
        !containers.contains("snapkasir-test-"),
        "containers left: {containers}"
    );
    let images = buildah(&["images", "--format", "{{.Name}}:{{.Tag}}"]);
    assert!(!images.contains(&tag), "images left: {images}");
    eprintln!(
        "base image {:.1?}, runtime build {:.1?}, total {:.1?}",
        base_done,
        build_done - base_done,
        started.elapsed()
    );
}
