// Interop: the official, unmodified automerge-repo JS client (2.x) syncs
// through the real sync-server binary with another JS client and a Rust
// (samod) client; edits on all sides converge.
//
// The binary is built by `npm test` via cargo unless SYNC_SERVER_BIN points
// at one; the Rust client is the crate's `interop_client` example.

import { test } from "node:test"
import assert from "node:assert/strict"
import { spawn, execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { createInterface } from "node:readline"
import { request } from "node:http"
import { Repo, decodeHeads } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const here = dirname(fileURLToPath(import.meta.url))
const workspace = resolve(here, "../../..")
const targetDir = process.env.CARGO_TARGET_DIR ?? join(workspace, "target")

function buildBinaries() {
  if (process.env.SYNC_SERVER_BIN && process.env.INTEROP_CLIENT_BIN) {
    return { server: process.env.SYNC_SERVER_BIN, client: process.env.INTEROP_CLIENT_BIN }
  }
  execFileSync("cargo", ["build", "--workspace", "--bin", "sync-server", "--example", "interop_client"], {
    cwd: workspace,
    stdio: "inherit",
  })
  const server = join(targetDir, "debug", "sync-server")
  const client = join(targetDir, "debug", "examples", "interop_client")
  for (const f of [server, client]) assert.ok(existsSync(f), `missing ${f}`)
  return { server, client }
}

function runJson(bin, args) {
  return JSON.parse(execFileSync(bin, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, SNAPKASIR_DATABASE_URL: "", SNAPKASIR_LOG: process.env.SNAPKASIR_LOG ?? "warn" },
  }))
}

// A fresh PostgreSQL database on the admin server of DATABASE_URL (default:
// the local trust-auth server), created with psql and dropped afterwards.
function createPgDatabase() {
  const admin = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
  const name = `sk_js_${process.pid}_${Date.now()}`
  try {
    execFileSync("psql", [admin, "-qc", `CREATE DATABASE ${name}`], { stdio: ["ignore", "ignore", "pipe"] })
  } catch (e) {
    throw new Error(
      `cannot create a PostgreSQL database via ${admin} (${e.message}). ` +
        "Install and start PostgreSQL (sudo apt-get install -y postgresql postgresql-client) or set DATABASE_URL; scripts/test does this.",
    )
  }
  const url = new URL(admin)
  url.pathname = "/" + name
  return {
    url: url.toString(),
    drop: () =>
      execFileSync("psql", [admin, "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "ignore" }),
  }
}

// Starts `sync-server serve` on a free port and resolves once it prints its
// readiness line (the socket is bound before the line is printed).
function startServer(bin, dbArgs) {
  const child = spawn(bin, [...dbArgs, "serve", "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, SNAPKASIR_DATABASE_URL: "", SNAPKASIR_LOG: process.env.SNAPKASIR_LOG ?? "warn" },
  })
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not become ready in 30 s")), 30_000)
    child.on("exit", code => reject(new Error(`server exited early with ${code}`)))
    createInterface({ input: child.stdout }).on("line", line => {
      const m = line.match(/^listening on (http:\/\/\S+)$/)
      if (m) {
        clearTimeout(timer)
        resolveStart({ child, base: m[1] })
      }
    })
  })
}

async function enroll(base, code) {
  const res = await fetch(`${base}/api/v1/terminals/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code }),
  })
  assert.equal(res.status, 200, await res.clone().text())
  return res.json()
}

function runRustClient(bin, url, docUrl, waitKeys) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(bin, [url, docUrl, "rust", "from rust", waitKeys.join(",")], {
      stdio: ["ignore", "pipe", "inherit"],
    })
    let out = ""
    child.stdout.on("data", d => (out += d))
    child.on("exit", code => (code === 0 ? resolveRun(JSON.parse(out.trim())) : reject(new Error(`rust client exited ${code}`))))
  })
}

// Status of a WebSocket upgrade attempt (101 when accepted).
function upgradeStatus(base, token) {
  const url = new URL(base + "/sync" + (token ? "?token=" + encodeURIComponent(token) : ""))
  return new Promise((resolveStatus, reject) => {
    const req = request(url, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    })
    req.on("upgrade", (res, socket) => {
      socket.destroy()
      resolveStatus(res.statusCode)
    })
    req.on("response", res => {
      res.resume()
      resolveStatus(res.statusCode)
    })
    req.on("error", reject)
    req.end()
  })
}

async function waitFor(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 20))
  }
}

function jsClient(base, token) {
  const wsUrl = base.replace(/^http/, "ws") + "/sync?token=" + encodeURIComponent(token)
  const adapter = new WebSocketClientAdapter(wsUrl)
  return { repo: new Repo({ network: [adapter] }), adapter }
}

async function interop(dbArgs) {
  const { server: serverBin, client: clientBin } = buildBinaries()
  let server
  const repos = []
  try {
    const admin = [...dbArgs, "admin"]
    const tenant = runJson(serverBin, [
      ...admin, "create-tenant", "--tenant-name", "Toko Interop", "--store-code", "JS1",
      "--store-name", "Interop", "--owner-email", "owner@example.com", "--owner-password", "rahasia-123",
    ])
    const codes = [1, 2, 3].map(i =>
      runJson(serverBin, [...admin, "enrollment-code", "--store-id", tenant.store_id, "--terminal-name", `T${i}`]).code,
    )
    server = await startServer(serverBin, dbArgs)
    const [t1, t2, t3] = []
      .concat(await enroll(server.base, codes[0]))
      .concat(await enroll(server.base, codes[1]))
      .concat(await enroll(server.base, codes[2]))

    // A JS client creates the document.
    const a = jsClient(server.base, t1.device_credential)
    repos.push(a.repo)
    await a.adapter.whenReady()
    const handleA = a.repo.create({ createdBy: "js-a" })
    const docUrl = handleA.url

    // A second JS client finds it through the server.
    const b = jsClient(server.base, t2.device_credential)
    repos.push(b.repo)
    await b.adapter.whenReady()
    let handleB
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        handleB = await b.repo.find(docUrl)
        break
      } catch (e) {
        // unavailable until client A's first sync reached the server
        if (Date.now() > deadline) throw e
        await new Promise(r => setTimeout(r, 100))
      }
    }
    assert.equal(handleB.doc().createdBy, "js-a")

    // The Rust client finds it too, writes, and waits for everyone's writes.
    const rust = runRustClient(clientBin, server.base.replace(/^http/, "ws") + "/sync?token=" + t3.device_credential,
      docUrl, ["createdBy", "a", "b", "rust"])

    handleA.change(d => { d.a = "from js a" })
    handleB.change(d => { d.b = "from js b" })

    const rustResult = await rust
    const all = ["createdBy", "a", "b", "rust"]
    await waitFor("js clients converge", () =>
      all.every(k => handleA.doc()[k] !== undefined && handleB.doc()[k] !== undefined))
    assert.deepEqual(rustResult.doc, { createdBy: "js-a", a: "from js a", b: "from js b", rust: "from rust" })
    await waitFor("identical heads", () => {
      const ha = decodeHeads(handleA.heads()).slice().sort()
      const hb = decodeHeads(handleB.heads()).slice().sort()
      return JSON.stringify(ha) === JSON.stringify(hb) && JSON.stringify(ha) === JSON.stringify(rustResult.heads.slice().sort())
    })
    assert.deepEqual({ ...handleA.doc() }, rustResult.doc)
    assert.deepEqual({ ...handleB.doc() }, rustResult.doc)

    // A client without a valid token never gets in.
    assert.equal(await upgradeStatus(server.base, "skd_forged"), 401)
    assert.equal(await upgradeStatus(server.base, null), 401)

  } finally {
    await Promise.all(repos.map(r => r.shutdown().catch(() => {})))
    if (server) {
      const exited = new Promise(r => server.child.once("exit", r))
      server.child.kill("SIGTERM")
      await exited
    }
  }
}

test("JS clients and a Rust client converge through the server (embedded SQLite)", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "snapkasir-interop-"))
  try {
    await interop(["--data-dir", dataDir])
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test("JS clients and a Rust client converge through the server (PostgreSQL)", async () => {
  const db = createPgDatabase()
  try {
    await interop(["--database-url", db.url])
  } finally {
    db.drop()
  }
})
