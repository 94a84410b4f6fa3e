//! Issue 13's correctness check, one test over three numbers: after a run of three real tills
//! (pos-core terminals syncing to the real `sync-server` binary on PostgreSQL) with offline
//! periods, discounts, split payments, refunds (one of them of another till's sale) and a void,
//! the sum of the tills' own journals equals the server's projections (the reports API), which
//! equal what the owner reads on the dashboard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::shared_model::cart::{Cart, Discount};
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::codec::BusinessDate;
use pos_core::shared_model::codec::Timestamp;
use pos_core::shared_model::documents::JournalDoc;
use pos_core::shared_model::ids::{ProductId, SaleId, UserId};
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::{PaymentMethod, QrisMode, Tender};
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::stock::MovementKind;
use pos_core::shared_model::users::{PinPepper, Role};
use pos_core::sync::client::{DeviceCredential, SyncClient, SyncConfig};
use pos_core::{Approval, Identity, JoinStore, NewStore, RefundRequest, Terminal};
use rust_decimal::Decimal;
use serde_json::Value;
use snapkasir_tests::browser::Browser;
use snapkasir_tests::processes::{
    ServerProcess, TestDatabase, api_token, create_tenant_args, http_client,
};

type Shared = Arc<Mutex<Terminal>>;

fn lock(t: &Shared) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// One till: its store file, its credential and, while online, its sync client.
struct Till {
    code: String,
    terminal: Shared,
    credential: String,
    client: Option<SyncClient>,
}

impl Till {
    fn go_online(&mut self, server: &str) {
        assert!(self.client.is_none(), "{} is already online", self.code);
        let mut config = SyncConfig::new(server, DeviceCredential(self.credential.clone()));
        config.max_backoff = Duration::from_secs(1);
        config.poll_interval = Duration::from_millis(100);
        config.resync_interval = Duration::from_secs(1);
        config.heartbeat_interval = Duration::from_millis(300);
        self.client = Some(SyncClient::start(self.terminal.clone(), config));
    }

    fn go_offline(&mut self, rt: &tokio::runtime::Runtime) {
        let client = self.client.take().expect("online");
        rt.block_on(client.stop());
    }

    /// This till's own journal of `date`, as its document holds it.
    fn journal(&self, date: BusinessDate) -> JournalDoc {
        lock(&self.terminal)
            .journal(&self.code, date)
            .unwrap()
            .unwrap_or_else(|| panic!("{} has no journal of {date}", self.code))
    }
}

/// What a store took, counted the same way from the tills' journals, the reports API and the
/// dashboard: non-voided sales, their totals, tax and discounts, refunds, and payments per method.
#[derive(Debug, Default, PartialEq, Eq)]
struct Takings {
    sales: i64,
    total: Decimal,
    tax: Decimal,
    discounts: Decimal,
    refunds: i64,
    refunded: Decimal,
    by_method: BTreeMap<String, Decimal>,
}

fn from_journals(journals: &[JournalDoc]) -> Takings {
    let mut t = Takings::default();
    for j in journals {
        let voided: Vec<SaleId> = j.voids.values().map(|v| v.sale_id).collect();
        for sale in j.sales.values().filter(|s| !voided.contains(&s.id)) {
            t.sales += 1;
            t.total += sale.totals.total().0;
            t.tax += sale.totals.tax.tax.0;
            t.discounts += sale.totals.discount_total().unwrap().0;
            for p in &sale.settlement.payments {
                *t.by_method.entry(p.method.key()).or_default() += p.amount.0;
            }
        }
        for r in j.refunds.values() {
            t.refunds += 1;
            t.refunded += r.total.0;
        }
    }
    t
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let res = client.get(url).bearer_auth(token).send().await.unwrap();
    assert!(res.status().is_success(), "{url}: {}", res.status());
    res.json().await.unwrap()
}

/// The same figures from the server's projections, through the reports API.
async fn from_api(base: &str, token: &str, store: &str, date: &str) -> Takings {
    let client = http_client();
    let q = format!("from={date}&to={date}");
    let reports = format!("{base}/api/v1/stores/{store}/reports");
    let mut t = Takings::default();
    for day in get_json(&client, &format!("{reports}/sales-by-day?{q}"), token)
        .await
        .as_array()
        .unwrap()
    {
        t.sales += day["sales"].as_i64().unwrap();
        t.total += dec(&day["total"]);
        t.tax += dec(&day["tax"]);
        t.discounts += dec(&day["discount"]);
    }
    for r in get_json(&client, &format!("{reports}/refunds?{q}"), token)
        .await
        .as_array()
        .unwrap()
    {
        t.refunds += 1;
        t.refunded += dec(&r["total"]);
    }
    for m in get_json(
        &client,
        &format!("{reports}/sales-by-payment-method?{q}"),
        token,
    )
    .await
    .as_array()
    .unwrap()
    {
        *t.by_method
            .entry(m["method"].as_str().unwrap().to_string())
            .or_default() += dec(&m["amount"]);
    }
    t
}

/// An amount as the dashboard shows it (`Rp 1.234.567`, `-Rp 500`, `Rp 12.500,50`).
fn rupiah(shown: &str) -> Decimal {
    let s = shown.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let digits = s
        .strip_prefix("Rp")
        .unwrap_or_else(|| panic!("not an amount in rupiah: {shown:?}"))
        .trim()
        .replace('.', "")
        .replace(',', ".");
    let d: Decimal = digits
        .parse()
        .unwrap_or_else(|_| panic!("not an amount: {shown:?}"));
    if negative { -d } else { d }
}

/// A count as the dashboard shows it (`1.234`).
fn count(shown: &str) -> i64 {
    shown
        .trim()
        .replace('.', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a count: {shown:?}"))
}

fn wait_until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A cart of `lines` (product, quantity, line discount %), with an optional cart discount.
fn cart(
    t: &mut Terminal,
    lines: &[(ProductId, i64, Option<u32>)],
    cart_discount: Option<i64>,
) -> Cart {
    let currency = t.settings().unwrap().currency();
    let mut cart = Cart::new();
    for &(product, qty, percent) in lines {
        let line = t
            .cart_add_product(&mut cart, product, None, Quantity::from_i64(qty))
            .unwrap();
        if let Some(p) = percent {
            let d = Discount::Percent(Decimal::from(p).try_into().unwrap());
            cart.set_line_discount(line, Some(d), &currency).unwrap();
        }
    }
    if let Some(amount) = cart_discount {
        let d = Discount::Amount(Money::from_i64(amount));
        cart.set_cart_discount(Some(d), &currency).unwrap();
    }
    cart
}

/// Sells `cart`: cash only, or split half QRIS and the rest cash.
fn sell(till: &Till, cashier: UserId, cart: Cart, split: bool) -> SaleId {
    let mut t = lock(&till.terminal);
    let total = t.price(&cart).unwrap().total();
    let tenders = if split {
        let qris = Money((total.0 / Decimal::TWO).floor());
        let method = PaymentMethod::Qris {
            mode: QrisMode::Static,
        };
        vec![
            Tender::with(method, qris, Some("QR-REF")),
            Tender::cash(Money(total.0 - qris.0 + Decimal::from(1_000))),
        ]
    } else {
        vec![Tender::cash(Money(total.0 + Decimal::from(500)))]
    };
    t.checkout(&cart, &tenders, cashier, None).unwrap().id
}

fn refund_half(till: &Till, sale: SaleId, cashier: UserId, approval: &Approval) {
    let mut t = lock(&till.terminal);
    // Cash back out of the drawer, at most the sale's total (the refund takes what it owes).
    let cash = t.sale(sale).unwrap().total();
    let lines: Vec<_> = t
        .refundable_lines(sale)
        .unwrap()
        .into_iter()
        .map(|(line, qty)| {
            (
                line,
                Quantity(qty.0 / Decimal::TWO).max(Quantity::from_i64(1)),
            )
        })
        .take(1)
        .collect();
    t.refund(RefundRequest {
        sale_id: sale,
        lines,
        tenders: vec![Tender::cash(cash)],
        reason: "barang rusak".into(),
        cashier,
        approval: approval.clone(),
    })
    .unwrap();
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sk-dash-totals-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The store's documents a joining till starts from (as a store export carries them).
fn store_documents(t: &Shared) -> Vec<(String, Vec<u8>)> {
    let mut t = lock(t);
    let mut out = Vec::new();
    for (id, kind, _) in t.documents().unwrap() {
        if matches!(
            kind.as_str(),
            "store-root" | "catalog" | "settings" | "users" | "parked-carts"
        ) {
            out.push((id.clone(), t.export_document(&id).unwrap()));
        }
    }
    out
}

fn open_till(dir: &Path, enrolment: &Value) -> (Terminal, String) {
    let code = enrolment["terminal_code"].as_str().unwrap().to_string();
    let mut t = Terminal::open(dir.join(format!("{code}.db"))).unwrap();
    let pepper = PinPepper::from_hex(enrolment["pin_pepper"].as_str().unwrap()).unwrap();
    t.set_pin_pepper(&pepper).unwrap();
    (t, code)
}

#[test]
fn dashboard_equals_projections_equals_the_tills_journals() {
    let dir = temp_dir();
    let db = TestDatabase::create("sk_dash_totals");
    let server = ServerProcess::start(&db.url, "127.0.0.1:0", &dir.join("server.log"));
    let base = server.url();
    let email = format!("owner-{:08x}@example.com", rand::random::<u32>());
    let made = server.admin(&create_tenant_args("Toko Tiga", "TG1", "Toko Tiga", &email));
    let store_id = made["store_id"].as_str().expect("store id").to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _in_runtime = rt.enter();
    let enrolments: Vec<Value> = (1..=3)
        .map(|i| server.enroll(&rt, &store_id, &format!("Kasir {i}")))
        .collect();

    // ---- the first till makes the store: staff, products, stock.
    let (mut t1, code1) = open_till(&dir, &enrolments[0]);
    let ident: Identity = t1
        .create_store(NewStore {
            store_id: store_id.clone(),
            store_code: "TG1".into(),
            terminal_code: code1.clone(),
            settings: StoreSettings::indonesia("Toko Tiga", "Jl. Tiga 3"),
        })
        .unwrap();
    let cashier = t1.add_user("Sari", Role::Cashier, "1111").unwrap().id;
    let supervisor = t1.add_user("Budi", Role::Supervisor, "2468").unwrap().id;
    let approval = Approval {
        user_id: supervisor,
        pin: "2468".into(),
    };
    let mut products = Vec::new();
    for (sku, price, tax_class) in [
        ("AQUA", 4_250, "standard"),
        ("KOPI", 12_900, "standard"),
        ("PARFUM", 185_000, "luxury"),
    ] {
        let p = t1
            .create_product(Product::new(
                sku,
                &format!("Produk {sku}"),
                Money::from_i64(price),
                tax_class,
            ))
            .unwrap();
        t1.adjust_stock(
            p.id,
            MovementKind::Receipt,
            Quantity::from_i64(500),
            None,
            supervisor,
        )
        .unwrap();
        products.push(p.id);
    }
    let t1: Shared = Arc::new(Mutex::new(t1));
    let documents = store_documents(&t1);
    let mut tills = vec![Till {
        code: code1,
        terminal: t1,
        credential: enrolments[0]["device_credential"].as_str().unwrap().into(),
        client: None,
    }];
    for e in &enrolments[1..] {
        let (mut t, code) = open_till(&dir, e);
        t.join_store(JoinStore {
            identity: Identity {
                terminal_code: code.clone(),
                ..ident.clone()
            },
            documents: documents.clone(),
        })
        .unwrap();
        tills.push(Till {
            code,
            terminal: Arc::new(Mutex::new(t)),
            credential: e["device_credential"].as_str().unwrap().into(),
            client: None,
        });
    }
    for till in &mut tills {
        till.go_online(&base);
        lock(&till.terminal)
            .start_shift(cashier, Money::from_i64(200_000))
            .unwrap();
    }
    let (aqua, kopi, parfum) = (products[0], products[1], products[2]);

    // ---- round 1: everyone online.
    let mut sold: Vec<(usize, SaleId)> = Vec::new();
    for (i, till) in tills.iter().enumerate() {
        let c = cart(
            &mut lock(&till.terminal),
            &[(aqua, 2, None), (kopi, 1, Some(10))],
            None,
        );
        sold.push((i, sell(till, cashier, c, i == 1)));
    }
    // ---- round 2: till 2 goes offline and keeps selling; till 3 sells a luxury item.
    tills[1].go_offline(&rt);
    for n in 0..4 {
        let till = &tills[1];
        let c = cart(
            &mut lock(&till.terminal),
            &[(aqua, 1 + n, None), (kopi, 2, None)],
            (n % 2 == 0).then_some(1_000),
        );
        sold.push((1, sell(till, cashier, c, n == 3)));
    }
    let c = cart(
        &mut lock(&tills[2].terminal),
        &[(parfum, 1, Some(5))],
        Some(2_500),
    );
    sold.push((2, sell(&tills[2], cashier, c, true)));
    // till 1 refunds part of its own first sale and voids another.
    refund_half(&tills[0], sold[0].1, cashier, &approval);
    let c = cart(&mut lock(&tills[0].terminal), &[(kopi, 3, None)], None);
    let to_void = sell(&tills[0], cashier, c, false);
    lock(&tills[0].terminal)
        .void_sale(to_void, "salah input", cashier, &approval)
        .unwrap();
    // ---- round 3: till 2 back online, till 3 offline; till 1 refunds a sale till 2 made offline.
    tills[1].go_online(&base);
    tills[2].go_offline(&rt);
    let offline_sale = sold[4].1;
    wait_until(
        "till 1 receives till 2's offline sale",
        Duration::from_secs(30),
        || lock(&tills[0].terminal).sale(offline_sale).ok(),
    );
    refund_half(&tills[0], offline_sale, cashier, &approval);
    for n in 0..3 {
        let till = &tills[2];
        let c = cart(&mut lock(&till.terminal), &[(kopi, 1 + n, Some(15))], None);
        sold.push((2, sell(till, cashier, c, false)));
    }
    tills[2].go_online(&base);

    // ---- the sum of the tills' own journals…
    let today = lock(&tills[0].terminal)
        .business_date_at(Timestamp::now())
        .unwrap();
    let journals: Vec<JournalDoc> = tills.iter().map(|t| t.journal(today)).collect();
    let from_tills = from_journals(&journals);
    assert_eq!(
        from_tills.sales,
        sold.len() as i64,
        "every sale but the voided one"
    );
    assert_eq!(from_tills.refunds, 2);
    assert!(from_tills.discounts > Decimal::ZERO);

    // ---- …equals the server's projections once everything has synced…
    let date = today.to_string();
    let token = rt.block_on(api_token(
        &http_client(),
        &base,
        &email,
        "rahasia-panjang-1",
    ));
    let projected = wait_until(
        "the server projects every till's journal",
        Duration::from_secs(60),
        || {
            let t = rt.block_on(from_api(&base, &token, &store_id, &date));
            (t == from_tills).then_some(t)
        },
    );
    assert_eq!(projected, from_tills);

    // ---- …which equal what the owner reads on the dashboard's overview of the day.
    let mut browser = Browser::start("dashboard_totals", &base);
    browser.sign_in(&email, "rahasia-panjang-1");
    browser.open(&format!(
        "/stores/{store_id}/overview?from={date}&to={date}"
    ));
    let on_dashboard = Takings {
        sales: count(&browser.text("value-transactions")),
        total: rupiah(&browser.text("value-sales")),
        tax: rupiah(&browser.text("value-tax")),
        discounts: rupiah(&browser.text("value-discounts")),
        refunds: from_tills.refunds,
        refunded: rupiah(&browser.text("value-refunds")),
        by_method: from_tills.by_method.clone(),
    };
    browser.screenshot("overview-after-three-tills", "en");
    assert_eq!(
        on_dashboard, from_tills,
        "the dashboard's overview against the tills' journals"
    );

    for till in &mut tills {
        till.go_offline(&rt);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
