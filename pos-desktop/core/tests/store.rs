//! Storage: identity, documents as chunks, fresh actor ids, rebuild of the query tables.

mod common;
#[path = "../../../tests/corpus/automerge.rs"]
mod corpus;

use common::*;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::documents::DocumentKind;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::stock::MovementKind;
use pos_core::{ChunkKey, ChunkStore, CoreError, NewStore, Terminal};

#[test]
fn a_new_file_needs_setting_up_and_identity_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut t = Terminal::open(&path).unwrap();
    assert!(t.backup_taken().is_none());
    assert!(matches!(t.identity(), Err(CoreError::NotInitialized)));
    assert!(matches!(t.settings(), Err(CoreError::NotInitialized)));
    let bad = t.create_store(NewStore {
        store_id: "s".into(),
        store_code: "toko 1".into(),
        terminal_code: "T1".into(),
        settings: pos_core::shared_model::settings::StoreSettings::indonesia("Toko", "Jl"),
    });
    assert!(matches!(bad, Err(CoreError::Model(_))), "{bad:?}");
    let mut t = new_terminal(&path, "T1");
    assert_eq!(t.identity().unwrap().terminal_code, "T1");
    let again = t.create_store(NewStore {
        store_id: "s".into(),
        store_code: "TKO1".into(),
        terminal_code: "T2".into(),
        settings: pos_core::shared_model::settings::StoreSettings::indonesia("Toko", "Jl"),
    });
    assert!(matches!(again, Err(CoreError::AlreadyInitialized)));
    drop(t);
    let mut t = Terminal::open(&path).unwrap();
    assert_eq!(t.identity().unwrap().store_code, "TKO1");
    assert_eq!(t.settings().unwrap().store_name, "Toko Maju");
    // Business-day settings change through the settings document.
    let mut s = t.settings().unwrap();
    s.business_day.cutoff_hour = 30;
    assert!(t.update_settings(s.clone()).is_err());
    s.business_day.cutoff_hour = 5;
    t.update_settings(s).unwrap();
    drop(t);
    let mut t = Terminal::open(&path).unwrap();
    assert_eq!(t.settings().unwrap().business_day.cutoff_hour, 5);
    assert_eq!(t.integrity_check().unwrap(), "ok");
    let conn = rusqlite_open(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn every_open_uses_a_fresh_actor_id_even_on_a_restored_copy() {
    let mut s = shop();
    let first = s.t.actor_id();
    s.reopen();
    let second = s.t.actor_id();
    assert_ne!(first, second);
    // A restored backup of the file: a copy opened beside the original.
    drop(s.t);
    let copy = s.dir.path().join("restored.db");
    std::fs::copy(&s.path, &copy).unwrap();
    let mut a = Terminal::open(&s.path).unwrap();
    let mut b = Terminal::open(&copy).unwrap();
    assert_ne!(a.actor_id(), b.actor_id());
    // Both write to the same catalog; the changes carry different actors, so merging them
    // keeps both (no duplicate (actor, seq) pairs).
    let mut p = a.product(s.indomie.id).unwrap().unwrap();
    p.price = Money::from_i64(3600);
    a.update_product(p).unwrap();
    let mut p = b.product(s.kopi.id).unwrap().unwrap();
    p.price = Money::from_i64(13000);
    b.update_product(p).unwrap();
    let catalog = a.identity().unwrap().catalog_doc.clone();
    let bytes = b.export_document(&catalog).unwrap();
    a.merge_document(&catalog, &bytes).unwrap();
    assert_eq!(
        a.product(s.indomie.id).unwrap().unwrap().price,
        Money::from_i64(3600)
    );
    assert_eq!(
        a.product(s.kopi.id).unwrap().unwrap().price,
        Money::from_i64(13000)
    );
}

#[test]
fn documents_are_chunks_in_the_same_file_and_reload() {
    let mut s = shop();
    let ident = s.t.identity().unwrap().clone();
    let store = ChunkStore::open(&s.path).unwrap();
    let chunks = store
        .load_range(&ChunkKey::new(&[ident.catalog_doc.as_str()]).unwrap())
        .unwrap();
    assert!(!chunks.is_empty());
    assert!(chunks.keys().all(|k| k.parts()[0] == ident.catalog_doc));
    // The chunk store API a sync adapter wraps.
    let k = ChunkKey::new(&["storage-adapter-id"]).unwrap();
    assert_eq!(store.load(&k).unwrap(), None);
    store.put(&k, b"abc").unwrap();
    assert_eq!(store.load(&k).unwrap().as_deref(), Some(&b"abc"[..]));
    store.delete(&k).unwrap();
    assert_eq!(store.load(&k).unwrap(), None);
    assert!(ChunkKey::new(&["a/b"]).is_err());
    assert!(ChunkKey::new::<&str>(&[]).is_err());
    // Many edits compact into a snapshot and still load.
    for i in 0..(pos_core::docs::COMPACT_AFTER + 5) {
        let mut p = s.t.product(s.indomie.id).unwrap().unwrap();
        p.price = Money::from_i64(3000 + i as i64);
        s.t.update_product(p).unwrap();
    }
    let chunks = store
        .load_range(&ChunkKey::new(&[ident.catalog_doc.as_str()]).unwrap())
        .unwrap();
    assert_eq!(
        chunks.keys().filter(|k| k.parts()[1] == "snapshot").count(),
        1
    );
    assert!(chunks.len() < pos_core::docs::COMPACT_AFTER);
    s.reopen();
    let from_doc = s.t.product_from_document(s.indomie.id).unwrap().unwrap();
    assert_eq!(
        from_doc.price,
        Money::from_i64(3000 + pos_core::docs::COMPACT_AFTER as i64 + 4)
    );
    assert!(s.t.load_all_documents().unwrap() >= 5);

    // Due documents are compacted off the edits, by the call the shell makes after a command:
    // the edits up to the bound only add incrementals.
    let catalog_chunks = || {
        store
            .load_range(&ChunkKey::new(&[ident.catalog_doc.as_str()]).unwrap())
            .unwrap()
    };
    let before = catalog_chunks().len();
    for i in 0..pos_core::docs::COMPACT_DUE {
        let mut p = s.t.product(s.indomie.id).unwrap().unwrap();
        p.price = Money::from_i64(5000 + i as i64);
        s.t.update_product(p).unwrap();
    }
    assert_eq!(catalog_chunks().len(), before + pos_core::docs::COMPACT_DUE);
    assert!(s.t.compact_documents().unwrap() >= 1);
    let after = catalog_chunks();
    assert_eq!(after.len(), 1, "one snapshot is left");
    assert!(after.keys().all(|k| k.parts()[1] == "snapshot"));
    assert_eq!(
        s.t.compact_documents().unwrap(),
        0,
        "nothing is due any more"
    );
    s.reopen();
    let from_doc = s.t.product_from_document(s.indomie.id).unwrap().unwrap();
    let last = 5000 + pos_core::docs::COMPACT_DUE as i64 - 1;
    assert_eq!(from_doc.price, Money::from_i64(last));
}

#[test]
fn malformed_documents_from_outside_are_refused_and_change_nothing() {
    let mut s = shop();
    let mut tried = 0;
    for (name, bytes) in corpus::crashers() {
        let before = dump_tables(&s.path);
        let res = s.t.merge_document("4XyzCrasherDoc1", bytes);
        assert!(res.is_err(), "{name} was accepted");
        assert_eq!(before, dump_tables(&s.path));
        tried += 1;
    }
    assert!(tried >= 5);
    // A document of the wrong kind under a known id is refused too.
    let ident = s.t.identity().unwrap().clone();
    let users = s.t.export_document(&ident.users_doc).unwrap();
    assert!(s.t.merge_document(&ident.catalog_doc, &users).is_err());
    assert!(s.t.merge_document("bad/id", &users).is_err());
    assert!(s.t.load_all_documents().is_ok());
}

#[test]
fn query_tables_rebuild_from_the_documents_alone() {
    let mut s = shop();
    let mut cart = Cart::new();
    s.t.cart_add_scan(&mut cart, "8998866200301").unwrap();
    s.t.cart_add_product(
        &mut cart,
        s.beras.id,
        None,
        Quantity(rust_decimal_macros::dec!(1.25)),
    )
    .unwrap();
    let sale = s.pay_cash(&cart, 50_000);
    let mut cart = Cart::new();
    s.t.cart_add_scan(&mut cart, "8991002101104").unwrap();
    let sale2 = s.pay_cash(&cart, 20_000);
    let lines = s.t.refundable_lines(sale.id).unwrap();
    s.t.refund(pos_core::RefundRequest {
        sale_id: sale.id,
        lines: vec![lines[0]],
        tenders: vec![Tender::cash(Money::from_i64(3500))],
        reason: "rusak".into(),
        cashier: s.cashier,
        approval: s.approval(),
    })
    .unwrap();
    s.t.void_sale(sale2.id, "salah input", s.cashier, &s.approval())
        .unwrap();
    s.t.cash_movement(
        pos_core::shared_model::shift::CashDirection::Out,
        Money::from_i64(10_000),
        "beli es",
        s.cashier,
    )
    .unwrap();
    s.t.adjust_stock(
        s.kopi.id,
        MovementKind::Receipt,
        Quantity::from_i64(24),
        Some("DO-1".into()),
        s.supervisor,
    )
    .unwrap();
    s.t.count_stock(s.indomie.id, Quantity::from_i64(40), s.supervisor)
        .unwrap();
    s.t.close_shift(Money::from_i64(240_000), s.cashier)
        .unwrap();
    assert_eq!(s.t.outbox_len().unwrap(), 0);
    let before = dump_tables(&s.path);
    let stock_before = s.t.stock_on_hand(s.indomie.id).unwrap();
    let search_before = s.t.search("indo gor", 10, true).unwrap();
    s.reopen();
    let n = s.t.rebuild_query_tables().unwrap();
    assert!(n >= 6, "{n}");
    let after = dump_tables(&s.path);
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(after.iter()) {
        assert_eq!(a, b);
    }
    assert_eq!(s.t.stock_on_hand(s.indomie.id).unwrap(), stock_before);
    assert_eq!(s.t.search("indo gor", 10, true).unwrap(), search_before);
    let kinds: Vec<String> = s.t.documents().unwrap().into_iter().map(|d| d.1).collect();
    assert!(kinds.contains(&DocumentKind::Journal.as_str().to_string()));
    assert!(kinds.contains(&DocumentKind::StockAdjustments.as_str().to_string()));
}

#[test]
fn a_journal_holds_one_terminal_business_day() {
    let mut s = shop();
    let mut cart = Cart::new();
    s.t.cart_add_scan(&mut cart, "8998866200301").unwrap();
    let sale = s.pay_cash(&cart, 5_000);
    let j = s.t.journal("T1", sale.business_date).unwrap().unwrap();
    assert_eq!(j.terminal_code, "T1");
    assert_eq!(j.business_date, sale.business_date);
    assert!(j.sales.values().all(|x| x.business_date == j.business_date));
    let docs = s.t.documents().unwrap();
    let journals: Vec<_> = docs.iter().filter(|d| d.1 == "journal").collect();
    assert_eq!(journals.len(), 1);
    assert_eq!(journals[0].2, format!("T1/{}", sale.business_date));
}

#[test]
fn the_terminal_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Terminal>();
    assert_send::<ChunkStore>();
    let s = shop();
    let handle = std::thread::spawn(move || s.t.product_count().unwrap());
    assert_eq!(handle.join().unwrap(), 3);
}

#[test]
fn cart_operations_before_checkout() {
    let mut s = shop();
    let idr = pos_core::shared_model::money::Currency::idr();
    let mut cart = Cart::new();
    let l1 = s.t.cart_add_scan(&mut cart, "8998866200301").unwrap();
    assert_eq!(s.t.cart_add_scan(&mut cart, "8998866200301").unwrap(), l1);
    let l2 =
        s.t.cart_add_product(
            &mut cart,
            s.beras.id,
            None,
            Quantity(rust_decimal_macros::dec!(0.75)),
        )
        .unwrap();
    cart.set_quantity(l1, Quantity::from_i64(5)).unwrap();
    assert!(
        cart.set_quantity(l1, Quantity(rust_decimal_macros::dec!(1.5)))
            .is_err()
    );
    cart.set_quantity(l2, Quantity(rust_decimal_macros::dec!(1.2)))
        .unwrap();
    cart.set_line_note(l2, Some("potong dua".into())).unwrap();
    cart.set_note(Some("pelanggan tetap".into())).unwrap();
    cart.set_cart_discount(
        Some(pos_core::shared_model::cart::Discount::Amount(
            Money::from_i64(500),
        )),
        &idr,
    )
    .unwrap();
    let kopi =
        s.t.cart_add_product(&mut cart, s.kopi.id, None, Quantity::ONE)
            .unwrap();
    cart.remove(kopi).unwrap();
    assert!(matches!(
        s.t.cart_add_product(
            &mut cart,
            pos_core::shared_model::ids::ProductId::new(),
            None,
            Quantity::ONE
        ),
        Err(CoreError::NotFound { .. })
    ));
    assert!(
        s.t.cart_add_product(&mut cart, s.kopi.id, None, Quantity::ZERO)
            .is_err()
    );
    // 5 × 3.500 + 1,2 kg × 15.000 − 500
    assert_eq!(s.t.price(&cart).unwrap().total(), Money::from_i64(35_000));
    let sale = s.pay_cash(&cart, 35_000);
    assert_eq!(sale.note.as_deref(), Some("pelanggan tetap"));
    assert_eq!(sale.lines[1].note.as_deref(), Some("potong dua"));
    assert_eq!(sale.settlement.change, Money::ZERO);
}

#[test]
fn pins_are_hashed_with_the_store_pepper_and_hashes_from_before_it_still_verify() {
    use pos_core::shared_model::users::{PinPepper, Role, is_peppered, verify_pin};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut t = new_terminal(&path, "T1");
    // A user made before the till had its store's pepper (an older till's hash).
    let sari = t.add_user("Sari", Role::Cashier, "1234").unwrap();
    assert!(!is_peppered(&sari.pin_hash));
    assert_eq!(t.pin_pepper().unwrap(), None);

    let pepper = PinPepper::random();
    t.set_pin_pepper(&pepper).unwrap();
    t.verify_pin(sari.id, "1234")
        .expect("an old hash still verifies");
    let budi = t.add_user("Budi", Role::Supervisor, "9999").unwrap();
    assert!(is_peppered(&budi.pin_hash), "{}", budi.pin_hash);
    assert!(!verify_pin(&budi.pin_hash, "9999", None));
    t.verify_pin(budi.id, "9999").unwrap();
    assert!(t.verify_pin(budi.id, "1234").is_err());
    // Changing a PIN replaces the old hash by a keyed one.
    t.set_pin(sari.id, "5678").unwrap();
    let sari = t.user(sari.id).unwrap();
    assert!(is_peppered(&sari.pin_hash));
    assert!(verify_pin(&sari.pin_hash, "5678", Some(&pepper)));
    assert!(!verify_pin(&sari.pin_hash, "5678", None));

    // The pepper is kept with the till, in no document.
    drop(t);
    let mut t = Terminal::open(&path).unwrap();
    assert_eq!(t.pin_pepper().unwrap(), Some(pepper.clone()));
    t.verify_pin(sari.id, "5678").unwrap();
    for (id, _, _) in t.documents().unwrap() {
        let bytes = t.export_document(&id).unwrap();
        let mut doc = pos_core::shared_model::documents::load_bytes(&bytes).unwrap();
        let raw = doc.save_nocompress();
        assert!(
            !String::from_utf8_lossy(&raw).contains(&pepper.to_hex()),
            "{id}"
        );
    }
}
