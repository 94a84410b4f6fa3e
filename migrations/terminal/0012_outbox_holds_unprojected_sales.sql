-- SnapKasir terminal store, schema 12: checkout commits one outbox row that holds the whole
-- sale (issue 17: a sale's commit writes a few pages, not ~25), and the sale's query-table
-- rows and print job are written after it by `Terminal::project_committed_sales`. The table is
-- unchanged; until this schema `outbox.data` was always empty. The version is raised so that an
-- older build, which reads a sale only from `sales`, refuses this file instead of finding an
-- outbox entry with no record. Rows written before this schema hold no sale; they stay as they
-- are.

UPDATE outbox SET data = '' WHERE data IS NOT '';
