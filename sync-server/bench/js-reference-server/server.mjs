// The automerge-repo JavaScript reference sync server, for the side-by-side
// run of sync-server's `bench_sync --js-reference`.
//
// Configured like automerge/automerge-repo-sync-server (src/server.js): a
// `ws` WebSocketServer under NodeWSServerAdapter, a Repo persisting to disk
// with NodeFSStorageAdapter, peer id `storage-server-<hostname>`. No auth.
//
//   node server.mjs [--port 0] [--dir <data dir>] [--share none|all]
//
// --share none (default): `sharePolicy: async () => false`, as the reference
//   server does — it syncs documents a client sends or asks for by id and
//   announces nothing.
// --share all: `sharePolicy: async () => true` — every document is announced
//   to every connected peer.
//
// Prints one line `{"ready":true,"port":<port>,...}` on stdout once listening;
// exits on SIGTERM/SIGINT after flushing storage.

import fs from "node:fs"
import os from "node:os"
import { WebSocketServer } from "ws"
import { Repo } from "@automerge/automerge-repo"
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"

function arg(name, fallback) {
  const i = process.argv.indexOf(name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

const port = Number.parseInt(arg("--port", "0"), 10)
const dir = arg("--dir", ".amrg")
const share = arg("--share", "none")
if (share !== "none" && share !== "all") {
  console.error(`--share must be none or all, not ${share}`)
  process.exit(2)
}
fs.mkdirSync(dir, { recursive: true })

const wss = new WebSocketServer({ host: "127.0.0.1", port })
const repo = new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  peerId: `storage-server-${os.hostname()}`,
  sharePolicy: share === "all" ? async () => true : async () => false,
})

wss.on("listening", () => {
  const { port: bound } = wss.address()
  const repoVersion = JSON.parse(
    fs.readFileSync(new URL("./node_modules/@automerge/automerge-repo/package.json", import.meta.url)),
  ).version
  console.log(
    JSON.stringify({ ready: true, port: bound, pid: process.pid, share, dir, node: process.version, automergeRepo: repoVersion }),
  )
})
wss.on("error", (e) => {
  console.error(`websocket server error: ${e.message}`)
  process.exit(1)
})

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try {
    await repo.flush()
    await repo.shutdown()
  } finally {
    wss.close()
    process.exit(0)
  }
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
