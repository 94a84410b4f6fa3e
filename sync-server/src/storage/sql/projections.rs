//! SQL of [`ProjectionStorage`]: replacing a document's projected rows, and reading them back
//! for heartbeats and business-day settings.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use std::collections::{BTreeMap, HashMap};

use futures::future::BoxFuture;
use sqlx::AssertSqlSafe;

use super::Backend;
use crate::error::{Error, Result};
use crate::storage::projections::RowValues;
use crate::storage::{
    ProjectedDoc, ProjectionStorage, PublicSale, RecordChanges, RecordKind, StoreSettingsRow,
    last_of_each,
};

/// Every table with rows of one document (`doc_id`); projecting a document replaces its rows
/// in all of them.
const PROJECTED_TABLES: [&str; 12] = [
    "sales",
    "sale_lines",
    "payments",
    "refunds",
    "shifts",
    "cash_movements",
    "stock_movements",
    "products",
    "refund_lines",
    "doc_conflicts",
    "store_settings",
    "projected_names",
];

/// The tables of a document's small, whole-replaced rows (not grouped into records).
const WHOLE_TABLES: [&str; 3] = ["doc_conflicts", "store_settings", "projected_names"];

/// Each record kind's tables, and the column naming the record in each.
fn record_tables(kind: RecordKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        RecordKind::Sale => &[
            ("sales", "id"),
            ("sale_lines", "sale_id"),
            ("payments", "sale_id"),
        ],
        RecordKind::Refund => &[("refunds", "id"), ("refund_lines", "refund_id")],
        RecordKind::Shift => &[("shifts", "id")],
        RecordKind::CashMovement => &[("cash_movements", "id")],
        RecordKind::StockMovement => &[("stock_movements", "id")],
        RecordKind::Product => &[("products", "id")],
    }
}

type Tx = sqlx::Transaction<'static, super::Db>;

/// Rows in one multi-row `INSERT` at most: the widest row binds 17 values, and SQLite takes at
/// most 32,766 bound values in one statement.
const ROWS_PER_STATEMENT: usize = 1_000;

/// One row's values, pushed in the column order of its `INSERT`.
type PushRow<'f, 'v, T> = &'f (dyn Fn(&mut RowValues<'v>, &'v T) + Sync);

/// The rows of one table of several documents, each with its document (whose ids lead the
/// row), kept when `keep` accepts the row.
fn rows_of<'d, R>(
    docs: &[&'d ProjectedDoc],
    table: impl Fn(&'d ProjectedDoc) -> &'d [R],
    keep: impl Fn(&R) -> bool,
) -> Vec<(&'d ProjectedDoc, &'d R)> {
    docs.iter()
        .flat_map(|doc| table(doc).iter().map(move |r| (*doc, r)))
        .filter(|(_, r)| keep(r))
        .collect()
}

/// Inserts `rows` (`insert` names the table and its columns, `tail` ends each statement: its
/// `ON CONFLICT`), [`ROWS_PER_STATEMENT`] rows to a statement, written the backend's way
/// (`super::insert_projected_rows`: one array per column on PostgreSQL, a multi-row `VALUES`
/// list on SQLite). One round trip per [`ROWS_PER_STATEMENT`] rows instead of one per row: a
/// journal's new sale is a sale, its lines, its payments and its stock movements, and round
/// trips were most of a projection's time.
async fn insert_values<'v, T: Sync>(
    tx: &mut Tx,
    insert: &str,
    tail: &str,
    rows: &'v [T],
    push: PushRow<'_, 'v, T>,
) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<RowValues<'v>> = chunk
            .iter()
            .map(|r| {
                let mut row = RowValues::default();
                push(&mut row, r);
                row
            })
            .collect();
        super::insert_projected_rows(tx, insert, tail, &values).await?;
    }
    Ok(())
}

/// Inserts the rows of `docs` whose record `write` accepts (every row of the small tables):
/// one multi-row statement per table for all of them.
async fn insert_rows(
    tx: &mut Tx,
    docs: &[&ProjectedDoc],
    write: impl Fn(RecordKind, &str) -> bool,
) -> Result<()> {
    for doc in docs {
        if let Some(s) = &doc.settings {
            sqlx::query(
                "INSERT INTO store_settings (tenant_id, store_id, doc_id, time_zone, cutoff_hour) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, store_id) DO UPDATE SET doc_id = excluded.doc_id, \
                 time_zone = excluded.time_zone, cutoff_hour = excluded.cutoff_hour",
            )
            .bind(&doc.tenant_id).bind(&doc.store_id).bind(&doc.doc_id).bind(&s.time_zone).bind(s.cutoff_hour)
            .execute(&mut **tx).await?;
        }
    }
    let refund_lines = rows_of(
        docs,
        |d| &d.refund_lines,
        |r| write(RecordKind::Refund, &r.refund_id),
    );
    insert_values(
        tx,
        "INSERT INTO refund_lines (tenant_id, refund_id, seq, doc_id, store_id, sale_id, sale_line_id, quantity_e4)",
        "ON CONFLICT DO NOTHING",
        &refund_lines,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id).push_bind(&r.refund_id).push_bind(r.seq).push_bind(&doc.doc_id)
                .push_bind(&doc.store_id).push_bind(&r.sale_id).push_bind(&r.sale_line_id)
                .push_bind(r.quantity_e4);
        },
    )
    .await?;
    let conflicts = rows_of(docs, |d| &d.conflicts, |_| true);
    insert_values(
        tx,
        "INSERT INTO doc_conflicts (tenant_id, doc_id, key, store_id, kind, detail)",
        "ON CONFLICT DO NOTHING",
        &conflicts,
        &|row, (doc, c)| {
            row.push_bind(&doc.tenant_id)
                .push_bind(&doc.doc_id)
                .push_bind(&c.key)
                .push_bind(&doc.store_id)
                .push_bind(&c.kind)
                .push_bind(&c.detail);
        },
    )
    .await?;
    let sales = rows_of(docs, |d| &d.sales, |r| write(RecordKind::Sale, &r.id));
    insert_values(
        tx,
        "INSERT INTO sales (tenant_id, id, doc_id, store_id, terminal_code, business_date, created_at, \
         cashier_id, receipt_no, total_e4, tax_e4, voided, voided_at, void_reason, \
         void_authorized_by, discount_e4, receipt_token)",
        "ON CONFLICT DO NOTHING",
        &sales,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id).push_bind(&r.id).push_bind(&doc.doc_id).push_bind(&doc.store_id)
                .push_bind(&r.terminal_code).push_bind(&r.business_date)
                .push_bind(r.created_at).push_bind(&r.cashier_id).push_bind(&r.receipt_no)
                .push_bind(r.total_e4).push_bind(r.tax_e4).push_bind(r.voided)
                .push_bind(r.void.as_ref().map(|v| v.at))
                .push_bind(r.void.as_ref().map(|v| v.reason.as_str()))
                .push_bind(r.void.as_ref().map(|v| v.authorized_by.as_str()))
                .push_bind(r.discount_e4)
                .push_bind(&r.receipt_token);
        },
    )
    .await?;
    let sale_lines = rows_of(
        docs,
        |d| &d.sale_lines,
        |r| write(RecordKind::Sale, &r.sale_id),
    );
    insert_values(
        tx,
        "INSERT INTO sale_lines (tenant_id, sale_id, line_no, doc_id, store_id, product_id, sku, name, \
         category_id, quantity_e4, amount_e4, tax_e4, line_id)",
        "ON CONFLICT DO NOTHING",
        &sale_lines,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id).push_bind(&r.sale_id).push_bind(r.line_no).push_bind(&doc.doc_id)
                .push_bind(&doc.store_id).push_bind(&r.product_id).push_bind(&r.sku).push_bind(&r.name)
                .push_bind(&r.category_id).push_bind(r.quantity_e4).push_bind(r.amount_e4)
                .push_bind(r.tax_e4).push_bind(&r.line_id);
        },
    )
    .await?;
    let payments = rows_of(
        docs,
        |d| &d.payments,
        |r| write(RecordKind::Sale, &r.sale_id),
    );
    insert_values(
        tx,
        "INSERT INTO payments (tenant_id, sale_id, seq, doc_id, store_id, method, amount_e4)",
        "ON CONFLICT DO NOTHING",
        &payments,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id)
                .push_bind(&r.sale_id)
                .push_bind(r.seq)
                .push_bind(&doc.doc_id)
                .push_bind(&doc.store_id)
                .push_bind(&r.method)
                .push_bind(r.amount_e4);
        },
    )
    .await?;
    let refunds = rows_of(docs, |d| &d.refunds, |r| write(RecordKind::Refund, &r.id));
    insert_values(
        tx,
        "INSERT INTO refunds (tenant_id, id, doc_id, store_id, sale_id, terminal_code, business_date, \
         created_at, total_e4, tax_e4, receipt_no)",
        "ON CONFLICT DO NOTHING",
        &refunds,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id).push_bind(&r.id).push_bind(&doc.doc_id).push_bind(&doc.store_id)
                .push_bind(&r.sale_id).push_bind(&r.terminal_code).push_bind(&r.business_date)
                .push_bind(r.created_at).push_bind(r.total_e4).push_bind(r.tax_e4)
                .push_bind(&r.receipt_no);
        },
    )
    .await?;
    let shifts = rows_of(docs, |d| &d.shifts, |r| write(RecordKind::Shift, &r.id));
    insert_values(
        tx,
        "INSERT INTO shifts (tenant_id, id, doc_id, store_id, terminal_code, cashier_id, business_date, \
         opened_at, closed_at, opening_float_e4, expected_cash_e4, counted_cash_e4, difference_e4)",
        "ON CONFLICT DO NOTHING",
        &shifts,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id).push_bind(&r.id).push_bind(&doc.doc_id).push_bind(&doc.store_id)
                .push_bind(&r.terminal_code).push_bind(&r.cashier_id)
                .push_bind(&r.business_date).push_bind(r.opened_at).push_bind(r.closed_at)
                .push_bind(r.opening_float_e4).push_bind(r.expected_cash_e4)
                .push_bind(r.counted_cash_e4).push_bind(r.difference_e4);
        },
    )
    .await?;
    let cash_movements = rows_of(
        docs,
        |d| &d.cash_movements,
        |r| write(RecordKind::CashMovement, &r.id),
    );
    insert_values(
        tx,
        "INSERT INTO cash_movements (tenant_id, id, doc_id, store_id, shift_id, direction, amount_e4, at)",
        "ON CONFLICT DO NOTHING",
        &cash_movements,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id).push_bind(&r.id).push_bind(&doc.doc_id).push_bind(&doc.store_id)
                .push_bind(&r.shift_id).push_bind(&r.direction).push_bind(r.amount_e4)
                .push_bind(r.at);
        },
    )
    .await?;
    let stock_movements = rows_of(
        docs,
        |d| &d.stock_movements,
        |r| write(RecordKind::StockMovement, &r.id),
    );
    insert_values(
        tx,
        "INSERT INTO stock_movements (tenant_id, id, doc_id, store_id, product_id, kind, quantity_e4, at, \
         reference, terminal_code)",
        "ON CONFLICT DO NOTHING",
        &stock_movements,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id).push_bind(&r.id).push_bind(&doc.doc_id).push_bind(&doc.store_id)
                .push_bind(&r.product_id).push_bind(&r.kind).push_bind(r.quantity_e4)
                .push_bind(r.at).push_bind(&r.reference).push_bind(&r.terminal_code);
        },
    )
    .await?;
    let names = rows_of(docs, |d| &d.names, |_| true);
    insert_values(
        tx,
        "INSERT INTO projected_names (tenant_id, doc_id, store_id, kind, id, name)",
        "ON CONFLICT DO NOTHING",
        &names,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id)
                .push_bind(&doc.doc_id)
                .push_bind(&doc.store_id)
                .push_bind(&r.kind)
                .push_bind(&r.id)
                .push_bind(&r.name);
        },
    )
    .await?;
    let products = rows_of(docs, |d| &d.products, |r| write(RecordKind::Product, &r.id));
    // Of two documents of a batch with the same product of a store, the later's row is
    // written, as if projected after the other.
    let products: Vec<_> =
        last_of_each(&products, |(doc, r)| (&doc.tenant_id, &doc.store_id, &r.id))
            .into_iter()
            .copied()
            .collect();
    insert_values(
        tx,
        "INSERT INTO products (tenant_id, store_id, id, doc_id, sku, name, category_id, price_e4, \
         low_stock_threshold_e4, active)",
        "ON CONFLICT (tenant_id, store_id, id) DO UPDATE SET \
         doc_id = excluded.doc_id, sku = excluded.sku, name = excluded.name, \
         category_id = excluded.category_id, price_e4 = excluded.price_e4, \
         low_stock_threshold_e4 = excluded.low_stock_threshold_e4, active = excluded.active",
        &products,
        &|row, (doc, r)| {
            row.push_bind(&doc.tenant_id)
                .push_bind(&doc.store_id)
                .push_bind(&r.id)
                .push_bind(&doc.doc_id)
                .push_bind(&r.sku)
                .push_bind(&r.name)
                .push_bind(&r.category_id)
                .push_bind(r.price_e4)
                .push_bind(r.low_stock_threshold_e4)
                .push_bind(r.active);
        },
    )
    .await?;
    Ok(())
}

/// Deletes the rows of `table` of the document's records `ids` (named by `column`), in
/// statements of [`ROWS_PER_STATEMENT`] ids.
async fn delete_records(
    tx: &mut Tx,
    rows: &ProjectedDoc,
    table: &str,
    column: &str,
    ids: &[String],
) -> Result<()> {
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut q =
            sqlx::QueryBuilder::<super::Db>::new(format!("DELETE FROM {table} WHERE tenant_id = "));
        q.push_bind(&rows.tenant_id);
        q.push(" AND doc_id = ");
        q.push_bind(&rows.doc_id);
        q.push(format!(" AND {column} IN ("));
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(id);
        }
        q.push(")");
        q.build().persistent(false).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The `projected_at` of a projection made after one at `before`: now, and later than
/// `before`, so that each projection of a document is told from the last.
fn next_projected_at(before: Option<i64>) -> i64 {
    crate::now_ms().max(before.map_or(0, |b| b + 1))
}

/// Records projections in `projected_docs`: each document with its `projected_at`.
async fn mark_projected(tx: &mut Tx, marks: &[(&ProjectedDoc, i64)]) -> Result<()> {
    insert_values(
        tx,
        "INSERT INTO projected_docs (tenant_id, doc_id, store_id, kind, projected_at)",
        "ON CONFLICT (tenant_id, doc_id) DO UPDATE SET store_id = excluded.store_id, \
         kind = excluded.kind, projected_at = excluded.projected_at",
        marks,
        &|row, (doc, at)| {
            row.push_bind(&doc.tenant_id)
                .push_bind(&doc.doc_id)
                .push_bind(&doc.store_id)
                .push_bind(&doc.kind)
                .push_bind(*at);
        },
    )
    .await
}

/// Locks the `projected_docs` rows of `docs` for the transaction and reads when each was last
/// projected, by `(tenant id, doc id)`; a document never projected is not in the answer.
/// [`super::LOCK_PROJECTED_SQL`] is each backend's way: rows locked in key order on
/// PostgreSQL (two such transactions wait, not deadlock), a no-op `UPDATE` on SQLite so that
/// it is the transaction's first write (a SQLite transaction that read first and then writes
/// fails at once, `SQLITE_BUSY`, when another connection wrote meanwhile, and the projector
/// runs several documents at once).
async fn lock_projected(
    tx: &mut Tx,
    docs: &[&ProjectedDoc],
) -> Result<HashMap<(String, String), i64>> {
    let (head, tail) = super::LOCK_PROJECTED_SQL;
    let mut found = HashMap::with_capacity(docs.len());
    for chunk in docs.chunks(ROWS_PER_STATEMENT) {
        let mut q = sqlx::QueryBuilder::<super::Db>::new(head);
        q.push_values(chunk, |mut row, doc| {
            row.push_bind(&doc.tenant_id).push_bind(&doc.doc_id);
        });
        q.push(tail);
        let rows: Vec<(String, String, i64)> = q
            .build_query_as()
            .persistent(false)
            .fetch_all(&mut **tx)
            .await?;
        found.extend(rows.into_iter().map(|(t, d, at)| ((t, d), at)));
    }
    Ok(found)
}

/// When the document was last projected, by anyone; its `projected_docs` row locked for the
/// transaction ([`lock_projected`]).
async fn projected_at(tx: &mut Tx, rows: &ProjectedDoc) -> Result<Option<i64>> {
    let found = lock_projected(tx, &[rows]).await?;
    Ok(found.into_values().next())
}

/// Deletes every row of the document `doc_id` in each of `tables`.
async fn delete_doc_rows(tx: &mut Tx, tables: &[&str], doc_id: &str) -> Result<()> {
    for table in tables {
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE doc_id = $1"
        )))
        .bind(doc_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl ProjectionStorage for Backend {
    fn project_doc<'a>(&'a self, rows: &'a ProjectedDoc) -> BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            let before = projected_at(&mut tx, rows).await?;
            // A document never projected has no rows (its rows and its `projected_docs` row are
            // written in one transaction): its first projection, a new journal's, skips the
            // twelve round trips.
            if before.is_some() {
                delete_doc_rows(&mut tx, &PROJECTED_TABLES, &rows.doc_id).await?;
            }
            insert_rows(&mut tx, &[rows], |_, _| true).await?;
            let at = next_projected_at(before);
            mark_projected(&mut tx, &[(rows, at)]).await?;
            tx.commit().await?;
            Ok(at)
        })
    }

    fn project_doc_changes<'a>(
        &'a self,
        rows: &'a ProjectedDoc,
        changes: &'a RecordChanges,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            let before = projected_at(&mut tx, rows).await?;
            if before != Some(changes.base_projected_at) {
                return Ok(None);
            }
            delete_doc_rows(&mut tx, &WHOLE_TABLES, &rows.doc_id).await?;
            let mut rewritten: BTreeMap<RecordKind, Vec<String>> = BTreeMap::new();
            for (kind, id) in rows
                .record_keys()
                .filter(|k| !changes.unchanged.contains(k))
                .chain(changes.gone.iter().cloned())
            {
                rewritten.entry(kind).or_default().push(id);
            }
            for (kind, ids) in &rewritten {
                for (table, column) in record_tables(*kind) {
                    delete_records(&mut tx, rows, table, column, ids).await?;
                }
            }
            insert_rows(&mut tx, &[rows], |kind, id| {
                !changes.unchanged.contains(&(kind, id.to_string()))
            })
            .await?;
            let at = next_projected_at(before);
            mark_projected(&mut tx, &[(rows, at)]).await?;
            tx.commit().await?;
            Ok(Some(at))
        })
    }

    fn project_additions<'a>(
        &'a self,
        docs: &'a [(ProjectedDoc, i64)],
    ) -> BoxFuture<'a, Result<Vec<Option<i64>>>> {
        Box::pin(async move {
            if docs.is_empty() {
                return Ok(Vec::new());
            }
            let mut tx = self.pool.begin().await?;
            let all: Vec<&ProjectedDoc> = docs.iter().map(|(doc, _)| doc).collect();
            let current = lock_projected(&mut tx, &all).await?;
            let ats: Vec<Option<i64>> = docs
                .iter()
                .map(|(doc, base)| {
                    let key = (doc.tenant_id.clone(), doc.doc_id.clone());
                    (current.get(&key) == Some(base)).then(|| next_projected_at(Some(*base)))
                })
                .collect();
            let marks: Vec<(&ProjectedDoc, i64)> = docs
                .iter()
                .zip(&ats)
                .filter_map(|((doc, _), at)| Some((doc, (*at)?)))
                .collect();
            let fresh: Vec<&ProjectedDoc> = marks.iter().map(|(doc, _)| *doc).collect();
            insert_rows(&mut tx, &fresh, |_, _| true).await?;
            mark_projected(&mut tx, &marks).await?;
            tx.commit().await?;
            Ok(ats)
        })
    }

    fn projected_records<'a>(
        &'a self,
        tenant_id: &'a str,
        store_id: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            // The ids travel as one JSON array, so a heartbeat costs one query however many
            // ids it carries.
            let sql = super::PROJECTED_RECORDS_SQL;
            let json = serde_json::to_string(ids).map_err(|e| Error::Internal(e.to_string()))?;
            Ok(sqlx::query_scalar(sql)
                .bind(tenant_id)
                .bind(store_id)
                .bind(json)
                .fetch_all(&self.pool)
                .await?)
        })
    }

    fn sale_by_receipt_token<'a>(
        &'a self,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Option<PublicSale>>> {
        Box::pin(async move {
            type Head = (String, String, String, String, i64, i64, i64, i64, bool);
            let mut found: Vec<Head> = sqlx::query_as(
                "SELECT id, store_id, receipt_no, terminal_code, created_at, total_e4, tax_e4, \
                 discount_e4, voided FROM sales WHERE receipt_token = $1 LIMIT 2",
            )
            .bind(token)
            .fetch_all(&self.pool)
            .await?;
            if found.len() != 1 {
                if found.len() > 1 {
                    tracing::warn!(
                        "two sales carry one receipt token: the receipt page shows neither"
                    );
                }
                return Ok(None);
            }
            let (
                id,
                store_id,
                receipt_no,
                terminal_code,
                created_at,
                total_e4,
                tax_e4,
                discount_e4,
                voided,
            ) = found.remove(0);
            let lines = sqlx::query_as(
                "SELECT name, quantity_e4, amount_e4 FROM sale_lines WHERE sale_id = $1 ORDER BY line_no",
            )
            .bind(&id)
            .fetch_all(&self.pool)
            .await?;
            let payments = sqlx::query_as(
                "SELECT method, amount_e4 FROM payments WHERE sale_id = $1 ORDER BY seq",
            )
            .bind(&id)
            .fetch_all(&self.pool)
            .await?;
            Ok(Some(PublicSale {
                store_id,
                receipt_no,
                terminal_code,
                created_at,
                total_e4,
                tax_e4,
                discount_e4,
                voided,
                lines,
                payments,
            }))
        })
    }

    fn store_settings<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoreSettingsRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT time_zone, cutoff_hour FROM store_settings WHERE store_id = $1",
            )
            .bind(store_id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }
}
