-- Details the dashboard's reports show (issue 13): a voided sale's when, why and who approved it;
-- a refund's own receipt number; a stock movement's reference (receipt number, delivery note) and the till whose journal it
-- came from (NULL for managers' adjustments). Rows projected before this migration get them
-- when their document next changes or on `sync-server admin reproject`.
ALTER TABLE sales ADD COLUMN voided_at BIGINT;
ALTER TABLE sales ADD COLUMN void_reason TEXT;
ALTER TABLE sales ADD COLUMN void_authorized_by TEXT;
ALTER TABLE refunds ADD COLUMN receipt_no TEXT;
ALTER TABLE stock_movements ADD COLUMN reference TEXT;
ALTER TABLE stock_movements ADD COLUMN terminal_code TEXT;
-- Oversells and a product's movements walk movements in time order.
CREATE INDEX stock_movements_store_product_at ON stock_movements (store_id, product_id, at);

-- Names the reports show instead of ids: categories (from catalogs) and the store's users
-- (cashiers and supervisors, from its users document), replaced with their document's rows.
CREATE TABLE projected_names (
    doc_id   TEXT NOT NULL,
    store_id TEXT NOT NULL,
    kind     TEXT NOT NULL,   -- 'category' or 'user'
    id       TEXT NOT NULL,
    name     TEXT NOT NULL,
    PRIMARY KEY (doc_id, kind, id)
);
CREATE INDEX projected_names_store ON projected_names (store_id, kind, id);
