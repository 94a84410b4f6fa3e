-- What the tills page shows of each terminal beyond its heartbeat counters: the app version it
-- last reported, and until when an instance holding its sync connection vouches that it is
-- online (refreshed while the connection lasts, set to the closing time when it ends), so every
-- instance sharing this database can say "online now".
ALTER TABLE terminals ADD COLUMN app_version TEXT;
ALTER TABLE terminals ADD COLUMN connected_until BIGINT;
