// The app's plugins, one per area, and the commands each exposes. Read by build.rs (which
// generates one permission per command and a default permission allowing them all) and by the
// plugins' tests, so the capability, the permissions and the handlers cannot drift apart.
// (Plain comments: this file is `include!`d by build.rs, where inner doc comments are refused.)

/// `(plugin, commands)` in the order the app registers them.
pub const PLUGIN_COMMANDS: &[(&str, &[&str])] = &[
    (
        "session",
        &[
            "status",
            "users",
            "login",
            "start_shift",
            "lock",
            "set_language",
            "ui_ready",
        ],
    ),
    ("enrolment", &["start_demo", "enrol"]),
    (
        "selling",
        &[
            "search",
            "categories",
            "category_products",
            "cart",
            "scan",
            "add_product",
            "set_quantity",
            "remove_line",
            "set_line_discount",
            "set_line_note",
            "set_cart_discount",
            "clear_cart",
            "park",
            "parked",
            "resume",
            "day_sales",
        ],
    ),
    (
        "payment",
        &[
            "due",
            "pay",
            "qris_start",
            "qris_cancel",
            "late_payments",
            "resolve_late",
        ],
    ),
    (
        "printing",
        &[
            "receipt_preview",
            "print",
            "open_drawer",
            "printers",
            "add_printer",
            "email_receipt",
            "receipt_sends",
        ],
    ),
    ("sync", &["status", "sync_now"]),
    ("settings", &["store"]),
    ("export", &["destinations", "run"]),
];
