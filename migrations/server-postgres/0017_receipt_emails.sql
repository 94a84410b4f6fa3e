-- Email receipts: one row per send a till asks for, keyed by the till's `send_id`, so that a
-- retry of the same send never emails the customer twice. `state` is `sending` (written before
-- the SMTP exchange), `sent` (written after the SMTP server accepted the message with its 250)
-- or `failed` (the SMTP exchange failed; a retry may send). The customer's address is kept only
-- as long as the store's `contact_retention_days` says: the periodic purge sets it to NULL
-- (0 days: as soon as the message is sent). Never read by any report or export.
CREATE TABLE receipt_emails (
    send_id       TEXT PRIMARY KEY,
    store_id      TEXT NOT NULL,
    terminal_id   TEXT NOT NULL,
    receipt_token TEXT NOT NULL,
    email         TEXT,
    state         TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    attempt_at    BIGINT NOT NULL,
    sent_at       BIGINT
);
CREATE INDEX receipt_emails_purge ON receipt_emails (store_id, sent_at);
