//! PostgreSQL backend (production; several server instances may share it). The area
//! implementations in `sql/` are compiled here (module `sql`) with `Backend` = [`PgStorage`]
//! (see the module documentation of [`crate::storage`]).

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool};
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::storage::projections::{RowValue, RowValues};

#[allow(
    clippy::duplicate_mod,
    reason = "sql/ is compiled once per backend, on purpose"
)]
#[path = "sql/mod.rs"]
mod sql;

/// The storage type the `sql/` files implement, in this module.
type Backend = PgStorage;

/// The sqlx database of `Backend`.
type Db = sqlx::Postgres;

/// [`crate::storage::Storage::backend`].
const BACKEND: &str = "postgres";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/server-postgres");

/// Ids of the store's (`$2`, of tenant `$1`) projected sales and refunds among a JSON array of
/// ids (`$3`), unpacked by PostgreSQL's own JSON function so that any number of ids costs one
/// query. Each id is looked up on its own in the table's key (tenant, id): the `LIMIT 1` keeps
/// the lookup a subquery the planner cannot turn into a join. Written as a join (`id IN
/// (SELECT ..)`), the generic plan PostgreSQL settles on for a prepared statement read the
/// tenant's whole key range and the store's rows and kept the ids that matched: a heartbeat's
/// cost grew with the tenant's history, to 35 ms a call by the end of a 1,000-till run and 92%
/// of the database's time (BENCHMARKS.md). The store is checked on the row found.
pub const PROJECTED_RECORDS_SQL: &str = "SELECT s.id FROM json_array_elements_text($3::json) AS asked(id) \
     CROSS JOIN LATERAL (SELECT id, store_id FROM sales WHERE tenant_id = $1 AND id = asked.id LIMIT 1) s \
     WHERE s.store_id = $2 \
     UNION SELECT r.id FROM json_array_elements_text($3::json) AS asked(id) \
     CROSS JOIN LATERAL (SELECT id, store_id FROM refunds WHERE tenant_id = $1 AND id = asked.id LIMIT 1) r \
     WHERE r.store_id = $2";

/// [`sql`]'s `lock_projected`: the `projected_docs` rows of a `VALUES` list of
/// `(tenant_id, doc_id)`, locked in key order so that two transactions locking overlapping sets
/// wait for each other instead of deadlocking.
const LOCK_PROJECTED_SQL: (&str, &str) = (
    "SELECT tenant_id, doc_id, projected_at FROM projected_docs WHERE (tenant_id, doc_id) IN (",
    ") ORDER BY tenant_id, doc_id FOR UPDATE",
);

/// [`sql`]'s projection `INSERT`s: the rows as one array per column, unpacked by `UNNEST`,
/// so that a table's statement is one text whatever the number of rows, prepared once per
/// connection. As a multi-row `VALUES` list each row count was another text, which PostgreSQL
/// parsed and planned on every execution: a 41-row `INSERT` of sale lines ran at about 1,500
/// statements/s parsed each time against 2,650 prepared (`pgbench`, BENCHMARKS.md).
async fn insert_projected_rows(
    tx: &mut sqlx::Transaction<'static, Db>,
    insert: &str,
    tail: &str,
    rows: &[RowValues<'_>],
) -> Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let mut columns: Vec<Column<'_>> = first
        .0
        .iter()
        .map(|value| Column::of(*value, rows.len()))
        .collect();
    for row in rows {
        if row.0.len() != columns.len() {
            return Err(mixed_rows(format!(
                "{} values after {}",
                row.0.len(),
                columns.len()
            )));
        }
        for (n, (column, value)) in columns.iter_mut().zip(&row.0).enumerate() {
            if !column.push(*value) {
                return Err(mixed_rows(format!(
                    "{value:?} in column {n} after another kind"
                )));
            }
        }
    }
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(n, column)| format!("${}::{}", n + 1, column.array_type()))
        .collect();
    let sql = format!(
        "{insert} SELECT * FROM UNNEST({}) {tail}",
        arrays.join(", ")
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for column in columns {
        query = match column {
            Column::Text(values) => query.bind(values),
            Column::Int(values) => query.bind(values),
            Column::Bool(values) => query.bind(values),
        };
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// One column of [`insert_projected_rows`]' rows, bound as one array.
enum Column<'r> {
    Text(Vec<Option<&'r str>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<bool>),
}

impl<'r> Column<'r> {
    /// An empty column of `first`'s kind, for `rows` values.
    fn of(first: RowValue<'r>, rows: usize) -> Self {
        match first {
            RowValue::Text(_) => Column::Text(Vec::with_capacity(rows)),
            RowValue::Int(_) => Column::Int(Vec::with_capacity(rows)),
            RowValue::Bool(_) => Column::Bool(Vec::with_capacity(rows)),
        }
    }

    /// Adds `value`; false when it is of another kind than the column.
    fn push(&mut self, value: RowValue<'r>) -> bool {
        match (self, value) {
            (Column::Text(values), RowValue::Text(v)) => values.push(v),
            (Column::Int(values), RowValue::Int(v)) => values.push(v),
            (Column::Bool(values), RowValue::Bool(v)) => values.push(v),
            _ => return false,
        }
        true
    }

    /// The SQL type of the column's array.
    fn array_type(&self) -> &'static str {
        match self {
            Column::Text(_) => "text[]",
            Column::Int(_) => "bigint[]",
            Column::Bool(_) => "bool[]",
        }
    }
}

/// Rows that do not share the first row's columns: a bug in the caller's rows.
fn mixed_rows(detail: String) -> Error {
    Error::Internal(format!("projected rows differ: {detail}"))
}

/// Run first in a backup's transaction: every read of it sees one snapshot.
const SNAPSHOT_SQL: Option<&str> =
    Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");

/// A pooled connection idle longer than this is pinged before it is handed out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// The pool's options. sqlx pings a connection when it goes back to the pool and, by default,
/// again when it is handed out: two round trips beside each statement run on the pool, and a
/// connection on its way back is neither in use nor free. Under load a connection comes back
/// within milliseconds of its release ping, so it is pinged on the way out only once it has
/// been idle for [`PING_WHEN_IDLE_FOR`] (sqlx's own documented pattern): a server idle when
/// PostgreSQL restarts still finds its broken connections before using them.
fn pool_options(max_connections: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Storage on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStorage {
    pool: PgPool,
}

impl PgStorage {
    /// Connects (without migrating). `url` is a `postgres://` URL.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid database URL: {e}")))?;
        let pool = pool_options(max_connections, Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Self { pool })
    }

    /// A pool that connects when first used (a report replica that is down at start-up must
    /// not stop the server); a connection waits at most `acquire_timeout` for a slot or a
    /// connect, so that a replica that went away fails its reads fast.
    pub fn connect_lazy(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid database URL: {e}")))?;
        let pool = pool_options(max_connections, acquire_timeout).connect_lazy_with(opts);
        Ok(Self { pool })
    }

    /// The underlying pool (projections and reports use it directly).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
