// Bundles src/main.js with esbuild into dist/ next to the page, its style sheet and automerge's
// WebAssembly (fetched by the page rather than inlined as base64, a third smaller).
import { build } from "esbuild"
import { cpSync, mkdirSync } from "node:fs"

mkdirSync("dist", { recursive: true })
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  outfile: "dist/app.js",
  logLevel: "warning",
})
for (const f of ["index.html", "style.css"]) cpSync(`src/${f}`, `dist/${f}`)
cpSync("node_modules/@automerge/automerge/dist/automerge.wasm", "dist/automerge.wasm")
console.log("built dist/")
