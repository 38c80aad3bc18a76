//! The county's tree managed from its screen (core's `tree`): setting up a host organisation with its secretary,
//! changing an organisation's name and details, appointing a host organisation's secretary, and closing a host organisation with its members moved to
//! another. Online, each answered in the answer bar; the tree reloads after each.

use guihai_core::domain::OrgKind;
use guihai_core::report::OrgSummary;
use guihai_core::tree::{Appoint, CloseOrg, NewOrg, OrgDetails, MAX_DETAIL_CHARS};
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Answer};
use crate::i18n::{use_i18n, I18n};
use crate::store::records;
use crate::toast::{confirmed, use_toast, Toast};

/// The host organisations the county may set up.
const HOST_KINDS: [OrgKind; 4] = [
    OrgKind::ContactPoint,
    OrgKind::Branch,
    OrgKind::GeneralBranch,
    OrgKind::MobileCommittee,
];

/// An organisation another one may name (a parent, where members move to).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub id: Id,
    pub name: String,
}

impl Choice {
    pub fn of(summary: &OrgSummary) -> Choice {
        Choice {
            id: summary.org.id,
            name: summary.org.name.clone(),
        }
    }
}

/// Posts `body` to `path`, says how it went (`invalid` names what the server refused), then calls `after`.
fn send(
    toast: Toast,
    i18n: I18n,
    path: String,
    body: impl serde::Serialize + 'static,
    (done, invalid): (String, &'static str),
    after: impl FnOnce(Answer) + 'static,
) {
    spawn_local(async move {
        let Some(session) = records::session() else { return };
        let answer = api::post(&session.token, &path, Some(&body)).await;
        match answer {
            Answer::Done => toast.ok(done),
            Answer::Invalid => toast.problem(i18n.t(invalid)),
            Answer::Conflict => toast.problem(i18n.t("tree.conflict")),
            Answer::Failed => toast.problem(i18n.t("steward.failed")),
        }
        after(answer);
    });
}

/// A text field of an organisation's details.
#[component]
fn Field(
    label: &'static str,
    value: RwSignal<String>,
    testid: String,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <label>
            {move || i18n.t(label)}
            <input data-testid=testid required=required maxlength=MAX_DETAIL_CHARS.to_string() prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

/// The four details, as signals a form edits.
#[derive(Clone, Copy)]
struct DetailFields {
    name: RwSignal<String>,
    city: RwSignal<String>,
    address: RwSignal<String>,
    contact: RwSignal<String>,
}

impl DetailFields {
    fn new(details: OrgDetails) -> DetailFields {
        DetailFields {
            name: RwSignal::new(details.name),
            city: RwSignal::new(details.city.unwrap_or_default()),
            address: RwSignal::new(details.address.unwrap_or_default()),
            contact: RwSignal::new(details.contact.unwrap_or_default()),
        }
    }

    fn read(self) -> OrgDetails {
        let optional = |value: RwSignal<String>| Some(value.get_untracked()).filter(|v| !v.trim().is_empty());
        OrgDetails {
            name: self.name.get_untracked(),
            city: optional(self.city),
            address: optional(self.address),
            contact: optional(self.contact),
        }
    }

    /// The inputs; a host organisation's city is required, a township has none.
    fn view(self, host: bool, prefix: &'static str) -> impl IntoView {
        let id = move |field: &str| format!("tree-{prefix}-{field}");
        view! {
            <Field label="tree.name" value=self.name testid=id("name") required=true />
            {host.then(|| view! {
                <Field label="tree.city" value=self.city testid=id("city") required=true />
                <Field label="tree.address" value=self.address testid=id("address") />
                <Field label="tree.contact" value=self.contact testid=id("contact") />
            })}
        }
    }
}

/// Setting up a host organisation in the county, under another one or directly under the county.
#[component]
pub fn AddOrg(county: Id, hosts: Vec<Choice>, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let toast = use_toast();
    let open = RwSignal::new(false);
    let kind = RwSignal::new(OrgKind::ContactPoint);
    let parent = RwSignal::new(None::<Id>);
    let secretary = RwSignal::new(String::new());
    let fields = DetailFields::new(OrgDetails {
        name: String::new(),
        city: None,
        address: None,
        contact: None,
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = NewOrg {
            kind: kind.get_untracked(),
            parent_id: parent.get_untracked(),
            details: fields.read(),
            secretary_phone: Some(secretary.get_untracked()),
        };
        let done = i18n.t_with("tree.added", &[("name", new.details.name.trim())]);
        send(
            toast,
            i18n,
            format!("/orgs/{county}/tree"),
            new,
            (done, "tree.add_invalid"),
            move |answer| {
                if answer == Answer::Done {
                    for field in [fields.name, fields.city, fields.address, fields.contact, secretary] {
                        field.set(String::new());
                    }
                    open.set(false);
                    reload();
                }
            },
        );
    };
    view! {
        <details class="tree-add" data-testid="tree-add" prop:open=open
            on:toggle=move |ev| open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
            <summary>{move || i18n.t("tree.add")}</summary>
            <form on:submit=submit>
                <label>
                    {move || i18n.t("tree.kind")}
                    <select data-testid="tree-new-kind" on:change=move |ev| {
                        if let Some(chosen) = OrgKind::parse(&event_target_value(&ev)) {
                            kind.set(chosen);
                        }
                    }>
                        {HOST_KINDS.map(|option| view! {
                            <option value=option.as_str() selected=option == OrgKind::ContactPoint>
                                {move || i18n.t(&format!("org_kind.{}", option.as_str()))}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                {fields.view(true, "new")}
                <label>
                    {move || i18n.t("tree.parent")}
                    <select data-testid="tree-new-parent" on:change=move |ev| {
                        parent.set(Id::parse(&event_target_value(&ev)).ok());
                    }>
                        <option value="" selected=true>{move || i18n.t("tree.parent_none")}</option>
                        {hosts.into_iter().map(|host| view! {
                            <option value=host.id.to_string()>{host.name}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    {move || i18n.t("tree.secretary_phone")}
                    <input type="tel" inputmode="numeric" data-testid="tree-new-secretary" prop:value=secretary
                        placeholder=move || i18n.t("tree.secretary_hint")
                        on:input=move |ev| secretary.set(event_target_value(&ev)) />
                </label>
                <button type="submit" class="primary" data-testid="tree-new-submit">{move || i18n.t("tree.add_submit")}</button>
            </form>
        </details>
    }
}

/// Changing an organisation's details and, for a host organisation, closing it with its members moved to one of
/// `others`. Built when opened: the county's list holds a summary line for each organisation, no more.
#[component]
pub fn ManageOrg(
    summary: OrgSummary,
    others: Vec<Choice>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let forms = move || {
        open.get()
            .then(|| manage_forms(i18n, summary.clone(), others.clone(), reload))
    };
    view! {
        // Open as the signal says: a reloaded tree reuses the list's elements, and must not show another
        // organisation's forms open, or an empty one.
        <details class="tree-manage" data-testid="tree-manage" prop:open=open
            on:toggle=move |ev| open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
            <summary>{move || i18n.t("tree.manage")}</summary>
            {forms}
        </details>
    }
}

fn manage_forms(
    i18n: I18n,
    summary: OrgSummary,
    others: Vec<Choice>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let toast = use_toast();
    let org = summary.org;
    let host = org.kind.is_host_side();
    let fields = DetailFields::new(OrgDetails {
        name: org.name.clone(),
        city: org.city.clone(),
        address: summary.address,
        contact: summary.contact,
    });
    let id = org.id;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let details = fields.read();
        let done = i18n.t_with("tree.saved", &[("name", details.name.trim())]);
        send(
            toast,
            i18n,
            format!("/orgs/{id}/details"),
            details,
            (done, "tree.details_invalid"),
            move |_| reload(),
        );
    };
    let edit = view! {
        <form on:submit=save>
            {fields.view(host, "edit")}
            <button type="submit" class="primary" data-testid="tree-edit-submit">{move || i18n.t("tree.save")}</button>
        </form>
    };
    let appoint = host.then(|| {
        let phone = RwSignal::new(String::new());
        let name = org.name.clone();
        let submit = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let appoint = Appoint {
                phone: phone.get_untracked(),
            };
            let done = i18n.t_with("tree.appointed", &[("phone", appoint.phone.trim()), ("name", &name)]);
            send(
                toast,
                i18n,
                format!("/orgs/{id}/secretary"),
                appoint,
                (done, "tree.appoint_invalid"),
                move |answer| {
                    if answer == Answer::Done {
                        phone.set(String::new());
                    }
                },
            );
        };
        view! {
            <form on:submit=submit>
                <label>
                    {move || i18n.t("tree.appoint")}
                    <input type="tel" inputmode="numeric" required data-testid="tree-appoint-phone" prop:value=phone
                        on:input=move |ev| phone.set(event_target_value(&ev)) />
                </label>
                <button type="submit" data-testid="tree-appoint-submit">{move || i18n.t("tree.appoint_submit")}</button>
            </form>
        }
    });
    let close = host.then(|| {
        let move_to = RwSignal::new(others.first().map(|o| o.id));
        let (name, members) = (org.name.clone(), summary.members);
        let names = others.clone();
        let submit = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let Some(to) = move_to.get_untracked() else { return };
            let to_name = names
                .iter()
                .find(|o| o.id == to)
                .map(|o| o.name.clone())
                .unwrap_or_default();
            let words = [
                ("name", name.as_str()),
                ("to", to_name.as_str()),
                ("n", &members.to_string()),
            ];
            if !confirmed(&i18n.t_with("tree.close_question", &words)) {
                return;
            }
            let done = i18n.t_with("tree.closed", &words);
            send(
                toast,
                i18n,
                format!("/orgs/{id}/close"),
                CloseOrg { move_to: to },
                (done, "tree.close_invalid"),
                move |_| reload(),
            );
        };
        view! {
            <form on:submit=submit class="tree-close">
                <label>
                    {move || i18n.t("tree.move_to")}
                    <select data-testid="tree-move-to" required on:change=move |ev| {
                        move_to.set(Id::parse(&event_target_value(&ev)).ok());
                    }>
                        {others.into_iter().enumerate().map(|(n, other)| view! {
                            <option value=other.id.to_string() selected=n == 0>{other.name}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" data-testid="tree-close-submit">{move || i18n.t("tree.close")}</button>
            </form>
        }
    });
    view! { {edit} {appoint} {close} }
}
