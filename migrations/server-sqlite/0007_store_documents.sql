-- The documents of each store as the server knows them (issue 4): store roots with the ids they
-- link, journals and stock-adjustment documents per store, and the stock baselines the server
-- wrote. Filled by the projector from the stored documents; `admin reproject` refills them.

-- One store root per store: the first root projected for a store wins.
CREATE TABLE store_roots (
    store_id               TEXT PRIMARY KEY,
    root_doc_id            TEXT NOT NULL UNIQUE,
    catalog_doc_id         TEXT NOT NULL,
    settings_doc_id        TEXT NOT NULL,
    users_doc_id           TEXT NOT NULL,
    parked_carts_doc_id    TEXT NOT NULL,
    latest_baseline_doc_id TEXT,
    updated_at             BIGINT NOT NULL
);

-- Journals (one per terminal per business day). `indexed_at`: when the server listed the journal
-- in its month's period index (NULL: not yet).
CREATE TABLE store_journals (
    doc_id        TEXT PRIMARY KEY,
    store_id      TEXT NOT NULL,
    terminal_code TEXT NOT NULL,
    business_date TEXT NOT NULL,        -- YYYY-MM-DD
    indexed_at    BIGINT
);
CREATE INDEX store_journals_store_date ON store_journals (store_id, business_date);
CREATE INDEX store_journals_unindexed ON store_journals (indexed_at);

CREATE TABLE store_adjustments (
    doc_id   TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    period   TEXT NOT NULL              -- YYYY-MM
);
CREATE INDEX store_adjustments_store ON store_adjustments (store_id);

-- Stock baselines, one per store and business date. The row is inserted before the document is
-- written (insert-if-absent elects one writer among instances); `doc_id` is set once written.
CREATE TABLE stock_baselines (
    store_id      TEXT NOT NULL,
    business_date TEXT NOT NULL,
    claimed_by    TEXT NOT NULL,
    claimed_at    BIGINT NOT NULL,
    doc_id        TEXT,
    written_at    BIGINT,
    PRIMARY KEY (store_id, business_date)
);
