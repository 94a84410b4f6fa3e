-- What each terminal last reported about itself (heartbeat): how much it still has to send and
-- how far its clock is from the server's. Shown to owners next to last_seen_at.
ALTER TABLE terminals ADD COLUMN last_report_at BIGINT;
ALTER TABLE terminals ADD COLUMN waiting_documents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE terminals ADD COLUMN waiting_sales BIGINT NOT NULL DEFAULT 0;
ALTER TABLE terminals ADD COLUMN clock_skew_ms BIGINT;
