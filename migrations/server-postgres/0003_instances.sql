-- Live server instances sharing this database; each dials the others over the
-- sync protocol so that changes reach clients of every instance.
CREATE TABLE instances (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
