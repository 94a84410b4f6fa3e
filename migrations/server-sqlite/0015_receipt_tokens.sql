-- The public receipt page (issue 16): each sale's receipt token, the unguessable part of the
-- link on its receipt (`/r/<token>`). Not unique: a till that sends a token another sale has
-- (a forged copy) must not stop its journal from projecting; the page then shows neither.
-- Sales projected before this migration have none until `sync-server admin reproject` runs
-- (a till that predates tokens never sends one).
ALTER TABLE sales ADD COLUMN receipt_token TEXT;
CREATE INDEX sales_receipt_token ON sales (receipt_token);
