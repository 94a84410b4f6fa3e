// Vite builds the cashier UI into dist/, which the Tauri shell serves. Only index.html is an
// entry: the fake backend page (fake.html, src/dev/) is for looking at screens in a browser
// during development and never reaches the production bundle.
import { defineConfig } from "vitest/config";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  // The webview (WebKitGTK on Linux, WebView2 on Windows) runs ES2021.
  build: { target: ["es2021", "safari15"], outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { port: 5173, strictPort: true },
  clearScreen: false,
  test: { environment: "happy-dom", include: ["tests/**/*.test.ts", "tests/**/*.test.tsx"] },
});
