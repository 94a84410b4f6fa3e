-- Conflicts that only merging reveals: refund lines (for over-refunds across
-- journals) and per-document conflicts (duplicate barcodes/SKUs in catalogs,
-- parked carts resumed on two tills), replaced with their document's rows.
ALTER TABLE sale_lines ADD COLUMN line_id TEXT;
CREATE INDEX sale_lines_line ON sale_lines (sale_id, line_id);

CREATE TABLE refund_lines (
    refund_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    doc_id       TEXT NOT NULL,
    store_id     TEXT NOT NULL,
    sale_id      TEXT NOT NULL,
    sale_line_id TEXT NOT NULL,
    quantity_e4  BIGINT NOT NULL,
    PRIMARY KEY (refund_id, seq)
);
CREATE INDEX refund_lines_doc ON refund_lines (doc_id);
CREATE INDEX refund_lines_sale ON refund_lines (store_id, sale_id, sale_line_id);

CREATE TABLE doc_conflicts (
    doc_id   TEXT NOT NULL,
    key      TEXT NOT NULL,
    store_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    detail   TEXT NOT NULL,   -- JSON of shared_model::conflicts::Conflict
    PRIMARY KEY (doc_id, key)
);
CREATE INDEX doc_conflicts_store ON doc_conflicts (store_id);
