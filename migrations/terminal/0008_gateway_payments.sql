-- SnapKasir terminal store, schema 8: dynamic QRIS charges this till asked the server for
-- (issue 16). Kept on the till so that a charge the cashier gave up on is still asked about
-- later: a customer who paid after the till gave up is found and shown, never lost. A row is
-- done once a sale uses its payment (`sale_id`) or the cashier settled it another way
-- (`resolved_at`, `resolution`: refunded, dismissed).
CREATE TABLE IF NOT EXISTS gateway_payments (
    payment_id   TEXT PRIMARY KEY,
    amount       TEXT NOT NULL,
    provider     TEXT NOT NULL DEFAULT '',
    qr_string    TEXT NOT NULL DEFAULT '',
    expires_at   INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,         -- creating | pending | paid | expired | cancelled | denied | failed | …
    reference    TEXT,
    abandoned_at INTEGER,               -- the cashier gave up on it (ms)
    sale_id      TEXT,
    resolved_at  INTEGER,
    resolution   TEXT,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gateway_payments_open ON gateway_payments (created_at)
    WHERE sale_id IS NULL AND resolved_at IS NULL;
