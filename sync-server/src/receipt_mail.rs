//! Email receipts (issue 17): a till asks the server to email a sale's receipt to a customer
//! (`POST /api/v1/terminal/receipts/email`, [`crate::receipt_mail_api`]); the server renders
//! it from the same data and formatting as the public receipt page
//! ([`crate::dashboard::receipt::receipt_page`]) as a plain-text and an HTML body, and sends it
//! through the configured SMTP server (`smtp_url`, `smtp_from`) with lettre.
//!
//! # Once per send
//!
//! Each send carries the till's `send_id`; `receipt_emails` records it as `sending` before the
//! SMTP exchange and as `sent` right after the SMTP server's 250, so a till that retries (it
//! did not get the answer) gets `sent` back and nothing is emailed again. An SMTP failure
//! (no 250) records `failed`, which a retry may send. A row left `sending` by a server that
//! stopped during the exchange is ambiguous (the SMTP server may have accepted the message):
//! after [`STALE_SENDING_MS`] it is answered `unknown` and **not** sent again — we prefer a
//! customer asking for the receipt again (the link on the paper receipt still works) to a
//! customer getting it twice.
//!
//! # Retention
//!
//! The customer's address is kept in the log only for the store's `contact_retention_days`
//! (0: blanked in the same statement that records the send); [`run_purge`] blanks older ones
//! every `contact_purge_interval_secs`. No report or export reads the table.

use std::str::FromStr;
use std::time::Duration;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use shared_model::sale::is_receipt_token;
use tracing::Instrument;

use crate::config::Config;
use crate::dashboard::i18n::Lang;
use crate::dashboard::receipt::{ReceiptPage, receipt_page, store_settings};
use crate::error::{Error, Result};
use crate::extract::DeviceAuth;
use crate::state::AppState;
use crate::storage::{ReceiptEmailClaim, ReceiptEmailRow};

/// How long a `sending` row is taken for an exchange in progress; beyond, its outcome is
/// unknown. Longer than [`SMTP_TIMEOUT`] with room to spare.
pub const STALE_SENDING_MS: i64 = 5 * 60 * 1000;

/// The longest one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest address accepted (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;

/// An email receipt, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "mail/receipt.html")]
struct HtmlBody<'a> {
    r: &'a ReceiptPage,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/receipt.txt")]
struct TextBody<'a> {
    r: &'a ReceiptPage,
    link: &'a str,
}

/// The subject and both bodies of the receipt `r` (formatted in its page's language), with the
/// link to its public page.
pub(crate) fn render(r: &ReceiptPage, link: &str) -> Result<MailContent> {
    let subject = r
        .page
        .tf(
            "receipt.mail_subject",
            &[("store", &r.store_name), ("number", &r.receipt_no)],
        )
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let failed = |e: askama::Error| Error::Internal(format!("email template: {e}"));
    Ok(MailContent {
        subject,
        text: TextBody { r, link }.render().map_err(failed)?,
        html: HtmlBody { r, link }.render().map_err(failed)?,
    })
}

/// The customer's address, checked; refused in words (English and Indonesian).
pub fn parse_email(typed: &str) -> Result<Address> {
    let t = typed.trim();
    let refuse = || Error::Invalid {
        field: "email",
        en: format!("{t:?} is not an email address (like name@example.com)"),
        id: format!("{t:?} bukan alamat email (contoh: nama@contoh.com)"),
    };
    if t.is_empty() || t.len() > MAX_EMAIL_LEN || t.chars().any(|c| c.is_whitespace()) {
        return Err(refuse());
    }
    let address = Address::from_str(t).map_err(|_| refuse())?;
    // A domain without a dot (`name@localhost`) is not a customer's mailbox.
    if !address.domain().contains('.') || address.domain().ends_with('.') {
        return Err(refuse());
    }
    Ok(address)
}

/// The sender, checked.
fn sender(cfg: &Config) -> Result<Mailbox> {
    let from = cfg.smtp_from.as_deref().ok_or_else(|| {
        Error::Config("smtp_url is set but smtp_from is not: set the sender of email receipts, e.g. smtp_from = \"SnapKasir <struk@example.com>\"".into())
    })?;
    Mailbox::from_str(from)
        .map_err(|e| Error::Config(format!("smtp_from {from:?} is not an email sender: {e}")))
}

/// The SMTP URL as lettre takes it: `tls=starttls` spelled `tls=required`, the password from
/// `smtp_password_file` when set.
fn transport_url(cfg: &Config, url: &str) -> Result<String> {
    let mut u = reqwest::Url::parse(url)
        .map_err(|e| Error::Config(format!("smtp_url is not a URL: {e}")))?;
    if !matches!(u.scheme(), "smtp" | "smtps") {
        return Err(Error::Config(format!(
            "smtp_url: the scheme must be smtp or smtps, not {:?}",
            u.scheme()
        )));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(Error::Config("smtp_url has no host".into()));
    }
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "tls" && v == "starttls" {
                "required".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    if !pairs.is_empty() {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if let Some(file) = &cfg.smtp_password_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", file.display())))?;
        let password = text.lines().next().unwrap_or("").trim_end();
        u.set_password(Some(password))
            .map_err(|()| Error::Config("smtp_url cannot take a password".into()))?;
    }
    Ok(u.to_string())
}

/// Refuses SMTP settings that cannot send (for [`Config::check`]); nothing without `smtp_url`.
pub fn check(cfg: &Config) -> Result<()> {
    let Some(url) = &cfg.smtp_url else {
        return Ok(());
    };
    sender(cfg)?;
    let url = transport_url(cfg, url.expose())?;
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map_err(|e| Error::Config(format!("smtp_url: {e}")))?;
    Ok(())
}

/// Sends `content` to `to`; the SMTP server's refusal or the connection's failure in words.
async fn send(cfg: &Config, to: Address, content: MailContent) -> Result<()> {
    let url = cfg.smtp_url.as_ref().ok_or(Error::EmailNotConfigured)?;
    let url = transport_url(cfg, url.expose())?;
    let from = sender(cfg)?;
    let message = Message::builder()
        .from(from)
        .to(Mailbox::new(None, to))
        .subject(content.subject)
        .multipart(MultiPart::alternative_plain_html(
            content.text,
            content.html,
        ))
        .map_err(|e| Error::Internal(format!("email message: {e}")))?;
    // from_url takes the user and password from the URL (percent-decoded).
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map_err(|e| Error::Config(format!("smtp_url: {e}")))?
        .timeout(Some(SMTP_TIMEOUT));
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| Error::EmailFailed(e.to_string()))
}

/// What a till asks for.
#[derive(Debug, Clone)]
pub struct EmailRequest {
    pub send_id: String,
    pub receipt_token: String,
    pub email: String,
    pub lang: Lang,
}

/// What became of a send: `sent` (now or before, at `sent_at`), or `unknown` (an attempt
/// stopped mid-way long ago; not sent again).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct EmailOutcome {
    /// `sent` or `unknown`.
    pub status: String,
    /// Unix ms at which the SMTP server accepted the message.
    pub sent_at: Option<i64>,
}

/// Emails the receipt of the sale `req.receipt_token` of the till's store to `req.email`, once
/// per `req.send_id`. `base_url` is where the public receipt page is reached.
pub async fn email_receipt(
    app: &AppState,
    device: &DeviceAuth,
    req: EmailRequest,
    base_url: &str,
) -> Result<EmailOutcome> {
    let span =
        tracing::info_span!("email_receipt", send_id = %req.send_id, store_id = %device.store_id);
    async move {
        let cfg = &app.services.config;
        if cfg.smtp_url.is_none() {
            return Err(Error::EmailNotConfigured);
        }
        if uuid::Uuid::parse_str(&req.send_id).is_err() {
            return Err(Error::BadRequest("send_id: not a UUID".into()));
        }
        if !is_receipt_token(&req.receipt_token) {
            return Err(Error::BadRequest(
                "receipt_token: not 32 lower-case hex digits".into(),
            ));
        }
        let to = parse_email(&req.email)?;
        let storage = &app.services.storage;
        let sale = storage.sale_by_receipt_token(&req.receipt_token).await?;
        let sale = match sale {
            Some(s) if s.store_id == device.store_id => s,
            // Another store's sale is not this till's to send: as if it did not exist.
            Some(_) => return Err(Error::NotFound("no sale of this store has this receipt")),
            None => return Err(Error::NotSynced),
        };
        let settings = store_settings(app, &device.store_id).await;
        let now = chrono::Utc::now().timestamp_millis();
        let fresh = ReceiptEmailRow {
            send_id: req.send_id.clone(),
            store_id: device.store_id.clone(),
            terminal_id: device.terminal_id.clone(),
            receipt_token: req.receipt_token.clone(),
            email: Some(to.to_string()),
            state: "sending".into(),
            attempts: 1,
            last_error: None,
            created_at: now,
            attempt_at: now,
            sent_at: None,
        };
        match storage
            .claim_receipt_email(&fresh, STALE_SENDING_MS)
            .await?
        {
            ReceiptEmailClaim::Send => {}
            ReceiptEmailClaim::Sent(at) => {
                tracing::info!("already sent: nothing sent again");
                return Ok(EmailOutcome {
                    status: "sent".into(),
                    sent_at: Some(at),
                });
            }
            ReceiptEmailClaim::InProgress => {
                return Err(Error::Conflict("this receipt is being sent right now"));
            }
            ReceiptEmailClaim::Unknown => {
                tracing::warn!("an earlier attempt stopped mid-way: not sent again");
                return Ok(EmailOutcome {
                    status: "unknown".into(),
                    sent_at: None,
                });
            }
        }
        let view = receipt_page(req.lang, &req.receipt_token, &sale, settings.as_ref());
        let link = format!("{}/r/{}", base_url.trim_end_matches('/'), req.receipt_token);
        let content = render(&view, &link)?;
        match send(cfg, to, content).await {
            Ok(()) => {
                let sent_at = chrono::Utc::now().timestamp_millis();
                let forget = settings
                    .as_ref()
                    .is_some_and(|s| s.contact_retention_days == 0);
                storage
                    .receipt_email_sent(&req.send_id, sent_at, forget)
                    .await?;
                tracing::info!("email receipt sent");
                Ok(EmailOutcome {
                    status: "sent".into(),
                    sent_at: Some(sent_at),
                })
            }
            Err(e) => {
                let reason = match &e {
                    Error::EmailFailed(why) => why.clone(),
                    other => other.to_string(),
                };
                tracing::warn!(error = %reason, "email receipt failed");
                storage.receipt_email_failed(&req.send_id, &reason).await?;
                Err(Error::EmailFailed(reason))
            }
        }
    }
    .instrument(span)
    .await
}

/// Blanks, in every store's log, the addresses older than the store's retention, as of `now`
/// (Unix ms); returns how many. A store whose settings cannot be read keeps the default.
pub async fn purge_once(app: &AppState, now: i64) -> Result<u64> {
    let storage = &app.services.storage;
    let mut purged = 0;
    for store_id in storage.receipt_email_stores().await? {
        let days = store_settings(app, &store_id).await.map_or(
            shared_model::settings::DEFAULT_CONTACT_RETENTION_DAYS,
            |s| s.contact_retention_days,
        );
        let before = now - i64::from(days) * 24 * 3600 * 1000;
        purged += storage.purge_receipt_emails(&store_id, before).await?;
    }
    Ok(purged)
}

/// Runs [`purge_once`] every `contact_purge_interval_secs` until the process ends.
pub async fn run_purge(app: AppState) {
    let every = Duration::from_secs(app.services.config.contact_purge_interval_secs.max(1));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match purge_once(&app, chrono::Utc::now().timestamp_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "customer email addresses past retention blanked"),
            Err(e) => tracing::warn!(error = %e, "purge of customer email addresses failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::PublicSale;
    use shared_model::settings::StoreSettings;

    fn sale() -> PublicSale {
        PublicSale {
            store_id: "s1".into(),
            receipt_no: "T1-000042".into(),
            terminal_code: "T1".into(),
            // 2026-12-03 08:30 UTC = 15:30 in Jakarta.
            created_at: 1_796_286_600_000,
            total_e4: 125_000_000,
            tax_e4: 12_387_000,
            discount_e4: 0,
            voided: false,
            lines: vec![
                ("Kopi <Susu> & Gula".into(), 20_000, 25_000_000),
                ("Roti".into(), 10_000, 100_000_000),
            ],
            payments: vec![("cash".into(), 150_000_000), ("qris".into(), 0)],
        }
    }

    #[test]
    fn both_bodies_hold_the_receipt_and_its_link_in_the_readers_language() {
        let mut settings = StoreSettings::indonesia("Toko Maju", "Jl. Merdeka 1\nBandung");
        settings.receipt_footer = vec!["Terima kasih".into()];
        let link = "https://pos.example.com/r/0123456789abcdef0123456789abcdef";
        let view = receipt_page(
            Lang::Id,
            "0123456789abcdef0123456789abcdef",
            &sale(),
            Some(&settings),
        );
        let m = render(&view, link).unwrap();
        assert_eq!(m.subject, "Struk Toko Maju T1-000042");
        for body in [&m.text, &m.html] {
            assert!(body.contains("Toko Maju"), "{body}");
            assert!(body.contains("Jl. Merdeka 1"), "{body}");
            assert!(body.contains("Rp 12.500"), "{body}");
            assert!(body.contains("Rp 15.000"), "{body}");
            assert!(body.contains("15.30") || body.contains("15:30"), "{body}");
            assert!(body.contains(link), "{body}");
        }
        assert!(m.text.contains("Kopi <Susu> & Gula"), "{}", m.text);
        assert!(
            m.html.contains("Kopi &#60;Susu&#62; &#38; Gula")
                || m.html.contains("Kopi &lt;Susu&gt; &amp; Gula"),
            "{}",
            m.html
        );
        let en = render(&receipt_page(Lang::En, "t", &sale(), Some(&settings)), link).unwrap();
        assert_eq!(en.subject, "Receipt Toko Maju T1-000042");
        assert!(en.text.contains("Total"));
    }

    #[test]
    fn addresses_are_checked() {
        assert!(parse_email(" budi@example.co.id ").is_ok());
        for bad in [
            "",
            "budi",
            "budi@",
            "@example.com",
            "budi@localhost",
            "bu di@example.com",
            "a@b@c.com",
        ] {
            let e = parse_email(bad).unwrap_err();
            assert!(
                e.public_message().contains("not an email address"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn starttls_is_spelled_for_lettre_and_the_password_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "rahasia\n").unwrap();
        let cfg = Config {
            smtp_password_file: Some(file),
            ..Config::default()
        };
        let url = transport_url(&cfg, "smtp://struk@mail.example.com:587?tls=starttls").unwrap();
        assert_eq!(
            url,
            "smtp://struk:rahasia@mail.example.com:587?tls=required"
        );
        assert!(transport_url(&Config::default(), "http://x").is_err());
    }
}
