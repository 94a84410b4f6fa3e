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
