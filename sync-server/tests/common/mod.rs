//! Test helpers: fresh PostgreSQL databases and SQLite directories.
#![allow(dead_code)]

use std::sync::Arc;

use sqlx::Connection;
use sync_server::storage::{DynStorage, PgStorage, SqliteStorage};

/// Admin URL of the test PostgreSQL server.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// `admin` with its database name replaced by `name` (query string kept).
pub fn with_database(admin: &str, name: &str) -> String {
    let host_start = admin.find("://").map(|i| i + 3).unwrap_or(0);
    let (head, tail) = admin.split_at(host_start);
    let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
    let without_query = &tail[..tail.len() - query.len()];
    let host = without_query.split('/').next().unwrap_or("");
    format!("{head}{host}/{name}{query}")
}

/// A database created for one test and dropped when this guard drops.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    name: String,
}

impl TestDb {
    /// Creates a uniquely named database. Panics (fails the test) with
    /// instructions when PostgreSQL is unreachable.
    pub async fn create() -> TestDb {
        let admin = admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot reach PostgreSQL at {admin}: {e}\n\
                 Start a PostgreSQL server (Debian: `sudo apt-get install -y postgresql && sudo service postgresql start`) \
                 or set DATABASE_URL to an admin URL; scripts/test does this for you."
            ),
        };
        let name = format!("sk_test_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = with_database(&admin, &name);
        TestDb { url, name }
    }

    /// Migrated PostgreSQL storage on this database.
    pub async fn storage(&self) -> DynStorage {
        let s = PgStorage::connect(&self.url, 5)
            .await
            .expect("connect test db");
        sync_server::storage::Storage::migrate(&s)
            .await
            .expect("migrate postgres");
        Arc::new(s)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = admin_url();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
    }
}

/// Migrated SQLite storage in a fresh temporary directory (kept alive by the returned guard).
pub async fn sqlite_storage() -> (DynStorage, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = SqliteStorage::open(dir.path()).await.expect("open sqlite");
    sync_server::storage::Storage::migrate(&s)
        .await
        .expect("migrate sqlite");
    (Arc::new(s), dir)
}
