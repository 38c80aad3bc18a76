//! The secretary's door key (core's `qr::door`): an Ed25519 key made on this phone, which never leaves it, and
//! the server's certificates of it, one for each organisation the secretary runs. Both live in `kv` and go
//! with the session when the phone signs out (the server revokes the key then too).

use ed25519_dalek::SigningKey;
use guihai_core::qr::DoorCertificate;
use guihai_core::Id;
use serde::{Deserialize, Serialize};

use super::codec::{from_json, to_json};
use super::records::kv;
use super::{read, write, Durability, StoreError, KV};

const KEY: &str = "doorkey";
/// Prefix of the certificates, by organisation.
const CERTIFICATE: &str = "doorcert:";

#[derive(Serialize, Deserialize)]
struct Kept {
    seed: [u8; 32],
}

/// This phone's door key, made (from Web Crypto's randomness) and kept on first use.
pub async fn key() -> Result<SigningKey, StoreError> {
    let kept: Option<Kept> = read(&[KV], async |tx| {
        Ok(tx.get(KV, &kv(KEY)).await?.as_ref().and_then(from_json))
    })
    .await?;
    if let Some(kept) = kept {
        return Ok(SigningKey::from_bytes(&kept.seed));
    }
    let made = Kept {
        seed: crate::clock::random_bytes(),
    };
    // Another tab may have made one meanwhile: the first kept wins, so both sign with the same key.
    let seed = write(&[KV], Durability::Strict, async |tx| {
        match tx.get(KV, &kv(KEY)).await?.as_ref().and_then(from_json::<Kept>) {
            Some(kept) => Ok(kept.seed),
            None => {
                tx.put(KV, &kv(KEY), &to_json(&made))?;
                Ok(made.seed)
            }
        }
    })
    .await?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The certificate kept for `org_id`, if any.
pub async fn certificate(org_id: Id) -> Result<Option<DoorCertificate>, StoreError> {
    read(&[KV], async |tx| {
        Ok(tx
            .get(KV, &kv(&format!("{CERTIFICATE}{org_id}")))
            .await?
            .as_ref()
            .and_then(from_json))
    })
    .await
}

pub async fn keep_certificate(certificate: &DoorCertificate) -> Result<(), StoreError> {
    write(&[KV], Durability::Relaxed, async |tx| {
        tx.put(
            KV,
            &kv(&format!("{CERTIFICATE}{}", certificate.org_id)),
            &to_json(certificate),
        )
    })
    .await
}
