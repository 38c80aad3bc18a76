//! The member card (电子流动党员证): the member's signed, short-lived code as a QR code for a secretary's phone
//! to scan. Refreshed from the server while online; offline, the last one is shown with its expiry.

use guihai_core::certificate::MemberCard;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;

use crate::clock::{format_time, now_ms};
use crate::i18n::use_i18n;
use crate::qr_image::QrImage;
use crate::store::records;
use crate::sync::renew;

/// Fetches a new card when the kept one is missing or wears thin (every sync round does too); keeps the old
/// one when the server cannot be reached (or the phone is full: the old card stays usable until it expires).
async fn refresh(card: RwSignal<Option<MemberCard>>) {
    if let Some(fresh) = renew::card().await {
        card.set(Some(fresh));
    }
}

#[component]
pub fn CardPage() -> impl IntoView {
    let i18n = use_i18n();
    let me = records::me();
    let card = RwSignal::new(records::card());
    spawn_local(refresh(card));
    let Some(me) = me else {
        return view! { <Redirect path="/signin" /> }.into_any();
    };
    view! {
        <section class="card member-card" data-testid="member-card">
            <h1>{move || i18n.t("card.title")}</h1>
            <p class="card-name">{me.name.clone()}</p>
            <p class="note">{me.home_org.name.clone()}" · "{me.certificate_no.clone().unwrap_or_default()}</p>
            {move || match card.get() {
                None => view! { <p class="error" role="alert" data-testid="card-missing">{i18n.t("card.missing")}</p> }.into_any(),
                Some(c) => {
                    let expired = c.valid_until <= now_ms();
                    view! {
                        <div class:expired=expired data-testid="card-qr" data-link=c.link.clone()>
                            <QrImage path=c.qr_path.clone() modules=c.modules label=i18n.t("card.title") />
                        </div>
                        <p class=if expired { "error" } else { "note" } data-testid="card-validity" data-expired=expired.to_string()>
                            {if expired {
                                i18n.t("card.expired")
                            } else {
                                i18n.t_with("card.valid_until", &[("time", &format_time(c.valid_until))])
                            }}
                        </p>
                    }.into_any()
                }
            }}
            <p class="note">{move || i18n.t("card.explain")}</p>
        </section>
    }
    .into_any()
}
