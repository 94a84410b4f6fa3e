-- SnapKasir terminal store, schema 11: search as you type without materialised prefixes
-- (issue 17). FTS5 answers a prefix query ("kopi"*) from a prefix index when one of the
-- table's `prefix` lengths equals the typed word's length; otherwise it reads and merges the
-- doclists of every term with that prefix before it can return a first row, which was the slow
-- case of search as you type over 100,000 products (four- to eight-letter words, alone or
-- after another word). Prefix indexes for 1 to 8 characters cover the words a cashier types
-- before the list is short; longer words have few terms per prefix. The content is copied
-- from the old table as it is (names, SKUs and barcodes as projected), rowids kept.
-- (Schema 10 is another change's.)

CREATE VIRTUAL TABLE products_fts_v11 USING fts5 (
    name, sku, barcodes,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4 5 6 7 8'
);
INSERT INTO products_fts_v11 (rowid, name, sku, barcodes)
    SELECT rowid, name, sku, barcodes FROM products_fts;
DROP TABLE products_fts;
ALTER TABLE products_fts_v11 RENAME TO products_fts;
