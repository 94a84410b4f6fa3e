-- SnapKasir terminal store, schema 9: email receipts waiting to go out (pos-core
-- `receipt_mail`). One row per send the cashier asks for, kept on this till only (never
-- synced). `next_try_at` (Unix ms) is when the worker tries again; NULL once the send is done
-- (`sent_at` set) or refused for good (`last_error` says why). `email` is blanked once the
-- store's contact retention has passed (at once when it is 0). Times are Unix ms.
-- (Schema 8 is another change's.)

CREATE TABLE IF NOT EXISTS receipt_sends (
    send_id       TEXT PRIMARY KEY,
    sale_id       TEXT NOT NULL,
    receipt_token TEXT NOT NULL,
    email         TEXT,
    lang          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    next_try_at   INTEGER
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS receipt_sends_due ON receipt_sends (next_try_at);
CREATE INDEX IF NOT EXISTS receipt_sends_sale ON receipt_sends (sale_id);
