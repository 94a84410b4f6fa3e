-- Promotions projected from the catalog document, so that pricing a cart never has to load
-- the (possibly large) catalog document.
CREATE TABLE promotions (
    promotion_id TEXT PRIMARY KEY,
    active       INTEGER NOT NULL,
    data         TEXT NOT NULL
) WITHOUT ROWID;

-- Lookups by product (re-projecting a product's barcodes) and by source key (a void removing
-- its sale's stock movements) must not scan.
CREATE INDEX barcodes_product ON barcodes (product_id);
CREATE INDEX stock_movements_key ON stock_movements (source_key);
