//! Layered configuration: defaults, then a TOML file, then `SNAPKASIR_`
//! environment variables; command-line flags are applied last by the binary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// A secret string: hidden from `Debug` and `Display`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

/// Server configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the embedded SQLite database (used without `database_url`).
    pub data_dir: PathBuf,
    /// PostgreSQL URL; selects the PostgreSQL backend.
    pub database_url: Option<Secret>,
    /// Maximum database connections (PostgreSQL).
    pub database_max_connections: u32,
    /// A PostgreSQL streaming replica (hot standby) of `database_url`: the reports (dashboard
    /// report pages, the reports API, CSV exports) read from it while it keeps up
    /// ([`crate::report_replica`]); everything else stays on the primary. PostgreSQL backend
    /// only. None: reports read from the primary.
    pub report_replica_url: Option<Secret>,
    /// How far the replica may fall behind before the reports read from the primary, seconds.
    pub report_replica_max_lag_secs: u64,
    /// How often the server measures the replica's lag, milliseconds.
    pub report_replica_check_ms: u64,
    /// Lifetime of owner/manager access tokens (JWT), seconds.
    pub access_token_ttl_secs: i64,
    /// Lifetime of refresh tokens, seconds.
    pub refresh_token_ttl_secs: i64,
    /// Lifetime of enrollment codes, seconds.
    pub enrollment_code_ttl_secs: i64,
    /// Largest WebSocket message accepted on the sync endpoint, bytes.
    pub max_frame_bytes: usize,
    /// Sustained sync frames per second allowed per connection.
    pub rate_limit_frames_per_sec: f64,
    /// Burst of sync frames allowed per connection.
    pub rate_limit_burst: f64,
    /// Sustained inbound bytes per second per connection.
    pub rate_limit_bytes_per_sec: f64,
    /// Sustained inbound bytes per second of all of one tenant's connections together; a
    /// tenant over it is slowed down (its connections are read more slowly), so that one
    /// tenant cannot take the server's CPU, chunk writer and database from the others.
    pub tenant_bytes_per_sec: f64,
    /// Sustained inbound sync frames per second of all of one tenant's connections together.
    pub tenant_frames_per_sec: f64,
    /// Open sync connections allowed per principal (a terminal, a user); 0: no cap.
    pub max_connections_per_principal: usize,
    /// Open sync connections allowed per tenant; 0: no cap.
    pub max_connections_per_tenant: usize,
    /// Open sync connections allowed per client address; 0: no cap (behind a proxy every
    /// client has the proxy's address).
    pub max_connections_per_address: usize,
    /// Bytes queued for one peer that are not yet written to its socket; a peer that does not
    /// read beyond this (or for `send_timeout_secs`) is disconnected.
    pub max_outbound_queue_bytes: usize,
    /// Longest a write to one peer's socket may take, seconds.
    pub send_timeout_secs: u64,
    /// Failed logins allowed per account within `login_window_secs`.
    pub login_max_failures_per_account: u32,
    /// Failed logins allowed per client address within `login_window_secs`.
    pub login_max_failures_per_address: u32,
    /// Window of the login limits, seconds.
    pub login_window_secs: i64,
    /// Password checks (argon2, ~19 MiB each) run at once; more wait in a short queue.
    pub password_checks: usize,
    /// Password checks that may wait for one of `password_checks`; beyond it a login is
    /// answered `503` with code `busy`.
    pub password_check_queue: usize,
    /// Addresses or CIDR ranges of the reverse proxies in front of the server (e.g.
    /// `["127.0.0.1/32"]` for a TLS proxy on the same host). A request from one of them is
    /// attributed to the last address of `X-Forwarded-For` that is not itself a trusted proxy;
    /// with none (the default) `X-Forwarded-For` is ignored.
    pub trusted_proxies: Vec<String>,
    /// Bearer token that `/metrics` requires; without one `/metrics` is not served (404).
    pub metrics_token: Option<Secret>,
    /// How often each instance polls for revoked terminals, milliseconds.
    pub revocation_poll_ms: u64,
    /// How often the server writes the stock baselines that are due, seconds (0: never; then
    /// `sync-server admin write-baselines` does it).
    pub baseline_interval_secs: u64,
    /// `ws://host:port/sync` at which other instances reach this one. When
    /// set, instances sharing the database peer with each other.
    pub advertise_url: Option<String>,
    /// The address tills enrol with, e.g. `https://pos.example.com` (the dashboard's enrolment
    /// QR code holds it). Without it the dashboard uses the address the owner's browser used.
    pub public_url: Option<String>,
    /// PEM certificate chain (server certificate first): with `tls_key`, the
    /// server speaks https and wss itself.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Folder of the scheduled backups ([`crate::backup::run_scheduled`]); none: no scheduled
    /// backups (`sync-server admin backup` still works).
    pub backup_dir: Option<PathBuf>,
    /// Seconds between scheduled backups (a day).
    pub backup_interval_secs: u64,
    /// Scheduled backups kept: the newest of each of the last this many days…
    pub backup_keep_daily: usize,
    /// …and the newest of each of the last this many months.
    pub backup_keep_monthly: usize,
    /// A passphrase file that encrypts scheduled backups (its first line).
    pub backup_passphrase_file: Option<PathBuf>,
    /// A key file (32 bytes or more) that encrypts scheduled backups.
    pub backup_key_file: Option<PathBuf>,
    /// `s3://bucket/prefix/`: each scheduled backup is also copied there, and the bucket's
    /// scheduled backups under the prefix trimmed like the folder ([`crate::backup::s3`]);
    /// none: no copy. Needs `backup_dir`.
    pub backup_s3_url: Option<String>,
    /// The address of an S3-compatible service other than AWS (MinIO, Wasabi, R2…), e.g.
    /// `https://s3.eu-central-1.wasabisys.com`; requests are then path-style. None: AWS.
    pub backup_s3_endpoint: Option<String>,
    /// The bucket's region (`auto` for R2).
    pub backup_s3_region: String,
    /// A file whose first line is the access key id; none: `AWS_ACCESS_KEY_ID`.
    pub backup_s3_access_key_file: Option<PathBuf>,
    /// A file whose first line is the secret access key; none: `AWS_SECRET_ACCESS_KEY`.
    pub backup_s3_secret_key_file: Option<PathBuf>,
    /// A key file (32 bytes or more) that seals the stores' payment gateway keys in the
    /// database ([`crate::payments::secrets`]). None: on the embedded store the server makes
    /// `payment-secrets.key` in `data_dir`; with PostgreSQL, gateways cannot be set until it is.
    pub payment_key_file: Option<PathBuf>,
    /// The Midtrans API address to use instead of Midtrans's own (a proxy; the tests' simulator).
    pub midtrans_api_url: Option<String>,
    /// The Xendit API address to use instead of `https://api.xendit.co`.
    pub xendit_api_url: Option<String>,
    /// How long a dynamic QRIS code can be paid, seconds (at least 10).
    pub qris_expiry_secs: u64,
    /// The SMTP server that sends email receipts ([`crate::receipt_mail`]):
    /// `smtp://host:port` (plain), `smtp://host:587?tls=starttls` (STARTTLS required),
    /// `smtps://host:465` (TLS from the start); a user and password may be in the URL
    /// (`smtps://user:password@host`), percent-encoded. None: email receipts are off and the
    /// endpoint answers 503 `email_not_configured`.
    pub smtp_url: Option<Secret>,
    /// A file whose first line is the SMTP password (the user is the URL's); it replaces a
    /// password in `smtp_url`.
    pub smtp_password_file: Option<PathBuf>,
    /// The sender of email receipts, e.g. `SnapKasir <struk@example.com>`; needed with
    /// `smtp_url`.
    pub smtp_from: Option<String>,
    /// How often the customers' email addresses older than their store's
    /// `contact_retention_days` are blanked from the send log, seconds.
    pub contact_purge_interval_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./snapkasir-data"),
            database_url: None,
            database_max_connections: 16,
            report_replica_url: None,
            // A minute behind is still "today's figures" for an owner; beyond it the replica
            // is broken or overloaded and the primary answers.
            report_replica_max_lag_secs: 60,
            report_replica_check_ms: 1000,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            enrollment_code_ttl_secs: 24 * 3600,
            // The largest legitimate frame is a first sync of a large catalog; for 100,000
            // products it is still to be measured (`examples/largest_frame.rs`, in release).
            max_frame_bytes: 16 * 1024 * 1024,
            rate_limit_frames_per_sec: 500.0,
            rate_limit_burst: 5000.0,
            rate_limit_bytes_per_sec: 16.0 * 1024.0 * 1024.0,
            tenant_bytes_per_sec: 8.0 * 1024.0 * 1024.0,
            tenant_frames_per_sec: 2000.0,
            max_connections_per_principal: 8,
            max_connections_per_tenant: 500,
            max_connections_per_address: 200,
            max_outbound_queue_bytes: 64 * 1024 * 1024,
            send_timeout_secs: 30,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 20,
            login_window_secs: 15 * 60,
            password_checks: 4,
            password_check_queue: 16,
            trusted_proxies: Vec::new(),
            metrics_token: None,
            revocation_poll_ms: 400,
            baseline_interval_secs: 600,
            advertise_url: None,
            public_url: None,
            tls_cert: None,
            tls_key: None,
            backup_dir: None,
            backup_interval_secs: 24 * 3600,
            backup_keep_daily: 7,
            backup_keep_monthly: 12,
            backup_passphrase_file: None,
            backup_key_file: None,
            backup_s3_url: None,
            backup_s3_endpoint: None,
            backup_s3_region: "us-east-1".into(),
            backup_s3_access_key_file: None,
            backup_s3_secret_key_file: None,
            payment_key_file: None,
            midtrans_api_url: None,
            xendit_api_url: None,
            // Long enough for a customer to open a banking app and pay; short enough that a
            // code left on a screen is not paid an hour later.
            qris_expiry_secs: 5 * 60,
            smtp_url: None,
            smtp_password_file: None,
            smtp_from: None,
            contact_purge_interval_secs: 3600,
        }
    }
}

impl Config {
    /// Defaults, then `file` (if given), then the process environment; then the settings that
    /// go together are checked ([`Config::check`]).
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
                Self::from_toml(&text)?
            }
            None => Self::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.check(|k| std::env::var(k).ok())?;
        Ok(cfg)
    }

    /// Refuses settings that cannot work together, saying which: the copy of the backups to
    /// S3 ([`crate::backup::s3::check`]), with the environment read through `env`, the report
    /// replica's bounds ([`crate::report_replica::check`]) and the SMTP settings of email
    /// receipts ([`crate::receipt_mail::check`]).
    pub fn check(&self, env: impl Fn(&str) -> Option<String>) -> Result<()> {
        crate::backup::s3::check(self, env)?;
        crate::report_replica::check(self)?;
        crate::receipt_mail::check(self)
    }

    /// Parses a TOML document over the defaults.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Config(format!("invalid config file: {e}")))
    }

    /// Applies `SNAPKASIR_*` variables read through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        fn parse<T: std::str::FromStr>(name: &str, v: &str) -> Result<T> {
            v.parse()
                .map_err(|_| Error::Config(format!("{name}: cannot parse {v:?}")))
        }
        macro_rules! env_field {
            ($name:literal, $field:ident) => {
                if let Some(v) = get($name) {
                    self.$field = parse($name, &v)?;
                }
            };
        }
        env_field!("SNAPKASIR_LISTEN", listen);
        env_field!("SNAPKASIR_DATA_DIR", data_dir);
        if let Some(v) = get("SNAPKASIR_DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database_url = Some(Secret::new(v));
        }
        env_field!(
            "SNAPKASIR_DATABASE_MAX_CONNECTIONS",
            database_max_connections
        );
        if let Some(v) = get("SNAPKASIR_REPORT_REPLICA_URL").filter(|v| !v.is_empty()) {
            self.report_replica_url = Some(Secret::new(v));
        }
        env_field!(
            "SNAPKASIR_REPORT_REPLICA_MAX_LAG_SECS",
            report_replica_max_lag_secs
        );
        env_field!("SNAPKASIR_REPORT_REPLICA_CHECK_MS", report_replica_check_ms);
        env_field!("SNAPKASIR_ACCESS_TOKEN_TTL_SECS", access_token_ttl_secs);
        env_field!("SNAPKASIR_REFRESH_TOKEN_TTL_SECS", refresh_token_ttl_secs);
        env_field!(
            "SNAPKASIR_ENROLLMENT_CODE_TTL_SECS",
            enrollment_code_ttl_secs
        );
        env_field!("SNAPKASIR_MAX_FRAME_BYTES", max_frame_bytes);
        env_field!(
            "SNAPKASIR_RATE_LIMIT_FRAMES_PER_SEC",
            rate_limit_frames_per_sec
        );
        env_field!("SNAPKASIR_RATE_LIMIT_BURST", rate_limit_burst);
        env_field!(
            "SNAPKASIR_RATE_LIMIT_BYTES_PER_SEC",
            rate_limit_bytes_per_sec
        );
        env_field!(
            "SNAPKASIR_LOGIN_MAX_FAILURES_PER_ACCOUNT",
            login_max_failures_per_account
        );
        env_field!(
            "SNAPKASIR_LOGIN_MAX_FAILURES_PER_ADDRESS",
            login_max_failures_per_address
        );
        env_field!("SNAPKASIR_TENANT_BYTES_PER_SEC", tenant_bytes_per_sec);
        env_field!("SNAPKASIR_TENANT_FRAMES_PER_SEC", tenant_frames_per_sec);
        env_field!(
            "SNAPKASIR_MAX_CONNECTIONS_PER_PRINCIPAL",
            max_connections_per_principal
        );
        env_field!(
            "SNAPKASIR_MAX_CONNECTIONS_PER_TENANT",
            max_connections_per_tenant
        );
        env_field!(
            "SNAPKASIR_MAX_CONNECTIONS_PER_ADDRESS",
            max_connections_per_address
        );
        env_field!(
            "SNAPKASIR_MAX_OUTBOUND_QUEUE_BYTES",
            max_outbound_queue_bytes
        );
        env_field!("SNAPKASIR_SEND_TIMEOUT_SECS", send_timeout_secs);
        env_field!("SNAPKASIR_LOGIN_WINDOW_SECS", login_window_secs);
        env_field!("SNAPKASIR_PASSWORD_CHECKS", password_checks);
        env_field!("SNAPKASIR_PASSWORD_CHECK_QUEUE", password_check_queue);
        if let Some(v) = get("SNAPKASIR_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(v) = get("SNAPKASIR_METRICS_TOKEN").filter(|v| !v.is_empty()) {
            self.metrics_token = Some(Secret::new(v));
        }
        env_field!("SNAPKASIR_REVOCATION_POLL_MS", revocation_poll_ms);
        env_field!("SNAPKASIR_BASELINE_INTERVAL_SECS", baseline_interval_secs);
        if let Some(v) = get("SNAPKASIR_ADVERTISE_URL").filter(|v| !v.is_empty()) {
            self.advertise_url = Some(v);
        }
        if let Some(v) = get("SNAPKASIR_PUBLIC_URL").filter(|v| !v.is_empty()) {
            self.public_url = Some(v);
        }
        if let Some(v) = get("SNAPKASIR_TLS_CERT").filter(|v| !v.is_empty()) {
            self.tls_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SNAPKASIR_TLS_KEY").filter(|v| !v.is_empty()) {
            self.tls_key = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SNAPKASIR_BACKUP_DIR").filter(|v| !v.is_empty()) {
            self.backup_dir = Some(PathBuf::from(v));
        }
        env_field!("SNAPKASIR_BACKUP_INTERVAL_SECS", backup_interval_secs);
        env_field!("SNAPKASIR_BACKUP_KEEP_DAILY", backup_keep_daily);
        env_field!("SNAPKASIR_BACKUP_KEEP_MONTHLY", backup_keep_monthly);
        if let Some(v) = get("SNAPKASIR_BACKUP_PASSPHRASE_FILE").filter(|v| !v.is_empty()) {
            self.backup_passphrase_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SNAPKASIR_BACKUP_KEY_FILE").filter(|v| !v.is_empty()) {
            self.backup_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SNAPKASIR_BACKUP_S3_URL").filter(|v| !v.is_empty()) {
            self.backup_s3_url = Some(v);
        }
        if let Some(v) = get("SNAPKASIR_BACKUP_S3_ENDPOINT").filter(|v| !v.is_empty()) {
            self.backup_s3_endpoint = Some(v);
        }
        if let Some(v) = get("SNAPKASIR_BACKUP_S3_REGION").filter(|v| !v.is_empty()) {
            self.backup_s3_region = v;
        }
        if let Some(v) = get("SNAPKASIR_BACKUP_S3_ACCESS_KEY_FILE").filter(|v| !v.is_empty()) {
            self.backup_s3_access_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SNAPKASIR_BACKUP_S3_SECRET_KEY_FILE").filter(|v| !v.is_empty()) {
            self.backup_s3_secret_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SNAPKASIR_PAYMENT_KEY_FILE").filter(|v| !v.is_empty()) {
            self.payment_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SNAPKASIR_MIDTRANS_API_URL").filter(|v| !v.is_empty()) {
            self.midtrans_api_url = Some(v);
        }
        if let Some(v) = get("SNAPKASIR_XENDIT_API_URL").filter(|v| !v.is_empty()) {
            self.xendit_api_url = Some(v);
        }
        env_field!("SNAPKASIR_QRIS_EXPIRY_SECS", qris_expiry_secs);
        if let Some(v) = get("SNAPKASIR_SMTP_URL").filter(|v| !v.is_empty()) {
            self.smtp_url = Some(Secret::new(v));
        }
        if let Some(v) = get("SNAPKASIR_SMTP_PASSWORD_FILE").filter(|v| !v.is_empty()) {
            self.smtp_password_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SNAPKASIR_SMTP_FROM").filter(|v| !v.is_empty()) {
            self.smtp_from = Some(v);
        }
        env_field!(
            "SNAPKASIR_CONTACT_PURGE_INTERVAL_SECS",
            contact_purge_interval_secs
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_secrets_stay_hidden() {
        let mut cfg = Config::from_toml(
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"postgres://u:pw@h/db\"\nmax_frame_bytes = 1024\n",
        )
        .unwrap();
        assert_eq!(cfg.listen.port(), 9000);
        assert_eq!(cfg.max_frame_bytes, 1024);
        assert_eq!(cfg.login_window_secs, Config::default().login_window_secs);
        cfg.apply_env(|k| (k == "SNAPKASIR_MAX_FRAME_BYTES").then(|| "2048".to_string()))
            .unwrap();
        assert_eq!(cfg.max_frame_bytes, 2048);
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("pw@"), "{dbg}");
        assert!(Config::from_toml("bogus = 1").is_err());
        let tls = Config::from_toml("tls_cert = \"/etc/sk/cert.pem\"\n").unwrap();
        assert_eq!(tls.tls_cert, Some(PathBuf::from("/etc/sk/cert.pem")));
        cfg.apply_env(|k| (k == "SNAPKASIR_TLS_KEY").then(|| "/etc/sk/key.pem".to_string()))
            .unwrap();
        assert_eq!(cfg.tls_key, Some(PathBuf::from("/etc/sk/key.pem")));
        assert!(cfg.apply_env(|_| Some("x".into())).is_err());
    }

    #[test]
    fn report_replica_settings_from_file_and_env_and_the_url_stays_hidden() {
        let mut cfg = Config::from_toml(
            "report_replica_url = \"postgres://r:hush@standby/db\"\nreport_replica_max_lag_secs = 30\n",
        )
        .unwrap();
        assert_eq!(cfg.report_replica_max_lag_secs, 30);
        assert_eq!(cfg.report_replica_check_ms, 1000);
        assert!(!format!("{cfg:?}").contains("hush"));
        cfg.apply_env(|k| match k {
            "SNAPKASIR_REPORT_REPLICA_URL" => Some("postgres://127.0.0.1:5433/db".into()),
            "SNAPKASIR_REPORT_REPLICA_CHECK_MS" => Some("250".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            cfg.report_replica_url.as_ref().map(Secret::expose),
            Some("postgres://127.0.0.1:5433/db")
        );
        assert_eq!(cfg.report_replica_check_ms, 250);
    }

    #[test]
    fn proxies_and_metrics_token_from_env() {
        let mut cfg = Config::default();
        assert!(cfg.trusted_proxies.is_empty() && cfg.metrics_token.is_none());
        cfg.apply_env(|k| match k {
            "SNAPKASIR_TRUSTED_PROXIES" => Some("127.0.0.1, 10.0.0.0/8".into()),
            "SNAPKASIR_METRICS_TOKEN" => Some("m3tr1cs".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(cfg.trusted_proxies, ["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(
            cfg.metrics_token.as_ref().map(Secret::expose),
            Some("m3tr1cs")
        );
        assert!(!format!("{cfg:?}").contains("m3tr1cs"));
    }

    #[test]
    fn backup_copy_settings_from_file_and_env() {
        let mut cfg = Config::from_toml(
            "backup_dir = \"/b\"\nbackup_s3_url = \"s3://bkt/shop/\"\nbackup_s3_region = \"auto\"\n",
        )
        .unwrap();
        assert_eq!(cfg.backup_s3_url.as_deref(), Some("s3://bkt/shop/"));
        assert_eq!(cfg.backup_s3_region, "auto");
        assert_eq!(Config::default().backup_s3_region, "us-east-1");
        cfg.apply_env(|k| match k {
            "SNAPKASIR_BACKUP_S3_ENDPOINT" => Some("http://127.0.0.1:9000".into()),
            "SNAPKASIR_BACKUP_S3_ACCESS_KEY_FILE" => Some("/etc/sk/s3-id".into()),
            "SNAPKASIR_BACKUP_S3_SECRET_KEY_FILE" => Some("/etc/sk/s3-secret".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            cfg.backup_s3_endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(
            cfg.backup_s3_secret_key_file,
            Some(PathBuf::from("/etc/sk/s3-secret"))
        );
        cfg.check(|_| None).unwrap();
        cfg.backup_dir = None;
        assert!(cfg.check(|_| None).is_err());
    }

    #[test]
    fn smtp_settings_from_file_and_env_and_the_password_stays_hidden() {
        let mut cfg = Config::from_toml(
            "smtp_url = \"smtps://struk:s3cr3t@mail.example.com\"\nsmtp_from = \"SnapKasir <struk@example.com>\"\n",
        )
        .unwrap();
        assert!(!format!("{cfg:?}").contains("s3cr3t"));
        cfg.check(|_| None).unwrap();
        cfg.apply_env(|k| match k {
            "SNAPKASIR_SMTP_URL" => Some("smtp://127.0.0.1:2525".into()),
            "SNAPKASIR_SMTP_PASSWORD_FILE" => Some("/etc/sk/smtp-password".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            cfg.smtp_url.as_ref().map(Secret::expose),
            Some("smtp://127.0.0.1:2525")
        );
        assert_eq!(
            cfg.smtp_password_file,
            Some(PathBuf::from("/etc/sk/smtp-password"))
        );
        cfg.smtp_from = None;
        assert!(cfg.check(|_| None).is_err(), "smtp_url without smtp_from");
    }
}
