//! The local query tables as projections of the documents. The same functions run when a
//! use-case writes (in the transaction that commits it), when a document arrives from a peer,
//! and when the tables are rebuilt from the documents alone.

use std::str::FromStr;

use automerge::{ChangeHash, ReadDoc};
use rusqlite::{Connection, OptionalExtension, params};
use shared_model::catalog::{Category, Product};
use shared_model::documents::{
    self, DocumentKind, JournalDoc, StockAdjustmentsDoc, StockBaselineDoc,
};
use shared_model::refund::Refund;
use shared_model::sale::{Sale, Void};
use shared_model::shift::{CashMovement, Shift};
use shared_model::stock::StockMovement;
use tracing::instrument;

use shared_model::documents::catalog_entries;

use crate::docs::{self, Docs};
use crate::error::{CoreError, CoreResult};

pub(crate) fn json<T: serde::Serialize>(v: &T) -> CoreResult<String> {
    Ok(serde_json::to_string(v)?)
}

pub(crate) fn upsert_category(conn: &Connection, c: &Category) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO categories (category_id, name, parent_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (category_id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id",
    )?
    .execute(params![
        c.id.to_string(),
        c.name,
        c.parent.map(|p| p.to_string())
    ])?;
    Ok(())
}

pub(crate) fn upsert_promotion(
    conn: &Connection,
    p: &shared_model::promotion::Promotion,
) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO promotions (promotion_id, active, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (promotion_id) DO UPDATE SET active = excluded.active, data = excluded.data",
    )?
    .execute(params![p.id.to_string(), p.active, json(p)?])?;
    Ok(())
}

pub(crate) fn upsert_product(conn: &Connection, p: &Product) -> CoreResult<()> {
    upsert_products(conn, [p], || Ok(()))
}

/// [`upsert_product`] for many products at once (an import, a whole catalog), calling `each`
/// after each product's rows. Their search rows are written at the end in one statement: every
/// statement that writes the search table opens a statement savepoint, at which FTS5 writes
/// out its pending terms as a new segment, so one statement per product made one tiny segment
/// per product and merged them without end (a fifth of a 100,000-row import).
pub(crate) fn upsert_products<'a>(
    conn: &Connection,
    products: impl IntoIterator<Item = &'a Product>,
    mut each: impl FnMut() -> CoreResult<()>,
) -> CoreResult<()> {
    let mut search = Vec::new();
    for p in products {
        let rowid = upsert_product_row(conn, p)?;
        let (names, skus, codes) = search_text(p);
        search.push((rowid, names, skus, codes));
        each()?;
    }
    if search.is_empty() {
        return Ok(());
    }
    let rows = serde_json::to_string(&search)?;
    conn.prepare_cached(
        "DELETE FROM products_fts WHERE rowid IN (SELECT value ->> 0 FROM json_each(?1))",
    )?
    .execute([&rows])?;
    conn.prepare_cached(
        "INSERT INTO products_fts (rowid, name, sku, barcodes)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1)",
    )?
    .execute([&rows])?;
    Ok(())
}

/// A product's row and its barcodes' rows; returns the product row's rowid (its search row's).
fn upsert_product_row(conn: &Connection, p: &Product) -> CoreResult<i64> {
    let rowid: i64 = conn
        .prepare_cached(
            "INSERT INTO products (product_id, sku, name, category_id, unit, price, tax_class,
                active, low_stock_threshold, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (product_id) DO UPDATE SET sku = excluded.sku, name = excluded.name,
                category_id = excluded.category_id, unit = excluded.unit, price = excluded.price,
                tax_class = excluded.tax_class, active = excluded.active,
                low_stock_threshold = excluded.low_stock_threshold, data = excluded.data
             RETURNING rowid",
        )?
        .query_row(
            params![
                p.id.to_string(),
                p.sku,
                p.name,
                p.category_id.map(|c| c.to_string()),
                p.unit.symbol(),
                p.price.to_string(),
                p.tax_class,
                p.active,
                p.low_stock_threshold.map(|q| q.to_string()),
                json(p)?,
            ],
            |r| r.get(0),
        )?;
    let pid = p.id.to_string();
    conn.prepare_cached("DELETE FROM barcodes WHERE product_id = ?1")?
        .execute([&pid])?;
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO barcodes (code, product_id, variant_id) VALUES (?1, ?2, ?3)",
    )?;
    for b in &p.barcodes {
        ins.execute(params![b.as_str(), pid, Option::<String>::None])?;
    }
    for v in &p.variants {
        for b in &v.barcodes {
            ins.execute(params![b.as_str(), pid, Some(v.id.to_string())])?;
        }
    }
    Ok(rowid)
}

/// What search as you type finds a product by: (names, SKUs, barcodes), each space-separated,
/// its variants' included.
fn search_text(p: &Product) -> (String, String, String) {
    let names = std::iter::once(p.name.as_str())
        .chain(p.variants.iter().map(|v| v.name.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    let skus = std::iter::once(p.sku.as_str())
        .chain(p.variants.iter().map(|v| v.sku.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    let codes = p
        .all_barcodes()
        .map(|b| b.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    (names, skus, codes)
}

pub(crate) fn insert_movement(
    conn: &Connection,
    m: &StockMovement,
    source_doc: &str,
    source_map: &str,
    source_key: &str,
) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO stock_movements (movement_id, product_id, kind, quantity, at, source_doc,
            source_map, source_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (movement_id) DO NOTHING",
    )?
    .execute(params![
        m.id.to_string(),
        m.product_id.to_string(),
        m.kind.as_str(),
        m.quantity.to_string(),
        m.at.to_string(),
        source_doc,
        source_map,
        source_key
    ])?;
    Ok(())
}

/// A sale with its lines, payments and (unless voided) stock movements.
pub(crate) fn project_sale(conn: &Connection, sale: &Sale, journal_doc: &str) -> CoreResult<()> {
    let id = sale.id.to_string();
    conn.prepare_cached(
        "INSERT INTO sales (sale_id, receipt_no, terminal_code, business_date, created_at,
            cashier_id, shift_id, total, journal_doc, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (sale_id) DO NOTHING",
    )?
    .execute(params![
        id,
        sale.receipt_no.to_string(),
        sale.receipt_no.terminal_code,
        sale.business_date.to_string(),
        sale.created_at.to_string(),
        sale.cashier_id.to_string(),
        sale.shift_id.map(|s| s.to_string()),
        sale.total().to_string(),
        journal_doc,
        json(sale)?,
    ])?;
    let mut line = conn.prepare_cached(
        "INSERT OR REPLACE INTO sale_lines (sale_id, line_no, line_id, product_id, variant_id,
            name, quantity, amount, tax)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (i, l) in sale.lines.iter().enumerate() {
        line.execute(params![
            id,
            i as i64,
            l.line_id.to_string(),
            l.item.product_id.to_string(),
            l.item.variant_id.map(|v| v.to_string()),
            l.item.name,
            l.quantity.to_string(),
            l.tax.gross.to_string(),
            l.tax.tax.to_string(),
        ])?;
    }
    let mut pay = conn.prepare_cached(
        "INSERT OR REPLACE INTO payments (sale_id, seq, method, amount, tendered, reference)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, p) in sale.settlement.payments.iter().enumerate() {
        pay.execute(params![
            id,
            i as i64,
            p.method.key(),
            p.amount.to_string(),
            p.tendered.map(|t| t.to_string()),
            p.reference,
        ])?;
    }
    let voided: bool = conn
        .prepare_cached("SELECT 1 FROM voids WHERE sale_id = ?1")?
        .query_row([&id], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if !voided {
        for m in StockMovement::from_sale(sale) {
            insert_movement(conn, &m, journal_doc, "sales", &id)?;
        }
    }
    Ok(())
}

pub(crate) fn project_refund(conn: &Connection, r: &Refund, journal_doc: &str) -> CoreResult<()> {
    let id = r.id.to_string();
    conn.prepare_cached(
        "INSERT INTO refunds (refund_id, sale_id, receipt_no, business_date, shift_id, total,
            journal_doc, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (refund_id) DO NOTHING",
    )?
    .execute(params![
        id,
        r.sale_id.to_string(),
        r.receipt_no.to_string(),
        r.business_date.to_string(),
        r.shift_id.map(|s| s.to_string()),
        r.total.to_string(),
        journal_doc,
        json(r)?,
    ])?;
    for m in StockMovement::from_refund(r) {
        insert_movement(conn, &m, journal_doc, "refunds", &id)?;
    }
    Ok(())
}

pub(crate) fn project_void(conn: &Connection, v: &Void, journal_doc: &str) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO voids (void_id, sale_id, journal_doc, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (void_id) DO NOTHING",
    )?
    .execute(params![
        v.id.to_string(),
        v.sale_id.to_string(),
        journal_doc,
        json(v)?
    ])?;
    // The sale is in the same journal as its void (voids happen in the sale's shift).
    conn.prepare_cached(
        "DELETE FROM stock_movements
         WHERE source_doc = ?1 AND source_map = 'sales' AND source_key = ?2",
    )?
    .execute(params![journal_doc, v.sale_id.to_string()])?;
    Ok(())
}

pub(crate) fn project_shift(conn: &Connection, s: &Shift, journal_doc: &str) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO shifts (shift_id, terminal_code, cashier_id, business_date, opened_at,
            closed_at, journal_doc, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (shift_id) DO UPDATE SET closed_at = excluded.closed_at, data = excluded.data",
    )?
    .execute(params![
        s.id.to_string(),
        s.terminal_code,
        s.cashier_id.to_string(),
        s.business_date.to_string(),
        s.opened_at.to_string(),
        s.close.as_ref().map(|c| c.closed_at.to_string()),
        journal_doc,
        json(s)?,
    ])?;
    Ok(())
}

pub(crate) fn project_cash_movement(
    conn: &Connection,
    c: &CashMovement,
    journal_doc: &str,
) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO cash_movements (movement_id, shift_id, direction, amount, journal_doc, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (movement_id) DO NOTHING",
    )?
    .execute(params![
        c.id.to_string(),
        c.shift_id.to_string(),
        c.direction.as_str(),
        c.amount.to_string(),
        journal_doc,
        json(c)?,
    ])?;
    Ok(())
}

/// Keeps this terminal's receipt sequence at least as high as any number in its journals.
fn bump_sequence(conn: &Connection, date: &str, seq: u32) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO receipt_sequences (business_date, last_sequence) VALUES (?1, ?2)
         ON CONFLICT (business_date) DO UPDATE
         SET last_sequence = max(last_sequence, excluded.last_sequence)",
    )?
    .execute(params![date, seq])?;
    Ok(())
}

/// This till's terminal code, if it has joined a store yet.
fn own_terminal_code(conn: &Connection) -> CoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT terminal_code FROM terminal_identity WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

/// Projects a whole document into the query tables (idempotent).
#[instrument(skip_all, fields(doc = doc_id, kind = kind.as_str()))]
pub(crate) fn project_doc(
    conn: &Connection,
    d: &mut Docs,
    doc_id: &str,
    kind: DocumentKind,
) -> CoreResult<()> {
    let own_terminal = own_terminal_code(conn)?;
    match kind {
        DocumentKind::Catalog => project_catalog(conn, d, doc_id)?,
        DocumentKind::Journal => {
            let j: JournalDoc = docs::read(d.get(conn, doc_id)?)?;
            for v in j.voids.values() {
                project_void(conn, v, doc_id)?;
            }
            for s in j.sales.values() {
                s.check()?;
                project_sale(conn, s, doc_id)?;
                if own_terminal.as_deref() == Some(s.receipt_no.terminal_code.as_str()) {
                    bump_sequence(conn, &s.business_date.to_string(), s.receipt_no.sequence)?;
                }
            }
            for r in j.refunds.values() {
                project_refund(conn, r, doc_id)?;
                if own_terminal.as_deref() == Some(r.receipt_no.terminal_code.as_str()) {
                    bump_sequence(conn, &r.business_date.to_string(), r.receipt_no.sequence)?;
                }
            }
            for s in j.shifts.values() {
                project_shift(conn, s, doc_id)?;
            }
            for c in j.cash_movements.values() {
                project_cash_movement(conn, c, doc_id)?;
            }
            for (k, m) in &j.stock_movements {
                insert_movement(conn, m, doc_id, "stock_movements", k)?;
            }
        }
        DocumentKind::StockAdjustments => {
            let a: StockAdjustmentsDoc = docs::read(d.get(conn, doc_id)?)?;
            for (k, m) in &a.movements {
                insert_movement(conn, m, doc_id, "movements", k)?;
            }
            for (k, c) in &a.counts {
                insert_movement(conn, &c.movement()?, doc_id, "counts", k)?;
            }
        }
        DocumentKind::StockBaseline => project_baseline(conn, d, doc_id)?,
        DocumentKind::StoreRoot
        | DocumentKind::PeriodIndex
        | DocumentKind::Settings
        | DocumentKind::Users
        | DocumentKind::ParkedCarts => {}
    }
    if matches!(kind, DocumentKind::Journal | DocumentKind::StockAdjustments) {
        mark_included(conn, d, doc_id)?;
    }
    Ok(())
}

/// Makes `doc_id` the stock baseline if it is the latest one held, and marks the movements it
/// already includes (those present in their document at the heads it lists).
pub(crate) fn project_baseline(conn: &Connection, d: &mut Docs, doc_id: &str) -> CoreResult<()> {
    let b: StockBaselineDoc = docs::read(d.get(conn, doc_id)?)?;
    let latest: Option<String> = conn
        .query_row(
            "SELECT max(scope) FROM documents WHERE kind = 'stock-baseline'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if latest.is_some_and(|l| l > b.business_date.to_string()) {
        return Ok(());
    }
    conn.execute("DELETE FROM stock_baseline", [])?;
    {
        let mut ins = conn
            .prepare_cached("INSERT INTO stock_baseline (product_id, quantity) VALUES (?1, ?2)")?;
        for (p, q) in &b.on_hand {
            ins.execute(params![p, q.to_string()])?;
        }
    }
    conn.execute("UPDATE stock_movements SET in_baseline = 0", [])?;
    conn.execute("DELETE FROM stock_baseline_included", [])?;
    for inc in &b.included {
        let id = docs::id_of(&inc.url).to_string();
        conn.prepare_cached(
            "INSERT OR REPLACE INTO stock_baseline_included (doc_id, heads) VALUES (?1, ?2)",
        )?
        .execute(params![id, json(&inc.heads)?])?;
        if d.exists(conn, &id)? {
            mark_in_baseline(conn, d, &id, &inc.heads)?;
        }
    }
    Ok(())
}

/// Marks the movements of a document the latest baseline includes (those present at the heads
/// it lists) after the document changed: a journal or adjustment that arrives after the baseline
/// must not count what the baseline already counts.
pub(crate) fn mark_included(conn: &Connection, d: &mut Docs, doc_id: &str) -> CoreResult<()> {
    let heads: Option<String> = conn
        .prepare_cached("SELECT heads FROM stock_baseline_included WHERE doc_id = ?1")?
        .query_row([doc_id], |r| r.get(0))
        .optional()?;
    let Some(heads) = heads else {
        return Ok(());
    };
    let heads: Vec<String> = serde_json::from_str(&heads)?;
    mark_in_baseline(conn, d, doc_id, &heads)
}

/// Sets `in_baseline` on the movements of `id` whose entry exists in the document at `heads`.
fn mark_in_baseline(conn: &Connection, d: &mut Docs, id: &str, heads: &[String]) -> CoreResult<()> {
    let doc = d.get(conn, id)?;
    let heads: Vec<ChangeHash> = heads
        .iter()
        .filter_map(|h| ChangeHash::from_str(h).ok())
        .filter(|h| documents::has_change(doc.document(), h))
        .collect();
    if heads.is_empty() {
        return Ok(());
    }
    let rows: Vec<(String, String, String)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT movement_id, source_map, source_key FROM stock_movements
             WHERE source_doc = ?1 AND in_baseline = 0",
        )?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (mid, map, key) in rows {
        let included = match doc.get_at(automerge::ROOT, map.as_str(), &heads)? {
            Some((_, obj)) => doc.get_at(&obj, key.as_str(), &heads)?.is_some(),
            None => false,
        };
        if included {
            conn.prepare_cached(
                "UPDATE stock_movements SET in_baseline = 1 WHERE movement_id = ?1",
            )?
            .execute([mid])?;
        }
    }
    Ok(())
}

/// The tables that are projections of documents (cleared and refilled by a rebuild).
pub const PROJECTED_TABLES: &[&str] = &[
    "categories",
    "promotions",
    "products",
    "products_fts",
    "barcodes",
    "sales",
    "sale_lines",
    "payments",
    "refunds",
    "voids",
    "shifts",
    "cash_movements",
    "stock_movements",
    "stock_baseline",
    "stock_baseline_included",
];

/// Clears the projected tables and refills them from every document held.
pub(crate) fn rebuild(conn: &Connection, d: &mut Docs) -> CoreResult<usize> {
    for t in PROJECTED_TABLES {
        conn.execute(&format!("DELETE FROM {t}"), [])?;
    }
    let docs_held: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT doc_id, kind FROM documents
             ORDER BY CASE kind WHEN 'stock-baseline' THEN 1 ELSE 0 END, kind, scope",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut n = 0;
    for (id, kind) in &docs_held {
        let kind = DocumentKind::parse(kind).ok_or_else(|| CoreError::Document {
            doc: id.clone(),
            reason: format!("unknown kind {kind}"),
        })?;
        if !d.exists(conn, id)? {
            continue;
        }
        project_doc(conn, d, id, kind)?;
        n += 1;
    }
    // Voids recorded in a later journal than their sale.
    conn.execute(
        "DELETE FROM stock_movements WHERE source_map = 'sales'
         AND source_key IN (SELECT sale_id FROM voids)",
        [],
    )?;
    Ok(n)
}

/// Journal sections (`sales`, `refunds`, …) and the keys of their entries that a change touched.
pub(crate) type TouchedEntries =
    std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

/// Projects a change to a document that this store already held: only the entries its
/// `patches` touched for a journal or a catalog, else (a new document, a change outside the
/// entry maps, another kind) the whole document.
pub(crate) fn project_change(
    conn: &Connection,
    d: &mut Docs,
    doc_id: &str,
    kind: DocumentKind,
    patches: Option<Vec<automerge::Patch>>,
) -> CoreResult<()> {
    let sections: &[&str] = match kind {
        DocumentKind::Journal => &JOURNAL_SECTIONS,
        DocumentKind::Catalog => &CATALOG_SECTIONS,
        _ => &[],
    };
    let touched = patches
        .filter(|_| !sections.is_empty())
        .and_then(|p| touched_entries(&p, sections));
    match touched {
        Some(entries) if kind == DocumentKind::Catalog => {
            project_catalog_entries(conn, d, doc_id, &entries)
        }
        Some(entries) => project_journal_entries(conn, d, doc_id, &entries),
        None => project_doc(conn, d, doc_id, kind),
    }
}

/// A journal's entry maps, voids first: a sale projected after its void must not bring its
/// stock movements back.
pub(crate) const JOURNAL_SECTIONS: [&str; 6] = [
    "voids",
    "sales",
    "refunds",
    "shifts",
    "cash_movements",
    "stock_movements",
];

/// A catalog's entry maps.
pub(crate) const CATALOG_SECTIONS: [&str; 3] = ["products", "categories", "promotions"];

/// The entries of `sections` that `patches` changed, or `None` when a patch reached anything
/// else (the root, a new section): then the whole document is projected. Projecting only what
/// changed keeps a received sale's cost independent of how many sales the day already holds,
/// and a received edit of one product costs one product, not the whole catalog. The patches
/// come from [`docs::with_patches`], so finding them costs what the change costs too.
pub(crate) fn touched_entries(
    patches: &[automerge::Patch],
    sections: &[&str],
) -> Option<TouchedEntries> {
    use automerge::{PatchAction, Prop};
    let mut touched = TouchedEntries::new();
    for patch in patches {
        let section = match patch.path.first() {
            Some((_, Prop::Map(section))) if sections.contains(&section.as_str()) => section,
            _ => return None,
        };
        let key = match (patch.path.get(1), &patch.action) {
            (Some((_, Prop::Map(key))), _) => key,
            (None, PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key }) => key,
            (
                None,
                PatchAction::Conflict {
                    prop: Prop::Map(key),
                },
            ) => key,
            _ => return None,
        };
        touched
            .entry(section.clone())
            .or_default()
            .insert(key.clone());
    }
    Some(touched)
}

/// Projects only the given entries of a journal (see [`touched_entries`]); an entry no longer
/// in the document is left alone, as a whole projection would leave its rows.
pub(crate) fn project_journal_entries(
    conn: &Connection,
    d: &mut Docs,
    doc_id: &str,
    touched: &TouchedEntries,
) -> CoreResult<()> {
    use automerge::ReadDoc;
    let own_terminal = own_terminal_code(conn)?;
    let doc = d.get(conn, doc_id)?;
    let entry =
        |doc: &automerge::AutoCommit, section: &str| -> CoreResult<Option<automerge::ObjId>> {
            Ok(match doc.get(automerge::ROOT, section)? {
                Some((automerge::Value::Object(_), id)) => Some(id),
                _ => None,
            })
        };
    let bad = |e: autosurgeon::HydrateError| CoreError::Document {
        doc: doc_id.to_string(),
        reason: e.to_string(),
    };
    for section in JOURNAL_SECTIONS {
        let (Some(keys), Some(obj)) = (touched.get(section), entry(doc, section)?) else {
            continue;
        };
        for key in keys {
            if doc.get(&obj, key.as_str())?.is_none() {
                continue;
            }
            match section {
                "voids" => project_void(
                    conn,
                    &autosurgeon::hydrate_prop(doc, &obj, key.as_str()).map_err(bad)?,
                    doc_id,
                )?,
                "sales" => {
                    let s: Sale =
                        autosurgeon::hydrate_prop(doc, &obj, key.as_str()).map_err(bad)?;
                    s.check()?;
                    project_sale(conn, &s, doc_id)?;
                    if own_terminal.as_deref() == Some(s.receipt_no.terminal_code.as_str()) {
                        bump_sequence(conn, &s.business_date.to_string(), s.receipt_no.sequence)?;
                    }
                }
                "refunds" => {
                    let r: Refund =
                        autosurgeon::hydrate_prop(doc, &obj, key.as_str()).map_err(bad)?;
                    project_refund(conn, &r, doc_id)?;
                    if own_terminal.as_deref() == Some(r.receipt_no.terminal_code.as_str()) {
                        bump_sequence(conn, &r.business_date.to_string(), r.receipt_no.sequence)?;
                    }
                }
                "shifts" => project_shift(
                    conn,
                    &autosurgeon::hydrate_prop(doc, &obj, key.as_str()).map_err(bad)?,
                    doc_id,
                )?,
                "cash_movements" => project_cash_movement(
                    conn,
                    &autosurgeon::hydrate_prop(doc, &obj, key.as_str()).map_err(bad)?,
                    doc_id,
                )?,
                _ => {
                    let m: shared_model::stock::StockMovement =
                        autosurgeon::hydrate_prop(doc, &obj, key.as_str()).map_err(bad)?;
                    insert_movement(conn, &m, doc_id, "stock_movements", key)?;
                }
            }
        }
    }
    mark_included(conn, d, doc_id)
}

/// Projects a whole catalog: its products read straight from the document in one pass (see
/// `shared_model::documents::catalog_entries`), its categories and promotions (few) hydrated.
pub(crate) fn project_catalog(conn: &Connection, d: &mut Docs, doc_id: &str) -> CoreResult<()> {
    let doc = d.get(conn, doc_id)?;
    let bad = |reason: String| CoreError::Document {
        doc: doc_id.to_string(),
        reason,
    };
    for section in ["categories", "promotions"] {
        let Ok(obj) = docs::root_map(doc, section) else {
            continue;
        };
        let keys: Vec<String> = doc.keys(&obj).collect();
        for key in keys {
            project_catalog_entry(conn, doc, &obj, section, &key)
                .map_err(|e| bad(e.to_string()))?;
        }
    }
    let products = docs::root_map(doc, "products")?;
    let all = catalog_entries::read_all_products(doc, &products).map_err(|e| bad(e.to_string()))?;
    upsert_products(conn, all.iter().map(|(_, p)| p), || Ok(()))
}

/// Projects only the given catalog entries (see [`touched_entries`]); an entry no
/// longer in the document loses its rows, as a rebuild would leave it out.
pub(crate) fn project_catalog_entries(
    conn: &Connection,
    d: &mut Docs,
    doc_id: &str,
    touched: &TouchedEntries,
) -> CoreResult<()> {
    let doc = d.get(conn, doc_id)?;
    for (section, keys) in touched {
        let obj = docs::root_map(doc, section)?;
        for key in keys {
            project_catalog_entry(conn, doc, &obj, section, key).map_err(|e| {
                CoreError::Document {
                    doc: doc_id.to_string(),
                    reason: e.to_string(),
                }
            })?;
        }
    }
    Ok(())
}

/// Upserts one catalog entry from the document, or deletes its rows when it is absent.
fn project_catalog_entry(
    conn: &Connection,
    doc: &automerge::AutoCommit,
    obj: &automerge::ObjId,
    section: &str,
    key: &str,
) -> CoreResult<()> {
    let present = doc.get(obj, key)?.is_some();
    let hydrate_err = |e: autosurgeon::HydrateError| CoreError::Document {
        doc: String::new(),
        reason: format!("{section}/{key}: {e}"),
    };
    match (section, present) {
        ("products", true) => {
            if let Some(p) =
                catalog_entries::read_product(doc, obj, key).map_err(|e| CoreError::Document {
                    doc: String::new(),
                    reason: format!("{section}/{key}: {e}"),
                })?
            {
                upsert_product(conn, &p)?;
            }
        }
        ("products", false) => delete_product(conn, key)?,
        ("categories", true) => upsert_category(
            conn,
            &autosurgeon::hydrate_prop(doc, obj, key).map_err(hydrate_err)?,
        )?,
        ("categories", false) => {
            conn.prepare_cached("DELETE FROM categories WHERE category_id = ?1")?
                .execute([key])?;
        }
        ("promotions", true) => upsert_promotion(
            conn,
            &autosurgeon::hydrate_prop(doc, obj, key).map_err(hydrate_err)?,
        )?,
        ("promotions", false) => {
            conn.prepare_cached("DELETE FROM promotions WHERE promotion_id = ?1")?
                .execute([key])?;
        }
        _ => {}
    }
    Ok(())
}

/// Removes a product's rows (its search entry and barcodes too).
fn delete_product(conn: &Connection, product_id: &str) -> CoreResult<()> {
    let rowid: Option<i64> = conn
        .prepare_cached("DELETE FROM products WHERE product_id = ?1 RETURNING rowid")?
        .query_row([product_id], |r| r.get(0))
        .optional()?;
    if let Some(rowid) = rowid {
        conn.prepare_cached("DELETE FROM products_fts WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    conn.prepare_cached("DELETE FROM barcodes WHERE product_id = ?1")?
        .execute([product_id])?;
    Ok(())
}
