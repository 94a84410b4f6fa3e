//! The automerge-repo JavaScript reference sync server
//! (`sync-server/bench/js-reference-server/server.mjs`) as a child process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::AsyncBufReadExt;

/// A running reference server; killed when dropped.
#[derive(Debug)]
pub struct JsServer {
    pub port: u16,
    pub pid: u32,
    /// The ready line it printed (versions, share policy).
    pub ready: serde_json::Value,
    _child: tokio::process::Child,
    _data: tempfile::TempDir,
}

/// The script's directory: `--js-dir`, else the one in this crate.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/js-reference-server")
}

/// Starts `node server.mjs` in `dir` with a fresh data directory and waits for its ready line.
pub async fn start(dir: &Path, share: &str) -> anyhow::Result<JsServer> {
    anyhow::ensure!(
        dir.join("node_modules/@automerge/automerge-repo").is_dir(),
        "{} has no node_modules: run `npm install` there first",
        dir.display()
    );
    let data = tempfile::tempdir()?;
    let mut child = tokio::process::Command::new("node")
        .arg("server.mjs")
        .args(["--port", "0", "--share", share, "--dir"])
        .arg(data.path())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting node (is Node.js 20+ on PATH?)")?;
    let pid = child.id().context("node exited at once")?;
    let stdout = child.stdout.take().context("node stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["ready"] == true
            {
                return Ok(v);
            }
            eprintln!("js reference server: {line}");
        }
        anyhow::bail!("node exited before its ready line")
    })
    .await
    .context("no ready line from the js reference server in 30 s")??;
    let port = ready["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .context("ready line without a port")?;
    // Keep draining its stdout so that it never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("js reference server: {line}");
        }
    });
    Ok(JsServer {
        port,
        pid,
        ready,
        _child: child,
        _data: data,
    })
}
