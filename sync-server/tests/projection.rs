//! Documents synced by a terminal are projected into the report tables;
//! projection is idempotent and `reproject` rebuilds the same numbers.

mod common;

use std::time::{Duration, Instant};

use common::*;
use shared_model::cart::{Cart, ProductSnapshot};
use shared_model::catalog::{Product, Unit};
use shared_model::codec::Timestamp;
use shared_model::documents::{self, CatalogDoc, JournalDoc};
use shared_model::ids::{SaleId, UserId};
use shared_model::money::{Money, Quantity};
use shared_model::payment::{PaymentMethod, QrisMode, Tender};
use shared_model::pricing::{PricingPolicy, price_cart};
use shared_model::receipt_number::ReceiptNumber;
use shared_model::sale::{Sale, SaleContext};
use shared_model::settings::StoreSettings;
use sync_server::reports::DateRange;
use sync_server::storage::DynStorage;

fn sample(store_id: &str) -> (JournalDoc, CatalogDoc, String) {
    let settings = StoreSettings::indonesia("Toko", "Jl. Test 1");
    let currency = settings.currency();
    let mut indomie = Product::new("IDM", "Indomie Goreng", Money::from_i64(3_500), "standard");
    indomie.unit = Unit::Piece;
    let mut kopi = Product::new("KOP", "Kopi Susu", Money::from_i64(12_000), "standard");
    kopi.unit = Unit::Piece;
    let snap = |p: &Product| {
        ProductSnapshot::of(p, None, settings.tax_rule("standard").unwrap().clone()).unwrap()
    };
    let now = Timestamp::now();
    let day = settings.business_day.business_date(now).unwrap();
    let mut journal = JournalDoc::new(store_id, "T1", day);
    let cashier = UserId::new();
    let policy = PricingPolicy {
        currency: currency.clone(),
        price_mode: settings.price_mode,
        promotions: vec![],
    };
    let tenders: [Vec<Tender>; 2] = [
        vec![Tender::cash(Money::from_i64(20_000))],
        vec![Tender::with(
            PaymentMethod::Qris {
                mode: QrisMode::Dynamic,
            },
            Money::from_i64(19_000),
            Some("Q1"),
        )],
    ];
    for (seq, t) in tenders.iter().enumerate() {
        let mut cart = Cart::new();
        cart.add(snap(&indomie), Quantity::from_i64(2)).unwrap();
        if seq == 1 {
            cart.add(snap(&kopi), Quantity::from_i64(1)).unwrap();
        }
        let priced = price_cart(&cart, &policy).unwrap();
        let ctx = SaleContext {
            id: SaleId::new(),
            receipt_no: ReceiptNumber::new("A1", "T1", day, seq as u32 + 1).unwrap(),
            created_at: now,
            cashier_id: cashier,
            shift_id: None,
            currency: currency.clone(),
            price_mode: settings.price_mode,
            cash_unit: settings.cash_unit(),
        };
        let sale = Sale::checkout(priced, t, ctx, None).unwrap();
        journal.sales.insert(sale.id.to_string(), sale);
    }
    let mut catalog = CatalogDoc::new(store_id);
    // Two tills added the same SKU while offline: a conflict to flag.
    let dup = Product::new(
        "idm",
        "Indomie (entered twice)",
        Money::from_i64(3_500),
        "standard",
    );
    for p in [indomie, kopi, dup] {
        catalog.products.insert(p.id.to_string(), p);
    }
    (journal, catalog, day.0.to_string())
}

fn to_automerge<D: documents::Document>(d: &D) -> automerge::Automerge {
    let mut ac = documents::create(d).unwrap();
    automerge::Automerge::load(&ac.save()).unwrap()
}

/// `pg_url`: the PostgreSQL database behind `storage`, if it is one (to read row versions).
async fn story(storage: DynStorage, pg_url: Option<String>) {
    let server = TestServer::start(storage).await;
    let a = setup_tenant(&server.state, "Toko A", "A1").await;
    let (journal, catalog, day) = sample(&a.store_id);
    let (repo, _d) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let jdoc = repo.create(to_automerge(&journal)).await.unwrap();
    repo.create(to_automerge(&catalog)).await.unwrap();

    let s = &server.state.services;
    let range = DateRange {
        from: day.clone(),
        to: day.clone(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let by_day = loop {
        let r = s.sales_by_day(&a.owner, &a.store_id, &range).await.unwrap();
        if r.first().is_some_and(|d| d.sales == 2) {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "projection did not happen: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let total: rust_decimal::Decimal = by_day[0].total.parse().unwrap();
    assert_eq!(total, rust_decimal::Decimal::from(7_000 + 19_000));
    // A journal new to the server is projected whole from the copy its sync repo holds, not
    // loaded from storage and its changes applied again.
    assert!(
        server.state.sync.projector.live_projections() >= 1,
        "the new journal's first projection did not read the live copy"
    );
    let methods = s
        .sales_by_payment_method(&a.owner, &a.store_id, &range)
        .await
        .unwrap();
    let keys: Vec<_> = methods
        .iter()
        .map(|m| (m.method.as_str(), m.payments))
        .collect();
    assert_eq!(keys, [("cash", 1), ("qris_dynamic", 1)]);
    let products = s
        .sales_by_product(&a.owner, &a.store_id, &range)
        .await
        .unwrap();
    assert_eq!(products.len(), 2);
    let stock = s.stock_on_hand(&a.owner, &a.store_id).await.unwrap();
    let qty: Vec<rust_decimal::Decimal> =
        stock.iter().map(|x| x.quantity.parse().unwrap()).collect();
    assert!(qty.contains(&rust_decimal::Decimal::from(-4)), "{stock:?}");

    let by_cashier = s
        .sales_by_cashier(&a.owner, &a.store_id, &range)
        .await
        .unwrap();
    assert_eq!((by_cashier.len(), by_cashier[0].count), (1, 2));
    let by_category = s
        .sales_by_category(&a.owner, &a.store_id, &range)
        .await
        .unwrap();
    assert_eq!(
        by_category.iter().map(|k| k.count).sum::<i64>(),
        3,
        "three lines"
    );
    assert!(
        s.refunds(&a.owner, &a.store_id, &range)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.shifts(&a.owner, &a.store_id, &range)
            .await
            .unwrap()
            .is_empty()
    );
    let csv = s.sales_csv(&a.owner, &a.store_id, &range).await.unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("sale_id,receipt_no"));
    assert!(csv.contains("\"A1-T1-"), "{csv}");

    // The catalog is projected on its own schedule: wait for it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let conflicts = loop {
        let c = s.conflicts(&a.owner, &a.store_id).await.unwrap();
        if !c.is_empty() {
            break c;
        }
        assert!(Instant::now() < deadline, "catalog never projected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(
        (conflicts[0].kind.as_str(), conflicts[0].key.as_str()),
        ("duplicate_sku", "duplicate-sku:idm")
    );

    // More changes to the same document: each sale still appears once.
    jdoc.with_document(|d| {
        use automerge::transaction::Transactable;
        d.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "unrelated", 1)?;
            Ok(())
        })
        .map(|_| ())
        .map_err(|f| f.error.to_string())
    })
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.state.sync.projector.flush(&s.storage).await.unwrap();
    let again = s.sales_by_day(&a.owner, &a.store_id, &range).await.unwrap();
    assert_eq!(again[0].sales, 2);

    // Rebuilding from the stored documents changes nothing, however often.
    for _ in 0..2 {
        let n = sync_server::projection::reproject_all(&s.storage)
            .await
            .unwrap();
        assert!(n >= 2, "{n}");
        let r = s.sales_by_day(&a.owner, &a.store_id, &range).await.unwrap();
        assert_eq!((r[0].sales, &r[0].total), (2, &by_day[0].total));
        assert_eq!(
            s.stock_on_hand(&a.owner, &a.store_id).await.unwrap().len(),
            stock.len()
        );
    }

    // The projector writes only what changed since it last projected a document; a
    // projection by someone else in between (the reprojections above) makes it write whole.
    // Either way the rows are those of a whole projection.
    let first = journal.sales.values().next().unwrap().clone();
    let mut third = first.clone();
    third.id = SaleId::new();
    third.receipt_no = ReceiptNumber::new("A1", "T1", first.business_date, 3).unwrap();
    let third_key = third.id.to_string();
    let edit = |f: &dyn Fn(&mut automerge::transaction::Transaction<'_>, &automerge::ObjId)| {
        jdoc.with_document(|d| {
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                use automerge::ReadDoc;
                let (_, sales) = tx.get(automerge::ROOT, "sales")?.unwrap();
                f(tx, &sales);
                Ok(())
            })
            .map(|_| ())
            .map_err(|f| f.error.to_string())
        })
        .unwrap()
    };
    let projected = async |sales: i64| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            server.state.sync.projector.flush(&s.storage).await.unwrap();
            let r = s.sales_by_day(&a.owner, &a.store_id, &range).await.unwrap();
            if r.first().is_some_and(|d| d.sales == sales) {
                break r;
            }
            assert!(
                Instant::now() < deadline,
                "{sales} sales never projected: {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    edit(&|tx, sales| autosurgeon::reconcile_prop(tx, sales, third_key.as_str(), &third).unwrap());
    let three = projected(3).await;
    let expected: rust_decimal::Decimal =
        by_day[0].total.parse::<rust_decimal::Decimal>().unwrap() + first.total().amount();
    assert_eq!(
        three[0].total.parse::<rust_decimal::Decimal>().unwrap(),
        expected
    );
    let lines = s
        .sales_by_category(&a.owner, &a.store_id, &range)
        .await
        .unwrap();
    assert_eq!(
        lines.iter().map(|k| k.count).sum::<i64>(),
        3 + first.lines.len() as i64
    );
    // Rows of the sales before (PostgreSQL's row versions): a delta must leave them alone.
    let versions = async || match &pg_url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let v: Vec<String> = sqlx::query_scalar(
                "SELECT id || ':' || xmin::text FROM sales WHERE id <> $1 ORDER BY id",
            )
            .bind(&third_key)
            .fetch_all(&pool)
            .await
            .unwrap();
            pool.close().await;
            v
        }
        None => Vec::new(),
    };
    let before_delta = versions().await;
    // A record gone from the document loses its rows (its lines and payments too).
    edit(&|tx, sales| {
        use automerge::transaction::Transactable;
        tx.delete(sales, third_key.as_str()).unwrap()
    });
    let two = projected(2).await;
    assert_eq!(two[0].total, by_day[0].total);
    assert_eq!(
        versions().await,
        before_delta,
        "unchanged sales were rewritten"
    );
    let methods_now = s
        .sales_by_payment_method(&a.owner, &a.store_id, &range)
        .await
        .unwrap();
    assert_eq!(methods_now.len(), methods.len());
    assert_eq!(
        s.sales_by_category(&a.owner, &a.store_id, &range)
            .await
            .unwrap()
            .iter()
            .map(|k| k.count)
            .sum::<i64>(),
        3
    );

    // A journal that only gained a sale since this instance projected it is read from the
    // copy the server's sync repo holds, not loaded from storage; its rows are the same.
    let live_before = server.state.sync.projector.live_projections();
    let mut fourth = first.clone();
    fourth.id = SaleId::new();
    fourth.receipt_no = ReceiptNumber::new("A1", "T1", first.business_date, 4).unwrap();
    let fourth_key = fourth.id.to_string();
    edit(&|tx, sales| {
        autosurgeon::reconcile_prop(tx, sales, fourth_key.as_str(), &fourth).unwrap()
    });
    let three_again = projected(3).await;
    assert_eq!(
        (three_again[0].sales, &three_again[0].total),
        (3, &three[0].total)
    );
    assert_eq!(
        server.state.sync.projector.live_projections(),
        live_before + 1
    );
    assert_eq!(
        versions().await.len(),
        before_delta.len() + usize::from(pg_url.is_some())
    );

    // Another tenant's owner cannot read the reports; bad dates are refused.
    let b = setup_tenant(&server.state, "Toko B", "B1").await;
    assert!(matches!(
        s.sales_by_day(&b.owner, &a.store_id, &range).await,
        Err(sync_server::Error::NotFound(_))
    ));
    let bad = DateRange {
        from: "2025-13-01".into(),
        to: day,
    };
    assert!(matches!(
        s.sales_by_day(&a.owner, &a.store_id, &bad).await,
        Err(sync_server::Error::BadRequest(_))
    ));
    repo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_sqlite() {
    let (s, _dir) = sqlite_storage().await;
    story(s, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_postgres() {
    let db = TestDb::create().await;
    story(db.storage().await, Some(db.url.clone())).await;
}

/// A journal that only gained sales is projected from its new sales alone, with the rows the
/// whole projection makes of them; anything else it gains sends it to the whole projection.
#[test]
fn a_journal_that_gained_sales_projects_only_them() {
    use shared_model::ids::VoidId;
    use shared_model::sale::Void;
    use sync_server::projection::{project, project_sales, sales_added_since};

    let (journal, _, _) = sample("store-1");
    let mut sales: Vec<Sale> = journal.sales.values().cloned().collect();
    sales.sort_by_key(|s| s.receipt_no.to_string());
    let mut first_only = journal.clone();
    first_only
        .sales
        .retain(|k, _| *k == sales[0].id.to_string());
    let mut doc = documents::create(&first_only).unwrap();
    let before = doc.get_heads();

    // The second sale arrives as a till puts it: one entry into the sales map.
    let second = sales[1].id.to_string();
    documents::put_entries(&mut doc, "sales", &[(second.clone(), &sales[1])]).unwrap();
    doc.commit();
    // The new sale is found from the change that put it, and read equal to what the till wrote.
    let added = sales_added_since(doc.document(), &before).expect("only sales were added");
    assert_eq!(added.iter().collect::<Vec<_>>(), [(&second, &sales[1])]);
    let partial = project_sales("j1", "store-1", doc.document(), added.clone()).unwrap();
    let whole = project("j1", "store-1", &doc).unwrap().unwrap();
    assert_eq!(partial.sales.len(), 1);
    let of_second = |rows: &sync_server::projection::ProjectedDoc| {
        (
            rows.sales
                .iter()
                .filter(|r| r.id == second)
                .cloned()
                .collect::<Vec<_>>(),
            rows.sale_lines
                .iter()
                .filter(|r| r.sale_id == second)
                .cloned()
                .collect::<Vec<_>>(),
            rows.payments
                .iter()
                .filter(|r| r.sale_id == second)
                .cloned()
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(of_second(&partial), of_second(&whole));
    assert_eq!(partial.stock_movements.len(), sales[1].lines.len());
    // The claim's store is checked as the whole projection checks it.
    assert!(project_sales("j1", "store-2", doc.document(), added).is_err());
    // Nothing new since the last projection: no sale to read.
    let now = doc.get_heads();
    assert_eq!(
        sales_added_since(doc.document(), &now),
        Some(Default::default())
    );

    // A sale from before written again, changed: not a new sale, the whole projection is needed.
    use automerge::ReadDoc;
    use automerge::transaction::Transactable;
    let mut edited = doc.clone();
    let mut changed = sales[0].clone();
    changed.note = Some("changed".into());
    documents::put_entries(&mut edited, "sales", &[(sales[0].id.to_string(), &changed)]).unwrap();
    edited.commit();
    assert_eq!(sales_added_since(edited.document(), &now), None);

    // A till of schema 1 writes a sale as a map of its fields: found the same way, and a field
    // of it changed afterwards is not an addition.
    let mut older = first_only.clone();
    older.sales.clear();
    let mut older = documents::create(&older).unwrap();
    let since = older.get_heads();
    let fields = shared_model::sale::SaleFields::from(sales[1].clone());
    documents::put_entries(&mut older, "sales", &[(second.clone(), &fields)]).unwrap();
    older.commit();
    let added = sales_added_since(older.document(), &since).expect("a schema 1 sale was added");
    assert_eq!(added.iter().collect::<Vec<_>>(), [(&second, &sales[1])]);
    let at_second = older.get_heads();
    let (_, sales_map) = older.get(automerge::ROOT, "sales").unwrap().unwrap();
    let (_, map) = older.get(&sales_map, second.as_str()).unwrap().unwrap();
    older.put(&map, "note", "changed").unwrap();
    older.commit();
    assert_eq!(sales_added_since(older.document(), &at_second), None);
    // A sale taken away: not an addition either.
    let mut deleted = doc.clone();
    let (_, sales_map) = deleted.get(automerge::ROOT, "sales").unwrap().unwrap();
    deleted.delete(&sales_map, second.as_str()).unwrap();
    deleted.commit();
    assert_eq!(sales_added_since(deleted.document(), &now), None);

    // A void changes an old sale's rows: the whole projection is needed.
    let void = Void {
        id: VoidId::new(),
        sale_id: sales[0].id,
        receipt_no: sales[0].receipt_no.clone(),
        at: Timestamp::now(),
        by: sales[0].cashier_id,
        authorized_by: sales[0].cashier_id,
        reason: "wrong item".into(),
    };
    documents::put_entries(&mut doc, "voids", &[(void.id.to_string(), &void)]).unwrap();
    doc.commit();
    assert_eq!(sales_added_since(doc.document(), &now), None);
    // Heads the journal never had: the whole projection too.
    let mut other = documents::create(&first_only).unwrap();
    assert_eq!(sales_added_since(doc.document(), &other.get_heads()), None);
}

/// A document of another web product synced through the server: no `kind` of ours.
fn another_apps_note() -> automerge::Automerge {
    use automerge::transaction::Transactable;
    let mut note = automerge::Automerge::new();
    note.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, "title", "a note of another app")?;
        Ok(())
    })
    .unwrap();
    note
}

/// One change to `doc` on the client: `key` set to 1.
fn edit(doc: &samod::DocHandle, key: &str) {
    use automerge::transaction::Transactable;
    doc.with_document(|d| {
        d.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, key, 1)?;
            Ok(())
        })
        .map(|_| ())
        .map_err(|f| f.error.to_string())
    })
    .unwrap()
}

/// Once another web product's document has been passed over, its later changes are passed over
/// from its live copy without reading its claim from the database again: with the claim's row
/// gone, they are still counted as passed over (without the shortcut the projector finds no
/// claim and counts nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_not_of_ours_is_passed_over_without_a_database_read() {
    let (storage, dir) = sqlite_storage().await;
    let server = TestServer::start(storage).await;
    let a = setup_tenant(&server.state, "Toko A", "A1").await;
    let (repo, _d) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let doc = repo.create(another_apps_note()).await.unwrap();
    let projector = &server.state.sync.projector;
    let s = &server.state.services;
    let mut n = 0;
    let mut change = || {
        n += 1;
        edit(&doc, &format!("edit-{n}"));
    };
    eventually("the other app's document passed over once", async || {
        change();
        tokio::time::sleep(Duration::from_millis(300)).await;
        projector.flush(&s.storage).await.unwrap();
        (projector.passed_over() >= 1).then_some(())
    })
    .await;
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("snapkasir-server.db").display()
    ))
    .await
    .unwrap();
    let removed = sqlx::query("DELETE FROM doc_claims WHERE doc_id = ?")
        .bind(doc.document_id().to_string())
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(removed.rows_affected(), 1);
    let before = projector.passed_over();
    eventually(
        "its next changes passed over from the live copy",
        async || {
            change();
            tokio::time::sleep(Duration::from_millis(300)).await;
            projector.flush(&s.storage).await.unwrap();
            (projector.passed_over() >= before + 2).then_some(())
        },
    )
    .await;
    db.close().await;
    repo.stop().await;
}

/// Another web product's document (no `kind` of ours) changing on the server is passed over
/// from its live copy, not loaded from storage on every change; the same document once it
/// holds a journal is projected like any journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_not_of_ours_is_passed_over_until_it_is_one() {
    let (storage, _dir) = sqlite_storage().await;
    let server = TestServer::start(storage).await;
    let a = setup_tenant(&server.state, "Toko A", "A1").await;
    let (journal, _, day) = sample(&a.store_id);
    let (repo, _d) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let doc = repo.create(another_apps_note()).await.unwrap();
    let projector = &server.state.sync.projector;
    let s = &server.state.services;
    let change = |key: &str| edit(&doc, key);
    let mut n = 0;
    eventually("the other app's document passed over 3 times", async || {
        n += 1;
        change(&format!("edit-{n}"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        projector.flush(&s.storage).await.unwrap();
        (projector.passed_over() >= 3).then_some(())
    })
    .await;
    let range = DateRange {
        from: day.clone(),
        to: day.clone(),
    };
    assert!(
        s.sales_by_day(&a.owner, &a.store_id, &range)
            .await
            .unwrap()
            .is_empty()
    );

    // The same document made a journal of this store: its sales are projected.
    doc.with_document(|d| {
        let mut ac = automerge::AutoCommit::load(&d.save()).unwrap();
        ac.set_actor(automerge::ActorId::random());
        documents::write(&mut ac, &journal).unwrap();
        d.apply_changes(ac.get_changes(&d.get_heads())).unwrap();
    });
    eventually(
        "the document made a journal projected with its 2 sales",
        async || {
            projector.flush(&s.storage).await.unwrap();
            let r = s.sales_by_day(&a.owner, &a.store_id, &range).await.unwrap();
            r.first().is_some_and(|d| d.sales == 2).then_some(())
        },
    )
    .await;
    repo.stop().await;
}

/// The rows of a journal with `sales` sales (the last one voided), no lines or payments.
fn journal_rows(doc_id: &str, sales: usize) -> sync_server::storage::ProjectedDoc {
    let sale = |n: usize| sync_server::storage::SaleRow {
        id: format!("{doc_id}-sale-{n}"),
        terminal_code: "T1".into(),
        business_date: "2026-12-06".into(),
        created_at: 1_796_500_000_000 + n as i64,
        cashier_id: "cashier".into(),
        receipt_no: format!("T1-{n}"),
        total_e4: 35_000_000,
        tax_e4: 3_500_000,
        discount_e4: 0,
        voided: n + 1 == sales,
        void: (n + 1 == sales).then(|| sync_server::storage::VoidDetail {
            at: 1_796_500_100_000,
            reason: "wrong item".into(),
            authorized_by: "owner".into(),
        }),
        receipt_token: None,
    };
    sync_server::storage::ProjectedDoc {
        doc_id: doc_id.into(),
        tenant_id: "tenant".into(),
        store_id: "store".into(),
        kind: "journal".into(),
        sales: (0..sales).map(sale).collect(),
        ..Default::default()
    }
}

/// A projected sale's id, receipt number, void and receipt token, as read back.
type SaleColumns = (
    String,
    String,
    bool,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// On PostgreSQL a projected table's rows are inserted with one statement text whatever their
/// number, prepared once per connection; as a `VALUES` list, each row count was a statement
/// parsed and planned on every execution. Two journals of one and three sales, through a pool
/// of one connection: one prepared `INSERT INTO sales`, and every value in its column.
#[tokio::test]
async fn projected_rows_are_inserted_with_one_prepared_statement_per_table_on_postgres() {
    use sync_server::storage::{ProjectionStorage, Storage};
    let db = TestDb::create().await;
    let storage = sync_server::storage::PgStorage::connect(&db.url, 1)
        .await
        .unwrap();
    storage.migrate().await.unwrap();
    for (doc_id, sales) in [("doc-a", 1), ("doc-b", 3)] {
        storage
            .project_doc(&journal_rows(doc_id, sales))
            .await
            .unwrap();
    }
    let pool = storage.pool();
    let prepared: Vec<String> = sqlx::query_scalar(
        "SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO sales %'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        prepared.len(),
        1,
        "the sales of both journals should go through one prepared statement: {prepared:?}"
    );
    let rows: Vec<SaleColumns> = sqlx::query_as(
        "SELECT id, receipt_no, voided, voided_at, void_reason, receipt_token FROM sales \
             ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (
                "doc-a-sale-0".into(),
                "T1-0".into(),
                true,
                Some(1_796_500_100_000),
                Some("wrong item".into()),
                None
            ),
            (
                "doc-b-sale-0".into(),
                "T1-0".into(),
                false,
                None,
                None,
                None
            ),
            (
                "doc-b-sale-1".into(),
                "T1-1".into(),
                false,
                None,
                None,
                None
            ),
            (
                "doc-b-sale-2".into(),
                "T1-2".into(),
                true,
                Some(1_796_500_100_000),
                Some("wrong item".into()),
                None
            ),
        ]
    );
}
