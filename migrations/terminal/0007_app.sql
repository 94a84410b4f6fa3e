-- SnapKasir terminal store, schema 7: what the cashier app keeps on this till only.
--
-- `app_settings`: per-till preferences (language and the like), never synced.
-- `enrolment`: the sync server this till enrolled with and its device credential (one row).
-- `demo_store`: the demo store's users, when this till holds the local demo store (one row).
-- `IF NOT EXISTS`: only new tables, so running it again (a file whose user_version was set back)
-- changes nothing.

CREATE TABLE IF NOT EXISTS app_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS enrolment (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    server_url    TEXT NOT NULL,
    terminal_id   TEXT NOT NULL,
    store_name    TEXT NOT NULL,
    credential    TEXT NOT NULL,
    enrolled_at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS demo_store (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL
);
