//! What a sync round renews besides the outbox and the pull: the member card, and a secretary's door key
//! certificates, so that a phone that syncs now and then has both valid at an event with no signal, even if
//! nobody opened the card or the door code page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use guihai_core::certificate::MemberCard;
use guihai_core::qr::DoorCertificate;
use guihai_core::Id;

use crate::api;
use crate::clock::{now_ms, server_now_secs};
use crate::store::{door, records};

/// A certificate with less than this left is renewed (it lasts `qr::door::CERTIFICATE_SECS`).
const RENEW_DOOR_BEFORE_SECS: u32 = 3 * 86_400;

/// Renews whatever wears thin; offline or refused, the kept ones stay until they expire.
pub async fn all() {
    card().await;
    for org_id in records::secretary_of() {
        door_certificate(org_id).await;
    }
}

/// The member card, fetched when the kept one is missing or wears thin; `Some` when a new one was kept.
pub async fn card() -> Option<MemberCard> {
    // A card signed by a server key since revoked would be refused by every phone that scans it.
    let wearing_thin = records::card().is_none_or(|c| {
        c.valid_until - now_ms() < MemberCard::REFRESH_BEFORE_MS || records::verifier().verify(&c.link).is_err()
    });
    if !wearing_thin {
        return None;
    }
    let session = records::session()?;
    let fresh = api::get_json::<MemberCard>(&session.token, "/me/card").await?;
    // A phone too full to keep it still shows it now.
    let _ = records::save_card(&fresh).await;
    Some(fresh)
}

/// This phone's certificate for `org_id`, renewed first when it wears thin and the server can be asked.
pub async fn door_certificate(org_id: Id) -> Option<DoorCertificate> {
    let kept = door::certificate(org_id).await.ok().flatten();
    // Renewed too once the server key that certified it is revoked: member phones would refuse its codes.
    let in_force = |c: &DoorCertificate| {
        records::trusted_keys()
            .iter()
            .any(|key| key.key_id == c.key_id && !key.revoked)
    };
    if kept
        .as_ref()
        .is_some_and(|c| c.lasts(server_now_secs(), RENEW_DOOR_BEFORE_SECS) && in_force(c))
    {
        return kept;
    }
    let fresh = async {
        let session = records::session()?;
        let key = door::key().await.ok()?;
        let body = serde_json::json!({ "public_key": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()) });
        let fresh: DoorCertificate = api::post_json(&session.token, &format!("/orgs/{org_id}/door-key"), &body).await?;
        door::keep_certificate(&fresh).await.ok()?;
        Some(fresh)
    };
    fresh.await.or(kept)
}
