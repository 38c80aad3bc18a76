//! `/org/:id/activities/:aid/code`: the activity's check-in code, large on the secretary's screen for the
//! members at the door to scan. The code is signed by the server, so showing it needs the network once; codes
//! the phone signs itself, offline and changing every 30 seconds, come with QR.md's defence against
//! forwarded screenshots.

use guihai_core::sync::CodeResponse;
use leptos::prelude::*;

use crate::i18n::use_i18n;
use crate::online::{fetched, id_param};
use crate::qr_image::QrImage;

#[component]
pub fn DoorCodePage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param("aid");
    let code = fetched::<CodeResponse>(move || Some(format!("/activities/{}/code", id()?)));
    view! {
        <section class="card door-code" data-testid="door-code">
            <h1>{move || i18n.t("activities.code_title")}</h1>
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || code.get().map(|code| match code.and_then(|c| c.qr.map(|qr| (c.link, qr))) {
                    Some((link, qr)) => view! {
                        <QrImage path=qr.path modules=qr.modules label=i18n.t("activities.code_title") />
                        <p class="note code-link"><a data-testid="door-code-link" href=link.clone()>{link.clone()}</a></p>
                    }
                    .into_any(),
                    None => view! { <p class="error" role="alert" data-testid="door-code-offline">{i18n.t("activities.code_offline")}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
