//! The township administrator's screen (`/township/:id`): where each of its members is now (流向), who is out
//! of contact (失联), and registering a member's return home. Online only, like the secretary's screen.

use guihai_core::profile::phone_digits;
use guihai_core::report::RosterEntry;
use guihai_core::roster::{Activation, SignInPhone};
use guihai_core::sync::Device;
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::{self, Answer};
use crate::clock::{format_time, now_ms};
use crate::i18n::use_i18n;
use crate::online::early::asks;
use crate::online::{fetched, id_param};
use crate::pages::devices::describe;
use crate::pages::org::{acting, attended_words, Action, Contact, DownloadSheet, MemberList};
use crate::pages::report::situation_words;
use crate::pages::roster::{ActivationCard, RosterImportForm};
use crate::pages::send_notices::SendNotices;
use crate::store::records;
use crate::toast::{confirmed, use_toast};

#[component]
pub fn TownshipPage() -> impl IntoView {
    let i18n = use_i18n();
    let township = id_param("id");
    let members = fetched::<Vec<RosterEntry>>(move || Some(asks::members(township()?)));
    let act = acting(members);
    let register_return = move |person: Id, name: String| {
        if confirmed(&i18n.t_with("township.return_confirm", &[("name", &name)])) {
            act(Action {
                path: format!("/people/{person}/return"),
                body: None,
                done: i18n.t_with("township.returned", &[("name", &name)]),
            });
        }
    };
    view! {
        <section class="card" data-testid="township-page">
            <h1>{move || i18n.t("township.title")}</h1>
            {move || township().map(|township| view! {
                <A href=format!("/township/{township}/summary") attr:class="button" attr:data-testid="township-summary-link">
                    {i18n.t("summary.open")}
                </A>
            })}
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || members.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(members) => view! {
                        <OutOfContact members=&members act />
                        <h2>{i18n.t("township.everyone")}</h2>
                        {move || township().map(|township| view! {
                            <DownloadSheet path=format!("/orgs/{township}/members.csv") filename="township-members.csv"
                                label="sheet.members" testid="members-csv" />
                        })}
                        <MemberList entries=members testid="township-members" filters=true row=move |entry| {
                                let person = entry.person_id;
                                let away = entry.current_org.is_some();
                                let page = format!("/township/{}/{person}", township().map(|t| t.to_string()).unwrap_or_default());
                                let shown_name = entry.name.clone();
                                let place = entry.current_org.as_ref().map_or_else(
                                    || situation_words(i18n, &entry.situation),
                                    |org| format!("{} · {}", org.city.clone().unwrap_or_default(), org.name),
                                );
                                view! {
                                    <li data-testid="township-member" data-name=entry.name.clone()>
                                        <span>
                                            <A href=page attr:class="tap" attr:data-testid="member-detail-link"><strong>{shown_name}</strong></A>
                                            " · "{entry.phone.clone()}
                                            <br />
                                            <span data-testid="whereabouts" data-state=entry.situation.as_str()>{place}</span>
                                            <br />
                                            <span class="note">{attended_words(i18n, &entry.attended)}</span>
                                            <br />
                                            <Contact entry=entry.clone() act />
                                        </span>
                                        <div class="row-actions">
                                            {away.then(|| view! {
                                                <button class="button" data-testid="register-return" on:click={
                                                    let name = entry.name.clone();
                                                    move |_| register_return(person, name.clone())
                                                }>
                                                    {i18n.t("township.register_return")}
                                                </button>
                                            })}
                                            <MemberPhones person profile_phone=entry.phone.clone() />
                                        </div>
                                    </li>
                                }
                                .into_any()
                            } />
                    }.into_any(),
                })}
            </Suspense>
            {move || township().map(|township| view! { <RosterImportForm township /> })}
        </section>
        {move || township().map(|org_id| view! { <SendNotices org_id /> })}
    }
}

/// The members out of contact (失联), the longest silent first, each with the way to record a contact made
/// outside the app.
#[component]
fn OutOfContact<'a>(members: &'a [RosterEntry], act: impl Fn(Action) + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let mut lost: Vec<RosterEntry> = members.iter().filter(|entry| entry.lost).cloned().collect();
    // Never heard from (`None`) sorts first.
    lost.sort_by_key(|entry| entry.last_contact);
    let now = now_ms();
    view! {
        <h2>{i18n.t_with("township.lost_title", &[("n", &lost.len().to_string())])}</h2>
        {if lost.is_empty() {
            view! { <p class="empty">{i18n.t("township.none_lost")}</p> }.into_any()
        } else {
            view! {
                <MemberList entries=lost testid="lost-members" row=move |entry| {
                    let silent = entry.last_contact.map_or_else(
                        || i18n.t("steward.never_contacted"),
                        |at| i18n.t_with("township.silent_days", &[("days", &((now - at) / DAY_MS).to_string())]),
                    );
                    view! {
                        <li data-testid="lost-member" data-name=entry.name.clone()>
                            <span>
                                <strong>{entry.name.clone()}</strong>" · "{entry.phone.clone()}
                                <br />
                                <span class="pill refused">{silent}</span>
                                <br />
                                <Contact entry=entry.clone() act />
                            </span>
                        </li>
                    }
                    .into_any()
                } />
            }.into_any()
        }}
    }
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A member's signed-in phones, for their administrator to revoke one (a member who lost their only phone), and
/// a new one-time activation code (a member who lost their phones, forgot their PIN, or is kept locked out of
/// PIN sign-in).
#[component]
fn MemberPhones(person: Id, profile_phone: Option<String>) -> impl IntoView {
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
    let toast = use_toast();
    let revoke = move |id, phone: String| {
        if !confirmed(&i18n.t_with("devices.revoke_confirm", &[("phone", &phone)])) {
            return;
        }
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            if api::revoke_device(&session.token, id, false).await {
                toast.ok(i18n.t_with("devices.revoked", &[("phone", &phone)]));
            } else {
                toast.problem(i18n.t("devices.revoke_failed"));
            }
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
                        let name = device.user_agent.as_deref().and_then(describe).unwrap_or_else(|| i18n.t("devices.unknown"));
                        view! {
                            <li data-testid="member-phone">
                                <span>
                                    {name.clone()}
                                    " · "{i18n.t_with("devices.seen", &[("time", &format_time(seen))])}
                                </span>
                                <button data-testid="member-phone-revoke" on:click=move |_| revoke(id, name.clone())>{i18n.t("devices.revoke")}</button>
                            </li>
                        }
                    }).collect_view().into_any()
                }}
            </ul>
            <SignInPhoneForm person profile_phone=profile_phone.clone() />
            <p class="note">{i18n.t("township.new_code_explain")}</p>
            <button class="button" data-testid="member-new-code" on:click=issue>{i18n.t("township.new_code")}</button>
        })}
        {move || new_code.get().map(|issued| match issued {
            Some(activation) => view! { <ActivationCard activation /> }.into_any(),
            None => view! { <p class="error" role="alert">{i18n.t("steward.failed")}</p> }.into_any(),
        })}
    }
}

/// The number the member signs in with on another phone: theirs alone, changed here when they ask (the number
/// on their profile, which they keep themselves, is offered when it differs).
#[component]
fn SignInPhoneForm(person: Id, profile_phone: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let path = move || format!("/people/{person}/sign-in-phone");
    let current = fetched::<SignInPhone>(move || Some(path()));
    let draft = RwSignal::new(String::new());
    let answer = RwSignal::new(None::<Result<(), &'static str>>);
    let save = move |number: String| {
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let body = SignInPhone { phone: Some(number) };
            answer.set(Some(match api::post(&session.token, &path(), Some(&body)).await {
                Answer::Done => Ok(()),
                Answer::Conflict => Err("township.sign_in_phone_taken"),
                Answer::Invalid => Err("township.sign_in_phone_invalid"),
                Answer::Failed => Err("steward.failed"),
            }));
            current.refetch();
        });
    };
    let input_id = format!("sign-in-phone-{person}");
    let profile_phone = StoredValue::new(profile_phone);
    view! {
        <form class="sign-in-phone" on:submit=move |ev| {
            ev.prevent_default();
            save(draft.get_untracked());
        }>
            <label for=input_id.clone()>{move || i18n.t("township.sign_in_phone")}</label>
            {move || current.get().flatten().map(|now| {
                let shown = now.phone.clone().unwrap_or_default();
                draft.set(shown.clone());
                let asked = profile_phone
                    .get_value()
                    .filter(|p| phone_digits(p) != shown && !p.is_empty());
                view! {
                    <p class="note" data-testid="sign-in-phone-now">
                        {if shown.is_empty() { i18n.t("township.sign_in_phone_none") } else { shown.clone() }}
                    </p>
                    {asked.map(|asked| view! {
                        <p class="note">
                            {i18n.t_with("township.sign_in_phone_profile", &[("phone", &asked)])}
                            " "
                            <button type="button" class="button" data-testid="sign-in-phone-use-profile"
                                on:click=move |_| save(asked.clone())>
                                {i18n.t("township.sign_in_phone_use")}
                            </button>
                        </p>
                    })}
                }
            })}
            <input id=input_id data-testid="sign-in-phone-input" type="tel"
                prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev)) />
            <button type="submit" class="button" data-testid="sign-in-phone-save">{move || i18n.t("profile.save")}</button>
            {move || answer.get().map(|answer| match answer {
                Ok(()) => view! { <p class="success" role="status" data-testid="sign-in-phone-answer">{i18n.t("township.sign_in_phone_saved")}</p> }.into_any(),
                Err(key) => view! { <p class="error" role="alert" data-testid="sign-in-phone-answer">{i18n.t(key)}</p> }.into_any(),
            })}
        </form>
    }
}
