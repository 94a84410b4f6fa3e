//! The cashier app's binary: everything is wired in [`pos_desktop::run`].

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    pos_desktop::run();
}
