// A shared shopping list synced through the SnapKasir sync server.
//
// The official automerge-repo client and its WebSocket adapter, unmodified: the app credential
// an owner made on the dashboard (/apps) goes in the `token` query parameter of `/sync`
// (browsers cannot set headers on a WebSocket). The lists this app creates are claimed by the
// owner's tenant; the server never shares a till's documents with it.
import { initializeWasm } from "@automerge/automerge/slim"
import { Repo, cbor, isValidAutomergeUrl } from "@automerge/automerge-repo/slim"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const $ = id => document.getElementById(id)

/** The official adapter, also remembering the last `error` frame the server sent (why it closed). */
class ExplainingAdapter extends WebSocketClientAdapter {
  lastError = null
  receiveMessage(bytes) {
    try {
      const m = cbor.decode(new Uint8Array(bytes))
      if (m && m.type === "error") this.lastError = m.message
    } catch {
      // the adapter logs undecodable frames itself
    }
    super.receiveMessage(bytes)
  }
}

let repo = null
let adapter = null
let handle = null
/** The document's heads right after this page's own last edit. */
let ownHeads = ""

/** Edits the list; a change event whose heads are not these came from elsewhere. */
function edit(fn) {
  handle.change(fn)
  ownHeads = JSON.stringify(handle.heads())
}

function setStatus(state, text) {
  const s = $("status")
  s.dataset.state = state
  s.textContent = text
}

function syncUrl(server, credential) {
  const u = new URL("/sync", server)
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:"
  u.searchParams.set("token", credential)
  return u.toString()
}

async function connect(server, credential) {
  // automerge's WebAssembly, served beside this script (build.mjs copies it).
  await initializeWasm(new URL("automerge.wasm", import.meta.url))
  if (repo) await repo.shutdown()
  adapter = new ExplainingAdapter(syncUrl(server, credential), 2000)
  adapter.on("peer-candidate", () => {
    adapter.lastError = null
    setStatus("connected", "Connected to the server")
  })
  adapter.on("peer-disconnected", () => {
    const why = adapter.lastError ? `: ${adapter.lastError}` : ""
    setStatus("disconnected", `Disconnected${why}. Retrying…`)
  })
  setStatus("connecting", "Connecting…")
  // No storage: the server holds the lists; a reload loads them again from it.
  repo = new Repo({ network: [adapter] })
  await adapter.whenReady()
  if (!adapter.remotePeerId) {
    setStatus("disconnected", "Not connected: the server refused the credential or is unreachable")
  }
  $("doc-card").hidden = false
}

function render() {
  const doc = handle?.doc()
  if (!doc) return
  const ul = $("items")
  ul.replaceChildren(
    ...(doc.items ?? []).map((item, i) => {
      const li = document.createElement("li")
      li.className = item.done ? "done" : ""
      const label = document.createElement("label")
      const box = document.createElement("input")
      box.type = "checkbox"
      box.checked = !!item.done
      box.addEventListener("change", () =>
        edit(d => {
          d.items[i].done = box.checked
        }),
      )
      const text = document.createElement("span")
      text.textContent = item.text
      label.append(box, text)
      li.append(label)
      return li
    }),
  )
}

function show(h) {
  handle?.off("change", onChange)
  handle = h
  ownHeads = JSON.stringify(handle.heads())
  handle.on("change", onChange)
  $("doc-error").hidden = true
  $("list").hidden = false
  $("doc-url").textContent = handle.url
  location.hash = handle.url
  render()
}

function onChange() {
  render()
  // A change that did not come from this page came through the server.
  if (JSON.stringify(handle.heads()) === ownHeads) return
  $("sync").textContent = `Last change from the server: ${new Date().toLocaleTimeString()}`
}

async function open(url) {
  $("doc-error").hidden = true
  if (!isValidAutomergeUrl(url)) {
    showError("That is not a document URL (automerge:…).")
    return
  }
  try {
    show(await repo.find(url))
  } catch (e) {
    $("list").hidden = true
    showError(`This list is not available to this app (${e.message}).`)
  }
}

function showError(text) {
  const e = $("doc-error")
  e.textContent = text
  e.hidden = false
}

$("server").value = new URLSearchParams(location.search).get("server") ?? ""
$("connect-form").addEventListener("submit", async ev => {
  ev.preventDefault()
  $("connect").disabled = true
  try {
    await connect($("server").value, $("credential").value)
    const fromHash = decodeURIComponent(location.hash.slice(1))
    if (fromHash) await open(fromHash)
  } catch (e) {
    setStatus("disconnected", `Not connected: ${e.message}`)
  } finally {
    $("connect").disabled = false
  }
})
$("new-list").addEventListener("click", () => show(repo.create({ title: "Shopping list", items: [] })))
$("open-form").addEventListener("submit", ev => {
  ev.preventDefault()
  open($("open-url").value.trim())
})
$("add-form").addEventListener("submit", ev => {
  ev.preventDefault()
  const text = $("item").value.trim()
  if (!text || !handle) return
  edit(d => {
    d.items.push({ text, done: false })
  })
  $("item").value = ""
})
