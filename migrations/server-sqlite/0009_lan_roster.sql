-- LAN security (issue 14): per store, the Ed25519 key the server signs the LAN roster with, the
-- PIN pepper, and the versions of the roster and of the store key (`stores.store_key`, rotated
-- when a till is revoked); per till, the Ed25519 public key it proves itself with on the LAN.
-- Secrets are hex; the row is made on first use by the server (random secrets cannot be made
-- portably in SQL), so stores older than this migration get theirs when first needed.
CREATE TABLE store_lan (
    store_id          TEXT PRIMARY KEY REFERENCES stores (id),
    signing_key       TEXT NOT NULL,    -- Ed25519 secret key (32 bytes, hex): never leaves the server
    pin_pepper        TEXT NOT NULL,    -- 32 random bytes, hex: handed to the store's tills only
    roster_version    BIGINT NOT NULL,  -- grows with every roster change
    store_key_version BIGINT NOT NULL,  -- grows with every rotation of stores.store_key
    published_version BIGINT NOT NULL DEFAULT 0, -- roster version last written into the store root
    created_at        BIGINT NOT NULL
);

CREATE TABLE terminal_lan_keys (
    terminal_id TEXT PRIMARY KEY REFERENCES terminals (id),
    lan_key     TEXT NOT NULL,          -- Ed25519 public key, 64 lower-case hex digits
    set_at      BIGINT NOT NULL
);
