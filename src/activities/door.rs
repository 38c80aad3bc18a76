//! `/org/:id/activities/:aid/code`: the activity's check-in code, large on the secretary's screen for the
//! members at the door to scan. The code is signed by the server, valid for the activity's time: once shown
//! online it is kept on the phone and shown again with no signal while it is valid. Codes the phone signs itself,
//! offline and changing every 30 seconds, come with QR.md's defence against forwarded screenshots.

use guihai_core::qr;
use guihai_core::sync::CodeResponse;
use leptos::prelude::*;

use crate::clock::now_ms;
use crate::i18n::use_i18n;
use crate::online::{fetched, id_param};
use crate::qr_image::QrImage;
use crate::store::records;

#[component]
pub fn DoorCodePage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param("aid");
    let fresh = fetched::<CodeResponse>(move || Some(format!("/activities/{}/code", id()?)));
    // The server's code, kept; or, with no answer, the one kept before, while it is still valid.
    let code = LocalResource::new(move || async move {
        let id = id()?;
        match fresh.await {
            Some(code) => {
                // A phone too full to keep it still shows it now.
                let _ = records::keep_door_code(id, &code).await;
                Some((code, false))
            }
            None => {
                let kept = records::door_code(id).await.ok().flatten()?;
                let valid_until = qr::read_unverified(&kept.payload)?.valid_until;
                (now_ms() / 1000 < i64::from(valid_until)).then_some((kept, true))
            }
        }
    });
    view! {
        <section class="card door-code" data-testid="door-code">
            <h1>{move || i18n.t("activities.code_title")}</h1>
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || code.get().map(|code| match code.and_then(|(c, kept)| c.qr.map(|qr| (c.link, qr, kept))) {
                    Some((link, qr, kept)) => view! {
                        <QrImage path=qr.path modules=qr.modules label=i18n.t("activities.code_title") />
                        {kept.then(|| view! { <p class="note" data-testid="door-code-kept">{i18n.t("activities.code_kept")}</p> })}
                        <p class="note code-link"><a data-testid="door-code-link" href=link.clone()>{link.clone()}</a></p>
                    }
                    .into_any(),
                    None => view! { <p class="error" role="alert" data-testid="door-code-offline">{i18n.t("activities.code_offline")}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
