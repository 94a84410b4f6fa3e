-- Every tenant-owned table carries tenant_id, and (tenant_id, key) is unique, as on PostgreSQL
-- (see server-postgres/0018_tenant_keys.sql and docs/scaling.md). SQLite cannot change a
-- primary key in place, so the old key stays the primary key and a unique index leads with
-- tenant_id: the statements' ON CONFLICT (tenant_id, …) targets then mean the same on both
-- backends. A row written without its tenant is refused by a trigger (the column needs a
-- default to be added to a table that has rows).

-- tenant_id where it is missing.
ALTER TABLE projected_docs ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sales ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sale_lines ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE shifts ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cash_movements ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE stock_movements ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE refund_lines ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE doc_conflicts ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE store_settings ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE projected_names ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE store_journals ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE store_adjustments ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE store_roots ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE stock_baselines ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE store_lan ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE receipt_emails ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE terminal_lan_keys ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE gateway_refunds ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';

-- Rows of a document: the document's claim says whose it is; else the row's store.
UPDATE projected_docs SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = projected_docs.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = projected_docs.store_id), '');
UPDATE sales SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = sales.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = sales.store_id), '');
UPDATE sale_lines SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = sale_lines.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = sale_lines.store_id), '');
UPDATE payments SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = payments.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = payments.store_id), '');
UPDATE refunds SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = refunds.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = refunds.store_id), '');
UPDATE shifts SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = shifts.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = shifts.store_id), '');
UPDATE cash_movements SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = cash_movements.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = cash_movements.store_id), '');
UPDATE stock_movements SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = stock_movements.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = stock_movements.store_id), '');
UPDATE products SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = products.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = products.store_id), '');
UPDATE refund_lines SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = refund_lines.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = refund_lines.store_id), '');
UPDATE doc_conflicts SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = doc_conflicts.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = doc_conflicts.store_id), '');
UPDATE store_settings SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = store_settings.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = store_settings.store_id), '');
UPDATE projected_names SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = projected_names.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = projected_names.store_id), '');
UPDATE store_journals SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = store_journals.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = store_journals.store_id), '');
UPDATE store_adjustments SET tenant_id = COALESCE((SELECT c.tenant_id FROM doc_claims c WHERE c.doc_id = store_adjustments.doc_id), (SELECT s.tenant_id FROM stores s WHERE s.id = store_adjustments.store_id), '');
UPDATE store_roots SET tenant_id = COALESCE((SELECT s.tenant_id FROM stores s WHERE s.id = store_roots.store_id), '');
UPDATE stock_baselines SET tenant_id = COALESCE((SELECT s.tenant_id FROM stores s WHERE s.id = stock_baselines.store_id), '');
UPDATE store_lan SET tenant_id = COALESCE((SELECT s.tenant_id FROM stores s WHERE s.id = store_lan.store_id), '');
UPDATE receipt_emails SET tenant_id = COALESCE((SELECT s.tenant_id FROM stores s WHERE s.id = receipt_emails.store_id), '');
UPDATE terminal_lan_keys SET tenant_id = COALESCE((SELECT tenant_id FROM terminals x WHERE x.id = terminal_lan_keys.terminal_id), '');
UPDATE sessions SET tenant_id = COALESCE((SELECT tenant_id FROM users u WHERE u.id = sessions.user_id), '');
UPDATE refresh_tokens SET tenant_id = COALESCE((SELECT tenant_id FROM users u WHERE u.id = refresh_tokens.user_id), '');
UPDATE gateway_refunds SET tenant_id = COALESCE((SELECT tenant_id FROM gateway_charges g WHERE g.payment_id = gateway_refunds.payment_id), '');

-- Derived rows nobody owns: rebuilt from the documents by a re-projection.
DELETE FROM projected_docs WHERE tenant_id = '';
DELETE FROM sales WHERE tenant_id = '';
DELETE FROM sale_lines WHERE tenant_id = '';
DELETE FROM payments WHERE tenant_id = '';
DELETE FROM refunds WHERE tenant_id = '';
DELETE FROM shifts WHERE tenant_id = '';
DELETE FROM cash_movements WHERE tenant_id = '';
DELETE FROM stock_movements WHERE tenant_id = '';
DELETE FROM products WHERE tenant_id = '';
DELETE FROM refund_lines WHERE tenant_id = '';
DELETE FROM doc_conflicts WHERE tenant_id = '';
DELETE FROM store_settings WHERE tenant_id = '';
DELETE FROM projected_names WHERE tenant_id = '';

-- (tenant_id, key) unique on every tenant-owned table.
CREATE UNIQUE INDEX stores_tenant_key ON stores (tenant_id, id);
CREATE UNIQUE INDEX users_tenant_key ON users (tenant_id, id);
CREATE UNIQUE INDEX terminals_tenant_key ON terminals (tenant_id, id);
CREATE UNIQUE INDEX enrollment_codes_tenant_key ON enrollment_codes (tenant_id, code_hash);
CREATE UNIQUE INDEX refresh_tokens_tenant_key ON refresh_tokens (tenant_id, token_hash);
CREATE UNIQUE INDEX doc_claims_tenant_key ON doc_claims (tenant_id, doc_id);
CREATE UNIQUE INDEX projected_docs_tenant_key ON projected_docs (tenant_id, doc_id);
CREATE UNIQUE INDEX sales_tenant_key ON sales (tenant_id, id);
CREATE UNIQUE INDEX sale_lines_tenant_key ON sale_lines (tenant_id, sale_id, line_no);
CREATE UNIQUE INDEX payments_tenant_key ON payments (tenant_id, sale_id, seq);
CREATE UNIQUE INDEX refunds_tenant_key ON refunds (tenant_id, id);
CREATE UNIQUE INDEX shifts_tenant_key ON shifts (tenant_id, id);
CREATE UNIQUE INDEX cash_movements_tenant_key ON cash_movements (tenant_id, id);
CREATE UNIQUE INDEX stock_movements_tenant_key ON stock_movements (tenant_id, id);
CREATE UNIQUE INDEX products_tenant_key ON products (tenant_id, store_id, id);
CREATE UNIQUE INDEX refund_lines_tenant_key ON refund_lines (tenant_id, refund_id, seq);
CREATE UNIQUE INDEX doc_conflicts_tenant_key ON doc_conflicts (tenant_id, doc_id, key);
CREATE UNIQUE INDEX store_settings_tenant_key ON store_settings (tenant_id, store_id);
CREATE UNIQUE INDEX store_roots_tenant_key ON store_roots (tenant_id, store_id);
CREATE UNIQUE INDEX store_journals_tenant_key ON store_journals (tenant_id, doc_id);
CREATE UNIQUE INDEX store_adjustments_tenant_key ON store_adjustments (tenant_id, doc_id);
CREATE UNIQUE INDEX stock_baselines_tenant_key ON stock_baselines (tenant_id, store_id, business_date);
CREATE UNIQUE INDEX store_lan_tenant_key ON store_lan (tenant_id, store_id);
CREATE UNIQUE INDEX terminal_lan_keys_tenant_key ON terminal_lan_keys (tenant_id, terminal_id);
CREATE UNIQUE INDEX sessions_tenant_key ON sessions (tenant_id, id);
CREATE UNIQUE INDEX app_credentials_tenant_key ON app_credentials (tenant_id, id);
CREATE UNIQUE INDEX projected_names_tenant_key ON projected_names (tenant_id, doc_id, kind, id);
CREATE UNIQUE INDEX payment_gateways_tenant_key ON payment_gateways (tenant_id, store_id);
CREATE UNIQUE INDEX gateway_charges_tenant_key ON gateway_charges (tenant_id, payment_id);
CREATE UNIQUE INDEX gateway_refunds_tenant_key ON gateway_refunds (tenant_id, refund_id);
CREATE UNIQUE INDEX receipt_emails_tenant_key ON receipt_emails (tenant_id, send_id);

-- A row written without its tenant is a bug: refuse it.
CREATE TRIGGER projected_docs_needs_tenant BEFORE INSERT ON projected_docs WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'projected_docs: tenant_id missing'); END;
CREATE TRIGGER sales_needs_tenant BEFORE INSERT ON sales WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'sales: tenant_id missing'); END;
CREATE TRIGGER sale_lines_needs_tenant BEFORE INSERT ON sale_lines WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'sale_lines: tenant_id missing'); END;
CREATE TRIGGER payments_needs_tenant BEFORE INSERT ON payments WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'payments: tenant_id missing'); END;
CREATE TRIGGER refunds_needs_tenant BEFORE INSERT ON refunds WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'refunds: tenant_id missing'); END;
CREATE TRIGGER shifts_needs_tenant BEFORE INSERT ON shifts WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'shifts: tenant_id missing'); END;
CREATE TRIGGER cash_movements_needs_tenant BEFORE INSERT ON cash_movements WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'cash_movements: tenant_id missing'); END;
CREATE TRIGGER stock_movements_needs_tenant BEFORE INSERT ON stock_movements WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'stock_movements: tenant_id missing'); END;
CREATE TRIGGER products_needs_tenant BEFORE INSERT ON products WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'products: tenant_id missing'); END;
CREATE TRIGGER refund_lines_needs_tenant BEFORE INSERT ON refund_lines WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'refund_lines: tenant_id missing'); END;
CREATE TRIGGER doc_conflicts_needs_tenant BEFORE INSERT ON doc_conflicts WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'doc_conflicts: tenant_id missing'); END;
CREATE TRIGGER store_settings_needs_tenant BEFORE INSERT ON store_settings WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'store_settings: tenant_id missing'); END;
CREATE TRIGGER projected_names_needs_tenant BEFORE INSERT ON projected_names WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'projected_names: tenant_id missing'); END;
CREATE TRIGGER store_journals_needs_tenant BEFORE INSERT ON store_journals WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'store_journals: tenant_id missing'); END;
CREATE TRIGGER store_adjustments_needs_tenant BEFORE INSERT ON store_adjustments WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'store_adjustments: tenant_id missing'); END;
CREATE TRIGGER store_roots_needs_tenant BEFORE INSERT ON store_roots WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'store_roots: tenant_id missing'); END;
CREATE TRIGGER stock_baselines_needs_tenant BEFORE INSERT ON stock_baselines WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'stock_baselines: tenant_id missing'); END;
CREATE TRIGGER store_lan_needs_tenant BEFORE INSERT ON store_lan WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'store_lan: tenant_id missing'); END;
CREATE TRIGGER receipt_emails_needs_tenant BEFORE INSERT ON receipt_emails WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'receipt_emails: tenant_id missing'); END;
CREATE TRIGGER terminal_lan_keys_needs_tenant BEFORE INSERT ON terminal_lan_keys WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'terminal_lan_keys: tenant_id missing'); END;
CREATE TRIGGER sessions_needs_tenant BEFORE INSERT ON sessions WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'sessions: tenant_id missing'); END;
CREATE TRIGGER refresh_tokens_needs_tenant BEFORE INSERT ON refresh_tokens WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'refresh_tokens: tenant_id missing'); END;
CREATE TRIGGER gateway_refunds_needs_tenant BEFORE INSERT ON gateway_refunds WHEN NEW.tenant_id = '' BEGIN SELECT RAISE(ABORT, 'gateway_refunds: tenant_id missing'); END;
