-- The documents' chunks join the other tenant-owned tables (0018): tenant_id leads the primary
-- key of automerge_chunks, so that the largest table is distributed by tenant on Citus with
-- the rest (docs/scaling.md). A tenant's repos (its own and its stores') read and write only
-- their tenant's chunks.
--
-- 1. A document's chunks belong to the tenant of the document's claim. Chunks of a document
--    nobody claims (none are written since claims came first; kept rather than lost) go to
--    the empty tenant, which no repo reads.
-- 2. samod's `storage-adapter-id` (the one key that names no document) was shared by every
--    repo; each tenant gets a copy, so that the storage id its clients already know stays.

ALTER TABLE automerge_chunks DROP CONSTRAINT automerge_chunks_pkey;
ALTER TABLE automerge_chunks ADD COLUMN tenant_id TEXT COLLATE "C";

UPDATE automerge_chunks t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE automerge_chunks SET tenant_id = '' WHERE tenant_id IS NULL AND doc_id IS NOT NULL;

INSERT INTO automerge_chunks (tenant_id, key, doc_id, data, updated_at)
SELECT t.id, c.key, NULL, c.data, c.updated_at
  FROM automerge_chunks c CROSS JOIN tenants t
 WHERE c.tenant_id IS NULL AND c.doc_id IS NULL;
DELETE FROM automerge_chunks WHERE tenant_id IS NULL;

ALTER TABLE automerge_chunks ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE automerge_chunks ADD PRIMARY KEY (tenant_id, key);
