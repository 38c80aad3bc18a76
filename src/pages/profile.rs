//! The member's profile: what the organisation keeps (read only) and what the member keeps up to date
//! themselves (phone, city, employer, …), editable offline. An edit is queued like any other write; the screen
//! shows it at once, and when another phone changed the same field, it shows both values and lets the member
//! choose.

use std::collections::BTreeMap;

use guihai_core::profile::{self, Conflict, Edit, Field, FieldError, Profile};
use guihai_core::sync::Op;
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Redirect, A};

use crate::clock::now_ms;
use crate::i18n::{use_i18n, I18n};
use crate::store::{cache, outbox, records, StoreError};
use crate::sync::{use_sync, SyncService};

/// The profile edits still waiting in the outbox, in the order they were made.
fn waiting_edits() -> Vec<Edit> {
    cache::with(|c| {
        c.others
            .iter()
            .filter_map(|other| match &other.queued.op {
                Op::EditProfile(edit) => Some(edit.clone()),
                _ => None,
            })
            .collect()
    })
}

/// What the member sees, and which fields still wait to sync.
#[derive(Clone, PartialEq)]
struct Shown {
    profile: Profile,
    waiting: Vec<Field>,
}

fn shown() -> Shown {
    let waiting = waiting_edits();
    Shown {
        profile: profile::overlay(&records::profile(), &waiting),
        waiting: waiting.iter().flat_map(|e| e.fields.keys().copied()).collect(),
    }
}

/// Queues the changed fields as one edit based on the pulled version; `done` hears whether it was kept.
fn save(sync: SyncService, fields: BTreeMap<Field, String>, done: impl FnOnce(Result<(), StoreError>) + 'static) {
    let edit = Edit {
        base_version: records::profile().version,
        fields,
    };
    spawn_local(async move {
        let saved = outbox::enqueue_op(Op::EditProfile(edit), now_ms(), None).await;
        if saved.is_ok() {
            sync.local_write();
        }
        done(saved);
    });
}

fn label(i18n: I18n, field: Field) -> String {
    i18n.t(&format!("profile.field.{}", field.as_str()))
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let me = sync.watch(records::me);
    let shown = Memo::new(move |_| sync.watch(shown)());
    let editing = RwSignal::new(false);
    let problem = RwSignal::new(None::<&'static str>);

    move || {
        let Some(me) = me() else {
            return view! { <Redirect path="/signin" /> }.into_any();
        };
        view! {
            <section class="card" data-testid="profile">
                <h1>{i18n.t("profile.title")}</h1>
                <dl>
                    <dt>{i18n.t("profile.name")}</dt>
                    <dd>{me.name.clone()}</dd>
                    <dt>{i18n.t("home.home_org")}</dt>
                    <dd>{me.home_org.name.clone()}</dd>
                    <dt>{i18n.t("home.certificate_no")}</dt>
                    <dd>{me.certificate_no.clone().unwrap_or_default()}</dd>
                </dl>
                <p class="note">{i18n.t("profile.org_owned")}</p>
                <nav class="actions">
                    <A href="/devices" attr:class="button" attr:data-testid="nav-devices">{i18n.t("devices.title")}</A>
                    <A href="/pin" attr:class="button" attr:data-testid="nav-pin">{i18n.t("pin.change")}</A>
                </nav>
            </section>
            <Conflicts shown problem />
            {move || problem.get().map(|key| view! { <p class="error" role="alert">{i18n.t(key)}</p> })}
            {move || if editing.get() {
                view! { <ProfileForm shown editing problem /> }.into_any()
            } else {
                view! { <ProfileView shown editing /> }.into_any()
            }}
        }
        .into_any()
    }
}

#[component]
fn ProfileView(shown: Memo<Shown>, editing: RwSignal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card">
            <h2>{move || i18n.t("profile.mine")}</h2>
            <dl>
                {move || {
                    let Shown { profile, waiting } = shown.get();
                    Field::ALL
                        .into_iter()
                        .map(|field| {
                            let value = profile.value(field).to_owned();
                            let waits = waiting.contains(&field);
                            view! {
                                <dt>{label(i18n, field)}</dt>
                                <dd data-testid=format!("profile-{}", field.as_str())>
                                    {if value.is_empty() { i18n.t("profile.unset") } else { value }}
                                    {waits.then(|| view! { <span class="pill waiting">{i18n.t("checkins.state.waiting")}</span> })}
                                </dd>
                            }
                        })
                        .collect_view()
                }}
            </dl>
            <button class="button primary" data-testid="profile-edit" on:click=move |_| editing.set(true)>
                {move || i18n.t("profile.edit")}
            </button>
        </section>
    }
}

#[component]
fn ProfileForm(shown: Memo<Shown>, editing: RwSignal<bool>, problem: RwSignal<Option<&'static str>>) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    // The form starts from what is shown now and is not reset by a sync while the member types.
    let start = shown.get_untracked().profile;
    let drafts: Vec<(Field, RwSignal<String>)> = Field::ALL
        .into_iter()
        .map(|field| (field, RwSignal::new(start.value(field).to_owned())))
        .collect();
    let errors = RwSignal::new(BTreeMap::<Field, FieldError>::new());
    // A second submit while the first is being kept would queue the edit twice.
    let saving = RwSignal::new(false);

    let submit = {
        let drafts = drafts.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if saving.get_untracked() {
                return;
            }
            let now = shown.get_untracked().profile;
            let mut changed = BTreeMap::new();
            let mut invalid = BTreeMap::new();
            for (field, draft) in &drafts {
                match profile::normalise(*field, &draft.get_untracked()) {
                    Ok(value) if value != now.value(*field) => {
                        changed.insert(*field, value);
                    }
                    Ok(_) => {}
                    Err(error) => {
                        invalid.insert(*field, error);
                    }
                }
            }
            let is_invalid = !invalid.is_empty();
            errors.set(invalid);
            if is_invalid {
                return;
            }
            let done = move |saved: Result<(), StoreError>| {
                saving.set(false);
                match saved {
                    Ok(()) => {
                        problem.set(None);
                        editing.set(false);
                    }
                    Err(error) => problem.set(Some(error.message_key())),
                }
            };
            if changed.is_empty() {
                done(Ok(()));
            } else {
                saving.set(true);
                save(sync, changed, done);
            }
        }
    };

    view! {
        <section class="card">
            <form class="profile-form" on:submit=submit>
                {drafts
                    .into_iter()
                    .map(|(field, draft)| {
                        let id = format!("profile-input-{}", field.as_str());
                        let kind = if field == Field::Phone { "tel" } else { "text" };
                        view! {
                            <label for=id.clone()>{move || label(i18n, field)}</label>
                            <input
                                id=id.clone()
                                data-testid=id
                                type=kind
                                prop:value=draft
                                on:input=move |ev| draft.set(event_target_value(&ev))
                            />
                            {(field == Field::Phone).then(|| view! {
                                <p class="note">{move || i18n.t("profile.phone_sign_in_note")}</p>
                            })}
                            {move || errors.with(|e| e.get(&field).copied()).map(|error| view! {
                                <p class="error" role="alert">{i18n.t(&format!("profile.error.{}", error.as_str()))}</p>
                            })}
                        }
                    })
                    .collect_view()}
                <button type="submit" class="primary" data-testid="profile-save">{move || i18n.t("profile.save")}</button>
                <button type="button" on:click=move |_| editing.set(false)>{move || i18n.t("profile.cancel")}</button>
            </form>
        </section>
    }
}

/// Fields changed on two phones at once: both values, and the member's choice.
#[component]
fn Conflicts(shown: Memo<Shown>, problem: RwSignal<Option<&'static str>>) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let choose = move |conflict: &Conflict, value: &str| {
        let fields = BTreeMap::from([(conflict.field, value.to_owned())]);
        save(sync, fields, move |saved| {
            problem.set(saved.err().map(StoreError::message_key))
        });
    };
    move || {
        let conflicts = shown.get().profile.conflicts;
        (!conflicts.is_empty()).then(|| {
            view! {
                <section class="card problem" data-testid="profile-conflicts">
                    <h2>{i18n.t("profile.conflict_title")}</h2>
                    <p class="note">{i18n.t("profile.conflict_note")}</p>
                    {conflicts
                        .into_iter()
                        .map(|conflict| {
                            let (kept, theirs) = (conflict.kept.clone(), conflict.theirs.clone());
                            let (kept_from, theirs_from) = (source(i18n, conflict.kept_by), source(i18n, conflict.theirs_by));
                            let keep = conflict.clone();
                            let field = conflict.field;
                            view! {
                                <div class="conflict" data-testid=format!("conflict-{}", field.as_str())>
                                    <h3>{label(i18n, field)}</h3>
                                    <button data-testid="conflict-keep" on:click=move |_| choose(&keep, &keep.kept)>
                                        {i18n.t_with("profile.conflict_use", &[("value", &kept), ("from", &kept_from)])}
                                    </button>
                                    <button data-testid="conflict-theirs" on:click=move |_| choose(&conflict, &conflict.theirs)>
                                        {i18n.t_with("profile.conflict_use", &[("value", &theirs), ("from", &theirs_from)])}
                                    </button>
                                </div>
                            }
                        })
                        .collect_view()}
                </section>
            }
        })
    }
}

/// Where a value in a conflict came from, as the member knows their phones: this one, another, or the
/// organisation's records.
fn source(i18n: I18n, by: Option<Id>) -> String {
    let this_phone = records::session().map(|session| session.client_id);
    i18n.t(match by {
        None => "profile.from_org",
        Some(phone) if Some(phone) == this_phone => "profile.from_this_phone",
        Some(_) => "profile.from_other_phone",
    })
}
