//! Declares the app's inlined plugins and their commands (see `src/plugin_commands.rs`), so
//! tauri-build generates a permission per command and a default permission per plugin, which
//! `capabilities/default.json` grants to the cashier window.

include!("src/plugin_commands.rs");

fn main() {
    ensure_ui_dist();
    let mut attributes = tauri_build::Attributes::new();
    for (plugin, commands) in PLUGIN_COMMANDS {
        attributes = attributes.plugin(
            plugin,
            tauri_build::InlinedPlugin::new()
                .commands(commands)
                .default_permission(tauri_build::DefaultPermissionRule::AllowAllCommands),
        );
    }
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build: {e:#}");
    }
}

/// The app embeds `../ui/dist` (built by `npm run build` in `pos-desktop/ui`). Where it has not
/// been built (a Rust-only checkout, clippy in CI), a one-page placeholder stands in so the
/// crate still compiles; the page says the UI is missing, so nobody mistakes it for the app.
fn ensure_ui_dist() {
    let dist = std::path::Path::new("../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist");
    if dist.join("index.html").exists() {
        return;
    }
    println!(
        "cargo:warning=pos-desktop/ui/dist is missing: embedding a placeholder page \
         (build the UI with `npm ci && npm run build` in pos-desktop/ui)"
    );
    let page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
        <title>SnapKasir</title></head><body><h1>SnapKasir</h1>\
        <p>The user interface was not built (pos-desktop/ui: npm ci &amp;&amp; npm run build).</p>\
        </body></html>\n";
    if let Err(e) =
        std::fs::create_dir_all(dist).and_then(|()| std::fs::write(dist.join("index.html"), page))
    {
        panic!("cannot write the placeholder {}: {e}", dist.display());
    }
}
