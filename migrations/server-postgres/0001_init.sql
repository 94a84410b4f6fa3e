-- SnapKasir sync server, PostgreSQL schema v1.
-- Timestamps are unix milliseconds (BIGINT) so that the PostgreSQL and SQLite
-- backends share one Rust mapping; ids are text (UUIDv7 strings).

CREATE TABLE automerge_chunks (
    key        TEXT COLLATE "C" PRIMARY KEY,   -- samod storage key, components joined by '/'
    doc_id     TEXT COLLATE "C",               -- first key component when it is a document id
    data       BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX automerge_chunks_doc_id ON automerge_chunks (doc_id);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE stores (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    store_key  TEXT NOT NULL,                  -- shared LAN key handed to enrolled terminals
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, code)
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    store_id      TEXT REFERENCES stores (id), -- NULL: tenant-wide (owners)
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'manager')),
    created_at    BIGINT NOT NULL
);

CREATE TABLE terminals (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    store_id        TEXT NOT NULL REFERENCES stores (id),
    name            TEXT NOT NULL,
    credential_hash TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    last_seen_at    BIGINT
);
CREATE INDEX terminals_store ON terminals (store_id);

CREATE TABLE enrollment_codes (
    code_hash     TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    store_id      TEXT NOT NULL REFERENCES stores (id),
    created_by    TEXT NOT NULL,
    terminal_name TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    terminal_id   TEXT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE doc_claims (
    doc_id     TEXT COLLATE "C" PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    store_id   TEXT REFERENCES stores (id),    -- NULL: a tenant-wide document (owner-created)
    claimed_by TEXT NOT NULL,                  -- principal that wrote it first
    claimed_at BIGINT NOT NULL
);
CREATE INDEX doc_claims_tenant ON doc_claims (tenant_id, store_id);

-- Server-wide settings shared by every instance (e.g. the token signing key).
CREATE TABLE server_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
