//! The fault controls: forged, held and reordered, repeated and delayed notifications, and
//! failing API requests.

use std::time::Duration;

use serde_json::json;

use super::*;

#[tokio::test]
async fn forged_notifications_do_not_verify() {
    let (sim, receiver, client) = setup().await;
    client.charge("order-10", 9_000).await;
    client.create_qr("sale-7", 9_000).await;
    assert_eq!(
        sim.send_forged_midtrans("order-10", "settlement").await,
        401
    );
    assert_eq!(sim.send_forged_xendit("sale-7").await, 401);
    let received = receiver.wait_for(3).await;
    let forged: Vec<_> = received
        .iter()
        .filter(|r| r.body["transaction_status"] == "settlement" || r.body["event"].is_string())
        .collect();
    assert_eq!(forged.len(), 2);
    assert!(forged.iter().all(|r| !r.genuine));
}

#[tokio::test]
async fn held_notifications_are_released_newest_first() {
    let (sim, receiver, client) = setup().await;
    sim.hold_notifications();
    client.charge("order-11", 1_000).await;
    client.charge("order-12", 2_000).await;
    sim.pay("order-11").await.unwrap();
    sim.pay("order-12").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(receiver.received().is_empty(), "held, not sent");
    sim.release_notifications_reversed().await;
    let order = statuses(&receiver.received());
    let expected = [
        "order-12 settlement",
        "order-11 settlement",
        "order-12 pending",
        "order-11 pending",
    ];
    assert_eq!(order, expected);
}

#[tokio::test]
async fn duplicates_delays_and_failures_are_injected() {
    let (sim, receiver, client) = setup().await;
    sim.duplicate_notifications(2);
    sim.delay_notifications(Duration::from_millis(50));
    client.charge("order-13", 1_000).await;
    let received = receiver.wait_for(3).await;
    assert_eq!(statuses(&received), ["order-13 pending"; 3]);
    // A delivery is recorded once its answer is back, which can be after the receiver has it.
    let deliveries = sim.wait_for_deliveries(3, WAIT).await.unwrap();
    let copies: Vec<u32> = deliveries.iter().map(|d| d.copy).collect();
    assert_eq!(copies, [0, 1, 2]);

    sim.fail_next_requests(2);
    let (http, failed) = client.charge("order-14", 1_000).await;
    assert_eq!((http, failed["status_code"].clone()), (500, json!("500")));
    let (http, failed) = client.create_qr("sale-8", 1_000).await;
    assert_eq!(
        (http, failed["error_code"].clone()),
        (500, json!("SERVER_ERROR"))
    );
    assert_eq!(client.charge("order-14", 1_000).await.0, 200);
    let recorded: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(recorded, [200, 500, 500, 200]);

    sim.expire("order-14").await.unwrap();
    let (_, status) = client.midtrans("GET", "/v2/order-14/status", None).await;
    assert_eq!(status["status_code"], "407");
    assert!(
        sim.deny("order-14").await.is_err(),
        "an expired order cannot be denied"
    );
}
