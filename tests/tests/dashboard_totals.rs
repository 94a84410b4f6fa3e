//! Issue 13's correctness check, one test over three numbers: after a run of three real tills
//! (pos-core terminals syncing to the real `sync-server` binary on PostgreSQL) with offline
//! periods, discounts, split payments, refunds (one of them of another till's sale) and a void,
//! the sum of the tills' own journals equals the server's projections (the reports API), which
//! equal what the owner reads on the dashboard. Then the report pages of that day, page by page
//! against the API and the tills: by product, category, cashier and payment method, refunds and
//! voids, shifts (a till closed short), the Z report, stock on hand, the oversell two offline
//! tills made of the last bottle of perfume, its movements, and the over-refund two tills made
//! of one sale on the conflicts page; each page's screenshots at phone and desktop width, in
//! English and Indonesian, and each CSV link byte for byte the API's export.

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

/// How much of a sale's first refundable line a refund takes.
#[derive(Clone, Copy)]
enum Part {
    Half,
    All,
}

fn refund(till: &Till, sale: SaleId, cashier: UserId, approval: &Approval, part: Part) {
    let mut t = lock(&till.terminal);
    // Cash back out of the drawer, at most the sale's total (the refund takes what it owes).
    let cash = t.sale(sale).unwrap().total();
    let lines: Vec<_> = t
        .refundable_lines(sale)
        .unwrap()
        .into_iter()
        .map(|(line, qty)| {
            let qty = match part {
                Part::Half => Quantity(qty.0 / Decimal::TWO).max(Quantity::from_i64(1)),
                Part::All => qty,
            };
            (line, qty)
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

/// English words of the report, stock and conflicts pages that their Indonesian versions must
/// not keep.
const ENGLISH: [&str; 18] = [
    "By product",
    "Download CSV",
    "Quantity",
    "Amount",
    "Cashier",
    "Payment method",
    "Refunds",
    "Voided",
    "Expected cash",
    "Counted cash",
    "short",
    "Whole store",
    "On hand",
    "Oversold",
    "What to do",
    "What happened",
    "Goods received",
    "No category",
];

/// A quantity as the dashboard shows it (`2`, `1,5`, `-1`, `1.250`).
fn quantity(shown: &str) -> Decimal {
    shown
        .trim()
        .replace('.', "")
        .replace(',', ".")
        .parse()
        .unwrap_or_else(|_| panic!("not a quantity: {shown:?}"))
}

/// The row of `rows` whose first cell is `first`.
fn row_of<'a>(rows: &'a [Vec<String>], first: &str) -> &'a Vec<String> {
    rows.iter()
        .find(|r| r.first().map(String::as_str) == Some(first))
        .unwrap_or_else(|| panic!("no row {first:?} in {rows:?}"))
}

/// What the report pages' checks share: the owner's API and where the store's pages are.
struct Tour<'a> {
    rt: &'a tokio::runtime::Runtime,
    token: &'a str,
    store_api: &'a str,
    pages: &'a str,
}

impl Tour<'_> {
    /// The page's CSV download (`page` under the store's pages) is byte for byte the API's
    /// export (`api` under the store's API), both with `query` (may be empty).
    fn csv_is_the_apis(&self, b: &mut Browser, page: &str, api: &str, query: &str) {
        let with = |path: &str| match (query.is_empty(), path.contains('?')) {
            (true, _) => path.to_string(),
            (false, true) => format!("{path}&{query}"),
            (false, false) => format!("{path}?{query}"),
        };
        let (status, from_page) = b.fetch(&format!("{}/{}", self.pages, with(page)));
        assert_eq!(status, 200, "{page}: {from_page}");
        let url = format!("{}/{}", self.store_api, with(api));
        let from_api = self.rt.block_on(async {
            let r = http_client()
                .get(&url)
                .bearer_auth(self.token)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{url}: {}", r.status());
            r.text().await.unwrap()
        });
        assert_eq!(from_page, from_api, "{page} against {api}");
        assert!(
            from_page.lines().count() > 1,
            "{page} has rows: {from_page}"
        );
    }
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
    for (sku, price, tax_class, stock) in [
        ("AQUA", 4_250, "standard", 500),
        ("KOPI", 12_900, "standard", 500),
        ("PARFUM", 185_000, "luxury", 1),
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
            Quantity::from_i64(stock),
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
    let mut shifts = Vec::new();
    for till in &mut tills {
        till.go_online(&base);
        let shift = lock(&till.terminal)
            .start_shift(cashier, Money::from_i64(200_000))
            .unwrap();
        shifts.push(shift.id);
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
    let first_sale = sold[0].1;
    wait_until(
        "till 2 receives till 1's first sale",
        Duration::from_secs(30),
        || lock(&tills[1].terminal).sale(first_sale).ok(),
    );
    tills[1].go_offline(&rt);
    // Offline, till 2 refunds all of till 1's first line (till 1 refunds part of it below:
    // together more than was sold, an over-refund) and sells the one bottle of perfume that
    // till 3 sells too (an oversell).
    refund(&tills[1], first_sale, cashier, &approval, Part::All);
    let c = cart(&mut lock(&tills[1].terminal), &[(parfum, 1, None)], None);
    sold.push((1, sell(&tills[1], cashier, c, false)));
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
    refund(&tills[0], first_sale, cashier, &approval, Part::Half);
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
    refund(&tills[0], offline_sale, cashier, &approval, Part::Half);
    for n in 0..3 {
        let till = &tills[2];
        let c = cart(&mut lock(&till.terminal), &[(kopi, 1 + n, Some(15))], None);
        sold.push((2, sell(till, cashier, c, false)));
    }
    tills[2].go_online(&base);
    // Till 1's cashier counts Rp 5.000 less than the drawer should hold and closes the shift.
    let (closed, closing_z) = {
        let mut t = lock(&tills[0].terminal);
        let expected = t.z_report_shift(shifts[0]).unwrap().expected_cash;
        t.close_shift(Money(expected.0 - Decimal::from(5_000)), cashier)
            .unwrap()
    };
    assert_eq!(
        closing_z.difference,
        Some(Money::from_i64(-5_000)),
        "{closed:?}"
    );

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
    assert_eq!(from_tills.refunds, 3);
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

    // ---- the report pages of the day, each against the API and the tills, in both languages.
    let store_api = format!("{base}/api/v1/stores/{store_id}");
    let get = |path: &str| {
        rt.block_on(get_json(
            &http_client(),
            &format!("{store_api}/{path}"),
            &token,
        ))
    };
    let range = format!("from={date}&to={date}");
    let pages = format!("/stores/{store_id}");
    let mut b = browser;
    let tour = Tour {
        rt: &rt,
        token: &token,
        store_api: &store_api,
        pages: &pages,
    };

    // By product: every product's quantity and amount as the API has them.
    b.open(&format!("{pages}/reports/products?{range}"));
    let by_product = get(&format!("reports/sales-by-product?{range}"));
    let rows = b.table_rows("report-products");
    assert_eq!(rows.len(), by_product.as_array().unwrap().len(), "{rows:?}");
    for p in by_product.as_array().unwrap() {
        let row = row_of(&rows, p["name"].as_str().unwrap());
        assert_eq!(quantity(&row[1]), dec(&p["quantity"]), "{row:?}");
        assert_eq!(rupiah(&row[2]), dec(&p["amount"]), "{row:?}");
    }
    tour.csv_is_the_apis(
        &mut b,
        "reports/products.csv",
        "exports/products.csv",
        &range,
    );
    b.shots_both("reports-products", &ENGLISH);

    // By cashier: the cashier by name, every sale of the day hers.
    b.open(&format!("{pages}/reports/cashiers?{range}"));
    let rows = b.table_rows("report-cashiers");
    let sari = row_of(&rows, "Sari");
    assert_eq!(count(&sari[1]), from_tills.sales, "{rows:?}");
    assert_eq!(rupiah(&sari[2]), from_tills.total, "{rows:?}");
    tour.csv_is_the_apis(
        &mut b,
        "reports/cashiers.csv",
        "exports/cashiers.csv",
        &range,
    );
    b.shots_both("reports-cashiers", &ENGLISH);

    // By category (none of these products has one): the sales under "No category".
    b.open(&format!("{pages}/reports/categories?{range}"));
    let rows = b.table_rows("report-categories");
    let none = row_of(&rows, "No category");
    assert_eq!(rupiah(&none[2]), from_tills.total, "{rows:?}");
    b.shots_both("reports-categories", &ENGLISH);

    // By payment method: in words, each method's amount as the tills' journals have it.
    b.open(&format!("{pages}/reports/payments?{range}"));
    let rows = b.table_rows("report-payments");
    assert_eq!(rows.len(), from_tills.by_method.len(), "{rows:?}");
    for (method, amount) in &from_tills.by_method {
        let label = match method.as_str() {
            "cash" => "Cash",
            "qris" => "Static QRIS",
            other => panic!("no label for {other}"),
        };
        assert_eq!(rupiah(&row_of(&rows, label)[2]), *amount, "{rows:?}");
    }
    tour.csv_is_the_apis(
        &mut b,
        "reports/payments.csv",
        "exports/payment-methods.csv",
        &range,
    );
    b.shots_both("reports-payments", &ENGLISH);

    // Refunds and voids: three refunds, and the void with its reason.
    b.open(&format!("{pages}/reports/refunds?{range}"));
    let refunds = b.table_rows("report-refunds");
    assert_eq!(refunds.len(), 3, "{refunds:?}");
    let refunded: Decimal = refunds.iter().map(|r| rupiah(&r[4])).sum();
    assert_eq!(refunded, from_tills.refunded);
    let voids = b.table_rows("report-voids");
    assert_eq!(voids.len(), 1, "{voids:?}");
    assert_eq!(voids[0][3], "salah input");
    tour.csv_is_the_apis(
        &mut b,
        "reports/refunds.csv",
        "exports/refunds-voids.csv",
        &range,
    );
    b.shots_both("reports-refunds", &ENGLISH);

    // Shifts: till 1's shift closed Rp 5.000 short, in words; the others still open.
    let short = b.poll("till 1's closed shift on the shifts page", |b| {
        b.open(&format!("{pages}/reports/shifts?{range}"));
        let rows = b.table_rows("report-shifts");
        rows.into_iter()
            .find(|r| r[0] == tills[0].code && r[2] != "–")
    });
    assert_eq!(short[6], "Rp 5.000 short", "{short:?}");
    assert_eq!(rupiah(&short[4]), closing_z.expected_cash.0, "{short:?}");
    tour.csv_is_the_apis(&mut b, "reports/shifts.csv", "exports/shifts.csv", &range);
    b.shots_both("reports-shifts", &ENGLISH);

    // The Z report of the day: the store's sales and refunds, and till 1's count.
    b.open(&format!("{pages}/reports/z?date={date}"));
    assert_eq!(rupiah(&b.text("z-store-sales")), from_tills.total);
    assert_eq!(rupiah(&b.text("z-store-refunds")), from_tills.refunded);
    assert_eq!(
        b.text(&format!("z-{}-difference", tills[0].code)),
        "Rp 5.000 short"
    );
    tour.csv_is_the_apis(
        &mut b,
        &format!("reports/z.csv?date={date}"),
        &format!("exports/z-report.csv?date={date}"),
        "",
    );
    b.shots_both("reports-z", &ENGLISH);

    // Stock: the perfume below zero, the oversell two tills made of it, and its movements.
    let parfum_row = b.poll("the perfume's stock on hand", |b| {
        b.open(&format!("{pages}/stock/on-hand?search=PARFUM"));
        let rows = b.table_rows("stock-on-hand");
        rows.into_iter()
            .find(|r| r[0] == "PARFUM" && quantity(&r[2]) == Decimal::from(-1))
    });
    assert_eq!(parfum_row[1], "Produk PARFUM");
    tour.csv_is_the_apis(&mut b, "stock/on-hand.csv", "exports/stock-on-hand.csv", "");
    b.shots_both("stock-on-hand", &ENGLISH);
    let oversell = b.poll("the perfume's oversell", |b| {
        b.open(&format!("{pages}/stock/oversells"));
        b.table_rows("stock-oversells")
            .into_iter()
            .find(|r| r[0].starts_with("Produk PARFUM"))
    });
    // Till 2 sold the bottle first (offline); till 3's sale took the stock below zero.
    assert!(oversell[1].contains(&tills[2].code), "{oversell:?}");
    assert_eq!(quantity(&oversell[3]), Decimal::from(-1), "{oversell:?}");
    b.shots_both("stock-oversells", &ENGLISH);
    b.click_css("[data-testid=stock-oversells] a");
    b.wait_for("stock-movements");
    let movements = b.table_rows("stock-movements");
    // Newest first: two sales of one bottle after the one bottle received.
    let after: Vec<Decimal> = movements.iter().map(|r| quantity(&r[5])).collect();
    assert_eq!(after.first(), Some(&Decimal::from(-1)), "{movements:?}");
    assert_eq!(after.last(), Some(&Decimal::ONE), "{movements:?}");
    assert_eq!(movements.len(), 3, "{movements:?}");
    b.shots_both("stock-movements", &ENGLISH);

    // Conflicts: the over-refund of till 1's first sale, both tills named, what to do said.
    let told = b.poll("the over-refund on the conflicts page", |b| {
        b.open(&format!("{pages}/conflicts"));
        b.find("conflict-over_refund")
            .map(|_| b.text("conflict-over_refund"))
    });
    for till in [&tills[0], &tills[1]] {
        assert!(told.contains(&till.code), "{told}");
    }
    assert!(told.contains("Produk AQUA"), "{told}");
    b.shots_both("conflicts", &ENGLISH);

    for till in &mut tills {
        till.go_offline(&rt);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
