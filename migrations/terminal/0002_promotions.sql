-- Promotions projected from the catalog document, so that pricing a cart never has to load
-- the (possibly large) catalog document.
CREATE TABLE promotions (
    promotion_id TEXT PRIMARY KEY,
    active       INTEGER NOT NULL,
    data         TEXT NOT NULL
) WITHOUT ROWID;
