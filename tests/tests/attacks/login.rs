//! Attacks: login (see docs/security.md, "Sign-in, sessions and access"). Parallel password
//! guessing must not outrun the login limits nor exhaust the server's memory with argon2
//! checks; the limits hold across instances sharing PostgreSQL; one attacked account or one
//! address must not lock other owners out; `X-Forwarded-For` is believed from trusted proxies
//! only. Each test runs the real `sync-server` binary.

use futures::future::join_all;
use snapkasir_tests::auth::{AuthServer, OWNER_PASSWORD};
use snapkasir_tests::processes::TestDatabase;

/// Failed logins allowed per account in a window (the server's default).
const ACCOUNT_LIMIT: u64 = 5;

/// Resident memory the attack may add to the server: four concurrent argon2 checks of ~19 MiB
/// each, plus the allocator's slack (before the fix: +1.95 GiB).
const RSS_GROWTH_BOUND_KIB: u64 = 160 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_bad_logins_cannot_outrun_the_limit() {
    let s = AuthServer::sqlite("attack-login-flood", "");
    let victim = s.tenant("Toko Korban", "K1", "victim@example.com");
    let bystander = s.tenant("Toko Lain", "L1", "bystander@example.com");
    let checks_before = s.metric("snapkasir_password_checks_total").await;
    let rss_before = s.rss_kib();

    // 200 wrong passwords for one account, 100 at a time.
    let mut answers = Vec::new();
    for wave in 0..2 {
        let batch = (0..100).map(|i| {
            let (s, email) = (&s, victim.email.clone());
            async move { s.login(&email, &format!("guess-{wave}-{i}")).await }
        });
        answers.extend(join_all(batch).await);
    }
    let rss_after = s.rss_kib();
    let checks = s.metric("snapkasir_password_checks_total").await - checks_before;
    let refused = answers.iter().filter(|a| a.status == 429).count();
    let wrong = answers.iter().filter(|a| a.status == 401).count();
    eprintln!(
        "200 bad logins: {checks} password checks, {wrong} x 401, {refused} x 429; \
         RSS {} -> {} MiB",
        rss_before / 1024,
        rss_after / 1024
    );
    assert_eq!(wrong + refused, 200, "other answers: {answers:?}");
    assert!(
        checks <= ACCOUNT_LIMIT,
        "{checks} real password checks for one account (limit {ACCOUNT_LIMIT})"
    );
    assert!(
        rss_after < rss_before + RSS_GROWTH_BOUND_KIB,
        "server grew from {rss_before} KiB to {rss_after} KiB"
    );
    // Nothing was given away, and another owner behind the same address still signs in.
    assert!(answers.iter().all(|a| a.body.get("access_token").is_none()));
    s.sign_in(&bystander.email, OWNER_PASSWORD).await;
    // The attacked account itself is held for the window, even with the right password.
    assert_eq!(s.login(&victim.email, OWNER_PASSWORD).await.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_limits_hold_across_instances_sharing_postgresql() {
    let db = TestDatabase::create("attack_login_shared");
    let dir = std::env::temp_dir().join(format!("attack-login-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let one = AuthServer::postgres(&dir, &db.url, "");
    let two = AuthServer::postgres(&dir, &db.url, "");
    let victim = one.tenant("Toko Korban", "K1", "victim@example.com");
    let base = one.metric("snapkasir_password_checks_total").await
        + two.metric("snapkasir_password_checks_total").await;
    // 40 guesses, 20 at a time, spread over both instances.
    for wave in 0..2 {
        let batch = (0..20).map(|i| {
            let s = if i % 2 == 0 { &one } else { &two };
            let email = victim.email.clone();
            async move { s.login(&email, &format!("guess-{wave}-{i}")).await.status }
        });
        let statuses = join_all(batch).await;
        assert!(
            statuses.iter().all(|&st| st == 401 || st == 429),
            "{statuses:?}"
        );
    }
    let checks = one.metric("snapkasir_password_checks_total").await
        + two.metric("snapkasir_password_checks_total").await
        - base;
    assert!(
        checks <= ACCOUNT_LIMIT,
        "{checks} password checks over two instances (limit {ACCOUNT_LIMIT} in all)"
    );
    drop((one, two));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_checks_beyond_the_queue_are_answered_busy() {
    let s = AuthServer::sqlite(
        "attack-login-busy",
        "password_checks = 1\npassword_check_queue = 2\nlogin_max_failures_per_address = 1000",
    );
    let t = s.tenant("Toko A", "A1", "owner-a@example.com");
    let before = s.metric("snapkasir_password_checks_total").await;
    // 30 guesses at 30 different accounts at once: one check runs, two wait, the rest are
    // told to come back.
    let batch = (0..30).map(|i| {
        let s = &s;
        async move { s.login(&format!("nobody-{i}@example.com"), "guess").await }
    });
    let answers = join_all(batch).await;
    let busy: Vec<_> = answers.iter().filter(|a| a.status == 503).collect();
    let checked = answers.iter().filter(|a| a.status == 401).count() as u64;
    assert!(!busy.is_empty(), "no busy answer: {answers:?}");
    for a in &busy {
        assert_eq!(a.code(), "busy", "{:?}", a.body);
        assert_eq!(a.retry_after.as_deref(), Some("1"));
    }
    assert_eq!(busy.len() as u64 + checked, 30, "{answers:?}");
    let checks = s.metric("snapkasir_password_checks_total").await - before;
    assert_eq!(checks, checked, "only the answered logins were checked");
    assert!(s.metric("snapkasir_login_busy_total").await >= busy.len() as u64);
    // A busy answer costs the owner nothing: they sign in at once.
    s.sign_in(&t.email, OWNER_PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    // No trusted proxy (the default): a forged X-Forwarded-For does not give an attacker a
    // fresh address per attempt.
    let direct = AuthServer::sqlite("attack-xff-direct", "login_max_failures_per_address = 3");
    for i in 0..3 {
        let xff = format!("198.51.100.{i}");
        let a = direct
            .login_from(
                &format!("n{i}@example.com"),
                "guess",
                &[("x-forwarded-for", xff.as_str())],
            )
            .await;
        assert_eq!(a.status, 401, "{:?}", a.body);
    }
    let a = direct
        .login_from(
            "n9@example.com",
            "guess",
            &[("x-forwarded-for", "203.0.113.77")],
        )
        .await;
    assert_eq!(
        a.status, 429,
        "a forged X-Forwarded-For escaped the address limit"
    );

    // Behind a trusted proxy on 127.0.0.1: the client's address is what the proxy appended,
    // and what the client forged to the left of it does not count.
    let proxied = AuthServer::sqlite(
        "attack-xff-proxied",
        "login_max_failures_per_address = 3\ntrusted_proxies = [\"127.0.0.1\"]",
    );
    let t = proxied.tenant("Toko A", "A1", "owner-a@example.com");
    for i in 0..3 {
        let a = proxied
            .login_from(
                &format!("n{i}@example.com"),
                "guess",
                &[("x-forwarded-for", "198.51.100.7")],
            )
            .await;
        assert_eq!(a.status, 401, "{:?}", a.body);
    }
    let forged = proxied
        .login_from(
            "n9@example.com",
            "guess",
            &[("x-forwarded-for", "203.0.113.50, 198.51.100.7")],
        )
        .await;
    assert_eq!(forged.status, 429, "{:?}", forged.body);
    // Another client behind the same proxy is its own address and signs in.
    let other = proxied
        .login_from(
            &t.email,
            OWNER_PASSWORD,
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(other.status, 200, "{:?}", other.body);
}
