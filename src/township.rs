//! The township administrator's screen (`/township/:id`): where each of its members is now (流向), who is out
//! of contact (失联), and registering a member's return home. Online only, like the secretary's screen.

use guihai_core::report::RosterEntry;
use guihai_core::roster::Activation;
use guihai_core::sync::Device;
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Answer};
use crate::clock::format_time;
use crate::devices::describe;
use crate::i18n::use_i18n;
use crate::online::{fetched, id_param};
use crate::org::{attended_words, Contact};
use crate::roster::{ActivationCard, RosterImportForm};
use crate::store::records;

#[component]
pub fn TownshipPage() -> impl IntoView {
    let i18n = use_i18n();
    let township = id_param("id");
    let members = fetched::<Vec<RosterEntry>>(move || Some(format!("/orgs/{}/members", township()?)));
    let answer = RwSignal::new(None::<Answer>);
    let register_return = move |person: Id| {
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let path = format!("/people/{person}/return");
            answer.set(Some(api::post(&session.token, &path, None::<&()>).await));
            members.refetch();
        });
    };
    view! {
        <section class="card" data-testid="township-page">
            <h1>{move || i18n.t("township.title")}</h1>
            {move || township().map(|township| view! { <RosterImportForm township /> })}
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || members.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(members) => view! {
                        <ul class="queue roster no-print" data-testid="township-members">
                            {members.into_iter().map(|entry| {
                                let person = entry.person_id;
                                let away = entry.current_org.is_some();
                                let place = entry.current_org.as_ref().map_or_else(
                                    || i18n.t("township.at_home"),
                                    |org| format!("{} · {}", org.city.clone().unwrap_or_default(), org.name),
                                );
                                view! {
                                    <li data-testid="township-member" data-name=entry.name.clone()>
                                        <span>
                                            <strong>{entry.name.clone()}</strong>" · "{entry.phone.clone()}
                                            <br />
                                            <span data-testid="whereabouts">{place}</span>
                                            <br />
                                            <span class="note">{attended_words(i18n, &entry.attended)}</span>
                                            <br />
                                            <Contact entry=entry.clone() />
                                        </span>
                                        <div class="row-actions">
                                            {away.then(|| view! {
                                                <button class="button" data-testid="register-return" on:click=move |_| register_return(person)>
                                                    {i18n.t("township.register_return")}
                                                </button>
                                            })}
                                            <MemberPhones person />
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
            {move || answer.get().map(|a| view! {
                <p class=if a == Answer::Done { "success" } else { "error" } role="status" data-testid="steward-answer">
                    {i18n.t(if a == Answer::Done { "township.returned" } else { "steward.failed" })}
                </p>
            })}
        </section>
    }
}

/// A member's signed-in phones, for their administrator to revoke one (a member who lost their only phone), and
/// a new one-time activation code (a member who lost their phones, forgot their PIN, or is kept locked out of
/// PIN sign-in).
#[component]
fn MemberPhones(person: Id) -> impl IntoView {
    let i18n = use_i18n();
    let shown = RwSignal::new(false);
    let phones = fetched::<Vec<Device>>(move || shown.get().then(|| format!("/people/{person}/devices")));
    let new_code = RwSignal::new(None::<Option<Activation>>);
    let issue = move |_| {
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let path = format!("/people/{person}/activation");
            new_code.set(Some(api::post_json::<Activation>(&session.token, &path, &()).await));
        });
    };
    let revoke = move |id| {
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            api::revoke_device(&session.token, id, false).await;
            phones.refetch();
        });
    };
    view! {
        <button class="button" data-testid="member-phones" on:click=move |_| shown.update(|s| *s = !*s)>
            {move || i18n.t("township.phones")}
        </button>
        {move || phones.get().flatten().map(|list| view! {
            <ul class="queue" data-testid="member-phone-list">
                {if list.is_empty() {
                    view! { <li>{i18n.t("township.no_phones")}</li> }.into_any()
                } else {
                    list.into_iter().map(|device| {
                        let id = device.id;
                        let seen = device.last_seen_at.unwrap_or(device.signed_in_at);
                        view! {
                            <li data-testid="member-phone">
                                <span>
                                    {device.user_agent.as_deref().and_then(describe).unwrap_or_else(|| i18n.t("devices.unknown"))}
                                    " · "{i18n.t_with("devices.seen", &[("time", &format_time(seen))])}
                                </span>
                                <button data-testid="member-phone-revoke" on:click=move |_| revoke(id)>{i18n.t("devices.revoke")}</button>
                            </li>
                        }
                    }).collect_view().into_any()
                }}
            </ul>
            <p class="note">{i18n.t("township.new_code_explain")}</p>
            <button class="button" data-testid="member-new-code" on:click=issue>{i18n.t("township.new_code")}</button>
        })}
        {move || new_code.get().map(|issued| match issued {
            Some(activation) => view! { <ActivationCard activation /> }.into_any(),
            None => view! { <p class="error" role="alert">{i18n.t("steward.failed")}</p> }.into_any(),
        })}
    }
}
