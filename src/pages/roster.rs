//! The township administrator imports its members from a CSV file: the server checks every row and imports
//! nothing until the file is right, naming each problem by line and column; when it is, each new member's
//! one-time activation code is shown as text and as a QR code, on a sheet made for printing and handing out.

use guihai_core::roster::{Activation, Column, RosterImport};
use guihai_core::Id;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::clock::format_date;
use crate::i18n::{use_i18n, I18n};
use crate::qr_image::QrImage;
use crate::store::records;

/// The chosen file as it is (the server reads UTF-8 and the GBK of Excel in Chinese), or `None` when there is
/// none or it cannot be read.
async fn chosen_file(input: &web_sys::HtmlInputElement) -> Option<Vec<u8>> {
    let file = input.files()?.get(0)?;
    let buffer = JsFuture::from(file.array_buffer()).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

#[derive(Clone)]
enum Outcome {
    Working,
    /// No file chosen, unreadable, or the server could not be reached.
    Failed(&'static str),
    Done(RosterImport),
}

#[component]
pub fn RosterImportForm(township: Id) -> impl IntoView {
    let i18n = use_i18n();
    let file = NodeRef::<Input>::new();
    let days = RwSignal::new("14".to_owned());
    let outcome = RwSignal::new(None::<Outcome>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(input) = file.get() else { return };
        outcome.set(Some(Outcome::Working));
        spawn_local(async move {
            let Some(csv) = chosen_file(&input).await else {
                return outcome.set(Some(Outcome::Failed("roster.no_file")));
            };
            let Some(session) = records::session() else { return };
            let path = format!("/orgs/{township}/roster?days={}", days.get_untracked().trim());
            outcome.set(Some(
                match api::post_csv::<RosterImport>(&session.token, &path, csv).await {
                    Some(report) => Outcome::Done(report),
                    None => Outcome::Failed("steward.failed"),
                },
            ));
        });
    };
    view! {
        <form class="roster-import no-print" on:submit=submit data-testid="roster-import">
            <h2>{move || i18n.t("roster.title")}</h2>
            <p class="note">{move || i18n.t("roster.explain")}</p>
            <label for="roster-file">{move || i18n.t("roster.file")}</label>
            <input id="roster-file" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" node_ref=file data-testid="roster-file" />
            <label>{move || i18n.t("roster.days")}
                <input type="number" min="1" max="90" prop:value=days on:input=move |ev| days.set(event_target_value(&ev)) />
            </label>
            <button class="button primary" type="submit" data-testid="roster-submit">{move || i18n.t("roster.submit")}</button>
        </form>
        {move || outcome.get().map(|o| match o {
            Outcome::Working => view! { <p class="note">{i18n.t("steward.loading")}</p> }.into_any(),
            Outcome::Failed(key) => view! { <p class="error" role="alert">{i18n.t(key)}</p> }.into_any(),
            Outcome::Done(report) if report.problems.is_empty() => view! { <Sheet activations=report.imported /> }.into_any(),
            Outcome::Done(report) => view! {
                <div class="roster-problems" data-testid="roster-problems">
                    <p class="error" role="alert">{i18n.t_with("roster.refused", &[("n", &report.problems.len().to_string())])}</p>
                    <table>
                        <tr><th>{i18n.t("roster.line")}</th><th>{i18n.t("roster.column")}</th><th>{i18n.t("roster.problem")}</th></tr>
                        {report.problems.into_iter().map(|p| view! {
                            <tr data-testid="roster-problem" data-problem=p.problem.as_str()>
                                <td>{p.line}</td>
                                <td>{p.column.map(|written| column_name(i18n, written))}</td>
                                <td>{i18n.t(&format!("roster.problem.{}", p.problem.as_str()))}</td>
                            </tr>
                        }).collect_view()}
                    </table>
                </div>
            }.into_any(),
        })}
    }
}

/// A column in the administrator's language; an unknown one as the file wrote it.
fn column_name(i18n: I18n, written: String) -> String {
    match Column::ALL.into_iter().find(|c| c.as_str() == written) {
        Some(column) => i18n.t(&format!("roster.col.{}", column.as_str())),
        None => written,
    }
}

/// The activation codes to print: one card per new member.
#[component]
fn Sheet(activations: Vec<Activation>) -> impl IntoView {
    let i18n = use_i18n();
    let n = activations.len().to_string();
    view! {
        <div class="activation-sheet" data-testid="activation-sheet">
            <p class="success no-print">{i18n.t_with("roster.imported", &[("n", &n)])}</p>
            <button class="button no-print" on:click=move |_| { let _ = window().print(); }>{i18n.t("roster.print")}</button>
            {activations.into_iter().map(|activation| view! { <ActivationCard activation /> }).collect_view()}
        </div>
    }
}

/// One member's activation code to print or show: the QR code of its sign-in link, the code as text, until when.
#[component]
pub fn ActivationCard(activation: Activation) -> impl IntoView {
    let i18n = use_i18n();
    let a = activation;
    view! {
        <div class="activation" data-testid="activation" data-code=a.code.clone()>
            <QrImage path=a.qr_path.clone() modules=a.modules label=a.code.clone() />
            <div>
                <strong>{a.name.clone()}</strong>
                <br />{a.certificate_no.clone()}
                <br /><span class="code">{a.code.clone()}</span>
                <br /><span class="note">{i18n.t_with("roster.expires", &[("date", &format_date(a.expires_at))])}</span>
                <br /><span class="note">{i18n.t("roster.how")}</span>
            </div>
        </div>
    }
}
