//! The app's access control stays exactly the command list: every command of every plugin is
//! registered by its plugin, granted by build.rs (one permission each, all in the plugin's
//! default), and the window's capability grants those defaults and nothing else.

use std::collections::BTreeSet;
use std::path::PathBuf;

use pos_desktop::PLUGIN_COMMANDS;
use serde_json::Value;

fn crate_file(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names inside `generate_handler![...]` of a plugin's source file.
fn registered_commands(source: &str) -> Vec<String> {
    let start = source
        .find("generate_handler![")
        .expect("the plugin registers its commands with generate_handler!")
        + "generate_handler![".len();
    let end = start + source[start..].find(']').expect("closing ]");
    source[start..end]
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The functions marked `#[tauri::command]` in a plugin's source file.
fn command_functions(source: &str) -> Vec<String> {
    source
        .split("#[tauri::command]")
        .skip(1)
        .map(|rest| {
            let after_fn = &rest[rest.find("fn ").expect("a fn after #[tauri::command]") + 3..];
            after_fn
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_plugin_registers_exactly_its_listed_commands() {
    for (plugin, commands) in PLUGIN_COMMANDS {
        let source = crate_file(&format!("src/api/{plugin}.rs"));
        let listed: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            registered_commands(&source),
            listed,
            "plugin {plugin}: generate_handler! and plugin_commands.rs differ"
        );
        let mut functions = command_functions(&source);
        functions.sort();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(
            functions, sorted,
            "plugin {plugin}: #[tauri::command] functions"
        );
        assert!(
            source.contains(&format!("Builder::new(\"{plugin}\")")),
            "plugin {plugin} is built under its own name"
        );
    }
}

#[test]
fn every_plugin_is_wired_into_the_app() {
    let lib = crate_file("src/lib.rs");
    for (plugin, _) in PLUGIN_COMMANDS {
        assert!(
            lib.contains(&format!(".plugin(api::{plugin}::init())")),
            "{plugin} is not wired in lib.rs"
        );
    }
}

#[test]
fn the_capability_grants_the_plugins_defaults_and_events_only() {
    let cap: Value = serde_json::from_str(&crate_file("capabilities/default.json")).expect("json");
    let granted: BTreeSet<&str> = cap["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("plain permission names"))
        .collect();
    let mut expected: BTreeSet<String> = PLUGIN_COMMANDS
        .iter()
        .map(|(p, _)| format!("{p}:default"))
        .collect();
    expected.insert("core:event:default".into());
    assert_eq!(
        granted,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
}

/// What tauri-build generated from build.rs (gen/schemas/acl-manifests.json, written before
/// this test compiles): one `allow-<command>` per command, and a default allowing them all.
#[test]
fn the_generated_permissions_cover_every_command() {
    let manifests: Value =
        serde_json::from_str(&crate_file("gen/schemas/acl-manifests.json")).expect("json");
    for (plugin, commands) in PLUGIN_COMMANDS {
        let manifest = &manifests[plugin];
        assert!(manifest.is_object(), "no ACL manifest for {plugin}");
        let expected: BTreeSet<String> = commands
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        let default: BTreeSet<String> = manifest["default_permission"]["permissions"]
            .as_array()
            .unwrap_or_else(|| panic!("{plugin}: no default permission"))
            .iter()
            .map(|p| p.as_str().expect("name").to_string())
            .collect();
        assert_eq!(default, expected, "{plugin}: default permission");
        for allow in &expected {
            let p = &manifest["permissions"][allow];
            assert!(p.is_object(), "{plugin}: {allow} not generated");
        }
    }
}
