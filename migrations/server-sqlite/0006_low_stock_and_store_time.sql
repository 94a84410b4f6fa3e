-- Low stock and sales by hour (issue 4).
-- Products carry the catalog's low-stock threshold (scaled by 10^4, NULL when the product has
-- none) and whether they are active; the low-stock report lists active products whose stock on
-- hand is at or below it. Catalogs projected before this migration get their thresholds when
-- they next change or on `sync-server admin reproject`.
ALTER TABLE products ADD COLUMN low_stock_threshold_e4 BIGINT;
ALTER TABLE products ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;

-- The business-day settings of each store, projected from its settings document: the sales-by-
-- hour report reads a sale's hour in this time zone (Asia/Jakarta when a store has none).
CREATE TABLE store_settings (
    store_id    TEXT PRIMARY KEY,
    doc_id      TEXT NOT NULL,
    time_zone   TEXT NOT NULL,          -- IANA name, e.g. Asia/Jakarta
    cutoff_hour BIGINT NOT NULL
);
CREATE INDEX store_settings_doc ON store_settings (doc_id);
