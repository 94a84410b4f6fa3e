-- App credentials (issue 13): an owner's other web products sync their own documents through
-- the server with one. A credential belongs to a tenant and no store: the documents it creates
-- are claimed by the tenant, and it never reaches a store's documents (sync-server/src/access.rs).
-- The secret (`ska_...`) is shown once at creation; only its SHA-256 is kept, like refresh tokens.
CREATE TABLE app_credentials (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,               -- revoked: refused, its connections closed
    last_used_at BIGINT                -- last sync connection opened with it
);
CREATE INDEX app_credentials_tenant ON app_credentials (tenant_id);
CREATE INDEX app_credentials_revoked_at ON app_credentials (revoked_at);
