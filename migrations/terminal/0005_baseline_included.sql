-- Which documents the latest stock baseline includes, at which heads (JSON array of hex change
-- hashes). A journal or adjustment document that arrives after the baseline has the movements
-- the baseline already counts marked `in_baseline` when it is projected, so they are not counted
-- twice.
CREATE TABLE stock_baseline_included (
    doc_id TEXT PRIMARY KEY,
    heads  TEXT NOT NULL
) WITHOUT ROWID;
