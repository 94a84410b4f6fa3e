//! Attacks on the LAN between tills (docs/security.md, "The channel between tills"): someone on
//! the shop's network listens to two real tills, replays what it captured to a third, injects
//! frames and flips bytes in a live connection; a stolen till is revoked on the server and must
//! be cut off the LAN. Every till is a real headless terminal process on its own SQLite file,
//! enrolled with the real sync server; the attacker is a TCP tap between them.

use std::time::Duration;

use serde_json::json;
use snapkasir_tests::lan_attacks::{
    LanStore, Tap, contains, forged_price_frame, holds_sale, ok, readable, sell, wait_until,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DEADLINE: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A passive eavesdropper records every byte two tills exchange while a new product, a new
/// supervisor (with a PIN hash) and a sale travel between them: it reads none of them, nor the
/// tills' names or proofs.
#[test]
fn lan_eavesdropper_reads_no_document_pin_hash_or_product() {
    let rt = runtime();
    let mut store = LanStore::new(&rt, &["T1", "T2"]);
    // Made after T2 joined, so they can only reach T2 over the LAN.
    ok(
        &mut store.tills[0],
        json!({"cmd": "add_product", "sku": "RHS", "name": "Produk Rahasia Sekali", "price": 7700}),
    );
    ok(
        &mut store.tills[0],
        json!({"cmd": "add_user", "name": "Supervisor Rahasia", "role": "supervisor", "pin": "4321"}),
    );
    let sale = sell(&mut store.tills[0], "AQUA", 2);
    let a1 = store.lan(0, true, &[]).expect("T1 listens");
    let tap = Tap::start(&rt, a1);
    store.lan(1, false, &[tap.addr]);
    wait_until("the sale and the product on T2", DEADLINE, || {
        holds_sale(&mut store.tills[1], &sale) && store.price(1, "RHS") == json!("7700")
    });

    let captures = tap.captures();
    assert!(!captures.is_empty(), "nothing went through the tap");
    for capture in &captures {
        assert!(
            capture.client.len() + capture.server.len() > 1000,
            "the documents did not travel through the tap"
        );
        let read = readable(capture);
        for secret in [
            "Produk Rahasia Sekali",
            "Supervisor Rahasia",
            "$argon2",
            "LAN1-T1",
            "LAN1-T2",
        ] {
            assert!(
                !read.contains(secret),
                "the eavesdropper read {secret:?} off the LAN:\n{}",
                &read[..read.len().min(2000)]
            );
            for stream in [&capture.client, &capture.server] {
                assert!(
                    !contains(stream, secret),
                    "{secret:?} crossed the LAN in clear"
                );
            }
        }
        assert!(
            !contains(&capture.client, "SnapKasir-LAN"),
            "the dial proof crossed the LAN in clear"
        );
    }
}

/// A dial captured between T1 and T2 is replayed to T3 (same store, within the clock window):
/// T3 does not accept it, answers nothing readable and holds nothing of T1's.
#[test]
fn lan_captured_dial_replayed_to_another_till_is_refused() {
    let rt = runtime();
    let mut store = LanStore::new(&rt, &["T1", "T2", "T3"]);
    let sale = sell(&mut store.tills[0], "TEH", 1);
    let a2 = store.lan(1, true, &[]).expect("T2 listens");
    let a3 = store.lan(2, true, &[]).expect("T3 listens");
    let tap = Tap::start(&rt, a2);
    store.lan(0, false, &[tap.addr]);
    wait_until("T1's sale on T2", DEADLINE, || {
        holds_sale(&mut store.tills[1], &sale)
    });
    let captured = tap.captures().remove(0);
    let refused_before = store.refused(2);

    // The attacker replays T1's side of the connection, byte for byte, to T3.
    let answer = rt.block_on(async {
        let mut s = tokio::net::TcpStream::connect(a3)
            .await
            .expect("connect T3");
        s.write_all(&captured.client).await.expect("replay");
        let mut answer = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(1500), s.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        answer
    });
    assert!(
        !contains(&answer, "101 Switching Protocols"),
        "T3 accepted the replayed dial"
    );
    let read = readable(&snapkasir_tests::lan_attacks::Capture {
        client: Vec::new(),
        server: answer,
    });
    assert!(
        !read.contains("LAN1-T3"),
        "T3 talked to the replayer: {read}"
    );
    wait_until("T3 to count the refusal", DEADLINE, || {
        store.refused(2) > refused_before
    });
    assert!(store.peers_of(2).is_empty(), "T3 took a peer");
    assert!(
        !holds_sale(&mut store.tills[2], &sale),
        "T3 took T1's sale from a replay"
    );
}

/// An attacker on the path between T2 and T1 injects a forged frame (a new price for AQUA) into
/// T2's live connection, and flips a byte of it; an unauthenticated client speaks to T1 directly.
/// T1 takes none of it: the price stays, the connection that carried garbage is dropped and
/// re-established, and sales still flow afterwards.
#[test]
fn lan_injected_frames_and_flipped_bytes_change_nothing() {
    let rt = runtime();
    let mut store = LanStore::new(&rt, &["T1", "T2"]);
    let a1 = store.lan(0, true, &[]).expect("T1 listens");
    let tap = Tap::start(&rt, a1);
    store.lan(1, false, &[tap.addr]);
    let first = sell(&mut store.tills[1], "AQUA", 1);
    wait_until("T2's first sale on T1", DEADLINE, || {
        holds_sale(&mut store.tills[0], &first)
    });

    // Injection: a sync frame, as from T2, that sets AQUA to Rp 1.
    let frame = forged_price_frame(&store.export, &store.dir, "LAN1-T2", "LAN1-T1", "AQUA", 1);
    tap.inject_from_client(frame);
    // A real sale after the injection: once T1 holds it, T1 has read past the injected bytes.
    let after_inject = sell(&mut store.tills[1], "TEH", 1);
    wait_until("T2's sale after the injection on T1", DEADLINE, || {
        holds_sale(&mut store.tills[0], &after_inject)
    });
    assert_eq!(
        store.price(0, "AQUA"),
        json!("5000"),
        "T1 took the injected price"
    );

    // A flipped byte in T2's stream.
    let connections = tap.captures().len();
    tap.flip_next_client_byte();
    let after_flip = sell(&mut store.tills[1], "TEH", 2);
    wait_until("the flip to fire", DEADLINE, || !tap.flip_pending());
    wait_until("T2's sale after the flip on T1", DEADLINE, || {
        holds_sale(&mut store.tills[0], &after_flip)
    });
    assert!(
        tap.captures().len() > connections,
        "T1 kept a connection that carried a flipped byte"
    );

    // An unauthenticated client: a plain WebSocket upgrade and a join as T2.
    let refused_before = store.refused(0);
    let answer = rt.block_on(async {
        let mut s = tokio::net::TcpStream::connect(a1)
            .await
            .expect("connect T1");
        let upgrade = format!(
            "GET /lan HTTP/1.1\r\nHost: {a1}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        let _ = s.write_all(upgrade.as_bytes()).await;
        let mut answer = Vec::new();
        let mut buf = vec![0u8; 4096];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(1000), s.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        answer
    });
    assert!(
        !contains(&answer, "101 Switching Protocols"),
        "T1 upgraded an unauthenticated client"
    );
    wait_until("T1 to count the refusal", DEADLINE, || {
        store.refused(0) > refused_before
    });
    assert_eq!(store.price(0, "AQUA"), json!("5000"));
    assert_eq!(store.price(1, "AQUA"), json!("5000"));
}

/// Till T3 is stolen: the owner revokes it on the server. T1 and T2 learn it from the server
/// (roster and rotated store key) and drop T3 within the stated bound; T3 keeps its old store
/// key and keeps dialing, but its sales made after the revocation never reach T1 or T2, which
/// still sync with each other on the new key.
#[test]
fn lan_revoked_till_is_cut_off_and_its_sales_never_reach_the_others() {
    /// T1 and T2 ask the server every 2 s (the headless till's refresh interval): 10 s leaves
    /// room for a busy machine.
    const CUT_OFF_WITHIN: Duration = Duration::from_secs(10);
    let rt = runtime();
    let mut store = LanStore::new(&rt, &["T1", "T2", "T3"]);
    let a1 = store.lan(0, true, &[]).expect("T1 listens");
    let a2 = store.lan(1, true, &[a1]).expect("T2 listens");
    store.lan(2, false, &[a1, a2]);
    let before = sell(&mut store.tills[2], "AQUA", 1);
    wait_until("T3's sale on T1 and T2", DEADLINE, || {
        holds_sale(&mut store.tills[0], &before) && holds_sale(&mut store.tills[1], &before)
    });
    let mut peers = store.peers_of(0);
    peers.sort();
    assert_eq!(peers, ["T2", "T3"]);
    let roster_before = store.lan_status(0)["roster_version"]
        .as_u64()
        .expect("roster");

    let stolen = store.terminal_ids[2].clone();
    store
        .server
        .admin_plain(&["revoke-terminal", "--terminal-id", &stolen]);
    let revoked_at = std::time::Instant::now();
    wait_until("T1 and T2 to drop T3", CUT_OFF_WITHIN, || {
        !store.peers_of(0).contains(&"T3".to_string())
            && !store.peers_of(1).contains(&"T3".to_string())
    });
    let took = revoked_at.elapsed();
    for i in 0..2 {
        let st = store.lan_status(i);
        assert!(
            st["roster_version"].as_u64().expect("roster") > roster_before,
            "{st}"
        );
    }
    let refused = [store.refused(0), store.refused(1)];

    // T3 sells on. It either keeps dialing both with what it holds (and is refused) or, having
    // learnt of its own revocation, stops: either way it holds no LAN peer.
    let after = sell(&mut store.tills[2], "TEH", 3);
    wait_until("T3 to be refused or to give up dialing", DEADLINE, || {
        (store.refused(0) > refused[0] && store.refused(1) > refused[1])
            || store.peers_of(2).is_empty()
    });
    assert!(
        store.peers_of(2).is_empty(),
        "the revoked till still has LAN peers"
    );
    // T1 and T2 still sync with each other (on the rotated store key).
    let between = sell(&mut store.tills[0], "AQUA", 2);
    wait_until("T1's sale on T2 after the rotation", DEADLINE, || {
        holds_sale(&mut store.tills[1], &between)
    });
    for i in 0..2 {
        assert!(
            !holds_sale(&mut store.tills[i], &after),
            "T{}: the revoked till's sale arrived",
            i + 1
        );
        assert!(!store.peers_of(i).contains(&"T3".to_string()));
    }
    assert!(store.peers_of(2).is_empty(), "T3 still has a peer");
    eprintln!("T3 cut off {took:?} after its revocation");
}
