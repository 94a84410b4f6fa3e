//! The simulated Xendit QR Codes API, driven as SnapKasir's Xendit client drives test mode.

use std::time::Duration;

use serde_json::json;

use super::*;

#[tokio::test]
async fn xendit_create_simulate_and_callback() {
    let (sim, receiver, client) = setup().await;
    let (http, qr) = client.create_qr("sale-1", 12_500).await;
    assert_eq!(http, 201, "{qr}");
    let id = qr["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("qr_"));
    assert_eq!(
        (qr["status"].clone(), qr["amount"].clone()),
        (json!("ACTIVE"), json!(12_500))
    );
    shared_model::qris::check_payload(qr["qr_string"].as_str().unwrap()).unwrap();

    let path = format!("/qr_codes/{id}/payments/simulate");
    let (http, paid) = client
        .xendit("POST", &path, Some(json!({"amount": 12_500})))
        .await;
    assert_eq!(http, 200, "{paid}");
    assert!(paid["id"].as_str().unwrap().starts_with("qrpy_"));
    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].genuine, "the callback token must match");
    assert_eq!(received[0].body["event"], "qr.payment");
    assert_eq!(received[0].body["data"]["status"], "SUCCEEDED");
    assert_eq!(received[0].body["data"]["reference_id"], "sale-1");

    let (_, list) = client
        .xendit("GET", &format!("/qr_codes/{id}/payments"), None)
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["has_more"], false);
    let (_, after) = client.xendit("GET", &format!("/qr_codes/{id}"), None).await;
    assert_eq!(after["status"], "INACTIVE", "a DYNAMIC code is paid once");

    let (_, other) = client.create_qr("sale-2", 1_000).await;
    sim.expire("sale-2").await.unwrap();
    let other_id = other["id"].as_str().unwrap();
    let (_, expired) = client
        .xendit("GET", &format!("/qr_codes/{other_id}"), None)
        .await;
    assert_eq!(expired["status"], "INACTIVE");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.received().len(), 1, "no callback for an expiry");
}

#[tokio::test]
async fn xendit_refuses_duplicates_bad_keys_and_test_amounts() {
    let (_sim, _receiver, client) = setup().await;
    assert_eq!(client.create_qr("sale-3", 1_000).await.0, 201);
    let (http, dup) = client.create_qr("sale-3", 1_000).await;
    assert_eq!(
        (http, dup["error_code"].clone()),
        (409, json!("DUPLICATE_ERROR"))
    );
    let (http, unactivated) = client.create_qr("sale-4", 10_100).await;
    assert_eq!(
        (http, unactivated["error_code"].clone()),
        (403, json!("CHANNEL_NOT_ACTIVATED"))
    );
    let body = json!({"reference_id": "sale-5", "type": "DYNAMIC", "currency": "IDR", "amount": 5});
    let version = [("api-version", "2022-07-31")];
    let (http, denied) = client
        .send(
            "POST",
            "/qr_codes",
            Some(body.clone()),
            &basic("wrong"),
            &version,
        )
        .await;
    assert_eq!(
        (http, denied["error_code"].clone()),
        (401, json!("INVALID_API_KEY"))
    );
    let auth = basic(&client.config.xendit_secret_key);
    let (http, legacy) = client
        .send("POST", "/qr_codes", Some(body), &auth, &[])
        .await;
    assert_eq!(
        (http, legacy["error_code"].clone()),
        (400, json!("API_VALIDATION_ERROR"))
    );
    let (http, missing) = client.xendit("GET", "/qr_codes/qr_nothing", None).await;
    assert_eq!(
        (http, missing["error_code"].clone()),
        (404, json!("DATA_NOT_FOUND"))
    );
}

#[tokio::test]
async fn xendit_refunds_stop_at_the_unrefunded_remainder() {
    let (sim, receiver, client) = setup().await;
    client.create_qr("sale-6", 10_000).await;
    sim.pay("sale-6").await.unwrap();
    let payments = sim.wait_for_deliveries(1, WAIT).await.unwrap();
    let payment_id = payments[0].body["data"]["id"].as_str().unwrap().to_string();
    let path = format!("/qr_codes/payments/{payment_id}/refunds");

    let first = json!({"reference_id": "r1", "amount": 6000, "reason": "REQUESTED_BY_CUSTOMER"});
    let (http, one) = client.xendit("POST", &path, Some(first.clone())).await;
    assert_eq!(http, 200, "{one}");
    assert!(one["id"].as_str().unwrap().starts_with("qrr_"));
    let (_, repeat) = client.xendit("POST", &path, Some(first)).await;
    assert_eq!(repeat["id"], one["id"]);
    let over = json!({"reference_id": "r2", "amount": 4001});
    let (http, refused) = client.xendit("POST", &path, Some(over)).await;
    assert_eq!(http, 400);
    assert_eq!(refused["error_code"], "MAXIMUM_REFUND_AMOUNT_REACHED");
    let rest = json!({"reference_id": "r3", "amount": 4000});
    assert_eq!(client.xendit("POST", &path, Some(rest)).await.0, 200);
    let refunds = sim.refunds("sale-6");
    assert_eq!(
        refunds.iter().map(|r| r.amount).collect::<Vec<_>>(),
        [6000, 4000]
    );
    let received = receiver.wait_for(3).await;
    let events: Vec<_> = received.iter().map(|r| r.body["event"].clone()).collect();
    assert_eq!(
        events,
        [json!("qr.payment"), json!("qr.refund"), json!("qr.refund")]
    );
}
