//! `/org/:id/activities/:aid/code`: the activity's check-in code, large on the secretary's screen for the
//! members at the door to scan.
//!
//! With a door key certificate (every sync round renews it), the phone signs a new code every 30 seconds
//! itself, with no network (core's `qr::door`): a photo of it forwarded to someone elsewhere is refused a minute
//! later. The printed code, signed by the server for the activity's whole time, stays one tap away for a door
//! with nobody to hold a phone; once shown online it is kept and shown again with no signal while it is valid.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use guihai_core::domain::Activity;
use guihai_core::qr::door::STEP_SECS;
use guihai_core::qr::{self, DoorCertificate};
use guihai_core::sync::CodeResponse;
use guihai_core::Id;
use leptos::prelude::*;

use super::current;
use crate::clock::{now_ms, server_now_secs};
use crate::i18n::use_i18n;
use crate::online::id_param;
use crate::qr_image::QrImage;
use crate::store::{door, records};
use crate::sync::renew;
use crate::{api, pages::scan};

/// What the page shows.
#[derive(Clone)]
enum Shown {
    /// Codes this phone signs, for this activity of the certified organisation.
    Rotating(Box<Door>),
    /// The server's code for the whole activity; `kept` when it comes from the phone, with no answer.
    Printed { code: CodeResponse, kept: bool },
}

#[derive(Clone)]
struct Door {
    certificate: DoorCertificate,
    key: SigningKey,
    activity: Activity,
    org_name: String,
}

/// The rotating code, when this phone holds a certificate for the activity's organisation.
async fn rotating(org_id: Id, activity_id: Id) -> Option<Shown> {
    let activity = current(activity_id).await.filter(|a| a.org_id == org_id)?;
    let certificate = renew::door_certificate(org_id).await?;
    let key = door::key().await.ok()?;
    let org_name = records::me()
        .into_iter()
        .flat_map(|me| me.current_org.into_iter().chain([me.home_org]))
        .find(|org| org.id == org_id)
        .map(|org| org.name)
        .unwrap_or_default();
    Some(Shown::Rotating(Box::new(Door {
        certificate,
        key,
        activity,
        org_name,
    })))
}

/// The server's code, kept; or, with no answer, the one kept before, while it is still valid.
async fn printed(activity_id: Id) -> Option<Shown> {
    let fresh = match records::session() {
        Some(session) => {
            api::get_json::<CodeResponse>(&session.token, &format!("/activities/{activity_id}/code")).await
        }
        None => None,
    };
    match fresh {
        Some(code) => {
            // A phone too full to keep it still shows it now.
            let _ = records::keep_door_code(activity_id, &code).await;
            Some(Shown::Printed { code, kept: false })
        }
        None => {
            let kept = records::door_code(activity_id).await.ok().flatten()?;
            let valid_until = qr::read_unverified(&kept.payload)?.valid_until;
            (now_ms() / 1000 < i64::from(valid_until)).then_some(Shown::Printed { code: kept, kept: true })
        }
    }
}

#[component]
pub fn DoorCodePage() -> impl IntoView {
    let i18n = use_i18n();
    let org = id_param("id");
    let activity = id_param("aid");
    let print = RwSignal::new(false);
    let shown = LocalResource::new(move || async move {
        let (org, activity) = (org()?, activity()?);
        let rotating = if print.get() {
            None
        } else {
            rotating(org, activity).await
        };
        match rotating {
            Some(shown) => Some(shown),
            None => printed(activity).await,
        }
    });
    view! {
        <section class="card door-code" data-testid="door-code">
            <h1>{move || i18n.t("activities.code_title")}</h1>
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || shown.get().map(|shown| match shown {
                    Some(Shown::Rotating(door)) => view! {
                        <RotatingCode certificate=door.certificate key=door.key activity=door.activity org_name=door.org_name />
                        <button class="button" data-testid="door-code-print" on:click=move |_| print.set(true)>
                            {i18n.t("activities.code_print")}
                        </button>
                    }
                    .into_any(),
                    Some(Shown::Printed { code, kept }) => match code.qr {
                        Some(qr) => view! {
                            <QrImage path=qr.path modules=qr.modules label=i18n.t("activities.code_title") />
                            {kept.then(|| view! { <p class="note" data-testid="door-code-kept">{i18n.t("activities.code_kept")}</p> })}
                            <p class="note">{i18n.t("activities.code_printed_note")}</p>
                            <p class="note code-link"><a data-testid="door-code-link" href=code.link.clone()>{code.link.clone()}</a></p>
                        }
                        .into_any(),
                        None => offline(i18n),
                    },
                    None => offline(i18n),
                })}
            </Suspense>
        </section>
    }
}

fn offline(i18n: crate::i18n::I18n) -> AnyView {
    view! { <p class="error" role="alert" data-testid="door-code-offline">{i18n.t("activities.code_offline")}</p> }
        .into_any()
}

/// The code of this 30-second step, signed and drawn again as each step begins.
#[component]
fn RotatingCode(certificate: DoorCertificate, key: SigningKey, activity: Activity, org_name: String) -> impl IntoView {
    let i18n = use_i18n();
    let now = RwSignal::new(server_now_secs());
    if let Ok(ticking) = set_interval_with_handle(move || now.set(server_now_secs()), Duration::from_secs(1)) {
        on_cleanup(move || ticking.clear());
    }
    let step = Memo::new(move |_| now.get() / STEP_SECS * STEP_SECS);
    let expired = {
        let certificate = certificate.clone();
        move || !certificate.lasts(now.get(), 0)
    };
    let origin = window().location().origin().unwrap_or_default();
    let drawn = LocalResource::new(move || {
        let at = step.get();
        let link = certificate
            .sign_code(&key, activity.id, at, &activity.title, &org_name)
            .map(|payload| format!("{origin}{}{payload}", qr::LINK_PATH));
        async move {
            let link = link?;
            let drawing = scan::draw(&link).await?;
            Some((at, link, drawing))
        }
    });
    view! {
        {move || drawn.get().flatten().map(|(at, link, drawing)| view! {
            <div data-testid="door-code-rotating" data-at=at.to_string() data-link=link>
                <QrImage path=drawing.path modules=drawing.modules label=i18n.t("activities.code_title") />
            </div>
        })}
        <p class="note" data-testid="door-code-countdown" aria-live="off">
            {move || i18n.t_with("activities.code_changes", &[("seconds", &(STEP_SECS - now.get() % STEP_SECS).to_string())])}
        </p>
        <p class="note">{move || i18n.t("activities.code_rotating_note")}</p>
        <Show when=expired>
            <p class="error" role="alert" data-testid="door-code-expired">{move || i18n.t("activities.code_certificate_expired")}</p>
        </Show>
    }
}
