//! Documents over HTTP: which changes of a document are in durable storage (the "on server"
//! a terminal shows).

use serde::{Deserialize, Serialize};
use shared_model::documents;
use tracing::instrument;

use super::Services;
use crate::access;
use crate::auth::Principal;
use crate::error::{Error, Result};

/// Change hashes (hex) a client wants confirmed as persisted.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PersistedRequest {
    /// At most 1000 change hashes, each 64 hex digits.
    #[schema(value_type = Vec<crate::openapi::ChangeHashHex>, max_items = 1000)]
    pub heads: Vec<String>,
}

/// Which of the asked change hashes the server has in durable storage.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Persisted {
    /// True when every asked hash is stored.
    pub all: bool,
    /// The asked hashes that are not stored (yet).
    pub missing: Vec<String>,
}

impl Services {
    /// Which of `heads` are in the stored (durable) document — read back from
    /// storage, not from memory: the acknowledgement a terminal shows as
    /// "on server".
    #[instrument(skip_all, fields(document_id))]
    pub async fn persisted(
        &self,
        who: &Principal,
        document_id: &str,
        heads: &[String],
    ) -> Result<Persisted> {
        shared_model::wire::check_document_id(document_id)
            .map_err(|_| Error::BadRequest("invalid document id".into()))?;
        if heads.len() > 1000 {
            return Err(Error::BadRequest("at most 1000 heads".into()));
        }
        let mut hashes = Vec::with_capacity(heads.len());
        for h in heads {
            hashes.push(
                h.parse::<automerge::ChangeHash>()
                    .map_err(|_| Error::BadRequest(format!("invalid change hash {h:?}")))?,
            );
        }
        let claim = self.storage.doc_claim(document_id).await?;
        access::document(who, claim.as_ref())?;
        let mut doc = match &claim {
            Some(c) => {
                crate::projection::load_document(&self.storage, &c.tenant_id, document_id).await?
            }
            None => None,
        };
        let mut missing = Vec::new();
        for (s, h) in heads.iter().zip(&hashes) {
            let stored = doc
                .as_mut()
                .is_some_and(|d| documents::has_change(d.document(), h));
            if !stored {
                missing.push(s.clone());
            }
        }
        Ok(Persisted {
            all: missing.is_empty(),
            missing,
        })
    }
}
