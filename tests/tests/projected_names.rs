//! The server's projected rows name stock movement kinds, cash directions and payment methods
//! exactly as a terminal's own query tables do (issue 11: the server used to store the `Debug`
//! name lowercased, `transferin`, where the till writes `transfer_in`). A real
//! `pos_core::Terminal` makes one of each; the server's projection (`sync_server::projection::
//! project`, whose rows `project_doc` inserts as they are) runs on the documents the till wrote,
//! and both sides' names are compared row by row, keyed by the row's id.

use std::collections::{BTreeMap, BTreeSet};

use automerge::AutoCommit;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::ids::{ProductId, UserId};
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::{PaymentMethod, QrisMode, Tender};
use pos_core::shared_model::sale::Sale;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::shift::CashDirection;
use pos_core::shared_model::stock::MovementKind;
use pos_core::shared_model::users::Role;
use pos_core::{Approval, NewStore, RefundRequest, Terminal};
use sync_server::projection::ProjectedDoc;

/// Names of one table's rows by key: stock movements and cash movements by id, payments by
/// `sale_id/seq`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Names {
    stock_kinds: BTreeMap<String, String>,
    cash_directions: BTreeMap<String, String>,
    payment_methods: BTreeMap<String, String>,
}

fn sell(t: &mut Terminal, cashier: UserId, product: ProductId, method: PaymentMethod) -> Sale {
    let mut cart = Cart::new();
    t.cart_add_product(&mut cart, product, None, Quantity::from_i64(1))
        .unwrap();
    let total = t.price(&cart).unwrap().total();
    let reference = (!method.is_cash()).then_some("REF-1");
    t.checkout(
        &cart,
        &[Tender::with(method, total, reference)],
        cashier,
        None,
    )
    .unwrap()
}

/// The till's own query tables, read from its file.
fn till_names(t: &Terminal) -> Names {
    let conn = pos_core::db::connect(t.path()).unwrap();
    let pairs = |sql: &str| -> BTreeMap<String, String> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    Names {
        stock_kinds: pairs("SELECT movement_id, kind FROM stock_movements"),
        cash_directions: pairs("SELECT movement_id, direction FROM cash_movements"),
        payment_methods: pairs("SELECT sale_id || '/' || seq, method FROM payments"),
    }
}

/// The server's projection of every document the till holds.
fn server_names(t: &mut Terminal, store_id: &str) -> Names {
    let mut names = Names::default();
    for (doc_id, _, _) in t.documents().unwrap() {
        let doc = AutoCommit::load(&t.export_document(&doc_id).unwrap()).unwrap();
        let Some(rows): Option<ProjectedDoc> =
            sync_server::projection::project(&doc_id, store_id, &doc).unwrap()
        else {
            continue;
        };
        for m in rows.stock_movements {
            names.stock_kinds.insert(m.id, m.kind);
        }
        for c in rows.cash_movements {
            names.cash_directions.insert(c.id, c.direction);
        }
        for p in rows.payments {
            names
                .payment_methods
                .insert(format!("{}/{}", p.sale_id, p.seq), p.method);
        }
    }
    names
}

fn distinct(m: &BTreeMap<String, String>) -> BTreeSet<&str> {
    m.values().map(String::as_str).collect()
}

#[test]
fn server_projects_the_names_the_till_writes() {
    let dir = std::env::temp_dir().join(format!("sk-names-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut t = Terminal::open(dir.join("t1.db")).unwrap();
    let ident = t
        .create_store(NewStore {
            store_id: "store-names".into(),
            store_code: "NM1".into(),
            terminal_code: "T1".into(),
            settings: StoreSettings::indonesia("Toko Nama", "Jl. Nama 1"),
        })
        .unwrap();
    let cashier = t.add_user("Sari", Role::Cashier, "1111").unwrap().id;
    let supervisor = t.add_user("Budi", Role::Supervisor, "2468").unwrap().id;
    let product = t
        .create_product(Product::new(
            "AQ",
            "Air Mineral",
            Money::from_i64(5_000),
            "standard",
        ))
        .unwrap()
        .id;

    // ---- every stock movement kind a terminal makes
    for (kind, qty) in [
        (MovementKind::Receipt, 50),
        (MovementKind::TransferIn, 5),
        (MovementKind::TransferOut, -3),
        (MovementKind::Adjustment, -1),
    ] {
        t.adjust_stock(product, kind, Quantity::from_i64(qty), None, supervisor)
            .unwrap();
    }
    t.count_stock(product, Quantity::from_i64(40), supervisor)
        .unwrap();

    // ---- both cash directions, and a sale paid by each payment method (sales and a refund
    // make the `sale` and `refund` movements)
    t.start_shift(cashier, Money::from_i64(100_000)).unwrap();
    t.cash_movement(CashDirection::In, Money::from_i64(50_000), "modal", cashier)
        .unwrap();
    t.cash_movement(
        CashDirection::Out,
        Money::from_i64(20_000),
        "setor",
        cashier,
    )
    .unwrap();
    let methods = [
        PaymentMethod::Cash,
        PaymentMethod::Qris {
            mode: QrisMode::Static,
        },
        PaymentMethod::Card,
        PaymentMethod::EWallet {
            provider: "OVO".into(),
        },
        PaymentMethod::Other {
            name: "Voucher".into(),
        },
    ];
    let mut sales = Vec::new();
    for m in methods {
        sales.push(sell(&mut t, cashier, product, m));
    }
    let lines = t.refundable_lines(sales[0].id).unwrap();
    t.refund(RefundRequest {
        sale_id: sales[0].id,
        lines,
        tenders: vec![Tender::cash(sales[0].total())],
        reason: "rusak".into(),
        cashier,
        approval: Approval {
            user_id: supervisor,
            pin: "2468".into(),
        },
    })
    .unwrap();
    t.drain_outbox().unwrap();

    let till = till_names(&t);
    // The till made one of everything ...
    assert_eq!(
        distinct(&till.stock_kinds),
        BTreeSet::from([
            "adjustment",
            "count",
            "receipt",
            "refund",
            "sale",
            "transfer_in",
            "transfer_out"
        ])
    );
    assert_eq!(
        distinct(&till.cash_directions),
        BTreeSet::from(["in", "out"])
    );
    assert_eq!(
        distinct(&till.payment_methods),
        BTreeSet::from(["card", "cash", "ewallet:ovo", "other:voucher", "qris"])
    );
    // ... and the server's rows name each the same way.
    let server = server_names(&mut t, &ident.store_id);
    assert_eq!(server.stock_kinds, till.stock_kinds);
    assert_eq!(server.cash_directions, till.cash_directions);
    assert_eq!(server.payment_methods, till.payment_methods);
    let _ = std::fs::remove_dir_all(&dir);
}
