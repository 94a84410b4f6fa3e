//! The simulated Midtrans, driven as SnapKasir's Midtrans client drives the sandbox.

use serde_json::json;

use super::*;

#[tokio::test]
async fn midtrans_charge_then_pay_sends_a_signed_settlement() {
    let (sim, receiver, client) = setup().await;
    let (http, charge) = client.charge("order-1", 15_000).await;
    assert_eq!(http, 200, "{charge}");
    assert_eq!(charge["status_code"], "201");
    assert_eq!(charge["transaction_status"], "pending");
    assert_eq!(charge["gross_amount"], "15000.00");
    assert_eq!(charge["payment_type"], "qris");
    assert_eq!(charge["actions"][0]["name"], "generate-qr-code");
    let qr = charge["qr_string"].as_str().unwrap();
    shared_model::qris::check_payload(qr).expect("a valid EMVCo payload");
    assert!(qr.contains("540515000"), "{qr}");
    let time = charge["transaction_time"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S").is_ok());
    sim.wait_for_deliveries(1, WAIT).await.unwrap();

    sim.pay("order-1").await.unwrap();
    let received = receiver.wait_for(2).await;
    assert_eq!(
        statuses(&received),
        ["order-1 pending", "order-1 settlement"]
    );
    let settled = &received[1];
    assert!(settled.genuine, "signature must verify: {}", settled.body);
    assert_eq!(settled.body["status_code"], "200");
    assert_eq!(settled.body["gross_amount"], "15000.00");
    assert!(settled.body["settlement_time"].is_string());

    let (http, status) = client.midtrans("GET", "/v2/order-1/status", None).await;
    assert_eq!(
        (http, status["transaction_status"].clone()),
        (200, json!("settlement"))
    );
    let deliveries = sim.wait_for_deliveries(2, WAIT).await.unwrap();
    assert_eq!(deliveries.len(), 2, "one attempt each, both answered 200");
}

#[tokio::test]
async fn midtrans_refuses_duplicates_bad_keys_and_bad_charges() {
    let (_sim, _receiver, client) = setup().await;
    assert_eq!(client.charge("order-2", 5_000).await.0, 200);
    let (http, again) = client.charge("order-2", 5_000).await;
    assert_eq!((http, again["status_code"].clone()), (406, json!("406")));

    let body = json!({"payment_type": "qris",
        "transaction_details": {"order_id": "order-3", "gross_amount": 1000}});
    let (http, denied) = client
        .send("POST", "/v2/charge", Some(body), &basic("wrong"), &[])
        .await;
    assert_eq!((http, denied["status_code"].clone()), (401, json!("401")));

    for (order, amount) in [
        (json!("order-4"), json!(10.5)),
        (json!("order-5"), json!(0)),
    ] {
        let body = json!({"payment_type": "qris",
            "transaction_details": {"order_id": order, "gross_amount": amount}});
        let (http, refused) = client.midtrans("POST", "/v2/charge", Some(body)).await;
        assert_eq!((http, refused["status_code"].clone()), (400, json!("400")));
    }
    let (http, missing) = client.midtrans("GET", "/v2/nothing/status", None).await;
    assert_eq!((http, missing["status_code"].clone()), (404, json!("404")));
}

#[tokio::test]
async fn midtrans_cancels_only_pending_transactions() {
    let (sim, receiver, client) = setup().await;
    client.charge("order-6", 8_000).await;
    let (http, cancelled) = client.midtrans("POST", "/v2/order-6/cancel", None).await;
    assert_eq!(http, 200);
    assert_eq!(cancelled["transaction_status"], "cancel");
    assert!(
        sim.pay("order-6").await.is_err(),
        "a cancelled order cannot be paid"
    );

    client.charge("order-7", 8_000).await;
    sim.pay("order-7").await.unwrap();
    let (http, refused) = client.midtrans("POST", "/v2/order-7/cancel", None).await;
    assert_eq!((http, refused["status_code"].clone()), (412, json!("412")));
    let received = receiver.wait_for(4).await;
    assert!(statuses(&received).contains(&"order-6 cancel".to_string()));
}

#[tokio::test]
async fn midtrans_direct_refund_is_idempotent_by_refund_key() {
    let (sim, receiver, client) = setup().await;
    client.charge("order-8", 20_000).await;
    let path = "/v2/order-8/refund/online/direct";
    let early = json!({"refund_key": "k0", "amount": 1000, "reason": "early"});
    let (http, _) = client.midtrans("POST", path, Some(early)).await;
    assert_eq!(
        http, 412,
        "a pending transaction is cancelled, not refunded"
    );
    sim.wait_for_deliveries(1, WAIT).await.unwrap();
    sim.pay("order-8").await.unwrap();

    let first = json!({"refund_key": "k1", "amount": 5000, "reason": "one item"});
    let (http, one) = client.midtrans("POST", path, Some(first.clone())).await;
    assert_eq!(http, 200, "{one}");
    assert_eq!(one["transaction_status"], "partial_refund");
    assert_eq!(one["refund_amount"], "5000.00");
    assert_eq!(one["refund_key"], "k1");
    let (_, repeat) = client.midtrans("POST", path, Some(first)).await;
    assert_eq!(repeat["refund_chargeback_id"], one["refund_chargeback_id"]);
    assert_eq!(sim.refunds("order-8").len(), 1, "the same key refunds once");

    let too_much = json!({"refund_key": "k2", "amount": 15001});
    let (http, refused) = client.midtrans("POST", path, Some(too_much)).await;
    assert_eq!((http, refused["status_code"].clone()), (412, json!("412")));
    let rest = json!({"refund_key": "k3", "amount": 15000});
    let (_, done) = client.midtrans("POST", path, Some(rest)).await;
    assert_eq!(done["transaction_status"], "refund");
    let refunds: i64 = sim.refunds("order-8").iter().map(|r| r.amount).sum();
    assert_eq!(refunds, 20_000);
    let received = receiver.wait_for(4).await;
    assert!(received.iter().all(|r| r.genuine));
    let seen = statuses(&received);
    assert!(
        seen.contains(&"order-8 partial_refund".to_string()),
        "{seen:?}"
    );
    assert!(seen.contains(&"order-8 refund".to_string()), "{seen:?}");
}

#[tokio::test]
async fn notifications_are_retried_until_answered_2xx() {
    let (sim, receiver, client) = setup().await;
    receiver.answer_next(&[200, 500, 503]);
    client.charge("order-9", 3_000).await;
    sim.wait_for_deliveries(1, WAIT).await.unwrap();
    sim.pay("order-9").await.unwrap();
    let deliveries = sim.wait_for_deliveries(4, WAIT).await.unwrap();
    let settlement: Vec<Option<u16>> = deliveries
        .iter()
        .filter(|d| d.status == "settlement")
        .map(|d| d.receiver_status)
        .collect();
    assert_eq!(settlement, [Some(500), Some(503), Some(200)]);
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test]
async fn midtrans_override_url_and_a_payment_of_another_amount() {
    let (sim, receiver, client) = setup().await;
    let url = format!("{}/midtrans?via=override", receiver.url);
    let body = json!({"payment_type": "qris",
        "transaction_details": {"order_id": "order-15", "gross_amount": 7000}});
    let auth = basic(&client.config.midtrans_server_key);
    let headers = [("x-override-notification", url.as_str())];
    let (http, _) = client
        .send("POST", "/v2/charge", Some(body), &auth, &headers)
        .await;
    assert_eq!(http, 200);
    sim.wait_for_deliveries(1, WAIT).await.unwrap();
    sim.pay_amount("order-15", 6000).await.unwrap();
    let deliveries = sim.wait_for_deliveries(2, WAIT).await.unwrap();
    assert!(deliveries.iter().all(|d| d.url == url), "{deliveries:?}");
    let received = receiver.wait_for(2).await;
    assert_eq!(received[1].body["gross_amount"], "6000.00");
    assert!(received[1].genuine, "signed over the amount it states");
    let recorded = &sim.requests()[0];
    let header = ("x-override-notification".to_string(), url.clone());
    assert!(recorded.headers.contains(&header));
}
