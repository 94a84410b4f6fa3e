-- The sync client's state: what each peer is known to have, which sales the server has
-- stored and projected, and the client's own bookkeeping. All of it can be lost without losing
-- data: sync states only save work (the sync protocol finds the difference again), and
-- acknowledgements are asked for again.

-- automerge sync::State (shared heads) per peer and document.
CREATE TABLE sync_states (
    peer   TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    state  BLOB NOT NULL,
    PRIMARY KEY (peer, doc_id)
) WITHOUT ROWID;

-- Sales (and refunds) the server reported as stored and projected, with its receipt time.
CREATE TABLE server_acks (
    record_id          TEXT PRIMARY KEY,
    server_received_at TEXT NOT NULL
) WITHOUT ROWID;

-- Small facts the status needs across restarts: last_sync, offline_since, clock_skew_ms.
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
