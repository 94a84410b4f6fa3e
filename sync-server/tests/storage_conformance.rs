//! One storage story, run against every backend.

mod common;

use sync_server::Error;
use sync_server::storage::{
    ChunkDelete, ChunkPut, DocClaim, DynStorage, EnrollmentCodeRow, RefreshTokenRow, RefreshUse,
    SessionRow, SessionState, StoreRow, Tenant, TerminalRow, UserRow,
};

/// The tenant the story's chunks belong to.
const T: &str = "t";

fn put(tenant: &str, key: &str, data: &[u8]) -> ChunkPut {
    ChunkPut {
        tenant: tenant.into(),
        key: key.into(),
        data: data.to_vec(),
    }
}

async fn story(s: DynStorage) {
    s.ping().await.unwrap();
    // migrating twice is a no-op
    s.migrate().await.unwrap();

    // ---- chunks, keyed like samod: [doc, "incremental", hash], [doc, "snapshot", hash]
    assert_eq!(s.load_chunk(T, "doc1/incremental/aa").await.unwrap(), None);
    s.put_chunk(T, "doc1/incremental/aa", b"one").await.unwrap();
    s.put_chunk(T, "doc1/incremental/bb", b"two").await.unwrap();
    s.put_chunk(T, "doc1/snapshot/cc", &[0u8, 255, 1])
        .await
        .unwrap();
    s.put_chunk(T, "doc10/incremental/aa", b"other doc")
        .await
        .unwrap();
    s.put_chunk(T, "doc1-x/incremental/aa", b"other doc")
        .await
        .unwrap();
    s.put_chunk(T, "storage-adapter-id", b"id").await.unwrap();
    assert_eq!(
        s.load_chunk(T, "doc1/incremental/aa")
            .await
            .unwrap()
            .unwrap(),
        b"one"
    );
    // overwrite
    s.put_chunk(T, "doc1/incremental/aa", b"ONE").await.unwrap();
    assert_eq!(
        s.load_chunk(T, "doc1/incremental/aa")
            .await
            .unwrap()
            .unwrap(),
        b"ONE"
    );

    let range = s.load_chunk_range(T, "doc1").await.unwrap();
    let keys: Vec<_> = range.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "doc1/incremental/aa",
            "doc1/incremental/bb",
            "doc1/snapshot/cc"
        ]
    );
    assert_eq!(range[2].1, vec![0u8, 255, 1]);
    let inc = s.load_chunk_range(T, "doc1/incremental").await.unwrap();
    assert_eq!(inc.len(), 2);
    assert_eq!(
        s.load_chunk_range(T, "storage-adapter-id")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s.load_chunk_range(T, "nope").await.unwrap().is_empty());

    // Several chunks in one transaction: an overwrite, and a key twice (the later wins).
    let batch: Vec<ChunkPut> = [
        ("doc2/incremental/aa", &b"first"[..]),
        ("doc1/incremental/bb", b"TWO"),
        ("doc2/incremental/bb", b"b"),
        ("doc2/incremental/aa", b"second"),
    ]
    .iter()
    .map(|(k, v)| put(T, k, v))
    .collect();
    s.put_chunks(&batch).await.unwrap();
    s.put_chunks(&[]).await.unwrap();
    let doc2 = s.load_chunk_range(T, "doc2").await.unwrap();
    assert_eq!(
        doc2,
        [
            ("doc2/incremental/aa".to_string(), b"second".to_vec()),
            ("doc2/incremental/bb".to_string(), b"b".to_vec()),
        ]
    );
    assert_eq!(
        s.load_chunk(T, "doc1/incremental/bb")
            .await
            .unwrap()
            .unwrap(),
        b"TWO"
    );
    // More rows than one INSERT takes.
    let many: Vec<ChunkPut> = (0..1_201)
        .map(|i| put(T, &format!("doc3/incremental/{i:05}"), &[i as u8]))
        .collect();
    s.put_chunks(&many).await.unwrap();
    assert_eq!(s.load_chunk_range(T, "doc3").await.unwrap().len(), 1_201);
    for key in ["doc2/incremental/aa", "doc2/incremental/bb"] {
        s.delete_chunk(T, key).await.unwrap();
    }
    for c in &many {
        s.delete_chunk(T, &c.key).await.unwrap();
    }

    s.delete_chunk(T, "doc1/incremental/aa").await.unwrap();
    s.delete_chunk(T, "doc1/incremental/aa").await.unwrap(); // absent: fine
    assert_eq!(s.load_chunk_range(T, "doc1").await.unwrap().len(), 2);
    assert_eq!(
        s.chunk_doc_ids().await.unwrap(),
        ["doc1", "doc1-x", "doc10"]
    );

    // Chunks are the tenant's: another tenant's repo sees none of them, and the same key in two
    // tenants (samod's storage id) is two chunks.
    assert_eq!(
        s.load_chunk("other", "doc1/snapshot/cc").await.unwrap(),
        None
    );
    assert!(
        s.load_chunk_range("other", "doc1")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.load_chunk_range("other", "").await.unwrap().is_empty());
    s.delete_chunk("other", "doc1/snapshot/cc").await.unwrap();
    assert_eq!(s.load_chunk_range(T, "doc1").await.unwrap().len(), 2);
    // Puts and deletes of several tenants in one transaction (samod's compaction: a document
    // saved whole, the chunks it covers deleted); an absent chunk's delete is no error.
    s.put_chunk(T, "docW/incremental/a", b"a").await.unwrap();
    s.put_chunk("other", "docW/incremental/a", b"other's")
        .await
        .unwrap();
    let delete = |tenant: &str, key: &str| ChunkDelete {
        tenant: tenant.into(),
        key: key.into(),
    };
    s.write_chunks(
        &[put(T, "docW/snapshot/s", b"whole")],
        &[
            delete(T, "docW/incremental/a"),
            delete(T, "docW/incremental/absent"),
        ],
    )
    .await
    .unwrap();
    let keys: Vec<_> = s
        .load_chunk_range(T, "docW")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["docW/snapshot/s"]);
    assert_eq!(
        s.load_chunk("other", "docW/incremental/a").await.unwrap(),
        Some(b"other's".to_vec())
    );
    s.write_chunks(&[], &[]).await.unwrap();
    s.write_chunks(&[], &[delete(T, "docW/snapshot/s")])
        .await
        .unwrap();
    assert!(s.load_chunk_range(T, "docW").await.unwrap().is_empty());
    s.put_chunks(&[
        put("other", "storage-adapter-id", b"other id"),
        put(T, "doc1/snapshot/cc", b"new"),
    ])
    .await
    .unwrap();
    assert_eq!(
        s.load_chunk(T, "storage-adapter-id")
            .await
            .unwrap()
            .unwrap(),
        b"id"
    );
    assert_eq!(
        s.load_chunk("other", "storage-adapter-id")
            .await
            .unwrap()
            .unwrap(),
        b"other id"
    );
    assert_eq!(s.load_chunk_range(T, "").await.unwrap().len(), 5);

    // ---- settings
    assert_eq!(s.setting("k").await.unwrap(), None);
    assert_eq!(s.setting_init("k", "v1").await.unwrap(), "v1");
    assert_eq!(s.setting_init("k", "v2").await.unwrap(), "v1");

    // ---- tenancy
    let t = Tenant {
        id: "t1".into(),
        name: "Toko".into(),
        created_at: 1,
    };
    s.insert_tenant(&t).await.unwrap();
    assert!(matches!(s.insert_tenant(&t).await, Err(Error::Conflict(_))));
    assert_eq!(s.tenant("t1").await.unwrap(), Some(t.clone()));
    s.insert_tenant(&Tenant {
        id: "t2".into(),
        name: "Other".into(),
        created_at: 1,
    })
    .await
    .unwrap();
    let store = StoreRow {
        id: "s1".into(),
        tenant_id: "t1".into(),
        code: "JKT1".into(),
        name: "Jakarta".into(),
        store_key: "secret".into(),
        created_at: 2,
    };
    s.insert_store(&store).await.unwrap();
    let dup = StoreRow {
        id: "s9".into(),
        ..store.clone()
    };
    assert!(matches!(
        s.insert_store(&dup).await,
        Err(Error::Conflict(_))
    ));
    let s2 = StoreRow {
        id: "s2".into(),
        code: "BDG1".into(),
        ..store.clone()
    };
    s.insert_store(&s2).await.unwrap();
    assert_eq!(s.store("s1").await.unwrap(), Some(store.clone()));
    let codes: Vec<_> = s
        .stores_of_tenant("t1")
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.code)
        .collect();
    assert_eq!(codes, ["BDG1", "JKT1"]);
    assert!(s.stores_of_tenant("t2").await.unwrap().is_empty());
    // unknown tenant violates the foreign key
    let orphan = StoreRow {
        id: "s3".into(),
        tenant_id: "nope".into(),
        code: "X".into(),
        ..store.clone()
    };
    assert!(s.insert_store(&orphan).await.is_err());

    let u = UserRow {
        id: "u1".into(),
        tenant_id: "t1".into(),
        store_id: None,
        email: "owner@example.com".into(),
        password_hash: "$argon2id$...".into(),
        role: "owner".into(),
        created_at: 3,
        disabled_at: None,
    };
    s.insert_user(&u).await.unwrap();
    assert!(matches!(
        s.insert_user(&UserRow {
            id: "u2".into(),
            ..u.clone()
        })
        .await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(s.user("u1").await.unwrap(), Some(u.clone()));
    assert_eq!(
        s.user_by_email("owner@example.com").await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(s.user_by_email("x@example.com").await.unwrap(), None);

    // ---- enrollment
    let code = EnrollmentCodeRow {
        code_hash: "h1".into(),
        tenant_id: "t1".into(),
        store_id: "s1".into(),
        created_by: "u1".into(),
        terminal_name: "Till 1".into(),
        created_at: 10,
        expires_at: 100,
        used_at: None,
        terminal_id: None,
    };
    s.insert_enrollment_code(&code).await.unwrap();
    s.insert_enrollment_code(&EnrollmentCodeRow {
        code_hash: "h-expired".into(),
        expires_at: 20,
        ..code.clone()
    })
    .await
    .unwrap();
    let term = TerminalRow {
        id: "term1".into(),
        tenant_id: "t1".into(),
        store_id: "s1".into(),
        name: "Till 1".into(),
        credential_hash: "c1".into(),
        created_at: 50,
        revoked_at: None,
        last_seen_at: None,
    };
    assert_eq!(
        s.redeem_enrollment_code("h-expired", &term, 50)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.redeem_enrollment_code("unknown", &term, 50)
            .await
            .unwrap(),
        None
    );
    let used = s
        .redeem_enrollment_code("h1", &term, 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.used_at, Some(50));
    assert_eq!(used.terminal_id.as_deref(), Some("term1"));
    let term2 = TerminalRow {
        id: "term2".into(),
        credential_hash: "c2".into(),
        ..term.clone()
    };
    assert_eq!(
        s.redeem_enrollment_code("h1", &term2, 51).await.unwrap(),
        None,
        "codes are one-time"
    );
    assert_eq!(
        s.terminal("term2").await.unwrap(),
        None,
        "nothing inserted for a used code"
    );
    assert_eq!(s.terminal("term1").await.unwrap(), Some(term.clone()));
    assert_eq!(
        s.terminal_by_credential("c1").await.unwrap(),
        Some(term.clone())
    );
    assert_eq!(s.terminal_by_credential("c2").await.unwrap(), None);
    s.touch_terminal("term1", 60).await.unwrap();
    assert_eq!(
        s.terminal("term1").await.unwrap().unwrap().last_seen_at,
        Some(60)
    );
    assert_eq!(s.terminals_of_store("s1").await.unwrap().len(), 1);
    // Presence: the terminals this instance holds are vouched for in one write; an unknown id
    // is no error.
    s.set_terminals_connected_until(&["term1".into(), "gone".into()], 65_000)
        .await
        .unwrap();
    let connected = |rows: Vec<sync_server::storage::TerminalStatusRow>| {
        rows.into_iter()
            .map(|r| (r.terminal.id, r.connected_until))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        connected(s.terminal_statuses_of_store("s1").await.unwrap()),
        [("term1".to_string(), Some(65_000))]
    );
    s.set_terminals_connected_until(&["term1".into()], 61)
        .await
        .unwrap();
    assert_eq!(
        connected(s.terminal_statuses_of_store("s1").await.unwrap()),
        [("term1".to_string(), Some(61))]
    );
    // Heartbeat reports: many in one write, a terminal's app version may be absent, an
    // unknown id is no error.
    let report =
        |id: &str, at: i64, app_version: Option<&str>| sync_server::storage::TerminalReport {
            terminal_id: id.into(),
            at,
            waiting_documents: 2,
            waiting_sales: -at,
            clock_skew_ms: -1_500,
            app_version: app_version.map(str::to_string),
        };
    s.record_terminal_reports(&[report("gone", 66, None), report("term1", 65, Some("1.4.0"))])
        .await
        .unwrap();
    let row = s.terminal_statuses_of_store("s1").await.unwrap().remove(0);
    assert_eq!(
        (
            row.terminal.last_seen_at,
            row.last_report_at,
            row.waiting_documents,
            row.waiting_sales,
            row.clock_skew_ms,
            row.app_version.as_deref()
        ),
        (Some(65), Some(65), 2, -65, Some(-1_500), Some("1.4.0"))
    );
    s.record_terminal_reports(&[report("term1", 67, None)])
        .await
        .unwrap();
    let row = s.terminal_statuses_of_store("s1").await.unwrap().remove(0);
    assert_eq!((row.last_report_at, row.app_version), (Some(67), None));
    let revoked = s.revoke_terminal("term1", 70).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(70));
    // revoking again keeps the first time
    assert_eq!(
        s.revoke_terminal("term1", 80)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(70)
    );
    assert_eq!(s.revoke_terminal("nope", 80).await.unwrap(), None);
    assert_eq!(s.terminals_revoked_since(70).await.unwrap(), ["term1"]);
    assert!(s.terminals_revoked_since(71).await.unwrap().is_empty());

    // ---- sessions and refresh tokens
    let session = SessionRow {
        id: "ses1".into(),
        user_id: "u1".into(),
        created_at: 1,
        ended_at: None,
        end_reason: None,
    };
    s.insert_session(&session).await.unwrap();
    s.insert_session(&SessionRow {
        id: "ses2".into(),
        ..session.clone()
    })
    .await
    .unwrap();
    let live = SessionState {
        user_id: "u1".into(),
        ended_at: None,
        user_disabled_at: None,
    };
    assert_eq!(s.session_state("ses1").await.unwrap(), Some(live.clone()));
    assert_eq!(s.session_state("nope").await.unwrap(), None);
    let rt = RefreshTokenRow {
        token_hash: "r1".into(),
        user_id: "u1".into(),
        created_at: 1,
        expires_at: 100,
        used_at: None,
        session_id: Some("ses1".into()),
    };
    s.insert_refresh_token(&rt).await.unwrap();
    assert_eq!(
        s.use_refresh_token("r1", 200).await.unwrap(),
        RefreshUse::Invalid,
        "expired"
    );
    let RefreshUse::Fresh(used) = s.use_refresh_token("r1", 50).await.unwrap() else {
        panic!("a fresh token")
    };
    assert_eq!(
        (used.used_at, used.session_id.as_deref()),
        (Some(50), Some("ses1"))
    );
    assert!(
        matches!(s.use_refresh_token("r1", 51).await.unwrap(), RefreshUse::Reused(r) if r.session_id.as_deref() == Some("ses1")),
        "one use only; the second is reuse"
    );
    assert_eq!(
        s.use_refresh_token("nope", 51).await.unwrap(),
        RefreshUse::Invalid
    );
    assert!(s.end_session("ses1", "signed out", 60).await.unwrap());
    assert!(
        !s.end_session("ses1", "again", 61).await.unwrap(),
        "ends once"
    );
    assert_eq!(
        s.session_state("ses1").await.unwrap().unwrap().ended_at,
        Some(60)
    );
    assert_eq!(s.sessions_ended_since(60).await.unwrap(), ["ses1"]);
    assert!(s.sessions_ended_since(61).await.unwrap().is_empty());
    s.insert_session(&SessionRow {
        id: "ses3".into(),
        ..session.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        s.end_user_sessions("u1", Some("ses3"), "password changed", 70)
            .await
            .unwrap(),
        ["ses2"]
    );
    assert!(s.set_user_disabled("u1", Some(80)).await.unwrap());
    assert!(!s.set_user_disabled("nope", Some(80)).await.unwrap());
    assert_eq!(
        s.session_state("ses3")
            .await
            .unwrap()
            .unwrap()
            .user_disabled_at,
        Some(80)
    );
    assert_eq!(s.user("u1").await.unwrap().unwrap().disabled_at, Some(80));
    assert!(s.set_user_disabled("u1", None).await.unwrap());
    assert_eq!(s.session_state("ses3").await.unwrap(), Some(live));
    s.set_password_hash("u1", "$argon2id$new").await.unwrap();
    assert_eq!(
        s.user("u1").await.unwrap().unwrap().password_hash,
        "$argon2id$new"
    );

    // ---- login attempts: counted atomically per key and window
    for n in 1..=3 {
        assert_eq!(
            s.count_login_attempt("account:a", 1_000, 100)
                .await
                .unwrap(),
            n
        );
    }
    s.refund_login_attempt("account:a").await.unwrap();
    assert_eq!(
        s.count_login_attempt("account:a", 1_050, 100)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        s.count_login_attempt("account:b", 1_050, 100)
            .await
            .unwrap(),
        1
    );
    // a new window starts afresh
    assert_eq!(
        s.count_login_attempt("account:a", 1_100, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.prune_login_attempts(1_100).await.unwrap(),
        1,
        "b's window began at 1050"
    );

    // ---- cluster instances
    s.heartbeat_instance("i1", "ws://a/sync", 100)
        .await
        .unwrap();
    s.heartbeat_instance("i2", "ws://b/sync", 100)
        .await
        .unwrap();
    s.heartbeat_instance("i1", "ws://a2/sync", 200)
        .await
        .unwrap();
    assert_eq!(
        s.live_instances(150).await.unwrap(),
        [("i1".to_string(), "ws://a2/sync".to_string())]
    );
    assert_eq!(s.live_instances(0).await.unwrap().len(), 2);

    // ---- document claims: the first claim wins forever
    let c1 = DocClaim {
        doc_id: "docA".into(),
        tenant_id: "t1".into(),
        store_id: Some("s1".into()),
        claimed_by: "terminal:term1".into(),
        claimed_at: 5,
    };
    assert_eq!(s.doc_claim("docA").await.unwrap(), None);
    assert_eq!(s.claim_doc(&c1).await.unwrap(), c1);
    let c2 = DocClaim {
        tenant_id: "t2".into(),
        store_id: None,
        claimed_by: "x".into(),
        ..c1.clone()
    };
    assert_eq!(s.claim_doc(&c2).await.unwrap(), c1);
    assert_eq!(s.doc_claim("docA").await.unwrap(), Some(c1));

    lan_story(&s).await;
    apps_story(&s).await;
    receipt_email_story(&s).await;
    detail_reports_story(&s).await;
    additions_story(&s).await;
}

/// Several journals' new sales written in one transaction: each journal's only while nobody
/// projected it since the projection they were read against, and nothing written before is
/// removed.
async fn additions_story(s: &DynStorage) {
    use sync_server::storage::{PaymentRow, ProductRow, ProjectedDoc, SaleRow};
    let journal = |doc: &str, sales: &[&str]| ProjectedDoc {
        doc_id: doc.into(),
        tenant_id: "t-add".into(),
        store_id: "s-add".into(),
        kind: "journal".into(),
        sales: sales
            .iter()
            .map(|id| SaleRow {
                id: (*id).into(),
                terminal_code: "T1".into(),
                business_date: "2026-12-05".into(),
                created_at: 5,
                cashier_id: "c".into(),
                receipt_no: format!("R-{id}"),
                total_e4: 10_000,
                tax_e4: 0,
                discount_e4: 0,
                voided: false,
                void: None,
                receipt_token: Some(format!("{id:0>32}")),
            })
            .collect(),
        payments: sales
            .iter()
            .map(|id| PaymentRow {
                sale_id: (*id).into(),
                seq: 0,
                method: "cash".into(),
                amount_e4: 10_000,
            })
            .collect(),
        ..ProjectedDoc::default()
    };
    let on_server = |ids: &[&str]| {
        let ids: Vec<String> = ids.iter().map(|id| (*id).to_string()).collect();
        async move {
            let mut found = s.projected_records("t-add", "s-add", &ids).await.unwrap();
            found.sort();
            found
        }
    };
    assert!(s.project_additions(&[]).await.unwrap().is_empty());
    let at1 = s.project_doc(&journal("j-add-1", &["a1"])).await.unwrap();
    let at2 = s.project_doc(&journal("j-add-2", &["b1"])).await.unwrap();
    let written = s
        .project_additions(&[
            (journal("j-add-1", &["a2", "a3"]), at1),
            // Projected by someone else since `at2 - 1`: passed over, nothing of it written.
            (journal("j-add-2", &["b2"]), at2 - 1),
            // Never projected: its first projection is a whole one.
            (journal("j-add-3", &["c1"]), at1),
        ])
        .await
        .unwrap();
    assert_eq!(written.len(), 3);
    let new_at1 = written[0].expect("the journal projected against its last projection");
    assert!(new_at1 > at1, "{new_at1} follows {at1}");
    assert_eq!(&written[1..], [None, None]);
    let all = ["a1", "a2", "a3", "b1", "b2", "c1"];
    assert_eq!(on_server(&all).await, ["a1", "a2", "a3", "b1"]);
    let receipt = s
        .sale_by_receipt_token(&format!("{:0>32}", "a3"))
        .await
        .unwrap()
        .expect("an added sale with its payment");
    assert_eq!(receipt.payments.len(), 1);
    // The next additions go against the new `projected_at`; the old one is stale now.
    let stale = s
        .project_additions(&[(journal("j-add-1", &["a4"]), at1)])
        .await
        .unwrap();
    assert_eq!(stale, [None]);
    let next = s
        .project_additions(&[(journal("j-add-1", &["a4"]), new_at1)])
        .await
        .unwrap();
    assert!(next[0].is_some_and(|at| at > new_at1));
    assert_eq!(
        on_server(&["a1", "a2", "a3", "a4"]).await,
        ["a1", "a2", "a3", "a4"]
    );

    // Two documents of one batch with the same product of a store (a product moved from one
    // catalog document to another): one row, the later document's (one upsert may not touch
    // a row twice on PostgreSQL).
    let catalog = |doc: &str, name: &str| ProjectedDoc {
        doc_id: doc.into(),
        tenant_id: "t-add".into(),
        store_id: "s-add".into(),
        kind: "catalog".into(),
        products: vec![ProductRow {
            id: "p-moved".into(),
            sku: "SKU-M".into(),
            name: name.into(),
            category_id: None,
            price_e4: 10_000,
            low_stock_threshold_e4: None,
            active: true,
        }],
        ..ProjectedDoc::default()
    };
    let empty = |doc: &str| ProjectedDoc {
        products: Vec::new(),
        ..catalog(doc, "")
    };
    let at_c1 = s.project_doc(&empty("cat-1")).await.unwrap();
    let at_c2 = s.project_doc(&empty("cat-2")).await.unwrap();
    let written = s
        .project_additions(&[
            (catalog("cat-1", "Lama"), at_c1),
            (catalog("cat-2", "Baru"), at_c2),
        ])
        .await
        .unwrap();
    assert!(written.iter().all(Option::is_some));
    let names = s.report_product_names("s-add").await.unwrap();
    assert_eq!(
        names.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["Baru"]
    );
}

/// Row-level report reads (migration 0013): a voided sale with its void, movements with their
/// reference and till in time order, product names.
async fn detail_reports_story(s: &DynStorage) {
    use sync_server::storage::{
        MovementListRow, ProductNameRow, ProductRow, ProjectedDoc, SaleRow, StockMovementRow,
        VoidDetail,
    };
    let sale = |id: &str, void: Option<VoidDetail>| SaleRow {
        id: id.into(),
        terminal_code: "T1".into(),
        business_date: "2026-11-20".into(),
        created_at: 5,
        cashier_id: "c".into(),
        receipt_no: format!("R-{id}"),
        total_e4: 10_000,
        tax_e4: 0,
        discount_e4: 2_500,
        voided: void.is_some(),
        void,
        receipt_token: Some(format!("{id:0>32}")),
    };
    let movement = |id: &str, at: i64, q: i64, till: Option<&str>| StockMovementRow {
        id: id.into(),
        product_id: "p1".into(),
        kind: if till.is_some() { "sale" } else { "receipt" }.into(),
        quantity_e4: q,
        at,
        reference: Some(format!("ref-{id}")),
        terminal_code: till.map(Into::into),
    };
    let void = VoidDetail {
        at: 7,
        reason: "salah".into(),
        authorized_by: "sup".into(),
    };
    s.project_doc(&ProjectedDoc {
        doc_id: "journal-detail".into(),
        tenant_id: "t1".into(),
        store_id: "s-detail".into(),
        kind: "journal".into(),
        sales: vec![sale("a", None), sale("b", Some(void))],
        stock_movements: vec![movement("m2", 9, -20_000, Some("T1"))],
        ..ProjectedDoc::default()
    })
    .await
    .unwrap();
    s.project_doc(&ProjectedDoc {
        doc_id: "adjust-detail".into(),
        tenant_id: "t1".into(),
        store_id: "s-detail".into(),
        kind: "stock-adjustments".into(),
        stock_movements: vec![movement("m1", 3, 10_000, None)],
        products: vec![ProductRow {
            id: "p1".into(),
            sku: "SKU1".into(),
            name: "Produk".into(),
            category_id: None,
            price_e4: 0,
            low_stock_threshold_e4: None,
            active: true,
        }],
        ..ProjectedDoc::default()
    })
    .await
    .unwrap();
    // The public receipt page's lookup: by token, the one sale with it; a token two sales
    // carry (a till sent a copy) shows neither; an unknown one nothing.
    let found = s
        .sale_by_receipt_token(&format!("{:0>32}", "a"))
        .await
        .unwrap()
        .expect("the sale of the token");
    assert_eq!(
        (
            found.store_id.as_str(),
            found.receipt_no.as_str(),
            found.voided
        ),
        ("s-detail", "R-a", false)
    );
    assert_eq!(found.total_e4, 10_000);
    assert!(
        s.sale_by_receipt_token(&"f".repeat(32))
            .await
            .unwrap()
            .is_none()
    );
    s.project_doc(&ProjectedDoc {
        doc_id: "journal-copycat".into(),
        tenant_id: "t1".into(),
        store_id: "s-other".into(),
        kind: "journal".into(),
        sales: vec![SaleRow {
            id: "copy".into(),
            ..sale("b", None)
        }],
        ..ProjectedDoc::default()
    })
    .await
    .unwrap();
    assert!(
        s.sale_by_receipt_token(&format!("{:0>32}", "b"))
            .await
            .unwrap()
            .is_none(),
        "a token two sales carry shows neither"
    );
    let voids = s
        .report_voids("s-detail", "2026-11-20", "2026-11-20")
        .await
        .unwrap();
    assert_eq!(voids.len(), 1);
    assert_eq!(
        (
            voids[0].sale_id.as_str(),
            voids[0].voided_at,
            voids[0].void_reason.as_deref(),
            voids[0].void_authorized_by.as_deref()
        ),
        ("b", Some(7), Some("salah"), Some("sup"))
    );
    let expected = [
        MovementListRow {
            id: "m1".into(),
            product_id: "p1".into(),
            kind: "receipt".into(),
            quantity_e4: 10_000,
            at: 3,
            reference: Some("ref-m1".into()),
            terminal_code: None,
        },
        MovementListRow {
            id: "m2".into(),
            product_id: "p1".into(),
            kind: "sale".into(),
            quantity_e4: -20_000,
            at: 9,
            reference: Some("ref-m2".into()),
            terminal_code: Some("T1".into()),
        },
    ];
    assert_eq!(
        s.report_movements("s-detail", None).await.unwrap(),
        expected
    );
    assert_eq!(
        s.report_movements("s-detail", Some("p1")).await.unwrap(),
        expected
    );
    assert!(
        s.report_movements("s-detail", Some("p2"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.report_product_names("s-detail").await.unwrap(),
        [ProductNameRow {
            id: "p1".into(),
            sku: "SKU1".into(),
            name: "Produk".into()
        }]
    );
}

/// App credentials (migration 0012), of tenant `t1` made by its user `u1` from the story.
async fn apps_story(s: &DynStorage) {
    use sync_server::storage::AppCredentialRow;
    let c = AppCredentialRow {
        id: "app1".into(),
        tenant_id: "t1".into(),
        name: "Web".into(),
        secret_hash: "h1".into(),
        created_by: "u1".into(),
        created_at: 10,
        revoked_at: None,
        last_used_at: None,
    };
    assert_eq!(s.app_credential("app1").await.unwrap(), None);
    s.insert_app_credential(&c).await.unwrap();
    // The same id or secret twice is a conflict.
    assert!(matches!(
        s.insert_app_credential(&c).await,
        Err(Error::Conflict(_))
    ));
    let same_secret = AppCredentialRow {
        id: "app-x".into(),
        ..c.clone()
    };
    assert!(matches!(
        s.insert_app_credential(&same_secret).await,
        Err(Error::Conflict(_))
    ));
    let c2 = AppCredentialRow {
        id: "app2".into(),
        secret_hash: "h2".into(),
        created_at: 20,
        ..c.clone()
    };
    s.insert_app_credential(&c2).await.unwrap();
    assert_eq!(s.app_credential("app1").await.unwrap(), Some(c.clone()));
    assert_eq!(
        s.app_credential_by_secret("h2").await.unwrap(),
        Some(c2.clone())
    );
    assert_eq!(s.app_credential_by_secret("nope").await.unwrap(), None);
    assert_eq!(
        s.app_credentials_of_tenant("t1").await.unwrap(),
        [c.clone(), c2.clone()]
    );
    assert!(s.app_credentials_of_tenant("t2").await.unwrap().is_empty());

    s.touch_app_credential("app1", 30).await.unwrap();
    assert_eq!(
        s.app_credential("app1")
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(30)
    );
    let revoked = s.revoke_app_credential("app1", 40).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(40));
    // A second revocation keeps the first time; an unknown id is none.
    let again = s.revoke_app_credential("app1", 50).await.unwrap().unwrap();
    assert_eq!(again.revoked_at, Some(40));
    assert_eq!(s.revoke_app_credential("nope", 50).await.unwrap(), None);
    assert_eq!(
        s.app_credential_by_secret("h1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(40)
    );
    assert_eq!(
        s.app_credentials_revoked_since(40).await.unwrap(),
        ["app1".to_string()]
    );
    assert!(
        s.app_credentials_revoked_since(41)
            .await
            .unwrap()
            .is_empty()
    );
}

/// LAN security (migration 0009), on store `s1` with its terminal `term1` from the story.
async fn lan_story(s: &DynStorage) {
    use sync_server::storage::{StoreLanRow, StoreRootRow, TerminalLanKey};
    assert_eq!(s.store_lan("s1").await.unwrap(), None);
    let fresh = StoreLanRow {
        store_id: "s1".into(),
        signing_key: "aa".repeat(32),
        pin_pepper: "bb".repeat(32),
        roster_version: 1,
        store_key_version: 1,
        created_at: 5,
    };
    assert_eq!(s.store_lan_init(&fresh).await.unwrap(), fresh);
    // A second instance racing to make the row gets the first one.
    let other = StoreLanRow {
        signing_key: "cc".repeat(32),
        ..fresh.clone()
    };
    assert_eq!(s.store_lan_init(&other).await.unwrap(), fresh);
    assert!(!format!("{fresh:?}").contains("aaaa"), "secrets hidden");
    assert_eq!(s.bump_lan_roster("s1").await.unwrap().roster_version, 2);
    assert!(matches!(
        s.bump_lan_roster("s2").await,
        Err(Error::NotFound(_))
    ));
    let rotated = s.rotate_store_key("s1", "new-store-key").await.unwrap();
    assert_eq!((rotated.roster_version, rotated.store_key_version), (3, 2));
    assert_eq!(
        s.store("s1").await.unwrap().unwrap().store_key,
        "new-store-key"
    );
    assert!(s.rotate_store_key("s2", "k").await.is_err());
    assert_eq!(
        s.store("s2").await.unwrap().unwrap().store_key,
        "secret",
        "a failed rotation changes nothing"
    );

    let key = TerminalLanKey {
        terminal_id: "term1".into(),
        lan_key: "11".repeat(32),
        set_at: 7,
    };
    s.set_terminal_lan_key(&key).await.unwrap();
    let replaced = TerminalLanKey {
        lan_key: "22".repeat(32),
        set_at: 8,
        ..key.clone()
    };
    s.set_terminal_lan_key(&replaced).await.unwrap();
    assert_eq!(s.terminal_lan_keys("s1").await.unwrap(), [replaced]);
    assert!(s.terminal_lan_keys("s2").await.unwrap().is_empty());
    // unknown terminal violates the foreign key
    assert!(
        s.set_terminal_lan_key(&TerminalLanKey {
            terminal_id: "nope".into(),
            ..key
        })
        .await
        .is_err()
    );

    // A roster is written into a store root once the store has one.
    assert!(s.lan_rosters_to_publish().await.unwrap().is_empty());
    s.upsert_store_root(&StoreRootRow {
        store_id: "s1".into(),
        root_doc_id: "root1".into(),
        catalog_doc_id: "c".into(),
        settings_doc_id: "st".into(),
        users_doc_id: "u".into(),
        parked_carts_doc_id: "p".into(),
        latest_baseline_doc_id: None,
        updated_at: 9,
    })
    .await
    .unwrap();
    assert_eq!(
        s.lan_rosters_to_publish().await.unwrap(),
        [("s1".to_string(), 3)]
    );
    assert_eq!(s.lan_roster_published("s1").await.unwrap(), 0);
    s.mark_lan_roster_published("s1", 3).await.unwrap();
    assert_eq!(s.lan_roster_published("s1").await.unwrap(), 3);
    assert!(s.lan_rosters_to_publish().await.unwrap().is_empty());
    // An older mark arriving late does not move it back.
    s.mark_lan_roster_published("s1", 2).await.unwrap();
    assert!(s.lan_rosters_to_publish().await.unwrap().is_empty());
    // A root that lost its roster gets it written again.
    s.reset_lan_roster_published("s1").await.unwrap();
    assert_eq!(
        s.lan_rosters_to_publish().await.unwrap(),
        [("s1".to_string(), 3)]
    );
    s.mark_lan_roster_published("s1", 3).await.unwrap();
    s.bump_lan_roster("s1").await.unwrap();
    assert_eq!(
        s.lan_rosters_to_publish().await.unwrap(),
        [("s1".to_string(), 4)]
    );
    assert_eq!(s.lan_roster_published("nope").await.unwrap(), 0);
}

/// The email receipts' send log: once per send id, a failed send retried, an attempt in
/// progress or stopped mid-way never sent twice, another store's send id not found, and the
/// addresses blanked by store and age.
async fn receipt_email_story(s: &DynStorage) {
    use sync_server::storage::{ReceiptEmailClaim, ReceiptEmailRow};
    let row = |send: &str, store: &str, at: i64| ReceiptEmailRow {
        send_id: send.into(),
        store_id: store.into(),
        terminal_id: "t1".into(),
        receipt_token: "0123456789abcdef0123456789abcdef".into(),
        email: Some("budi@pelanggan.example".into()),
        state: "sending".into(),
        attempts: 1,
        last_error: None,
        created_at: at,
        attempt_at: at,
        sent_at: None,
    };
    let stale = 300_000;
    let first = row("m1", "s1", 1_000);
    assert_eq!(
        s.claim_receipt_email(&first, stale).await.unwrap(),
        ReceiptEmailClaim::Send
    );
    // The same send while the first attempt runs, and long after it stopped mid-way.
    assert_eq!(
        s.claim_receipt_email(&row("m1", "s1", 2_000), stale)
            .await
            .unwrap(),
        ReceiptEmailClaim::InProgress
    );
    assert_eq!(
        s.claim_receipt_email(&row("m1", "s1", 1_000 + stale), stale)
            .await
            .unwrap(),
        ReceiptEmailClaim::Unknown
    );
    // Another store's till naming this send id: not found.
    assert!(matches!(
        s.claim_receipt_email(&row("m1", "s2", 3_000), stale).await,
        Err(Error::NotFound(_))
    ));
    // Failed: the next request sends it again; sent: never again.
    s.receipt_email_failed("m1", "connection refused")
        .await
        .unwrap();
    let failed = s.receipt_email("m1").await.unwrap().unwrap();
    assert_eq!(
        (failed.state.as_str(), failed.last_error.as_deref()),
        ("failed", Some("connection refused"))
    );
    assert_eq!(
        s.claim_receipt_email(&row("m1", "s1", 4_000), stale)
            .await
            .unwrap(),
        ReceiptEmailClaim::Send
    );
    s.receipt_email_sent("m1", 4_500, false).await.unwrap();
    assert_eq!(
        s.claim_receipt_email(&row("m1", "s1", 5_000), stale)
            .await
            .unwrap(),
        ReceiptEmailClaim::Sent(4_500)
    );
    let sent = s.receipt_email("m1").await.unwrap().unwrap();
    assert_eq!(
        (sent.state.as_str(), sent.attempts, sent.sent_at),
        ("sent", 2, Some(4_500))
    );
    assert_eq!(sent.email.as_deref(), Some("budi@pelanggan.example"));
    // A store that keeps no contacts: blanked with the send.
    s.claim_receipt_email(&row("m2", "s2", 6_000), stale)
        .await
        .unwrap();
    s.receipt_email_sent("m2", 6_100, true).await.unwrap();
    assert_eq!(s.receipt_email("m2").await.unwrap().unwrap().email, None);
    // The purge: by store, sends at or before the cut-off.
    assert_eq!(s.receipt_email_stores().await.unwrap(), ["s1"]);
    assert_eq!(s.purge_receipt_emails("s1", 4_499).await.unwrap(), 0);
    assert_eq!(s.purge_receipt_emails("s1", 4_500).await.unwrap(), 1);
    assert_eq!(s.receipt_email("m1").await.unwrap().unwrap().email, None);
    assert!(s.receipt_email_stores().await.unwrap().is_empty());
}

#[tokio::test]
async fn postgres_story() {
    let db = common::TestDb::create().await;
    story(db.storage().await).await;
}

#[tokio::test]
async fn sqlite_story() {
    let (s, _dir) = common::sqlite_storage().await;
    story(s).await;
}

#[tokio::test]
async fn sqlite_reopens_existing_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = sync_server::storage::SqliteStorage::open(dir.path())
            .await
            .unwrap();
        use sync_server::storage::prelude::*;
        s.migrate().await.unwrap();
        s.put_chunk(T, "d/incremental/1", b"x").await.unwrap();
    }
    let s = sync_server::storage::SqliteStorage::open(dir.path())
        .await
        .unwrap();
    use sync_server::storage::prelude::*;
    s.migrate().await.unwrap();
    assert_eq!(
        s.load_chunk(T, "d/incremental/1").await.unwrap().unwrap(),
        b"x"
    );
}

// ---- migration 0008: stock movement kinds projected before it read under the till's names

/// The tenant and store the old rows below belong to (migration 0018 gives every row its
/// tenant and drops projected rows nobody owns).
const OWNER_ROWS: [&str; 2] = [
    "INSERT INTO tenants (id, name, created_at) VALUES ('t', 'T', 0)",
    "INSERT INTO stores (id, tenant_id, code, name, store_key, created_at) \
     VALUES ('s', 't', 'S1', 'S', 'k', 0)",
];

/// Stock movements as the server projected them before migration 0008 (`Debug` names,
/// lowercased).
const ROWS_BEFORE_0008: &str = "INSERT INTO stock_movements \
     (id, doc_id, store_id, product_id, kind, quantity_e4, at) VALUES \
     ('m1', 'd', 's', 'p', 'receipt', 10, 0), ('m2', 'd', 's', 'p', 'transferin', 20, 0), \
     ('m3', 'd', 's', 'p', 'transferout', -30, 0), ('m4', 'd', 's', 'p', 'count', 40, 0)";

const KINDS: &str = "SELECT kind FROM stock_movements ORDER BY id";

/// Opens `$storage` (a `PgStorage` or `SqliteStorage`), migrates it up to 0007 with the
/// migrations in `$dir`, stores [`ROWS_BEFORE_0008`], migrates it fully, and checks the kinds
/// read under the names terminals write. (A macro because the pool type differs.)
macro_rules! renames_kinds_stored_before_0008 {
    ($storage:expr, $dir:literal) => {{
        let s = $storage.await.unwrap();
        let pool = s.pool().clone();
        sqlx::migrate!($dir).run_to(7, &pool).await.unwrap();
        for sql in OWNER_ROWS {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        sqlx::query(ROWS_BEFORE_0008).execute(&pool).await.unwrap();
        sync_server::storage::Storage::migrate(&s).await.unwrap();
        let kinds: Vec<String> = sqlx::query_scalar(KINDS).fetch_all(&pool).await.unwrap();
        assert_eq!(kinds, ["receipt", "transfer_in", "transfer_out", "count"]);
    }};
}

#[tokio::test]
async fn postgres_renames_kinds_stored_before_0008() {
    let db = common::TestDb::create().await;
    renames_kinds_stored_before_0008!(
        sync_server::storage::PgStorage::connect(&db.url, 2),
        "../migrations/server-postgres"
    );
}

#[tokio::test]
async fn sqlite_renames_kinds_stored_before_0008() {
    let dir = tempfile::tempdir().unwrap();
    renames_kinds_stored_before_0008!(
        sync_server::storage::SqliteStorage::open(dir.path()),
        "../migrations/server-sqlite"
    );
}

// ---- migration 0018: every tenant-owned table leads its key with tenant_id

/// Rows written before migration 0018: a document claimed by tenant `t`, its sale and journal
/// index, a LAN key of a till of `t`, and a sale of a document and store nobody knows.
const ROWS_BEFORE_0018: [&str; 6] = [
    "INSERT INTO terminals (id, tenant_id, store_id, name, credential_hash, created_at) \
     VALUES ('till', 't', 's', 'Till', 'h', 0)",
    "INSERT INTO doc_claims (doc_id, tenant_id, store_id, claimed_by, claimed_at) \
     VALUES ('d', 't', 's', 'till', 0)",
    "INSERT INTO sales (id, doc_id, store_id, terminal_code, business_date, created_at, \
     cashier_id, receipt_no, total_e4, tax_e4, voided) \
     VALUES ('sale1', 'd', 's', 'T1', '2026-12-03', 0, 'c', 'S1-T1-1', 10000, 0, false)",
    "INSERT INTO sales (id, doc_id, store_id, terminal_code, business_date, created_at, \
     cashier_id, receipt_no, total_e4, tax_e4, voided) \
     VALUES ('orphan', 'x', 'nowhere', 'T1', '2026-12-03', 0, 'c', 'X-T1-1', 10000, 0, false)",
    "INSERT INTO store_journals (doc_id, store_id, terminal_code, business_date) \
     VALUES ('d', 's', 'T1', '2026-12-03')",
    "INSERT INTO terminal_lan_keys (terminal_id, lan_key, set_at) VALUES ('till', 'k', 0)",
];

/// Tables that belong to no tenant: the tenants themselves (their key is the tenant id), the
/// server's own settings and instances, and login counters kept before anyone is known.
const NOT_TENANT_KEYED: [&str; 5] = [
    "tenants",
    "server_settings",
    "instances",
    "login_attempts",
    "_sqlx_migrations",
];

/// Migrates `$storage` up to 0017, writes [`ROWS_BEFORE_0018`], migrates fully, and checks
/// every row got its tenant, the ownerless projected row is gone, and a row written without
/// its tenant is refused.
macro_rules! tenant_keys_after_0018 {
    ($storage:expr, $dir:literal) => {{
        let s = $storage.await.unwrap();
        let pool = s.pool().clone();
        sqlx::migrate!($dir).run_to(17, &pool).await.unwrap();
        for sql in OWNER_ROWS.iter().chain(ROWS_BEFORE_0018.iter()) {
            sqlx::query(*sql).execute(&pool).await.unwrap();
        }
        sync_server::storage::Storage::migrate(&s).await.unwrap();
        let sales: Vec<(String, String)> =
            sqlx::query_as("SELECT id, tenant_id FROM sales ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(sales, [("sale1".to_string(), "t".to_string())]);
        for table in ["store_journals", "terminal_lan_keys"] {
            let t: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT tenant_id FROM {table}"
            )))
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(t, "t", "{table}");
        }
        let refused = sqlx::query(
            "INSERT INTO payments (sale_id, seq, doc_id, store_id, method, amount_e4) \
             VALUES ('sale1', 0, 'd', 's', 'cash', 10000)",
        )
        .execute(&pool)
        .await;
        assert!(refused.is_err(), "a payment without its tenant was stored");
    }};
}

#[tokio::test]
async fn postgres_tenant_keys_after_0018() {
    let db = common::TestDb::create().await;
    tenant_keys_after_0018!(
        sync_server::storage::PgStorage::connect(&db.url, 2),
        "../migrations/server-postgres"
    );
}

#[tokio::test]
async fn sqlite_tenant_keys_after_0018() {
    let dir = tempfile::tempdir().unwrap();
    tenant_keys_after_0018!(
        sync_server::storage::SqliteStorage::open(dir.path()),
        "../migrations/server-sqlite"
    );
}

// ---- migration 0019: the documents' chunks lead their key with tenant_id

/// Rows written before migration 0019: a second tenant `t2`, and document `d` claimed by `t`.
const ROWS_BEFORE_0019: [&str; 2] = [
    "INSERT INTO tenants (id, name, created_at) VALUES ('t2', 'T2', 0)",
    "INSERT INTO doc_claims (doc_id, tenant_id, store_id, claimed_by, claimed_at) \
     VALUES ('d', 't', 's', 'till', 0)",
];

/// Chunks written before migration 0019 (key, document): a chunk of `d`, one of a document
/// nobody claims, and samod's storage id.
const CHUNKS_BEFORE_0019: [(&str, Option<&str>); 3] = [
    ("d/incremental/aa", Some("d")),
    ("x/incremental/bb", Some("x")),
    ("storage-adapter-id", None),
];

const CHUNK_TENANTS: &str = "SELECT tenant_id, key FROM automerge_chunks ORDER BY tenant_id, key";

/// Migrates `$storage` up to 0018, writes [`ROWS_BEFORE_0019`], migrates fully, and checks that
/// every chunk is kept under its document's tenant (the unclaimed one under the empty tenant),
/// each tenant has the storage id, and the server's own calls read them per tenant.
macro_rules! chunk_tenants_after_0019 {
    ($storage:expr, $dir:literal) => {{
        let s = $storage.await.unwrap();
        let pool = s.pool().clone();
        sqlx::migrate!($dir).run_to(18, &pool).await.unwrap();
        for sql in OWNER_ROWS.iter().chain(ROWS_BEFORE_0019.iter()) {
            sqlx::query(*sql).execute(&pool).await.unwrap();
        }
        for (key, doc) in CHUNKS_BEFORE_0019 {
            sqlx::query(
                "INSERT INTO automerge_chunks (key, doc_id, data, updated_at) VALUES ($1, $2, $3, 0)",
            )
            .bind(key)
            .bind(doc)
            .bind(key.as_bytes())
            .execute(&pool)
            .await
            .unwrap();
        }
        sync_server::storage::Storage::migrate(&s).await.unwrap();
        let rows: Vec<(String, String)> =
            sqlx::query_as(CHUNK_TENANTS).fetch_all(&pool).await.unwrap();
        let rows: Vec<(&str, &str)> = rows.iter().map(|(t, k)| (&t[..], &k[..])).collect();
        assert_eq!(
            rows,
            [
                ("", "x/incremental/bb"),
                ("t", "d/incremental/aa"),
                ("t", "storage-adapter-id"),
                ("t2", "storage-adapter-id"),
            ]
        );
        use sync_server::storage::ChunkStorage;
        assert_eq!(
            s.load_chunk("t2", "storage-adapter-id").await.unwrap().unwrap(),
            b"storage-adapter-id"
        );
        assert_eq!(s.load_chunk_range("t", "d").await.unwrap().len(), 1);
        assert!(s.load_chunk_range("t2", "d").await.unwrap().is_empty());
    }};
}

#[tokio::test]
async fn postgres_chunk_tenants_after_0019() {
    let db = common::TestDb::create().await;
    chunk_tenants_after_0019!(
        sync_server::storage::PgStorage::connect(&db.url, 2),
        "../migrations/server-postgres"
    );
}

#[tokio::test]
async fn sqlite_chunk_tenants_after_0019() {
    let dir = tempfile::tempdir().unwrap();
    chunk_tenants_after_0019!(
        sync_server::storage::SqliteStorage::open(dir.path()),
        "../migrations/server-sqlite"
    );
}

/// On PostgreSQL every table but [`NOT_TENANT_KEYED`] has a primary key whose first column is
/// tenant_id: the condition for distributing the schema by tenant on Citus.
#[tokio::test]
async fn postgres_every_tenant_table_leads_its_key_with_tenant_id() {
    let db = common::TestDb::create().await;
    let s = sync_server::storage::PgStorage::connect(&db.url, 2)
        .await
        .unwrap();
    sync_server::storage::Storage::migrate(&s).await.unwrap();
    let leading: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT t.table_name::text, \
           (SELECT a.attname::text FROM pg_index i \
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             WHERE i.indrelid = format('%I', t.table_name)::regclass AND i.indisprimary) \
         FROM information_schema.tables t \
         WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
         ORDER BY 1",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert!(leading.len() > 30, "{leading:?}");
    let wrong: Vec<_> = leading
        .iter()
        .filter(|(t, first)| {
            !NOT_TENANT_KEYED.contains(&t.as_str()) && first.as_deref() != Some("tenant_id")
        })
        .collect();
    assert!(wrong.is_empty(), "keys not led by tenant_id: {wrong:?}");
}

/// On SQLite (which cannot change a primary key in place) every such table has a unique index
/// led by tenant_id, which the statements' ON CONFLICT targets name.
#[tokio::test]
async fn sqlite_every_tenant_table_has_a_tenant_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = sync_server::storage::SqliteStorage::open(dir.path())
        .await
        .unwrap();
    sync_server::storage::Storage::migrate(&s).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert!(tables.len() > 30, "{tables:?}");
    let mut wrong = Vec::new();
    for t in tables
        .iter()
        .filter(|t| !NOT_TENANT_KEYED.contains(&t.as_str()))
    {
        let keyed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pragma_index_list(?1) l \
             JOIN pragma_index_info(l.name) c ON c.seqno = 0 \
             WHERE l.\"unique\" = 1 AND c.name = 'tenant_id'",
        )
        .bind(t)
        .fetch_one(s.pool())
        .await
        .unwrap();
        if keyed == 0 {
            wrong.push(t.clone());
        }
    }
    assert!(
        wrong.is_empty(),
        "no unique key led by tenant_id: {wrong:?}"
    );
}

// ---- a backup made before migration 0019 restores its chunks under their tenants

/// `backup` (a plain backup file) as a server before schema 19 wrote it: `automerge_chunks`
/// without its `tenant_id` column (header, column types and cells).
fn without_chunk_tenants(backup: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let (head, body) = backup.split_at(10);
    assert_eq!(head[9], 0, "a plain backup");
    let mut text = String::new();
    flate2::read::GzDecoder::new(body)
        .read_to_string(&mut text)
        .unwrap();
    let mut out = Vec::new();
    let mut drop_at: Option<usize> = None;
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(n) = v.get_mut("schema_version") {
            *n = 18.into();
        } else if v.get("table").is_some() {
            drop_at = None;
            if v["table"] == "automerge_chunks" {
                let columns = v["columns"].as_array_mut().unwrap();
                let i = columns.iter().position(|c| c == "tenant_id").unwrap();
                columns.remove(i);
                v["types"].as_array_mut().unwrap().remove(i);
                drop_at = Some(i);
            }
        } else if let (Some(i), Some(row)) = (drop_at, v.as_array_mut()) {
            row.remove(i);
        }
        out.push(v.to_string());
    }
    let mut gz = flate2::write::GzEncoder::new(head.to_vec(), flate2::Compression::fast());
    gz.write_all((out.join("\n") + "\n").as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[tokio::test]
async fn sqlite_restores_chunks_of_a_backup_before_0019() {
    use sync_server::storage::SqliteStorage;
    let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let old = SqliteStorage::open(from.path()).await.unwrap();
    sync_server::storage::Storage::migrate(&old).await.unwrap();
    for sql in OWNER_ROWS.iter().chain(ROWS_BEFORE_0019.iter()) {
        sqlx::query(*sql).execute(old.pool()).await.unwrap();
    }
    let old: DynStorage = std::sync::Arc::new(old);
    let mut doc = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "n", 1).unwrap();
    let d = doc.save();
    old.put_chunk("t", "d/snapshot/aa", &d).await.unwrap();
    old.put_chunk("t", "storage-adapter-id", b"sid")
        .await
        .unwrap();
    let file = from.path().join("old.skb");
    sync_server::backup::backup(&old, &file, None)
        .await
        .unwrap();
    std::fs::write(&file, without_chunk_tenants(&std::fs::read(&file).unwrap())).unwrap();

    let new = SqliteStorage::open(to.path()).await.unwrap();
    sync_server::storage::Storage::migrate(&new).await.unwrap();
    let new: DynStorage = std::sync::Arc::new(new);
    sync_server::backup::restore(&new, &file, None)
        .await
        .unwrap();
    assert_eq!(
        new.load_chunk("t", "d/snapshot/aa").await.unwrap().unwrap(),
        d,
        "the document's chunk is its claim's tenant's"
    );
    assert!(new.load_chunk_range("t2", "d").await.unwrap().is_empty());
    assert_eq!(
        new.load_chunk("", "storage-adapter-id")
            .await
            .unwrap()
            .unwrap(),
        b"sid",
        "the storage id, of no document, is kept under the empty tenant"
    );
}

/// PostgreSQL restarted (or failed over) while the server sat idle: every pooled connection is
/// dead, and the next requests must still be served, not fail on a connection that the pool
/// no longer pings each time it hands one out.
#[tokio::test]
async fn postgres_pool_replaces_connections_dropped_while_idle() {
    use sqlx::Connection;
    let db = common::TestDb::create().await;
    let s = db.storage().await;
    // Several connections open and back in the pool.
    let opened = futures::future::join_all((0..4).map(|_| s.ping())).await;
    assert!(opened.iter().all(Result::is_ok), "{opened:?}");

    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let dropped: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!dropped.is_empty(), "the pool had connections to drop");
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;

    for attempt in 0..4 {
        s.ping()
            .await
            .unwrap_or_else(|e| panic!("request {attempt} after the drop failed: {e}"));
    }
}
