//! `sync-server`: serve, migrate, admin.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sync_server::app;
use sync_server::config::{Config, Secret};
use sync_server::state::AppState;

#[derive(Debug, Parser)]
#[command(name = "sync-server", version, about = "SnapKasir sync server")]
struct Cli {
    /// TOML configuration file (defaults < file < SNAPKASIR_* env < flags).
    #[arg(long, global = true, env = "SNAPKASIR_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the embedded SQLite database (when no database URL is set).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL; selects the PostgreSQL backend (also SNAPKASIR_DATABASE_URL).
    #[arg(long, global = true, hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
        /// `ws://host:port/sync` other instances use to reach this one (enables peering).
        #[arg(long)]
        advertise_url: Option<String>,
        /// PEM certificate chain: serve https and wss (with --tls-key; also SNAPKASIR_TLS_CERT).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert (also SNAPKASIR_TLS_KEY).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Operator tasks without a browser.
    Admin {
        #[command(subcommand)]
        action: Admin,
    },
}

#[derive(Debug, Subcommand)]
enum Admin {
    /// Create a tenant with its first store and owner.
    CreateTenant {
        #[arg(long)]
        tenant_name: String,
        #[arg(long)]
        store_code: String,
        #[arg(long)]
        store_name: String,
        #[arg(long)]
        owner_email: String,
        /// Owner password (or SNAPKASIR_OWNER_PASSWORD).
        #[arg(long, env = "SNAPKASIR_OWNER_PASSWORD", hide_env_values = true)]
        owner_password: String,
    },
    /// Make a one-time enrollment code for a new terminal of a store.
    EnrollmentCode {
        #[arg(long)]
        store_id: String,
        #[arg(long, default_value = "Terminal")]
        terminal_name: String,
    },
    /// Revoke a terminal (closes its connections within a second).
    RevokeTerminal {
        #[arg(long)]
        terminal_id: String,
    },
    /// Rebuild projections from the stored documents.
    Reproject,
    /// Write one file of everything the server cannot rebuild (documents, accounts,
    /// credentials, claims, settings), consistent while the server runs. Prints a summary.
    Backup {
        /// The file to write (a directory: a file named by the time inside it).
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        secret: SecretArgs,
    },
    /// Restore a backup into an empty database (a new data directory or PostgreSQL
    /// database), then rebuild the projections. Tills reconnect and send what came after.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        secret: SecretArgs,
    },
    /// Write the stock baselines that are due (closed business days), for one store or all.
    /// Live instances that advertise themselves (`advertise_url`) are dialed and receive the
    /// change; an instance without one sees it only after a restart (a running server also
    /// writes baselines itself every `baseline_interval_secs`).
    WriteBaselines {
        #[arg(long)]
        store: Option<String>,
    },
}

/// The secret of an encrypted backup (none: a plain file).
#[derive(Debug, clap::Args)]
struct SecretArgs {
    /// A file whose first line is the passphrase (at least 8 characters).
    #[arg(long, conflicts_with = "key_file")]
    passphrase_file: Option<PathBuf>,
    /// A key file of at least 32 bytes (`head -c 32 /dev/urandom > FILE`).
    #[arg(long)]
    key_file: Option<PathBuf>,
}

impl SecretArgs {
    fn secret(&self) -> anyhow::Result<Option<sync_server::backup::Secret>> {
        Ok(sync_server::backup::Secret::chosen(
            self.passphrase_file.as_deref(),
            self.key_file.as_deref(),
        )?)
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("SNAPKASIR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("SNAPKASIR_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colour codes only for a person at a terminal, not in a log file or a pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// The server's allocator. With glibc's malloc, 1,000 tills selling spent a fifth of the
/// server's CPU in `_int_malloc`, `malloc_consolidate` and `free` (`perf`, `load-bench`,
/// 2026-12-05; BENCHMARKS.md, "1,000 tills: the bench's acknowledgements, and the server's
/// allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(d) = cli.data_dir {
        config.data_dir = d;
    }
    if let Some(u) = cli.database_url {
        config.database_url = Some(Secret::new(u));
    }
    let command = cli.command.unwrap_or(Command::Serve {
        listen: None,
        advertise_url: None,
        tls_cert: None,
        tls_key: None,
    });
    if let Command::Serve {
        listen,
        advertise_url,
        tls_cert,
        tls_key,
    } = &command
    {
        if let Some(l) = listen {
            config.listen = l
                .parse()
                .with_context(|| format!("invalid --listen address {l:?}"))?;
        }
        if let Some(u) = advertise_url {
            config.advertise_url = Some(u.clone());
        }
        if let Some(c) = tls_cert {
            config.tls_cert = Some(c.clone());
        }
        if let Some(k) = tls_key {
            config.tls_key = Some(k.clone());
        }
    }
    tracing::debug!(?config, "configuration");
    // Before the database: a bad certificate or key path stops `serve` at once, saying which.
    let tls = match command {
        Command::Serve { .. } => app::tls::acceptor(&config).context("TLS")?,
        _ => None,
    };
    let config = Arc::new(config);
    let storage = app::open_storage(&config)
        .await
        .context("opening storage")?;
    storage.migrate().await.context("migrating the database")?;
    match command {
        Command::Migrate => {
            tracing::info!(backend = storage.backend(), "migrations applied");
        }
        Command::Serve { .. } => {
            let state = AppState::new(storage, config.clone()).await?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let addr = listener.local_addr()?;
            let scheme = if tls.is_some() { "https" } else { "http" };
            // Machine-readable readiness line for scripts and tests (stdout).
            println!("listening on {scheme}://{addr}");
            tracing::info!(%addr, tls = tls.is_some(), backend = state.services.storage.backend(), "serving");
            app::serve_with_tls(listener, tls, state, shutdown_signal()).await?;
        }
        // Before the services: they write the server's first secrets, which a restore
        // replaces with the backup's.
        Command::Admin {
            action: Admin::Backup { to, secret },
        } => {
            let summary = sync_server::backup::backup(&storage, &to, secret.secret()?.as_ref())
                .await
                .context("backup")?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
        Command::Admin {
            action: Admin::Restore { from, secret },
        } => {
            let summary = sync_server::backup::restore(&storage, &from, secret.secret()?.as_ref())
                .await
                .context("restore")?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
        Command::Admin { action } => {
            let services = sync_server::service::Services::new(storage, config.clone()).await?;
            match action {
                Admin::CreateTenant {
                    tenant_name,
                    store_code,
                    store_name,
                    owner_email,
                    owner_password,
                } => {
                    let b = services
                        .bootstrap(
                            &tenant_name,
                            &store_code,
                            &store_name,
                            &owner_email,
                            &owner_password,
                        )
                        .await?;
                    println!("{}", serde_json::to_string_pretty(&b)?);
                }
                Admin::EnrollmentCode {
                    store_id,
                    terminal_name,
                } => {
                    let code = services
                        .admin_enrollment_code(&store_id, &terminal_name)
                        .await?;
                    println!("{}", serde_json::to_string_pretty(&code)?);
                }
                Admin::RevokeTerminal { terminal_id } => {
                    services.revoke_terminal(None, &terminal_id).await?;
                    println!("revoked {terminal_id}");
                }
                Admin::Reproject => {
                    let n = sync_server::projection::reproject_all(&services.storage).await?;
                    println!("reprojected {n} documents");
                }
                Admin::Backup { .. } | Admin::Restore { .. } => unreachable!("handled above"),
                Admin::WriteBaselines { store } => {
                    let state = AppState::new(services.storage.clone(), config.clone()).await?;
                    let writer = sync_server::documents_writer::DocWriter::new(&state);
                    let written = sync_server::baselines::write_due(
                        &writer,
                        &services.storage,
                        store.as_deref(),
                        shared_model::codec::Timestamp::now(),
                    )
                    .await;
                    // Running instances that advertise themselves receive the changes.
                    if let Ok(w) = &written {
                        sync_server::baselines::deliver(&state, &writer, w).await?;
                    }
                    state.shutdown().await;
                    println!("{}", serde_json::to_string_pretty(&written?)?);
                }
            }
        }
    }
    Ok(())
}
