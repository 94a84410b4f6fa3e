//! A terminal-like Rust client (samod) used by the JavaScript interop test.
//!
//! `interop_client <ws-url-with-token> <document-id|automerge-url> <key> <value> <wait-key,...>`
//!
//! Finds the document through the server, writes `key = value` on its root
//! map, waits until every wait-key is present, then prints one JSON line
//! `{"heads": [...], "doc": {...}}` and exits. Progress lines go to stderr.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use automerge::ReadDoc;
use automerge::transaction::Transactable;
use sync_server::sync::cluster::WsDialer;

fn root_strings(d: &automerge::Automerge) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for key in d.keys(automerge::ROOT) {
        // JS automerge stores strings as text objects; Rust code may use scalars.
        let value = match d.get(automerge::ROOT, &key) {
            Ok(Some((automerge::Value::Object(automerge::ObjType::Text), id))) => d.text(&id).ok(),
            Ok(Some((automerge::Value::Scalar(s), _))) => match s.as_ref() {
                automerge::ScalarValue::Str(v) => Some(v.to_string()),
                _ => None,
            },
            _ => None,
        };
        if let Some(v) = value {
            out.insert(key, serde_json::Value::String(v));
        }
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, doc, key, value, wait] = args.as_slice() else {
        bail!("usage: interop_client <url> <document-id> <key> <value> <wait-key,...>");
    };
    let doc_id: samod::DocumentId = doc
        .trim_start_matches("automerge:")
        .parse()
        .context("document id")?;
    let repo = samod::Repo::build_tokio().load().await;
    let backoff = samod::BackoffConfig {
        initial_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        max_retries: Some(5),
    };
    let dialer = repo.dial(backoff, Arc::new(WsDialer::new(samod::Url::parse(url)?)))?;
    tokio::time::timeout(Duration::from_secs(15), dialer.established())
        .await
        .context("handshake timed out")?
        .map_err(|e| anyhow::anyhow!("handshake failed: {e:?}"))?;
    eprintln!("rust client: connected");
    let deadline = Instant::now() + Duration::from_secs(30);
    let handle = loop {
        if let Some(h) = repo.find(doc_id.clone()).await? {
            break h;
        }
        if Instant::now() > deadline {
            bail!("document not found");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "rust client: found {doc_id}: {:?}",
        handle.with_document(|d| root_strings(d))
    );
    handle
        .with_document(|d| {
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                // A text object, as the JS client writes strings.
                let text =
                    tx.put_object(automerge::ROOT, key.as_str(), automerge::ObjType::Text)?;
                tx.splice_text(&text, 0, 0, value)?;
                Ok(())
            })
            .map(|_| ())
            .map_err(|f| f.error.to_string())
        })
        .map_err(|e| anyhow::anyhow!("write failed: {e}"))?;
    let wait_keys: Vec<&str> = wait.split(',').filter(|k| !k.is_empty()).collect();
    loop {
        let (done, heads, doc) = handle.with_document(|d| {
            let doc = root_strings(d);
            let done = wait_keys.iter().all(|k| doc.contains_key(*k));
            (done, d.get_heads(), doc)
        });
        if done {
            // Give the server a moment to acknowledge our own write before leaving.
            let conn = dialer.connection_id();
            if let Some(c) = conn {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), handle.they_have_our_changes(c))
                        .await;
            }
            let heads: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
            println!("{}", serde_json::json!({ "heads": heads, "doc": doc }));
            break;
        }
        if Instant::now() > deadline {
            bail!("did not converge: {doc:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    repo.stop().await;
    Ok(())
}
