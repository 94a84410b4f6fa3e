//! Every document kind round-trips through automerge, and concurrent edits merge.

mod common;
#[path = "../../tests/corpus/automerge.rs"]
mod corpus;

use automerge::AutoCommit;
use common::*;
use shared_model::cart::Cart;
use shared_model::catalog::{Category, Product};
use shared_model::codec::Timestamp;
use shared_model::documents::{
    self, CartClaim, CatalogDoc, Document, DocumentKind, IncludedDoc, JournalDoc, JournalRef,
    ParkedCart, ParkedCartsDoc, PeriodIndexDoc, SettingsDoc, StockAdjustmentsDoc, StockBaselineDoc,
    StoreRootDoc, UsersDoc,
};
use shared_model::ids::{CategoryId, UserId};
use shared_model::money::Quantity;
use shared_model::settings::StoreSettings;
use shared_model::shift::Shift;
use shared_model::stock::{MovementKind, StockCount, StockMovement};
use shared_model::tax::{PriceMode, TaxRule};
use shared_model::users::{Role, StoreUser};

fn round_trip<D: Document + PartialEq + std::fmt::Debug>(value: &D) {
    let mut doc = documents::create(value).unwrap();
    let bytes = doc.save();
    let loaded = documents::load_bytes(&bytes).unwrap();
    assert_eq!(DocumentKind::of(&loaded), Some(D::KIND));
    let back: D = documents::read(&loaded).unwrap();
    assert_eq!(&back, value);
}

fn journal() -> JournalDoc {
    let mut j = JournalDoc::new("store-1", "T1", date("2026-11-25"));
    let mut cart = Cart::new();
    cart.add(
        item(
            "Kopi",
            25_000,
            TaxRule::ppn_standard(),
            Some(CategoryId::new()),
        ),
        Quantity::from_i64(2),
    )
    .unwrap();
    cart.add(weighed("Apel", 42_000), Quantity(dec("0.75")))
        .unwrap();
    let sale = cash_sale(&cart, PriceMode::Inclusive, 1);
    let shift = Shift::open(
        "T1",
        sale.cashier_id,
        date("2026-11-25"),
        Timestamp::now(),
        rp(200_000),
    )
    .unwrap();
    j.shifts.insert(shift.id.to_string(), shift);
    for m in StockMovement::from_sale(&sale) {
        j.stock_movements.insert(m.id.to_string(), m);
    }
    j.sales.insert(sale.id.to_string(), sale);
    j
}

#[test]
fn every_document_kind_round_trips() {
    let mut catalog = CatalogDoc::new("store-1");
    let cat = Category {
        id: CategoryId::new(),
        name: "Minuman".into(),
        parent: None,
    };
    let mut p = Product::new("AQ-600", "Aqua 600ml", rp(4_000), "standard");
    p.category_id = Some(cat.id);
    p.barcodes.push("8992761136017".parse().unwrap());
    p.low_stock_threshold = Some(Quantity::from_i64(12));
    catalog.products.insert(p.id.to_string(), p);
    catalog.categories.insert(cat.id.to_string(), cat);
    round_trip(&catalog);

    round_trip(&journal());
    round_trip(&StoreRootDoc::new(
        "store-1",
        "JKT1",
        "Toko Maju",
        ["a".into(), "b".into(), "c".into(), "d".into()],
    ));

    let mut index = PeriodIndexDoc::new("store-1", "2026-11");
    index.journals.insert(
        "T1/2026-11-25".into(),
        JournalRef {
            url: "automerge:x".into(),
            terminal_code: "T1".into(),
            business_date: date("2026-11-25"),
        },
    );
    round_trip(&index);

    let mut adj = StockAdjustmentsDoc::new("store-1", "2026-11");
    let by = UserId::new();
    let m = StockMovement::manual(
        shared_model::ids::ProductId::new(),
        MovementKind::Receipt,
        Quantity::from_i64(24),
        Some("SJ-001".into()),
        by,
        Timestamp::now(),
    )
    .unwrap();
    adj.movements.insert(m.id.to_string(), m);
    let count = StockCount {
        id: Default::default(),
        product_id: Default::default(),
        counted: Quantity::from_i64(10),
        seen_on_hand: Quantity::from_i64(12),
        seen_heads: vec!["ab12".into()],
        at: Timestamp::now(),
        by,
    };
    assert_eq!(count.delta().unwrap(), Quantity::from_i64(-2));
    adj.counts.insert(count.id.to_string(), count);
    round_trip(&adj);

    let mut baseline = StockBaselineDoc::new("store-1", date("2026-11-25"));
    baseline.on_hand.insert("p1".into(), Quantity(dec("12.5")));
    baseline.included.push(IncludedDoc {
        url: "automerge:j".into(),
        heads: vec!["00ff".into()],
    });
    round_trip(&baseline);

    round_trip(&SettingsDoc::new(
        "store-1",
        StoreSettings::indonesia("Toko Maju", "Jl. Sudirman 1, Jakarta"),
    ));

    let mut users = UsersDoc::new("store-1");
    let u = StoreUser {
        id: UserId::new(),
        name: "Siti".into(),
        role: Role::Supervisor,
        pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        active: true,
    };
    users.users.insert(u.id.to_string(), u);
    round_trip(&users);

    let mut parked = ParkedCartsDoc::new("store-1");
    let mut cart = Cart::new();
    cart.add(item("Roti", 12_000, TaxRule::exempt(), None), Quantity::ONE)
        .unwrap();
    parked.carts.insert(
        cart.id.to_string(),
        ParkedCart {
            cart: Some(cart),
            parked_at: Timestamp::now(),
            parked_by: "Siti".into(),
            terminal_code: "T1".into(),
            label: Some("Meja 4".into()),
            claims: Default::default(),
        },
    );
    round_trip(&parked);
}

#[test]
fn reading_the_wrong_kind_or_a_newer_schema_is_an_error() {
    let doc = documents::create(&UsersDoc::new("s")).unwrap();
    assert!(documents::read::<CatalogDoc>(&doc).is_err());
    let mut newer = UsersDoc::new("s");
    newer.schema_version = documents::SCHEMA_VERSION + 1;
    let doc = documents::create(&newer).unwrap();
    let err = documents::read::<UsersDoc>(&doc).unwrap_err();
    assert!(err.to_string().contains("upgrade"), "{err}");
}

#[test]
fn a_cart_resumed_on_two_offline_tills_shows_two_claims_after_merge() {
    let mut parked = ParkedCartsDoc::new("store-1");
    let mut cart = Cart::new();
    cart.add(item("Roti", 12_000, TaxRule::exempt(), None), Quantity::ONE)
        .unwrap();
    let key = cart.id.to_string();
    parked.carts.insert(
        key.clone(),
        ParkedCart {
            cart: Some(cart),
            parked_at: Timestamp::now(),
            parked_by: "Siti".into(),
            terminal_code: "T1".into(),
            label: None,
            claims: Default::default(),
        },
    );
    let mut base = documents::create(&parked).unwrap();
    let mut till_a = base.fork();
    let mut till_b = base.fork();
    for (doc, code) in [(&mut till_a, "T1"), (&mut till_b, "T2")] {
        let mut p: ParkedCartsDoc = documents::read(doc).unwrap();
        let entry = p.carts.get_mut(&key).unwrap();
        entry.cart = None;
        entry.claims.insert(
            code.into(),
            CartClaim {
                terminal_code: code.into(),
                at: Timestamp::now(),
            },
        );
        documents::write(doc, &p).unwrap();
    }
    base.merge(&mut till_a).unwrap();
    base.merge(&mut till_b).unwrap();
    let merged: ParkedCartsDoc = documents::read(&base).unwrap();
    assert!(merged.carts[&key].is_double_claimed());
}

#[test]
fn two_terminals_journals_and_catalog_edits_merge() {
    let mut catalog = CatalogDoc::new("store-1");
    let p = Product::new("TEH-1", "Teh Botol", rp(5_000), "standard");
    let key = p.id.to_string();
    catalog.products.insert(key.clone(), p);
    let mut base = documents::create(&catalog).unwrap();
    let mut a = base.fork();
    let mut b = base.fork();
    let mut ca: CatalogDoc = documents::read(&a).unwrap();
    ca.products.get_mut(&key).unwrap().price = rp(5_500);
    documents::write(&mut a, &ca).unwrap();
    let mut cb: CatalogDoc = documents::read(&b).unwrap();
    let q = Product::new("KOPI-1", "Kopi Kapal Api", rp(2_000), "standard");
    cb.products.insert(q.id.to_string(), q);
    documents::write(&mut b, &cb).unwrap();
    base.merge(&mut a).unwrap();
    base.merge(&mut b).unwrap();
    let merged: CatalogDoc = documents::read(&base).unwrap();
    assert_eq!(merged.products.len(), 2);
    assert_eq!(merged.products[&key].price, rp(5_500));
}

#[test]
fn malformed_automerge_bytes_are_rejected_with_an_error() {
    for (name, bytes) in corpus::crashers() {
        let result = std::panic::catch_unwind(|| {
            documents::load_bytes(bytes).map(|mut d: AutoCommit| d.save())
        });
        match result {
            Ok(Err(_)) => {}
            Ok(Ok(_)) => panic!("{name} loaded although it is malformed"),
            Err(_) => panic!("{name} made automerge panic"),
        }
    }
}

#[test]
fn merged_catalog_edits_and_parked_carts_reveal_conflicts() {
    use shared_model::conflicts::{Conflict, catalog_conflicts, parked_cart_conflicts};
    let mut catalog = CatalogDoc::new("store-1");
    let mut base = documents::create(&catalog).unwrap();
    let (mut a, mut b) = (base.fork(), base.fork());
    for (doc, name) in [(&mut a, "Teh Botol"), (&mut b, "Teh Botol Sosro")] {
        let mut c: CatalogDoc = documents::read(doc).unwrap();
        let mut p = Product::new("TEH-1", name, rp(5_000), "standard");
        p.barcodes.push("8992761136017".parse().unwrap());
        c.products.insert(p.id.to_string(), p);
        documents::write(doc, &c).unwrap();
    }
    a.merge(&mut b).unwrap();
    catalog = documents::read(&a).unwrap();
    let found = catalog_conflicts(&catalog);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        matches!(&found[0], Conflict::DuplicateBarcode { barcode, products } if barcode == "8992761136017" && products.len() == 2)
    );
    assert!(matches!(&found[1], Conflict::DuplicateSku { sku, .. } if sku == "teh-1"));
    // Deactivating one of them resolves it.
    let id = catalog.products.keys().next().unwrap().clone();
    catalog.products.get_mut(&id).unwrap().active = false;
    assert!(catalog_conflicts(&catalog).is_empty());

    let mut parked = ParkedCartsDoc::new("store-1");
    let claims = [("T1", "T1"), ("T2", "T2")]
        .into_iter()
        .map(|(k, t)| {
            (
                k.to_string(),
                CartClaim {
                    terminal_code: t.into(),
                    at: Timestamp::now(),
                },
            )
        })
        .collect();
    parked.carts.insert(
        "c1".into(),
        ParkedCart {
            cart: None,
            parked_at: Timestamp::now(),
            parked_by: "Siti".into(),
            terminal_code: "T1".into(),
            label: None,
            claims,
        },
    );
    assert_eq!(
        parked_cart_conflicts(&parked),
        vec![Conflict::DoubleResumedCart {
            cart_id: "c1".into(),
            terminals: vec!["T1".into(), "T2".into()]
        }]
    );
}

#[test]
fn period_indexes_made_offline_on_two_tills_are_one_document() {
    let id = documents::period_index_id("store-1", "2026-11");
    assert_eq!(id, documents::period_index_id("store-1", "2026-11"));
    assert_ne!(id, documents::period_index_id("store-1", "2026-12"));
    assert!(shared_model::wire::check_document_id(&id).is_ok());
    let mut a = documents::period_index_genesis("store-1", "2026-11").unwrap();
    let mut b = documents::period_index_genesis("store-1", "2026-11").unwrap();
    assert_eq!(a.get_heads(), b.get_heads());
    for (doc, till) in [(&mut a, "T1"), (&mut b, "T2")] {
        let mut index: PeriodIndexDoc = documents::read(doc).unwrap();
        index.journals.insert(
            format!("{till}/2026-11-25"),
            JournalRef {
                url: format!("automerge:{till}"),
                terminal_code: till.into(),
                business_date: date("2026-11-25"),
            },
        );
        documents::write(doc, &index).unwrap();
    }
    a.merge(&mut b).unwrap();
    let merged: PeriodIndexDoc = documents::read(&a).unwrap();
    assert_eq!(merged.journals.len(), 2);
}

/// `j` with its sales written as a till of schema 1 wrote them: each a map of its fields.
fn with_schema_1_sales(j: &JournalDoc) -> AutoCommit {
    use shared_model::sale::SaleFields;
    let mut older = j.clone();
    older.schema_version = 1;
    older.sales.clear();
    let mut doc = documents::create(&older).unwrap();
    let fields: Vec<(String, SaleFields)> = j
        .sales
        .iter()
        .map(|(k, s)| (k.clone(), SaleFields::from(s.clone())))
        .collect();
    let entries: Vec<(String, &SaleFields)> = fields.iter().map(|(k, f)| (k.clone(), f)).collect();
    documents::put_entries(&mut doc, "sales", &entries).unwrap();
    doc.commit();
    doc
}

#[test]
fn a_sale_is_one_string_and_a_schema_1_sale_of_fields_still_reads() {
    use automerge::{ROOT, ReadDoc, ScalarValue, Value};
    let j = journal();
    let doc = documents::create(&j).unwrap();
    assert_eq!(j.schema_version, documents::SCHEMA_VERSION);
    let (_, sales) = doc.get(ROOT, "sales").unwrap().expect("sales");
    for key in j.sales.keys() {
        let (value, _) = doc.get(&sales, key.as_str()).unwrap().expect("the sale");
        assert!(
            matches!(&value, Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Str(_))),
            "a sale of schema 2 is its JSON in one string: {value:?}"
        );
    }
    assert_eq!(documents::read::<JournalDoc>(&doc).unwrap(), j);

    let older = with_schema_1_sales(&j);
    let (_, sales) = older.get(ROOT, "sales").unwrap().expect("sales");
    let key = j.sales.keys().next().unwrap();
    assert!(matches!(
        older.get(&sales, key.as_str()).unwrap(),
        Some((Value::Object(_), _))
    ));
    let mut read: JournalDoc = documents::read(&older).expect("a schema 1 journal reads");
    read.schema_version = j.schema_version;
    assert_eq!(read, j);
}

#[test]
fn a_sale_written_before_receipt_tokens_reads_back_without_one() {
    // A journal as a till that predates receipt tokens wrote it (schema 1): its sales have no
    // such key.
    let j = journal();
    let sale_id = j.sales.keys().next().expect("a sale").clone();
    let mut doc = with_schema_1_sales(&j);
    {
        use automerge::transaction::Transactable;
        use automerge::{ROOT, ReadDoc};
        let (_, sales) = doc.get(ROOT, "sales").unwrap().expect("sales");
        let (_, sale) = doc
            .get(&sales, sale_id.as_str())
            .unwrap()
            .expect("the sale");
        doc.delete(&sale, "receipt_token").unwrap();
    }
    let read: JournalDoc = documents::read(&doc).expect("an older till's journal still reads");
    let sale = &read.sales[&sale_id];
    assert_eq!(sale.receipt_token, None);
    sale.check().expect("a sale without a token is valid");
    let one_pass: JournalDoc = documents::materialize::read(&doc).unwrap();
    assert_eq!(one_pass.sales[&sale_id].receipt_token, None);
    // A new sale always has one.
    assert!(j.sales[&sale_id].receipt_token.is_some());
}

/// A journal holding every kind of record, each with its optional parts filled: a split
/// payment, discounts, a note, a closed shift, a void, a refund, cash movements.
fn full_journal() -> JournalDoc {
    use shared_model::cart::Discount;
    use shared_model::ids::{RefundId, VoidId};
    use shared_model::money::Currency;
    use shared_model::payment::{PaymentMethod, QrisMode, Tender};
    use shared_model::pricing::price_cart;
    use shared_model::receipt_number::ReceiptNumber;
    use shared_model::refund::{RefundContext, build_refund};
    use shared_model::sale::{Sale, Void};
    use shared_model::shift::{CashDirection, CashMovement};

    let mut j = journal();
    let mut cart = Cart::new();
    let line = cart
        .add(
            item("Teh", 8_000, TaxRule::ppn_standard(), None),
            Quantity::from_i64(3),
        )
        .unwrap();
    cart.add(weighed("Jeruk", 30_000), Quantity(dec("1.25")))
        .unwrap();
    cart.lines[0].discount = Some(Discount::Amount(rp(1_000)));
    cart.set_cart_discount(Some(Discount::Amount(rp(2_000))), &Currency::idr())
        .unwrap();
    let priced = price_cart(&cart, &policy(PriceMode::Inclusive)).unwrap();
    let tenders = [
        Tender::with(PaymentMethod::Card, rp(10_000), Some("EDC-1")),
        Tender::with(
            PaymentMethod::Qris {
                mode: QrisMode::Dynamic,
            },
            rp(5_000),
            Some("QR-9"),
        ),
        Tender::with(
            PaymentMethod::EWallet {
                provider: "OVO".into(),
            },
            rp(1_000),
            None,
        ),
        Tender::with(
            PaymentMethod::Other {
                name: "Voucher".into(),
            },
            rp(1_000),
            None,
        ),
        Tender::cash(rp(100_000)),
    ];
    let mut ctx = context(2);
    let shift = j.shifts.values_mut().next().unwrap();
    ctx.shift_id = Some(shift.id);
    let sale = Sale::checkout(priced, &tenders, ctx, Some("bungkus".into())).unwrap();
    let refund = build_refund(
        &sale,
        &[],
        &[(line, Quantity::ONE)],
        &[Tender::cash(rp(8_000))],
        RefundContext {
            id: RefundId::new(),
            receipt_no: ReceiptNumber::new("JKT1", "T1", date("2026-11-25"), 3).unwrap(),
            created_at: Timestamp::now(),
            cashier_id: sale.cashier_id,
            authorized_by: Some(UserId::new()),
            shift_id: Some(shift.id),
            cash_unit: Some(rp(100)),
            reason: "rusak".into(),
        },
    )
    .unwrap();
    let first = j.sales.values().next().unwrap().clone();
    let void = Void {
        id: VoidId::new(),
        sale_id: first.id,
        receipt_no: first.receipt_no.clone(),
        at: Timestamp::now(),
        by: first.cashier_id,
        authorized_by: UserId::new(),
        reason: "salah input".into(),
    };
    for direction in [CashDirection::In, CashDirection::Out] {
        let m = CashMovement::new(
            shift.id,
            direction,
            rp(50_000),
            "setor bank",
            sale.cashier_id,
            Timestamp::now(),
        )
        .unwrap();
        j.cash_movements.insert(m.id.to_string(), m);
    }
    shift
        .close(rp(310_000), rp(300_000), sale.cashier_id, Timestamp::now())
        .unwrap();
    j.voids.insert(void.id.to_string(), void);
    j.refunds.insert(refund.id.to_string(), refund);
    j.sales.insert(sale.id.to_string(), sale);
    j
}

#[test]
fn the_one_pass_reader_reads_every_journal_record_as_autosurgeon_does() {
    use automerge::ReadDoc;
    use shared_model::documents::materialize;
    use shared_model::sale::Sale;

    let journal = full_journal();
    let doc = documents::load_bytes(&documents::create(&journal).unwrap().save()).unwrap();
    // Without the fallback to autosurgeon: serde reads automerge's materialised value itself.
    let root = doc.hydrate(automerge::ROOT, None).unwrap();
    let one_pass: JournalDoc = materialize::from_value(&root).unwrap();
    assert_eq!(one_pass, journal);
    assert_eq!(one_pass, documents::read::<JournalDoc>(&doc).unwrap());
    assert_eq!(materialize::read::<JournalDoc>(&doc).unwrap(), journal);

    let (_, sales) = doc.get(automerge::ROOT, "sales").unwrap().unwrap();
    for (key, sale) in &journal.sales {
        assert_eq!(
            materialize::entry::<Sale, _>(&doc, &sales, key)
                .unwrap()
                .as_ref(),
            Some(sale)
        );
    }
    // A journal of schema 1, its sales maps of their fields: serde reads those maps too.
    let older = documents::load_bytes(&with_schema_1_sales(&journal).save()).unwrap();
    let root = older.hydrate(automerge::ROOT, None).unwrap();
    let mut one_pass: JournalDoc = materialize::from_value(&root).unwrap();
    one_pass.schema_version = journal.schema_version;
    assert_eq!(one_pass, journal);
    let (_, sales) = older.get(automerge::ROOT, "sales").unwrap().unwrap();
    for (key, sale) in &journal.sales {
        let (_, obj) = older.get(&sales, key.as_str()).unwrap().unwrap();
        let value: Sale = materialize::from_value(&older.hydrate(&obj, None).unwrap()).unwrap();
        assert_eq!(&value, sale);
        assert_eq!(
            materialize::entry::<Sale, _>(&older, &sales, key)
                .unwrap()
                .as_ref(),
            Some(sale)
        );
    }
    assert_eq!(
        materialize::entry::<Sale, _>(&older, &sales, "no-such-sale").unwrap(),
        None
    );
}

#[test]
fn the_one_pass_reader_refuses_what_read_refuses() {
    use shared_model::documents::materialize;

    let catalog = documents::create(&CatalogDoc::new("store-1")).unwrap();
    let err = materialize::read::<JournalDoc>(&catalog).unwrap_err();
    assert!(
        err.to_string().contains("expected a journal document"),
        "{err}"
    );

    let mut newer = journal();
    newer.schema_version = documents::SCHEMA_VERSION + 1;
    let doc = documents::create(&newer).unwrap();
    let err = materialize::read::<JournalDoc>(&doc).unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");

    // A field of the wrong type: neither reader builds a journal from it.
    let mut doc = documents::create(&journal()).unwrap();
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "store_id", 7_i64)
        .unwrap();
    assert!(documents::read::<JournalDoc>(&doc).is_err());
    assert!(materialize::read::<JournalDoc>(&doc).is_err());
}

#[test]
fn a_journal_begun_at_schema_1_records_schema_2_once_it_holds_such_a_sale() {
    let mut older = journal();
    older.schema_version = 1;
    older.sales.clear();
    let mut doc = documents::create(&older).unwrap();
    documents::raise_schema(&mut doc, documents::SCHEMA_VERSION).unwrap();
    doc.commit();
    let read: JournalDoc = documents::read(&doc).unwrap();
    assert_eq!(read.schema_version, documents::SCHEMA_VERSION);
    // Already there: nothing is written.
    let heads = doc.get_heads();
    documents::raise_schema(&mut doc, documents::SCHEMA_VERSION).unwrap();
    doc.commit();
    assert_eq!(doc.get_heads(), heads);
    // Other kinds keep the first schema whose layout they have, which a till of schema 1 reads.
    assert_eq!(documents::schema_of(DocumentKind::Journal), 2);
    assert_eq!(documents::schema_of(DocumentKind::Catalog), 1);
    assert_eq!(CatalogDoc::new("store-1").schema_version, 1);
}
