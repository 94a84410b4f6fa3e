-- Every tenant-owned table carries tenant_id as the leading column of its primary key, so that
-- the schema can be distributed by tenant on Citus (docs/scaling.md: the distribution plan).
--
-- 1. Tables that had no tenant_id get it, filled from the row's document claim, store, user,
--    terminal or charge. Projected rows (sales, lines, …) whose document and store are both
--    unknown cannot be placed; they are derived data, rebuilt from the documents by a
--    re-projection, so they are deleted rather than left without a tenant.
-- 2. Primary keys become (tenant_id, old key). Foreign keys to stores, users and terminals
--    become composite (tenant_id, …) references.
-- 3. Keys that are looked up before the tenant is known (a document id in a sync frame, a
--    payment id in a gateway's webhook, an enrolment code, a session or refresh token, a login
--    e-mail, a till's credential) stay globally unique: on Citus those lookups go through
--    directory tables (docs/scaling.md).

-- 1. tenant_id where it is missing.
ALTER TABLE projected_docs    ADD COLUMN tenant_id TEXT;
ALTER TABLE sales             ADD COLUMN tenant_id TEXT;
ALTER TABLE sale_lines        ADD COLUMN tenant_id TEXT;
ALTER TABLE payments          ADD COLUMN tenant_id TEXT;
ALTER TABLE refunds           ADD COLUMN tenant_id TEXT;
ALTER TABLE shifts            ADD COLUMN tenant_id TEXT;
ALTER TABLE cash_movements    ADD COLUMN tenant_id TEXT;
ALTER TABLE stock_movements   ADD COLUMN tenant_id TEXT;
ALTER TABLE products          ADD COLUMN tenant_id TEXT;
ALTER TABLE refund_lines      ADD COLUMN tenant_id TEXT;
ALTER TABLE doc_conflicts     ADD COLUMN tenant_id TEXT;
ALTER TABLE store_settings    ADD COLUMN tenant_id TEXT;
ALTER TABLE projected_names   ADD COLUMN tenant_id TEXT;
ALTER TABLE store_journals    ADD COLUMN tenant_id TEXT;
ALTER TABLE store_adjustments ADD COLUMN tenant_id TEXT;
ALTER TABLE store_roots       ADD COLUMN tenant_id TEXT;
ALTER TABLE stock_baselines   ADD COLUMN tenant_id TEXT;
ALTER TABLE store_lan         ADD COLUMN tenant_id TEXT;
ALTER TABLE receipt_emails    ADD COLUMN tenant_id TEXT;
ALTER TABLE terminal_lan_keys ADD COLUMN tenant_id TEXT;
ALTER TABLE sessions          ADD COLUMN tenant_id TEXT;
ALTER TABLE refresh_tokens    ADD COLUMN tenant_id TEXT;
ALTER TABLE gateway_refunds   ADD COLUMN tenant_id TEXT;

-- Rows of a document: the document's claim says whose it is.
UPDATE projected_docs    t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE sales             t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE sale_lines        t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE payments          t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE refunds           t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE shifts            t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE cash_movements    t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE stock_movements   t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE products          t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE refund_lines      t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE doc_conflicts     t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE store_settings    t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE projected_names   t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE store_journals    t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;
UPDATE store_adjustments t SET tenant_id = c.tenant_id FROM doc_claims c WHERE c.doc_id = t.doc_id;

-- Rows of a store: the store says whose it is (also for rows of a document with no claim).
UPDATE projected_docs    t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE sales             t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE sale_lines        t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE payments          t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE refunds           t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE shifts            t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE cash_movements    t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE stock_movements   t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE products          t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE refund_lines      t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE doc_conflicts     t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE store_settings    t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE projected_names   t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE store_journals    t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE store_adjustments t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id AND t.tenant_id IS NULL;
UPDATE store_roots       t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id;
UPDATE stock_baselines   t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id;
UPDATE store_lan         t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id;
UPDATE receipt_emails    t SET tenant_id = s.tenant_id FROM stores s WHERE s.id = t.store_id;

UPDATE terminal_lan_keys t SET tenant_id = x.tenant_id FROM terminals x WHERE x.id = t.terminal_id;
UPDATE sessions          t SET tenant_id = u.tenant_id FROM users u WHERE u.id = t.user_id;
UPDATE refresh_tokens    t SET tenant_id = u.tenant_id FROM users u WHERE u.id = t.user_id;
UPDATE gateway_refunds   t SET tenant_id = g.tenant_id FROM gateway_charges g WHERE g.payment_id = t.payment_id;

-- Derived rows nobody owns (see 1. above).
DELETE FROM projected_docs    WHERE tenant_id IS NULL;
DELETE FROM sales             WHERE tenant_id IS NULL;
DELETE FROM sale_lines        WHERE tenant_id IS NULL;
DELETE FROM payments          WHERE tenant_id IS NULL;
DELETE FROM refunds           WHERE tenant_id IS NULL;
DELETE FROM shifts            WHERE tenant_id IS NULL;
DELETE FROM cash_movements    WHERE tenant_id IS NULL;
DELETE FROM stock_movements   WHERE tenant_id IS NULL;
DELETE FROM products          WHERE tenant_id IS NULL;
DELETE FROM refund_lines      WHERE tenant_id IS NULL;
DELETE FROM doc_conflicts     WHERE tenant_id IS NULL;
DELETE FROM store_settings    WHERE tenant_id IS NULL;
DELETE FROM projected_names   WHERE tenant_id IS NULL;

ALTER TABLE projected_docs    ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE sales             ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE sale_lines        ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE payments          ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE refunds           ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE shifts            ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE cash_movements    ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE stock_movements   ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE products          ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE refund_lines      ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE doc_conflicts     ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE store_settings    ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE projected_names   ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE store_journals    ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE store_adjustments ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE store_roots       ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE stock_baselines   ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE store_lan         ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE receipt_emails    ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE terminal_lan_keys ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE sessions          ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE refresh_tokens    ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE gateway_refunds   ALTER COLUMN tenant_id SET NOT NULL;

-- 2. Foreign keys to the tables whose key changes go first, and come back composite.
ALTER TABLE users             DROP CONSTRAINT users_store_id_fkey;
ALTER TABLE terminals         DROP CONSTRAINT terminals_store_id_fkey;
ALTER TABLE enrollment_codes  DROP CONSTRAINT enrollment_codes_store_id_fkey;
ALTER TABLE doc_claims        DROP CONSTRAINT doc_claims_store_id_fkey;
ALTER TABLE store_lan         DROP CONSTRAINT store_lan_store_id_fkey;
ALTER TABLE payment_gateways  DROP CONSTRAINT payment_gateways_store_id_fkey;
ALTER TABLE gateway_charges   DROP CONSTRAINT gateway_charges_store_id_fkey;
ALTER TABLE refresh_tokens    DROP CONSTRAINT refresh_tokens_user_id_fkey;
ALTER TABLE sessions          DROP CONSTRAINT sessions_user_id_fkey;
ALTER TABLE app_credentials   DROP CONSTRAINT app_credentials_created_by_fkey;
ALTER TABLE payment_gateways  DROP CONSTRAINT payment_gateways_updated_by_fkey;
ALTER TABLE terminal_lan_keys DROP CONSTRAINT terminal_lan_keys_terminal_id_fkey;
ALTER TABLE gateway_charges   DROP CONSTRAINT gateway_charges_terminal_id_fkey;
ALTER TABLE refresh_tokens    DROP CONSTRAINT refresh_tokens_session_id_fkey;
ALTER TABLE gateway_refunds   DROP CONSTRAINT gateway_refunds_payment_id_fkey;

-- Keys looked up before the tenant is known stay unique on their own (3. above).
ALTER TABLE doc_claims       ADD CONSTRAINT doc_claims_doc_id_key UNIQUE (doc_id);
ALTER TABLE enrollment_codes ADD CONSTRAINT enrollment_codes_code_hash_key UNIQUE (code_hash);
ALTER TABLE refresh_tokens   ADD CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash);
ALTER TABLE sessions         ADD CONSTRAINT sessions_id_key UNIQUE (id);
ALTER TABLE gateway_charges  ADD CONSTRAINT gateway_charges_payment_id_key UNIQUE (payment_id);
-- Idempotency keys a till chooses (UUIDv7): one use each, whoever sends it.
ALTER TABLE gateway_refunds  ADD CONSTRAINT gateway_refunds_refund_id_key UNIQUE (refund_id);
ALTER TABLE receipt_emails   ADD CONSTRAINT receipt_emails_send_id_key UNIQUE (send_id);

ALTER TABLE stores            DROP CONSTRAINT stores_pkey,            ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE users             DROP CONSTRAINT users_pkey,             ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE terminals         DROP CONSTRAINT terminals_pkey,         ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE enrollment_codes  DROP CONSTRAINT enrollment_codes_pkey,  ADD PRIMARY KEY (tenant_id, code_hash);
ALTER TABLE refresh_tokens    DROP CONSTRAINT refresh_tokens_pkey,    ADD PRIMARY KEY (tenant_id, token_hash);
ALTER TABLE doc_claims        DROP CONSTRAINT doc_claims_pkey,        ADD PRIMARY KEY (tenant_id, doc_id);
ALTER TABLE projected_docs    DROP CONSTRAINT projected_docs_pkey,    ADD PRIMARY KEY (tenant_id, doc_id);
ALTER TABLE sales             DROP CONSTRAINT sales_pkey,             ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE sale_lines        DROP CONSTRAINT sale_lines_pkey,        ADD PRIMARY KEY (tenant_id, sale_id, line_no);
ALTER TABLE payments          DROP CONSTRAINT payments_pkey,          ADD PRIMARY KEY (tenant_id, sale_id, seq);
ALTER TABLE refunds           DROP CONSTRAINT refunds_pkey,           ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE shifts            DROP CONSTRAINT shifts_pkey,            ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE cash_movements    DROP CONSTRAINT cash_movements_pkey,    ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE stock_movements   DROP CONSTRAINT stock_movements_pkey,   ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE products          DROP CONSTRAINT products_pkey,          ADD PRIMARY KEY (tenant_id, store_id, id);
ALTER TABLE refund_lines      DROP CONSTRAINT refund_lines_pkey,      ADD PRIMARY KEY (tenant_id, refund_id, seq);
ALTER TABLE doc_conflicts     DROP CONSTRAINT doc_conflicts_pkey,     ADD PRIMARY KEY (tenant_id, doc_id, key);
ALTER TABLE store_settings    DROP CONSTRAINT store_settings_pkey,    ADD PRIMARY KEY (tenant_id, store_id);
ALTER TABLE store_roots       DROP CONSTRAINT store_roots_pkey,       ADD PRIMARY KEY (tenant_id, store_id);
ALTER TABLE store_journals    DROP CONSTRAINT store_journals_pkey,    ADD PRIMARY KEY (tenant_id, doc_id);
ALTER TABLE store_adjustments DROP CONSTRAINT store_adjustments_pkey, ADD PRIMARY KEY (tenant_id, doc_id);
ALTER TABLE stock_baselines   DROP CONSTRAINT stock_baselines_pkey,   ADD PRIMARY KEY (tenant_id, store_id, business_date);
ALTER TABLE store_lan         DROP CONSTRAINT store_lan_pkey,         ADD PRIMARY KEY (tenant_id, store_id);
ALTER TABLE terminal_lan_keys DROP CONSTRAINT terminal_lan_keys_pkey, ADD PRIMARY KEY (tenant_id, terminal_id);
ALTER TABLE sessions          DROP CONSTRAINT sessions_pkey,          ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE app_credentials   DROP CONSTRAINT app_credentials_pkey,   ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE projected_names   DROP CONSTRAINT projected_names_pkey,   ADD PRIMARY KEY (tenant_id, doc_id, kind, id);
ALTER TABLE payment_gateways  DROP CONSTRAINT payment_gateways_pkey,  ADD PRIMARY KEY (tenant_id, store_id);
ALTER TABLE gateway_charges   DROP CONSTRAINT gateway_charges_pkey,   ADD PRIMARY KEY (tenant_id, payment_id);
ALTER TABLE gateway_refunds   DROP CONSTRAINT gateway_refunds_pkey,   ADD PRIMARY KEY (tenant_id, refund_id);
ALTER TABLE receipt_emails    DROP CONSTRAINT receipt_emails_pkey,    ADD PRIMARY KEY (tenant_id, send_id);

ALTER TABLE users             ADD FOREIGN KEY (tenant_id, store_id)    REFERENCES stores (tenant_id, id);
ALTER TABLE terminals         ADD FOREIGN KEY (tenant_id, store_id)    REFERENCES stores (tenant_id, id);
ALTER TABLE enrollment_codes  ADD FOREIGN KEY (tenant_id, store_id)    REFERENCES stores (tenant_id, id);
ALTER TABLE doc_claims        ADD FOREIGN KEY (tenant_id, store_id)    REFERENCES stores (tenant_id, id);
ALTER TABLE store_lan         ADD FOREIGN KEY (tenant_id, store_id)    REFERENCES stores (tenant_id, id);
ALTER TABLE payment_gateways  ADD FOREIGN KEY (tenant_id, store_id)    REFERENCES stores (tenant_id, id);
ALTER TABLE gateway_charges   ADD FOREIGN KEY (tenant_id, store_id)    REFERENCES stores (tenant_id, id);
ALTER TABLE refresh_tokens    ADD FOREIGN KEY (tenant_id, user_id)     REFERENCES users (tenant_id, id);
ALTER TABLE sessions          ADD FOREIGN KEY (tenant_id, user_id)     REFERENCES users (tenant_id, id);
ALTER TABLE app_credentials   ADD FOREIGN KEY (tenant_id, created_by)  REFERENCES users (tenant_id, id);
ALTER TABLE payment_gateways  ADD FOREIGN KEY (tenant_id, updated_by)  REFERENCES users (tenant_id, id);
ALTER TABLE terminal_lan_keys ADD FOREIGN KEY (tenant_id, terminal_id) REFERENCES terminals (tenant_id, id);
ALTER TABLE gateway_charges   ADD FOREIGN KEY (tenant_id, terminal_id) REFERENCES terminals (tenant_id, id);
ALTER TABLE refresh_tokens    ADD FOREIGN KEY (tenant_id, session_id)  REFERENCES sessions (tenant_id, id);
ALTER TABLE gateway_refunds   ADD FOREIGN KEY (tenant_id, payment_id)  REFERENCES gateway_charges (tenant_id, payment_id);
