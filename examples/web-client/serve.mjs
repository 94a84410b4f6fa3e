// Serves dist/ on loopback (`npm run serve`; the test imports `serveDist`). Any static file
// server does: the app needs nothing from its own origin but these files.
import { createServer } from "node:http"
import { readFile } from "node:fs/promises"
import { extname, join, dirname, normalize } from "node:path"
import { fileURLToPath } from "node:url"

const dist = join(dirname(fileURLToPath(import.meta.url)), "dist")
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".map": "application/json",
}

/** Starts serving dist/ on 127.0.0.1:`port` (0: any free port); resolves to { server, base }. */
export function serveDist(port = 0) {
  const server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url, "http://x").pathname).replace(/^(\.\.[/\\])+/, "")
    const file = join(dist, path === "/" ? "index.html" : path)
    try {
      const body = await readFile(file)
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" })
      res.end(body)
    } catch {
      res.writeHead(404, { "content-type": "text/plain" })
      res.end("not found")
    }
  })
  return new Promise(resolve =>
    server.listen(port, "127.0.0.1", () =>
      resolve({ server, base: `http://127.0.0.1:${server.address().port}` }),
    ),
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { base } = await serveDist(Number(process.env.PORT ?? 5173))
  console.log(`serving the example at ${base}/?server=http://127.0.0.1:8080`)
}
