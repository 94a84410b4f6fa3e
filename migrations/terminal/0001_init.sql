-- SnapKasir terminal store, schema 1.
-- Automerge document chunks live next to the local query tables; the query tables are
-- projections of the documents (rebuildable) except the outbox, receipt sequences, print jobs
-- and PIN lockouts, which are local to this terminal.

CREATE TABLE terminal_identity (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    store_id      TEXT NOT NULL,
    store_code    TEXT NOT NULL,
    terminal_code TEXT NOT NULL,
    root_doc      TEXT NOT NULL,
    catalog_doc   TEXT NOT NULL,
    settings_doc  TEXT NOT NULL,
    users_doc     TEXT NOT NULL,
    parked_doc    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Automerge chunks, keyed like samod / automerge-repo storage keys: the key's components
-- joined with '/', e.g. '<doc id>/incremental/<hash>' or '<doc id>/snapshot/<hash>'.
CREATE TABLE chunks (
    key  TEXT PRIMARY KEY,
    data BLOB NOT NULL
) WITHOUT ROWID;

-- Which document is which: kind and scope ('<terminal>/<date>' for journals, '<yyyy-mm>' for
-- adjustments, '<date>' for baselines, '' for the store-wide documents). `own` marks the
-- documents this terminal created for itself (its journals, its adjustments of a period);
-- peers' adjustment documents of the same period are held beside them.
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,
    scope  TEXT NOT NULL DEFAULT '',
    own    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX documents_kind ON documents (kind, scope);

CREATE TABLE categories (
    category_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    parent_id   TEXT
);

CREATE TABLE products (
    rowid               INTEGER PRIMARY KEY,
    product_id          TEXT NOT NULL UNIQUE,
    sku                 TEXT NOT NULL,
    name                TEXT NOT NULL,
    category_id         TEXT,
    unit                TEXT NOT NULL,
    price               TEXT NOT NULL,
    tax_class           TEXT NOT NULL,
    active              INTEGER NOT NULL,
    low_stock_threshold TEXT,
    data                TEXT NOT NULL
);
CREATE INDEX products_sku ON products (sku);

CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, sku, barcodes,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

-- Duplicates are allowed here on purpose: two tills may add the same code offline; the
-- conflict is listed, never dropped.
CREATE TABLE barcodes (
    code       TEXT NOT NULL,
    product_id TEXT NOT NULL,
    variant_id TEXT,
    PRIMARY KEY (code, product_id)
) WITHOUT ROWID;

CREATE TABLE receipt_sequences (
    business_date TEXT PRIMARY KEY,
    last_sequence INTEGER NOT NULL
);

CREATE TABLE sales (
    sale_id       TEXT PRIMARY KEY,
    receipt_no    TEXT NOT NULL UNIQUE,
    terminal_code TEXT NOT NULL,
    business_date TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    cashier_id    TEXT NOT NULL,
    shift_id      TEXT,
    total         TEXT NOT NULL,
    journal_doc   TEXT NOT NULL,
    data          TEXT NOT NULL
);
CREATE INDEX sales_day ON sales (business_date, terminal_code);
CREATE INDEX sales_shift ON sales (shift_id);

CREATE TABLE sale_lines (
    sale_id    TEXT NOT NULL,
    line_no    INTEGER NOT NULL,
    line_id    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    variant_id TEXT,
    name       TEXT NOT NULL,
    quantity   TEXT NOT NULL,
    amount     TEXT NOT NULL,
    tax        TEXT NOT NULL,
    PRIMARY KEY (sale_id, line_no)
) WITHOUT ROWID;

CREATE TABLE payments (
    sale_id   TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    method    TEXT NOT NULL,
    amount    TEXT NOT NULL,
    tendered  TEXT,
    reference TEXT,
    PRIMARY KEY (sale_id, seq)
) WITHOUT ROWID;

CREATE TABLE refunds (
    refund_id     TEXT PRIMARY KEY,
    sale_id       TEXT NOT NULL,
    receipt_no    TEXT NOT NULL UNIQUE,
    business_date TEXT NOT NULL,
    shift_id      TEXT,
    total         TEXT NOT NULL,
    journal_doc   TEXT NOT NULL,
    data          TEXT NOT NULL
);
CREATE INDEX refunds_sale ON refunds (sale_id);

CREATE TABLE voids (
    void_id     TEXT PRIMARY KEY,
    sale_id     TEXT NOT NULL,
    journal_doc TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX voids_sale ON voids (sale_id);

CREATE TABLE shifts (
    shift_id      TEXT PRIMARY KEY,
    terminal_code TEXT NOT NULL,
    cashier_id    TEXT NOT NULL,
    business_date TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    closed_at     TEXT,
    journal_doc   TEXT NOT NULL,
    data          TEXT NOT NULL
);

CREATE TABLE cash_movements (
    movement_id TEXT PRIMARY KEY,
    shift_id    TEXT NOT NULL,
    direction   TEXT NOT NULL,
    amount      TEXT NOT NULL,
    journal_doc TEXT NOT NULL,
    data        TEXT NOT NULL
);

-- Every movement of stock this terminal knows: from sales and refunds (derived ids), and from
-- adjustment documents. source_doc/source_map/source_key say where it lives, so that a stock
-- baseline's heads can tell whether it is already included.
CREATE TABLE stock_movements (
    movement_id TEXT PRIMARY KEY,
    product_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    quantity    TEXT NOT NULL,
    at          TEXT NOT NULL,
    source_doc  TEXT NOT NULL,
    source_map  TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    in_baseline INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX stock_movements_product ON stock_movements (product_id, in_baseline);
CREATE INDEX stock_movements_source ON stock_movements (source_doc, source_map, source_key);

-- Journal entries committed locally but not yet applied to their journal document.
CREATE TABLE outbox (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    journal_doc   TEXT NOT NULL,
    terminal_code TEXT NOT NULL,
    business_date TEXT NOT NULL,
    entry_map     TEXT NOT NULL,
    entry_id      TEXT NOT NULL,
    data          TEXT NOT NULL
);

-- Durable print queue; the printer worker (receipt-printer issue) consumes it.
CREATE TABLE print_jobs (
    job_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    copy        INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX print_jobs_status ON print_jobs (status, job_id);

CREATE TABLE pin_attempts (
    user_id      TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until TEXT
);

-- The latest stock baseline (server-written document), projected for fast stock queries.
CREATE TABLE stock_baseline (
    product_id TEXT PRIMARY KEY,
    quantity   TEXT NOT NULL
) WITHOUT ROWID;
