//! Attacks the server already withstood before issue 14, kept proven against the real binary on
//! PostgreSQL: another tenant's documents, forged and expired tokens and terminal credentials,
//! malformed frames, and the automerge crasher corpus sent as sync messages. Each asserts that
//! the attack fails, that nothing was stored or changed, and that the server keeps serving
//! everyone else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shared_model::wire;
use snapkasir_tests::attack::{
    AttackServer, RawSync, crashers, sync_message_of_change, upgrade_status,
};

/// Frames above this are refused; small so the oversized frame costs little to send.
const MAX_FRAME: usize = 256 * 1024;

/// A well-behaved till of tenant `a` writes a document; tenant `b`'s owner and till then ask
/// for it and write into it with raw frames. Every attempt gets `doc-unavailable`, and the
/// document's chunks and claim are exactly what they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_document_can_be_neither_read_nor_written() {
    let s = AttackServer::start("known_tenant").await;
    let till_a = s.enroll(&s.a, "Kasir A").await;
    let till_b = s.enroll(&s.b, "Kasir B").await;

    let doc = wire::new_document_id();
    let mut victim = RawSync::connect(&s.ws_url(&till_a.device_credential), "victim-a").await;
    let answer = victim.write(&doc, "price", "12500").await;
    assert!(
        matches!(answer, Some(wire::Message::Sync { .. })),
        "the owner's till writes its document: {answer:?}"
    );
    let before = s.wait_stored(&doc).await;
    assert_eq!(
        before.claimed_by_tenant.as_deref(),
        Some(s.a.tenant_id.as_str())
    );

    for (who, token) in [
        ("tenant b's owner", &s.b.owner_token),
        ("tenant b's till", &till_b.device_credential),
    ] {
        let peer = format!("intruder-{}", who.len());
        let mut raw = RawSync::connect(&s.ws_url(token), &peer).await;
        raw.send(raw.request_frame(&doc)).await;
        let f = raw.next_about(&doc).await;
        assert!(
            matches!(&f, Some(wire::Message::DocUnavailable { document_id, .. }) if *document_id == doc),
            "{who} asked for the document and got {f:?}"
        );
        let f = raw.write(&doc, "price", "1").await;
        assert!(
            matches!(&f, Some(wire::Message::DocUnavailable { .. })),
            "{who} wrote into the document and got {f:?}"
        );
        assert_eq!(
            s.stored(&doc),
            before,
            "{who}'s write changed the stored document"
        );
    }

    // The victim's till still reads its own document (nothing of the attacker's in it).
    let mut again = RawSync::connect(&s.ws_url(&till_a.device_credential), "victim-a2").await;
    again.send(again.request_frame(&doc)).await;
    let f = again.next_about(&doc).await;
    assert!(
        matches!(&f, Some(wire::Message::Sync { .. })),
        "the owner's till reads its document: {f:?}"
    );
    assert_eq!(s.stored(&doc), before);
}

/// Tokens nobody issued, an expired token signed with the server's real key, a token whose
/// claims were edited, and terminal credentials that were never issued or were revoked: every
/// upgrade is refused with 401 and no connection is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_expired_credentials_are_refused() {
    let s = AttackServer::start("known_tokens").await;
    let till = s.enroll(&s.a, "Kasir A").await;
    let revoked = s.enroll(&s.a, "Kasir Hilang").await;
    s.revoke(&revoked);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    // The owner's real token, taken apart: every forgery below keeps its claims (whatever the
    // server puts in them) and changes one thing.
    let parts: Vec<&str> = s.a.owner_token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT");
    let header = parts[0];
    let payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("jwt payload"))
            .expect("jwt json");
    let real_key = s.sql("SELECT value FROM server_settings WHERE key = 'jwt_signing_key'");
    assert!(
        !real_key.is_empty(),
        "the server keeps its JWT key in server_settings"
    );

    let mut expired = payload.clone();
    expired["exp"] = (now - 60).into();
    expired["iat"] = (now - 960).into();
    let mut other_tenant = payload.clone();
    other_tenant["tid"] = s.b.tenant_id.clone().into();
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);

    let attempts: Vec<(&str, String)> = vec![
        ("no token", String::new()),
        ("garbage", "not-a-token".into()),
        (
            "expired, signed with the real key",
            sign(header, &expired, real_key.as_bytes()),
        ),
        (
            "signed with a guessed key",
            sign(header, &payload, b"secret"),
        ),
        (
            "alg none",
            format!(
                "{none_header}.{}.",
                URL_SAFE_NO_PAD.encode(payload.to_string())
            ),
        ),
        (
            "the owner's token edited to tenant b",
            format!(
                "{header}.{}.{}",
                URL_SAFE_NO_PAD.encode(other_tenant.to_string()),
                parts[2]
            ),
        ),
        (
            "a terminal credential nobody issued",
            format!("skd_{}", "A".repeat(43)),
        ),
        (
            "a real credential with one character changed",
            flip_last(&till.device_credential),
        ),
        (
            "a revoked terminal's credential",
            revoked.device_credential.clone(),
        ),
    ];
    let claims_before = s.sql("SELECT count(*) FROM doc_claims");
    for (what, token) in &attempts {
        let url = if token.is_empty() {
            format!("ws://{}/sync", s.server.addr)
        } else {
            s.ws_url(token)
        };
        assert_eq!(upgrade_status(&url).await, 401, "{what}");
    }
    assert_eq!(s.sql("SELECT count(*) FROM doc_claims"), claims_before);

    // The genuine ones still work, and so does the owner's payload re-signed with the real key:
    // the expired token above was refused for its expiry alone.
    let resigned = sign(header, &payload, real_key.as_bytes());
    for token in [&s.a.owner_token, &till.device_credential, &resigned] {
        assert_eq!(upgrade_status(&s.ws_url(token)).await, 101);
    }
}

/// A compact HS256 JWT of `payload` under `header`, signed with `key`.
fn sign(header: &str, payload: &serde_json::Value, key: &[u8]) -> String {
    use hmac::Mac;
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload.to_string()));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn flip_last(credential: &str) -> String {
    let mut c = credential.to_string();
    let last = c.pop().expect("non-empty credential");
    c.push(if last == 'A' { 'B' } else { 'A' });
    c
}

/// Makes an attack's frame for a connected raw client.
type FrameOf<'a> = Box<dyn Fn(&RawSync) -> Vec<u8> + 'a>;

/// Oversized frames, bytes that are not CBOR, CBOR that is not a frame, and sync data that is
/// not automerge: each closes only the connection that sent it, nothing is stored, and a till
/// connected all along keeps syncing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_close_only_their_connection() {
    let s =
        AttackServer::start_with("known_frames", &format!("max_frame_bytes = {MAX_FRAME}\n")).await;
    let till = s.enroll(&s.a, "Kasir A").await;
    let url = s.ws_url(&till.device_credential);
    let mut good = RawSync::connect(&url, "good-till").await;
    let good_doc = wire::new_document_id();
    assert!(matches!(
        good.write(&good_doc, "n", "0").await,
        Some(wire::Message::Sync { .. })
    ));

    let target = wire::new_document_id();
    let cases: Vec<(&str, FrameOf<'_>)> = vec![
        (
            "bytes that are not CBOR",
            Box::new(|_| vec![0xa5, 0xff, 0x00, 0x13]),
        ),
        (
            "CBOR that is not a map",
            Box::new(|_| vec![0x83, 0x01, 0x02, 0x03]),
        ),
        (
            "a frame cut short",
            Box::new(|r| {
                let f = r.sync_frame(&target, b"x");
                f[..f.len() / 2].to_vec()
            }),
        ),
        (
            "sync data that is not automerge",
            Box::new(|r| r.sync_frame(&target, b"not automerge at all")),
        ),
        (
            "a sync message whose change is garbage",
            Box::new(|r| {
                r.sync_frame(
                    &target,
                    &sync_message_of_change(&[0x85, 0x6f, 0x4a, 0x83, 1, 2]),
                )
            }),
        ),
        (
            "a frame over the size limit",
            Box::new(|r| r.sync_frame(&target, &vec![0u8; MAX_FRAME + 1024])),
        ),
    ];
    for (i, (what, frame)) in cases.iter().enumerate() {
        let mut bad = RawSync::connect(&url, &format!("bad-{i}")).await;
        bad.send(frame(&bad)).await;
        // The server closes this connection (with an error frame where it can still write).
        let _ = bad.closed_with_error().await;
        assert!(s.alive().await, "the server died on {what}");
        assert_eq!(s.stored(&target).chunks, 0, "{what} stored something");
        assert_eq!(
            s.stored(&target).claimed_by_tenant,
            None,
            "{what} claimed the document"
        );
        // The good till, connected all along, still syncs.
        let next = (i + 1).to_string();
        let f = good.write(&good_doc, "n", &next).await;
        assert!(
            matches!(f, Some(wire::Message::Sync { .. })),
            "after {what} the good till got {f:?}"
        );
    }
}

/// Every crasher of the automerge corpus, sent as a sync message and as the change inside a
/// valid sync message: each connection is closed, nothing is stored, the server stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automerge_crashers_as_sync_messages_are_rejected() {
    let s = AttackServer::start("known_crashers").await;
    let till = s.enroll(&s.a, "Kasir A").await;
    let url = s.ws_url(&till.device_credential);
    let corpus = crashers();
    assert!(
        corpus.len() >= 8,
        "the corpus is in tests/corpus/automerge/"
    );
    for (i, (name, bytes)) in corpus.iter().enumerate() {
        for (how, data) in [
            ("as a sync message", bytes.to_vec()),
            ("as a change", sync_message_of_change(bytes)),
        ] {
            let doc = wire::new_document_id();
            let mut raw = RawSync::connect(&url, &format!("crash-{i}-{}", how.len())).await;
            raw.send(raw.sync_frame(&doc, &data)).await;
            let error = raw.closed_with_error().await;
            assert!(
                error.is_some(),
                "{name} {how}: closed without an error frame"
            );
            assert!(s.alive().await, "{name} {how} took the server down");
            let stored = s.stored(&doc);
            assert_eq!(
                (stored.chunks, stored.claimed_by_tenant),
                (0, None),
                "{name} {how} was stored"
            );
        }
    }
    // A till still writes afterwards.
    let mut good = RawSync::connect(&url, "after-crashers").await;
    let doc = wire::new_document_id();
    assert!(matches!(
        good.write(&doc, "k", "v").await,
        Some(wire::Message::Sync { .. })
    ));
    s.wait_stored(&doc).await;
}
