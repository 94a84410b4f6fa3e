-- Promotions projected from the catalog document, so that pricing a cart never has to load
-- the (possibly large) catalog document.
CREATE TABLE promotions (
    promotion_id TEXT PRIMARY KEY,
    active       INTEGER NOT NULL,
    data         TEXT NOT NULL
) WITHOUT ROWID;

-- Re-projecting a product's barcodes looks them up by product: that must not scan.
CREATE INDEX barcodes_product ON barcodes (product_id);
