// The example app in headless Chromium against the real sync-server binary (PostgreSQL):
// an owner makes an app credential through the API; two browser pages edit one list and
// converge through the server; the list is claimed by the tenant (read back from the database)
// and the owner's own client reads it; a till's document is unavailable to the app; revoking
// the credential disconnects the pages and the server refuses it from then on.
//
// Needs Debian's chromium (CHROMIUM overrides /usr/bin/chromium), PostgreSQL (DATABASE_URL,
// default the local trust-auth server, with psql) and the server binary (SYNC_SERVER_BIN, else
// built with cargo). Screenshots go to $CARGO_TARGET_DIR/test-output/web-client/.

import { test } from "node:test"
import assert from "node:assert/strict"
import { spawn, execFileSync } from "node:child_process"
import { existsSync, mkdirSync } from "node:fs"
import { join, dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { createInterface } from "node:readline"
import { request } from "node:http"
import { chromium } from "playwright-core"
import { Repo, decodeHeads } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { serveDist } from "../serve.mjs"

const here = dirname(fileURLToPath(import.meta.url))
const workspace = resolve(here, "../../..")
const targetDir = process.env.CARGO_TARGET_DIR ?? join(workspace, "target")
const shots = join(targetDir, "test-output", "web-client")
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium"
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 900 } }

function serverBinary() {
  if (process.env.SYNC_SERVER_BIN) return process.env.SYNC_SERVER_BIN
  execFileSync("cargo", ["build", "--workspace", "--bin", "sync-server"], { cwd: workspace, stdio: "inherit" })
  const bin = join(targetDir, "debug", "sync-server")
  assert.ok(existsSync(bin), `missing ${bin}`)
  return bin
}

const serverEnv = { ...process.env, SNAPKASIR_DATABASE_URL: "", SNAPKASIR_LOG: process.env.SNAPKASIR_LOG ?? "warn" }

function runJson(bin, args) {
  return JSON.parse(execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: serverEnv }))
}

const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

function psql(url, sql) {
  return execFileSync("psql", [url, "-Atqc", sql], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim()
}

function createPgDatabase() {
  const name = `sk_webclient_${process.pid}_${Date.now()}`
  try {
    psql(adminUrl, `CREATE DATABASE ${name}`)
  } catch (e) {
    throw new Error(
      `cannot create a PostgreSQL database via ${adminUrl} (${e.message}). ` +
        "Install and start PostgreSQL (sudo apt-get install -y postgresql postgresql-client) or set DATABASE_URL; scripts/test does this.",
    )
  }
  const url = new URL(adminUrl)
  url.pathname = "/" + name
  return { url: url.toString(), drop: () => psql(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

function startServer(bin, dbArgs) {
  const child = spawn(bin, [...dbArgs, "serve", "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"], env: serverEnv })
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

async function api(base, method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

// Status of a WebSocket upgrade with `token` (101 when accepted).
function upgradeStatus(base, token) {
  const url = new URL(base + "/sync?token=" + encodeURIComponent(token))
  return new Promise((resolveStatus, reject) => {
    const req = request(url, {
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
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

async function waitFor(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

function nodeClient(base, token) {
  const adapter = new WebSocketClientAdapter(base.replace(/^http/, "ws") + "/sync?token=" + encodeURIComponent(token))
  return { repo: new Repo({ network: [adapter] }), adapter }
}

async function findWithin(repo, url) {
  return waitFor(`the server to serve ${url}`, async () => {
    try {
      return await repo.find(url)
    } catch {
      return null
    }
  })
}

async function screenshot(page, name) {
  mkdirSync(shots, { recursive: true })
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport)
    await page.screenshot({ path: join(shots, `${name}-${size}.png`), fullPage: true })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, `${name} at ${size} width scrolls sideways by ${overflow} px`)
  }
  await page.setViewportSize(SIZES.phone)
}

async function openApp(browser, appBase, serverBase, secret, hash = "") {
  const page = await browser.newPage({ viewport: SIZES.phone })
  page.on("pageerror", e => console.error("page error:", e.message))
  await page.goto(`${appBase}/?server=${encodeURIComponent(serverBase)}${hash}`)
  await page.fill("#credential", secret)
  await page.click("#connect")
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 20_000 })
  return page
}

async function items(page) {
  return page.$$eval("#items li span", spans => spans.map(s => s.textContent))
}

test("the example app syncs its own list through the server with an app credential", async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: sudo apt-get install -y chromium (or set CHROMIUM)`)
  const bin = serverBinary()
  const db = createPgDatabase()
  const dbArgs = ["--database-url", db.url]
  let server, app, browser
  const repos = []
  try {
    const tenant = runJson(bin, [...dbArgs, "admin", "create-tenant", "--tenant-name", "Toko Web", "--store-code", "WEB1",
      "--store-name", "Web", "--owner-email", "owner@example.com", "--owner-password", "rahasia-123"])
    const code = runJson(bin, [...dbArgs, "admin", "enrollment-code", "--store-id", tenant.store_id, "--terminal-name", "Kasir 1"]).code
    server = await startServer(bin, dbArgs)
    app = await serveDist()
    const login = await api(server.base, "POST", "/api/v1/auth/login", null, { email: "owner@example.com", password: "rahasia-123" })
    assert.equal(login.status, 200)
    const owner = login.body.access_token
    const made = await api(server.base, "POST", "/api/v1/apps", owner, { name: "Shopping list" })
    assert.equal(made.status, 201, JSON.stringify(made.body))
    const secret = made.body.secret
    assert.match(secret, /^ska_/)

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] })
    const start = await browser.newPage({ viewport: SIZES.phone })
    await start.goto(`${app.base}/?server=${encodeURIComponent(server.base)}`)
    await screenshot(start, "01-connect")
    await start.close()

    // Page A makes a list and adds an item; page B opens it by its URL and adds another.
    const a = await openApp(browser, app.base, server.base, secret)
    await a.click("#new-list")
    const docUrl = (await a.textContent("#doc-url")).trim()
    assert.match(docUrl, /^automerge:/)
    await a.fill("#item", "Beras 5 kg")
    await a.click('#add-form button[type="submit"]')
    const b = await openApp(browser, app.base, server.base, secret, "#" + docUrl)
    await waitFor("page B to see page A's item", async () => (await items(b)).includes("Beras 5 kg"))
    await b.fill("#item", "Telur 1 kg")
    await b.click('#add-form button[type="submit"]')
    await a.check("#items li:first-child input")
    for (const [name, page] of [["A", a], ["B", b]]) {
      await waitFor(`page ${name} to converge`, async () => {
        const list = await items(page)
        const done = await page.$$eval("#items li.done span", s => s.map(x => x.textContent))
        return JSON.stringify(list) === JSON.stringify(["Beras 5 kg", "Telur 1 kg"]) && done.join() === "Beras 5 kg"
      })
    }
    await waitFor("page B to note a change from the server", async () =>
      (await b.textContent("#sync")).startsWith("Last change from the server"))
    await screenshot(a, "02-list-page-a")
    await screenshot(b, "03-list-page-b")

    // Claimed by the tenant with no store, by this credential, in the database.
    const docId = docUrl.slice("automerge:".length)
    const claim = psql(db.url, `SELECT tenant_id || '|' || COALESCE(store_id, '-') || '|' || claimed_by FROM doc_claims WHERE doc_id = '${docId}'`)
    assert.equal(claim, `${tenant.tenant_id}|-|app:${made.body.id}`)
    // The owner's own client reads the same list, and the server has stored what it holds.
    const ownerClient = nodeClient(server.base, owner)
    repos.push(ownerClient.repo)
    const ownerDoc = await findWithin(ownerClient.repo, docUrl)
    await waitFor("the owner's client to see both items", () => ownerDoc.doc().items?.length === 2)
    assert.deepEqual(ownerDoc.doc().items.map(i => i.text), ["Beras 5 kg", "Telur 1 kg"])
    const heads = decodeHeads(ownerDoc.heads())
    const persisted = await api(server.base, "POST", `/api/v1/documents/${docId}/persisted`, secret, { heads })
    assert.equal(persisted.status, 200)
    await waitFor("the list to be stored", async () =>
      (await api(server.base, "POST", `/api/v1/documents/${docId}/persisted`, secret, { heads })).body.all)
    const listed = await api(server.base, "GET", "/api/v1/apps", owner)
    assert.ok(listed.body[0].last_used_at, JSON.stringify(listed.body))

    // A till's document (claimed by its store) is unavailable to the app.
    const enrolled = await api(server.base, "POST", "/api/v1/terminals/enroll", null, { code })
    assert.equal(enrolled.status, 200)
    const till = nodeClient(server.base, enrolled.body.device_credential)
    repos.push(till.repo)
    await till.adapter.whenReady()
    const tillDoc = till.repo.create({ sale: "INV-1", total: 12500 })
    const tillId = tillDoc.url.slice("automerge:".length)
    await waitFor("the till's document to be claimed", () =>
      psql(db.url, `SELECT COALESCE(store_id, '-') FROM doc_claims WHERE doc_id = '${tillId}'`) === tenant.store_id)
    await a.fill("#open-url", tillDoc.url)
    await a.click('#open-form button[type="submit"]')
    await a.waitForSelector("#doc-error:not([hidden])", { timeout: 30_000 })
    assert.match(await a.textContent("#doc-error"), /not available/)
    assert.equal((await api(server.base, "POST", `/api/v1/documents/${tillId}/persisted`, secret, { heads: [] })).status, 404)
    await screenshot(a, "04-till-document-unavailable")

    // Revoked: both pages are disconnected with the reason, and the server refuses it.
    const revoked = await api(server.base, "POST", `/api/v1/apps/${made.body.id}/revoke`, owner)
    assert.equal(revoked.status, 200)
    for (const page of [a, b]) {
      await page.waitForSelector('#status[data-state="disconnected"]', { timeout: 10_000 })
      assert.match(await page.textContent("#status"), /app credential revoked/)
    }
    assert.equal(await upgradeStatus(server.base, secret), 401)
    await screenshot(b, "05-revoked")
  } finally {
    if (browser) await browser.close()
    await Promise.all(repos.map(r => r.shutdown().catch(() => {})))
    if (app) app.server.close()
    if (server) {
      const exited = new Promise(r => server.child.once("exit", r))
      server.child.kill("SIGTERM")
      await exited
    }
    db.drop()
  }
})
