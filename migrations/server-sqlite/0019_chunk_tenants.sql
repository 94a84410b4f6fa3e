-- The documents' chunks join the other tenant-owned tables (0018): tenant_id leads the primary
-- key of automerge_chunks (keep in step with server-postgres). SQLite cannot change a primary
-- key in place, so the table is rebuilt.
--
-- 1. A document's chunks belong to the tenant of the document's claim. Chunks of a document
--    nobody claims (kept rather than lost) go to the empty tenant, which no repo reads.
-- 2. samod's `storage-adapter-id` (the one key that names no document) was shared by every
--    repo; each tenant gets a copy, so that the storage id its clients already know stays.

CREATE TABLE automerge_chunks_by_tenant (
    tenant_id  TEXT NOT NULL,
    key        TEXT NOT NULL,      -- samod storage key, components joined by '/'
    doc_id     TEXT,               -- first key component when it is a document id
    data       BLOB NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

INSERT INTO automerge_chunks_by_tenant (tenant_id, key, doc_id, data, updated_at)
SELECT COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = a.doc_id), ''),
       a.key, a.doc_id, a.data, a.updated_at
  FROM automerge_chunks a
 WHERE a.doc_id IS NOT NULL;

INSERT INTO automerge_chunks_by_tenant (tenant_id, key, doc_id, data, updated_at)
SELECT t.id, a.key, NULL, a.data, a.updated_at
  FROM automerge_chunks a, tenants t
 WHERE a.doc_id IS NULL;

DROP TABLE automerge_chunks;
ALTER TABLE automerge_chunks_by_tenant RENAME TO automerge_chunks;
CREATE INDEX automerge_chunks_doc_id ON automerge_chunks (doc_id);
