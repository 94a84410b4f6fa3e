//! Dynamic QRIS end to end (issue 16): real tills (pos-core, enrolled), the real server process
//! on its embedded store, and the gateway simulator (`snapkasir_tests::gateway_sim`, following
//! Midtrans's Core API and Xendit's QR Codes API with their signatures) on loopback. No test
//! reaches the internet.
//!
//! One store on Midtrans, one on Xendit. The owner sets each gateway (the keys never come back
//! and are not in the database file in clear); a till asks for a charge and shows its QR; the
//! customer pays at the simulator and the till's long poll answers "paid" as soon as the
//! notification arrives; the paid charge becomes the sale's tender with the gateway's reference.
//! Then the faults: duplicated, reordered, delayed and forged notifications, another amount,
//! expiry, a gateway that fails, a payment made after the till gave up (found and refunded),
//! refunds (once per refund id, never beyond what was paid), another store's payment, and bad
//! input.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::gateway_payments::{
    self as gateway, GatewayCharge, GatewayLink, LateAction, cancel_charge, check_open_charges,
    refund_sale, start_charge, wait_charge,
};
use pos_core::shared_model::money::Money;
use pos_core::shared_model::payment::{PaymentMethod, QrisMode};
use pos_core::{Approval, RefundRequest};
use pos_core::{CoreError, Terminal};
use serde_json::{Value, json};
use snapkasir_tests::demo_sale;
use snapkasir_tests::gateway_sim::{GatewaySim, SimConfig};
use snapkasir_tests::processes::{ServerProcess, api_token, create_tenant_args, http_client};

const MIDTRANS_KEY: &str = "SB-Mid-server-3kq8Y2xPqQv1";
const XENDIT_KEY: &str = "xnd_development_4f0bT9s1c2Q7";
const XENDIT_TOKEN: &str = "cb-token-6d1f0a";

type Till = Arc<Mutex<Terminal>>;

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An owner's or a till's JSON call: status and body.
async fn call(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http_client().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

struct Store {
    id: String,
    owner: String,
    till: Till,
    link: GatewayLink,
    credential: String,
}

/// A tenant with one store, its owner signed in, and one enrolled till in `dir`.
async fn store(server: &ServerProcess, dir: &std::path::Path, code: &str) -> Store {
    let email = format!("owner@{}.test", code.to_lowercase());
    let made = server.admin(&create_tenant_args(
        code,
        code,
        &format!("Toko {code}"),
        &email,
    ));
    let id = made["store_id"].as_str().unwrap().to_string();
    let owner = api_token(&http_client(), &server.url(), &email, "rahasia-panjang-1").await;
    let enrolment = server.enrollment_code(&id, "Kasir 1");
    let till: Till = Arc::new(Mutex::new(
        Terminal::open(dir.join(format!("{code}.db"))).unwrap(),
    ));
    pos_core::enrolment::enrol(&till, &server.url(), &enrolment, true)
        .await
        .expect("enrols");
    let link = GatewayLink::of(&lock(&till), None)
        .unwrap()
        .expect("enrolled");
    let credential = lock(&till).enrolment().unwrap().unwrap().1.0;
    Store {
        id,
        owner,
        till,
        link,
        credential,
    }
}

/// Waits for the charge to leave `pending`, as the app's watcher does; the time it took.
async fn paid_within(s: &Store, charge: &GatewayCharge) -> (GatewayCharge, Duration) {
    let started = Instant::now();
    let now = wait_charge(
        &s.till,
        &s.link,
        &charge.payment_id,
        "pending",
        Duration::from_secs(20),
    )
    .await
    .expect("the wait answers");
    (now, started.elapsed())
}

/// Sells one bottle of water paid by the dynamic QRIS charge `payment_id`.
fn sell_with(s: &Store, payment_id: &str) -> pos_core::shared_model::sale::Sale {
    let mut t = lock(&s.till);
    let tender = t.gateway_tender(payment_id).expect("a paid charge pays");
    let sale = demo_sale::sell(&mut t, &["Aqua"], vec![tender]);
    t.link_gateway_payment(payment_id, &sale.id.to_string())
        .unwrap();
    sale
}

/// The whole of `sale`, approved by the demo store's supervisor.
fn whole_refund(s: &Store, sale: &pos_core::shared_model::sale::Sale) -> RefundRequest {
    let mut t = lock(&s.till);
    let users = t.users().unwrap();
    let by = |name: &str| users.iter().find(|u| u.name == name).unwrap().id;
    RefundRequest {
        sale_id: sale.id,
        lines: t.refundable_lines(sale.id).unwrap(),
        tenders: Vec::new(),
        reason: "barang rusak".into(),
        cashier: by("Sari"),
        approval: Approval {
            user_id: by("Budi"),
            pin: "9999".into(),
        },
    }
}

fn aqua_price(s: &Store) -> Money {
    let t = lock(&s.till);
    t.search("Aqua", 1, false).unwrap().remove(0).price
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamic_qris_through_midtrans_and_xendit_counts_each_payment_once() {
    let dir = tempfile::tempdir().unwrap();
    let sim = GatewaySim::start(SimConfig {
        midtrans_server_key: MIDTRANS_KEY.into(),
        xendit_secret_key: XENDIT_KEY.into(),
        xendit_callback_token: XENDIT_TOKEN.into(),
        retry_delay: Duration::from_millis(200),
        retries: 2,
    })
    .await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"{base}\"\nmidtrans_api_url = \"{sim}\"\nxendit_api_url = \"{sim}\"\nqris_expiry_secs = 12\n",
            sim = sim.base_url()
        ),
    )
    .unwrap();
    let data = dir.path().join("server-data");
    std::fs::create_dir_all(&data).unwrap();
    let db_args = [
        "--config".to_string(),
        config.display().to_string(),
        "--data-dir".to_string(),
        data.display().to_string(),
    ];
    let server = ServerProcess::start_with(
        &db_args,
        &[],
        &format!("127.0.0.1:{port}"),
        &dir.path().join("server.log"),
    );
    sim.set_xendit_callback_url(&format!("{base}/webhooks/xendit"));
    let mid = store(&server, dir.path(), "MIDT").await;
    let xen = store(&server, dir.path(), "XEND").await;
    let api = format!("{base}/api/v1");

    // ------------------------------------------------------------ the owner's settings
    // No gateway yet: the till is told to use the static QRIS.
    let no = start_charge(&mid.till, &mid.link, Money::from_i64(5_000)).await;
    assert!(matches!(no, Err(CoreError::NoGateway)), "{no:?}");
    // A manager cannot set it, a missing key is refused in words.
    let url = format!("{api}/stores/{}/payment-gateway", mid.id);
    let (status, body) = call(
        "PUT",
        &url,
        &mid.owner,
        Some(json!({"provider": "midtrans"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("server key"),
        "{body}"
    );
    let (status, body) = call(
        "PUT",
        &url,
        &mid.owner,
        Some(json!({"provider": "midtrans", "environment": "sandbox", "server_key": MIDTRANS_KEY})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["key_hint"], "…qQv1",
        "only the key's last four characters come back"
    );
    let (status, body) = call("GET", &url, &mid.owner, None).await;
    assert_eq!(status, 200);
    assert!(!body.to_string().contains(MIDTRANS_KEY), "{body}");
    assert_eq!(body["webhook_path"], "/webhooks/midtrans");
    // Another tenant's owner cannot read or set it; a till cannot either.
    let (status, _) = call("GET", &url, &xen.owner, None).await;
    assert_eq!(status, 404);
    let (status, _) = call("GET", &url, &mid.credential, None).await;
    assert!(status == 401 || status == 403 || status == 404, "{status}");
    let xurl = format!("{api}/stores/{}/payment-gateway", xen.id);
    let (status, body) = call(
        "PUT",
        &xurl,
        &xen.owner,
        Some(
            json!({"provider": "xendit", "secret_key": XENDIT_KEY, "callback_token": XENDIT_TOKEN}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The keys are sealed at rest: not in the database file in clear.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        files.extend(std::fs::read(entry.unwrap().path()).unwrap_or_default());
    }
    for secret in [MIDTRANS_KEY, XENDIT_KEY, XENDIT_TOKEN] {
        assert!(
            !files.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is stored in clear"
        );
    }

    // ------------------------------------------------------------ Midtrans: paid, on a sale
    let price = aqua_price(&mid);
    let charge = start_charge(&mid.till, &mid.link, price)
        .await
        .expect("a charge");
    assert_eq!(charge.status, "pending");
    assert!(!charge.qr_string.is_empty());
    assert!(charge.expires_at > pos_core::shared_model::codec::now_ms());
    let asked = sim
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/v2/charge")
        .expect("the server charged at Midtrans");
    let asked = asked.body.expect("a JSON body");
    assert_eq!(asked["transaction_details"]["order_id"], charge.payment_id);
    assert_eq!(asked["payment_type"], "qris");
    // The customer pays while the till waits; the wait answers at once.
    let waiting = {
        let (till, link, id) = (
            mid.till.clone(),
            mid.link.clone(),
            charge.payment_id.clone(),
        );
        tokio::spawn(async move {
            let started = Instant::now();
            let c = wait_charge(&till, &link, &id, "pending", Duration::from_secs(20))
                .await
                .unwrap();
            (c, started)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paid_at = Instant::now();
    sim.pay(&charge.payment_id).await.unwrap();
    let (seen, _) = waiting.await.unwrap();
    let latency = paid_at.elapsed();
    assert_eq!(seen.status, "paid");
    assert!(
        latency < Duration::from_secs(5),
        "the till learnt of the payment {latency:?} after it was made (a notification wakes the wait)"
    );
    println!("paid → till: {latency:?}");
    let sale = sell_with(&mid, &charge.payment_id);
    let p = &sale.settlement.payments[0];
    assert_eq!(
        p.method,
        PaymentMethod::Qris {
            mode: QrisMode::Dynamic
        }
    );
    assert_eq!(p.amount, price);
    assert_eq!(p.reference, seen.reference);
    assert!(p.reference.is_some());
    // The same charge cannot pay a second sale.
    assert!(lock(&mid.till).gateway_tender(&charge.payment_id).is_err());

    // ------------------------------------------------------------ duplicates and reordering
    let c2 = start_charge(&mid.till, &mid.link, Money::from_i64(7_000))
        .await
        .unwrap();
    sim.duplicate_notifications(3);
    sim.hold_notifications();
    sim.pay(&c2.payment_id).await.unwrap();
    sim.expire(&c2.payment_id).await.ok(); // an expiry after the payment: must not undo it
    sim.release_notifications_reversed().await;
    sim.duplicate_notifications(0);
    let (now, _) = paid_within(&mid, &c2).await;
    assert_eq!(now.status, "paid");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, body) = call(
        "GET",
        &format!("{api}/terminal/payments/{}", c2.payment_id),
        &mid.credential,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "paid", "{body}");
    assert_eq!(body["amount"], "7000");

    // A notification that comes late still reaches the waiting till.
    let c6 = start_charge(&mid.till, &mid.link, Money::from_i64(8_000))
        .await
        .unwrap();
    sim.delay_notifications(Duration::from_millis(1_500));
    let started = Instant::now();
    sim.pay(&c6.payment_id).await.unwrap();
    let (now6, _) = paid_within(&mid, &c6).await;
    assert_eq!(now6.status, "paid");
    assert!(
        started.elapsed() >= Duration::from_millis(1_500),
        "the wait outlasted the delay"
    );
    sim.delay_notifications(Duration::ZERO);

    // ------------------------------------------------------------ forged and wrong amount
    let c3 = start_charge(&mid.till, &mid.link, Money::from_i64(9_000))
        .await
        .unwrap();
    assert_eq!(
        sim.send_forged_midtrans(&c3.payment_id, "settlement").await,
        401
    );
    assert_eq!(sim.send_forged_xendit(&c3.payment_id).await, 404);
    sim.pay_amount(&c3.payment_id, 1_000).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, body) = call(
        "GET",
        &format!(
            "{api}/terminal/payments/{}?since=expired&wait_ms=0",
            c3.payment_id
        ),
        &mid.credential,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "pending", "{body}");
    assert!(
        sim.deliveries()
            .iter()
            .any(|d| d.id == c3.payment_id && d.receiver_status == Some(400)),
        "the other amount refused"
    );

    // ------------------------------------------------------------ expiry
    // (c3 is settled at the gateway with the other amount, so another code expires.)
    let c5 = start_charge(&mid.till, &mid.link, Money::from_i64(6_000))
        .await
        .unwrap();
    sim.expire(&c5.payment_id).await.unwrap();
    let (now5, _) = paid_within(&mid, &c5).await;
    assert_eq!(now5.status, "expired");
    assert!(lock(&mid.till).gateway_tender(&c5.payment_id).is_err());

    // ------------------------------------------------------------ a gateway that fails
    sim.fail_next_requests(1);
    let failed = start_charge(&mid.till, &mid.link, Money::from_i64(4_000)).await;
    assert!(
        matches!(&failed, Err(CoreError::Gateway(m)) if m.contains("Midtrans")),
        "{failed:?}"
    );

    // ------------------------------------------------------------ Xendit, and a late payment
    let x1 = start_charge(&xen.till, &xen.link, Money::from_i64(27_500))
        .await
        .unwrap();
    let made = sim
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/qr_codes")
        .expect("the server made a QR code at Xendit");
    let made = made.body.expect("a JSON body");
    assert_eq!(made["reference_id"], x1.payment_id);
    assert_eq!(made["type"], "DYNAMIC");
    // The cashier gives up; the customer pays anyway.
    let gave_up = cancel_charge(&xen.till, &xen.link, &x1.payment_id)
        .await
        .unwrap();
    assert_eq!(gave_up.status, "cancelled");
    assert!(
        check_open_charges(&xen.till, &xen.link)
            .await
            .unwrap()
            .is_empty()
    );
    sim.pay(&x1.payment_id).await.unwrap();
    let late = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let late = check_open_charges(&xen.till, &xen.link).await.unwrap();
            if !late.is_empty() || Instant::now() > deadline {
                break late;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    assert_eq!(late.len(), 1, "the late payment is found");
    assert_eq!(late[0].payment_id, x1.payment_id);
    assert!(late[0].is_late());
    assert!(late[0].reference.as_deref().unwrap().starts_with("qrpy_"));
    // A forged callback with the right reference but the wrong token does nothing.
    assert_eq!(sim.send_forged_xendit(&x1.payment_id).await, 401);
    // Refunded through the gateway; then it is no longer listed.
    let settled = gateway::settle_late_payment(
        &xen.till,
        &x1.payment_id,
        LateAction::Refund(xen.link.clone()),
    )
    .await
    .expect("refunded");
    assert_eq!(settled.resolution.as_deref(), Some("refunded"));
    assert!(!settled.is_late());
    assert_eq!(sim.refunds(late[0].reference.as_deref().unwrap()).len(), 1);
    assert!(
        check_open_charges(&xen.till, &xen.link)
            .await
            .unwrap()
            .is_empty()
    );

    // ------------------------------------------------------------ refunds
    // A sale paid by dynamic QRIS is refunded through the gateway.
    let (refund, refused) = refund_sale(&mid.till, Some(&mid.link), whole_refund(&mid, &sale))
        .await
        .expect("refunded");
    assert_eq!(refused, None);
    assert_eq!(refund.total, price);
    assert_eq!(
        refund.payout.payments[0].method,
        PaymentMethod::Qris {
            mode: QrisMode::Dynamic
        }
    );
    assert_eq!(refund.payout.payments[0].amount, price);
    assert_eq!(sim.refunds(&charge.payment_id).len(), 1);
    // Once per refund id, never beyond what is left of the payment.
    let reference = now.reference.clone().expect("c2's reference");
    let refund_id = uuid::Uuid::now_v7().to_string();
    let part = Money::from_i64(3_000);
    let done = mid
        .link
        .refund(&refund_id, &reference, part, "returned")
        .await
        .unwrap();
    assert_eq!(done.status, "refunded", "{done:?}");
    let again = mid
        .link
        .refund(&refund_id, &reference, part, "returned")
        .await
        .unwrap();
    assert_eq!(again.status, "refunded");
    assert_eq!(
        sim.refunds(&c2.payment_id).len(),
        1,
        "one refund per refund id"
    );
    let too_much = mid
        .link
        .refund(
            &uuid::Uuid::now_v7().to_string(),
            &reference,
            Money::from_i64(7_000),
            "again",
        )
        .await
        .unwrap();
    assert_eq!(too_much.status, "refused", "{too_much:?}");
    assert_eq!(sim.refunds(&c2.payment_id).len(), 1);
    // Another store's till cannot refund it, nor read its charge.
    let other = xen
        .link
        .refund(&uuid::Uuid::now_v7().to_string(), &reference, part, "x")
        .await;
    assert!(matches!(other, Err(CoreError::Gateway(_))), "{other:?}");
    let (status, _) = call(
        "GET",
        &format!("{api}/terminal/payments/{}", charge.payment_id),
        &xen.credential,
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Without the gateway the refund is paid in cash and says why.
    let c4 = start_charge(&mid.till, &mid.link, price).await.unwrap();
    sim.pay(&c4.payment_id).await.unwrap();
    let (paid4, _) = paid_within(&mid, &c4).await;
    assert_eq!(paid4.status, "paid");
    let sale4 = sell_with(&mid, &c4.payment_id);
    let (status, _) = call("DELETE", &url, &mid.owner, None).await;
    assert_eq!(status, 204);
    let (refund, refused) = refund_sale(&mid.till, Some(&mid.link), whole_refund(&mid, &sale4))
        .await
        .expect("refunded in cash");
    assert!(refused.is_some());
    assert!(
        refund
            .payout
            .payments
            .iter()
            .all(|p| p.method == PaymentMethod::Cash)
    );
    assert!(
        refund.reason.contains("QRIS refunded in cash"),
        "{}",
        refund.reason
    );
    assert!(sim.refunds(&c4.payment_id).is_empty());
    let no = start_charge(&mid.till, &mid.link, price).await;
    assert!(matches!(no, Err(CoreError::NoGateway)), "{no:?}");

    // ------------------------------------------------------------ bad input changes nothing
    for (body, why) in [
        (
            json!({"payment_id": "not-a-uuid", "amount": "5000"}),
            "UUID",
        ),
        (
            json!({"payment_id": uuid::Uuid::now_v7().to_string(), "amount": "-5"}),
            "whole rupiah",
        ),
        (
            json!({"payment_id": uuid::Uuid::now_v7().to_string(), "amount": "1.5"}),
            "whole rupiah",
        ),
        (
            json!({"payment_id": uuid::Uuid::now_v7().to_string(), "amount": "99999999999999999999"}),
            "whole rupiah",
        ),
        (
            json!({"payment_id": uuid::Uuid::now_v7().to_string()}),
            "amount",
        ),
    ] {
        let before = sim.requests().len();
        let (status, answer) = call(
            "POST",
            &format!("{api}/terminal/payments/qris"),
            &mid.credential,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(
            answer["message"].as_str().unwrap_or_default().contains(why),
            "{answer}"
        );
        assert_eq!(
            sim.requests().len(),
            before,
            "nothing reached the gateway for {body}"
        );
    }
    let http = http_client();
    let r = http
        .post(format!("{base}/webhooks/midtrans"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}
