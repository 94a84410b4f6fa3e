-- The discounts a sale gave (line discounts, promotions and the cart discount), for the
-- dashboard's overview (issue 13). Sales projected before this migration read 0 until their
-- journal next changes or `sync-server admin reproject` runs.
ALTER TABLE sales ADD COLUMN discount_e4 BIGINT NOT NULL DEFAULT 0;
