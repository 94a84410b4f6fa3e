-- Dynamic QRIS through a payment gateway (issue 16). Per store, the gateway account: the
-- provider, its environment and its secrets sealed with the server's payment key
-- (XChaCha20-Poly1305, the store id as associated data), never stored or shown in clear; a
-- hint (the key's last four characters) is what the dashboard shows. Per charge, what the till
-- asked for and what the gateway said: the till's payment id (a UUIDv7) is the gateway's order
-- or reference id, so a retried request can never charge twice. Amounts are whole rupiah.
CREATE TABLE payment_gateways (
    store_id       TEXT PRIMARY KEY REFERENCES stores (id),
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    provider       TEXT NOT NULL,      -- midtrans | xendit
    environment    TEXT NOT NULL,      -- production | sandbox
    sealed_secrets BLOB NOT NULL,     -- 24-byte nonce, then the sealed JSON of the keys
    key_hint       TEXT NOT NULL,
    updated_by     TEXT NOT NULL REFERENCES users (id),
    updated_at     BIGINT NOT NULL
);

CREATE TABLE gateway_charges (
    payment_id      TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    store_id        TEXT NOT NULL REFERENCES stores (id),
    terminal_id     TEXT NOT NULL REFERENCES terminals (id),
    provider        TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    status          TEXT NOT NULL,     -- pending | paid | expired | cancelled | denied | failed | refunded | partially_refunded
    qr_string       TEXT NOT NULL,
    gateway_id      TEXT,              -- Midtrans transaction_id, Xendit qr_… id
    reference       TEXT,              -- the paid payment's reference: Midtrans transaction_id, Xendit qrpy_… id
    expires_at      BIGINT NOT NULL,
    abandoned_at    BIGINT,            -- the till gave up on it (cancelled, or expired on screen)
    paid_at         BIGINT,
    refunded_amount BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX gateway_charges_reference ON gateway_charges (store_id, reference);
CREATE INDEX gateway_charges_open ON gateway_charges (status, expires_at);

CREATE TABLE gateway_refunds (
    refund_id  TEXT PRIMARY KEY,       -- the till's id for the refund (the gateway's refund key)
    payment_id TEXT NOT NULL REFERENCES gateway_charges (payment_id),
    amount     BIGINT NOT NULL,
    status     TEXT NOT NULL,          -- refunded | pending | refused
    reference  TEXT,                   -- the gateway's refund id
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX gateway_refunds_payment ON gateway_refunds (payment_id);
