//! The copy of the scheduled backups to S3-compatible object storage (`backup_s3_url`): after
//! each scheduled backup, the folder's backups missing from the bucket are uploaded under the
//! prefix with their file names, and the bucket's own `snapkasir-<time>.skb` objects under the
//! prefix are trimmed by the folder's retention rule, so that in steady state the bucket holds
//! the same set as the folder. Nothing else in the bucket is looked at or touched.
//!
//! Why trim by the rule rather than delete whatever the folder no longer has: a folder that is
//! lost or replaced (a new disk) would otherwise empty the bucket, the one place left to
//! restore from. A deletion or upload that failed is simply done on the next schedule.
//!
//! The client is Apache Arrow's `object_store` (SigV4, retries, multipart uploads, path-style
//! endpoints for MinIO, Wasabi, R2…), over reqwest on rustls with the ring provider and the
//! system's roots: the crate's own `aws` feature would bring aws-lc-rs, which needs cmake.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{ClientOptions, HttpClient, HttpConnector};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::config::{Config, Secret};
use crate::error::{Error, Result};

/// Files up to this size go up in one request; larger ones in parts of this size, streamed from
/// the file (S3's parts are 5 MiB at least).
const PART_BYTES: usize = 8 * 1024 * 1024;

/// `s3://bucket/prefix/`: the bucket and the prefix (empty, or ending in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: String,
    pub prefix: String,
}

impl Target {
    /// Parses `s3://bucket`, `s3://bucket/`, `s3://bucket/some/prefix[/]`.
    pub fn parse(url: &str) -> Result<Target> {
        let bad = |why: &str| Error::Config(format!("backup_s3_url {url:?}: {why}"));
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("must start with s3:// (s3://bucket/prefix/)"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !bucket.starts_with(['-', '.'])
            && !bucket.ends_with(['-', '.']);
        if !bucket_ok {
            return Err(bad(
                "the bucket name must be 3 to 63 lowercase letters, digits, '-' or '.'",
            ));
        }
        let prefix = prefix.trim_end_matches('/');
        if !prefix.is_empty() {
            let parsed = ObjectPath::parse(prefix).map_err(|e| bad(&format!("the prefix: {e}")))?;
            if parsed.as_ref() != prefix {
                return Err(bad("the prefix is not a plain path"));
            }
        }
        Ok(Target {
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }

    fn key(&self, name: &str) -> ObjectPath {
        ObjectPath::from(format!("{}{name}", self.prefix))
    }
}

/// Checks the copy's settings when the configuration is loaded: the URL and the endpoint parse,
/// `backup_dir` is set, and each credential has a source (a file setting or the environment
/// read through `env`). The files themselves are read at each upload, so a rotated key is
/// picked up; an unreadable one shows as a failed copy.
pub fn check(config: &Config, env: impl Fn(&str) -> Option<String>) -> Result<()> {
    let Some(url) = &config.backup_s3_url else {
        return Ok(());
    };
    Target::parse(url)?;
    if config.backup_dir.is_none() {
        return Err(Error::Config(
            "backup_s3_url copies the scheduled backups, which need backup_dir".into(),
        ));
    }
    if let Some(endpoint) = &config.backup_s3_endpoint {
        let host = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://"));
        if !host.is_some_and(|h| !h.is_empty() && !h.contains(['?', '#', ' '])) {
            return Err(Error::Config(format!(
                "backup_s3_endpoint {endpoint:?}: must be an http:// or https:// address, e.g. \
                 https://s3.eu-central-1.wasabisys.com"
            )));
        }
    }
    if config.backup_s3_region.trim().is_empty() {
        return Err(Error::Config("backup_s3_region is empty".into()));
    }
    let has = |file: &Option<PathBuf>, var: &str| {
        file.is_some() || env(var).is_some_and(|v| !v.is_empty())
    };
    for (file, var, setting) in [
        (
            &config.backup_s3_access_key_file,
            "AWS_ACCESS_KEY_ID",
            "backup_s3_access_key_file",
        ),
        (
            &config.backup_s3_secret_key_file,
            "AWS_SECRET_ACCESS_KEY",
            "backup_s3_secret_key_file",
        ),
    ] {
        if !has(file, var) {
            return Err(Error::Config(format!(
                "backup_s3_url is set but no credentials: set {var} in the server's environment \
                 or {setting} (SNAPKASIR_{})",
                setting.to_ascii_uppercase()
            )));
        }
    }
    Ok(())
}

/// One credential: the first line of its file when set, else the environment variable.
fn credential(file: Option<&Path>, var: &str) -> Result<Secret> {
    let value = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| {
                Error::Backup(format!(
                    "cannot read the S3 credential file {}: {e}",
                    path.display()
                ))
            })?
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        None => std::env::var(var).unwrap_or_default(),
    };
    if value.is_empty() {
        return Err(Error::Backup(match file {
            Some(path) => format!("the S3 credential file {} is empty", path.display()),
            None => format!("{var} is not set"),
        }));
    }
    Ok(Secret::new(value))
}

/// object_store's HTTP client: the server's ([`crate::http_client`]).
#[derive(Debug)]
struct RustlsRing;

impl HttpConnector for RustlsRing {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        let generic = |e: Box<dyn std::error::Error + Send + Sync>| object_store::Error::Generic {
            store: "S3",
            source: e,
        };
        let client = crate::http_client::client(Duration::from_secs(10), Duration::from_secs(60))
            .map_err(|e| generic(e.to_string().into()))?;
        Ok(HttpClient::new(client))
    }
}

/// The bucket, for one round of copying (built each time: the credential files are read anew).
#[derive(Debug)]
pub struct Copy {
    store: Arc<AmazonS3>,
    target: Target,
}

impl Copy {
    /// The copy `config` asks for, if any.
    pub fn new(config: &Config) -> Result<Option<Copy>> {
        let Some(url) = &config.backup_s3_url else {
            return Ok(None);
        };
        let target = Target::parse(url)?;
        let access = credential(
            config.backup_s3_access_key_file.as_deref(),
            "AWS_ACCESS_KEY_ID",
        )?;
        let secret = credential(
            config.backup_s3_secret_key_file.as_deref(),
            "AWS_SECRET_ACCESS_KEY",
        )?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&target.bucket)
            .with_region(&config.backup_s3_region)
            .with_access_key_id(access.expose())
            .with_secret_access_key(secret.expose())
            .with_http_connector(RustlsRing)
            // A few quick retries: a copy that still fails waits for the next schedule.
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(60),
                ..RetryConfig::default()
            });
        if let Ok(token) = std::env::var("AWS_SESSION_TOKEN")
            && !token.is_empty()
        {
            builder = builder.with_token(token);
        }
        builder = match &config.backup_s3_endpoint {
            // MinIO, Wasabi, R2…: path-style requests (`endpoint/bucket/key`).
            Some(endpoint) => builder
                .with_endpoint(endpoint.trim_end_matches('/'))
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false),
            // AWS itself: `bucket.s3.region.amazonaws.com`.
            None => builder.with_virtual_hosted_style_request(true),
        };
        let store = builder
            .build()
            .map_err(|e| Error::Backup(format!("the S3 client: {e}")))?;
        Ok(Some(Copy {
            store: Arc::new(store),
            target,
        }))
    }

    /// Brings the bucket in line with the folder: uploads each of `local` (file names of `dir`)
    /// that the bucket lacks, then deletes the bucket's scheduled backups that `keep` (given all
    /// the time stamps, the bucket's and the folder's) does not keep. Answers how many files
    /// were uploaded and objects deleted.
    pub async fn sync(
        &self,
        dir: &Path,
        local: &[String],
        keep: impl Fn(&[String]) -> BTreeSet<String>,
    ) -> Result<(usize, usize)> {
        let remote = self.remote_stamps().await?;
        let mut uploaded = 0;
        for stamp in local.iter().filter(|s| !remote.contains(*s)) {
            self.upload(&dir.join(super::file_name(stamp))).await?;
            uploaded += 1;
        }
        let mut all: Vec<String> = remote.iter().chain(local).cloned().collect();
        all.sort_unstable();
        all.dedup();
        let kept = keep(&all);
        let mut deleted = 0;
        for stamp in remote.iter().filter(|s| !kept.contains(*s)) {
            let key = self.target.key(&super::file_name(stamp));
            self.store
                .delete(&key)
                .await
                .map_err(|e| s3_err("delete", &key, e))?;
            tracing::info!(key = %key, "old backup deleted from the bucket");
            deleted += 1;
        }
        Ok((uploaded, deleted))
    }

    /// The time stamps of the scheduled backups directly under the prefix.
    async fn remote_stamps(&self) -> Result<BTreeSet<String>> {
        let prefix = ObjectPath::from(self.target.prefix.trim_end_matches('/'));
        let listed = self
            .store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| s3_err("list", &prefix, e))?;
        Ok(listed
            .objects
            .iter()
            .filter_map(|o| super::stamp_of(o.location.filename()?))
            .collect())
    }

    /// Uploads `file` under the prefix with its name: in one request when small, else streamed
    /// in parts.
    async fn upload(&self, file: &Path) -> Result<()> {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Backup(format!("{} has no file name", file.display())))?;
        let key = self.target.key(name);
        let read_err = |e: std::io::Error| Error::Backup(format!("{}: {e}", file.display()));
        let mut f = tokio::fs::File::open(file).await.map_err(read_err)?;
        let len = f.metadata().await.map_err(read_err)?.len();
        if len <= PART_BYTES as u64 {
            let mut bytes = Vec::with_capacity(len as usize);
            f.read_to_end(&mut bytes).await.map_err(read_err)?;
            self.store
                .put(&key, PutPayload::from(bytes))
                .await
                .map_err(|e| s3_err("upload", &key, e))?;
        } else {
            let upload = self
                .store
                .put_multipart(&key)
                .await
                .map_err(|e| s3_err("start the upload of", &key, e))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            let mut buf = vec![0u8; 1024 * 1024];
            let streamed: Result<()> = async {
                loop {
                    let n = f.read(&mut buf).await.map_err(read_err)?;
                    if n == 0 {
                        return Ok(());
                    }
                    // At most two parts in flight: memory stays at a few parts whatever the size.
                    writer
                        .wait_for_capacity(2)
                        .await
                        .map_err(|e| s3_err("upload", &key, e))?;
                    writer.write(&buf[..n]);
                }
            }
            .await;
            match streamed {
                Ok(()) => {
                    writer
                        .finish()
                        .await
                        .map_err(|e| s3_err("upload", &key, e))?;
                }
                Err(e) => {
                    if let Err(abort) = writer.abort().await {
                        tracing::warn!(error = %abort, key = %key, "aborting the upload failed");
                    }
                    return Err(e);
                }
            }
        }
        tracing::info!(key = %key, bucket = %self.target.bucket, bytes = len, "backup copied to S3");
        Ok(())
    }
}

fn s3_err(what: &str, key: &ObjectPath, e: object_store::Error) -> Error {
    Error::Backup(format!("cannot {what} {key}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_bucket_and_prefix() {
        let t = Target::parse("s3://my-bucket/shop/backups/").unwrap();
        assert_eq!(
            (t.bucket.as_str(), t.prefix.as_str()),
            ("my-bucket", "shop/backups/")
        );
        assert_eq!(Target::parse("s3://my-bucket/a").unwrap().prefix, "a/");
        assert_eq!(Target::parse("s3://my-bucket").unwrap().prefix, "");
        assert_eq!(Target::parse("s3://my-bucket/").unwrap().prefix, "");
        assert_eq!(
            Target::parse("s3://b.example/x")
                .unwrap()
                .key("f.skb")
                .as_ref(),
            "x/f.skb"
        );
        for bad in [
            "https://bucket/x",
            "s3://",
            "s3://B/x",
            "s3://ab/x",
            "s3://bucket/a//b",
            "s3://bucket/../x",
            "s3://-bucket/",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_copy_needs_a_folder_an_address_and_credentials() {
        let env = |k: &str| {
            matches!(k, "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY").then(|| "x".to_string())
        };
        let no_env = |_: &str| None;
        let mut cfg = Config::default();
        check(&cfg, no_env).unwrap();
        cfg.backup_s3_url = Some("s3://bucket/p/".into());
        let why = check(&cfg, env).unwrap_err().to_string();
        assert!(why.contains("backup_dir"), "{why}");
        cfg.backup_dir = Some("/var/backups".into());
        check(&cfg, env).unwrap();
        let why = check(&cfg, no_env).unwrap_err().to_string();
        assert!(why.contains("AWS_ACCESS_KEY_ID"), "{why}");
        cfg.backup_s3_access_key_file = Some("/etc/a".into());
        cfg.backup_s3_secret_key_file = Some("/etc/s".into());
        check(&cfg, no_env).unwrap();
        cfg.backup_s3_endpoint = Some("minio:9000".into());
        assert!(check(&cfg, no_env).is_err());
        cfg.backup_s3_endpoint = Some("http://127.0.0.1:9000".into());
        check(&cfg, no_env).unwrap();
        cfg.backup_s3_url = Some("s3:/bucket".into());
        assert!(check(&cfg, no_env).is_err());
    }

    #[test]
    fn credentials_come_from_the_first_line_of_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "AKIA123\nnot this\n").unwrap();
        assert_eq!(
            credential(Some(&file), "UNUSED").unwrap().expose(),
            "AKIA123"
        );
        std::fs::write(&file, "\n").unwrap();
        assert!(credential(Some(&file), "UNUSED").is_err());
        assert!(credential(Some(&dir.path().join("none")), "UNUSED").is_err());
    }
}
