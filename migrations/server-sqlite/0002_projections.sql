-- Relational projections of the automerge documents, for reports.
-- Rebuilt idempotently from the documents: every row carries the id of the
-- document it came from and a document's rows are replaced as a whole.
-- Amounts and quantities are exact integers scaled by 10^4 (`*_e4`): exact on
-- both backends (SQLite has no decimal type) and summable in SQL.

CREATE TABLE projected_docs (
    doc_id       TEXT PRIMARY KEY,
    store_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    projected_at BIGINT NOT NULL
);

CREATE TABLE sales (
    id            TEXT PRIMARY KEY,
    doc_id        TEXT NOT NULL,
    store_id      TEXT NOT NULL,
    terminal_code TEXT NOT NULL,
    business_date TEXT NOT NULL,            -- YYYY-MM-DD
    created_at    BIGINT NOT NULL,          -- unix ms
    cashier_id    TEXT NOT NULL,
    receipt_no    TEXT NOT NULL,
    total_e4      BIGINT NOT NULL,
    tax_e4        BIGINT NOT NULL,
    voided        INTEGER NOT NULL
);
CREATE INDEX sales_store_day ON sales (store_id, business_date, total_e4);
CREATE INDEX sales_doc ON sales (doc_id);

CREATE TABLE sale_lines (
    sale_id     TEXT NOT NULL,
    line_no     BIGINT NOT NULL,
    doc_id      TEXT NOT NULL,
    store_id    TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    category_id TEXT,
    quantity_e4 BIGINT NOT NULL,
    amount_e4   BIGINT NOT NULL,
    tax_e4      BIGINT NOT NULL,
    PRIMARY KEY (sale_id, line_no)
);
CREATE INDEX sale_lines_doc ON sale_lines (doc_id);

CREATE TABLE payments (
    sale_id   TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    doc_id    TEXT NOT NULL,
    store_id  TEXT NOT NULL,
    method    TEXT NOT NULL,
    amount_e4 BIGINT NOT NULL,
    PRIMARY KEY (sale_id, seq)
);
CREATE INDEX payments_doc ON payments (doc_id);

CREATE TABLE refunds (
    id            TEXT PRIMARY KEY,
    doc_id        TEXT NOT NULL,
    store_id      TEXT NOT NULL,
    sale_id       TEXT NOT NULL,
    terminal_code TEXT NOT NULL,
    business_date TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    total_e4      BIGINT NOT NULL,
    tax_e4        BIGINT NOT NULL
);
CREATE INDEX refunds_doc ON refunds (doc_id);

CREATE TABLE shifts (
    id               TEXT PRIMARY KEY,
    doc_id           TEXT NOT NULL,
    store_id         TEXT NOT NULL,
    terminal_code    TEXT NOT NULL,
    cashier_id       TEXT NOT NULL,
    business_date    TEXT NOT NULL,
    opened_at        BIGINT NOT NULL,
    closed_at        BIGINT,
    opening_float_e4 BIGINT NOT NULL,
    expected_cash_e4 BIGINT,
    counted_cash_e4  BIGINT,
    difference_e4    BIGINT
);
CREATE INDEX shifts_doc ON shifts (doc_id);

CREATE TABLE cash_movements (
    id        TEXT PRIMARY KEY,
    doc_id    TEXT NOT NULL,
    store_id  TEXT NOT NULL,
    shift_id  TEXT NOT NULL,
    direction TEXT NOT NULL,
    amount_e4 BIGINT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX cash_movements_doc ON cash_movements (doc_id);

CREATE TABLE stock_movements (
    id          TEXT PRIMARY KEY,
    doc_id      TEXT NOT NULL,
    store_id    TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    quantity_e4 BIGINT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX stock_movements_store_product ON stock_movements (store_id, product_id);
CREATE INDEX stock_movements_doc ON stock_movements (doc_id);

CREATE TABLE products (
    store_id    TEXT NOT NULL,
    id          TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    category_id TEXT,
    price_e4    BIGINT NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX products_doc ON products (doc_id);
