//! The answer to a tap, where the eye is: a bar fixed to the bottom of the screen, in view however far the page
//! was scrolled, that stays until the person closes it or the next answer replaces it. Pages say what happened
//! in words that name the person or thing acted on; a problem says what to do. And the question asked before a
//! step that cannot be undone.

use leptos::prelude::*;

#[cfg(feature = "staff")]
use crate::api::Answer;
use crate::i18n::use_i18n;

/// What the bar shows: whether it went well, and the words.
#[derive(Clone, PartialEq)]
struct Said {
    ok: bool,
    text: String,
}

/// The app's one answer bar (in context).
#[derive(Clone, Copy)]
pub struct Toast(RwSignal<Option<Said>>);

impl Toast {
    pub fn ok(&self, text: String) {
        self.0.set(Some(Said { ok: true, text }));
    }

    pub fn problem(&self, text: String) {
        self.0.set(Some(Said { ok: false, text }));
    }
}

pub fn provide_toast() {
    provide_context(Toast(RwSignal::new(None)));
}

pub fn use_toast() -> Toast {
    expect_context()
}

#[component]
pub fn ToastBar() -> impl IntoView {
    let i18n = use_i18n();
    let Toast(said) = use_toast();
    move || {
        said.get().map(|Said { ok, text }| {
            view! {
                <div class=if ok { "toast ok" } else { "toast problem" } role=if ok { "status" } else { "alert" }
                    data-testid="toast" data-ok=ok.to_string()>
                    <span>{text}</span>
                    <button type="button" class="toast-close" data-testid="toast-close"
                        aria-label=move || i18n.t("toast.close") on:click=move |_| said.set(None)>"✕"</button>
                </div>
            }
        })
    }
}

/// A problem's translation key (what to do about it).
#[cfg(feature = "staff")]
fn problem_key(answer: Answer) -> &'static str {
    match answer {
        Answer::Done => "steward.done",
        Answer::Invalid => "steward.invalid",
        Answer::Conflict => "steward.conflict",
        Answer::Failed => "steward.failed",
    }
}

/// Says how an action went in the answer bar: `done` (words naming who or what) when it went through.
#[cfg(feature = "staff")]
pub fn tell(toast: Toast, i18n: crate::i18n::I18n, answer: Answer, done: String) {
    match answer {
        Answer::Done => toast.ok(done),
        problem => toast.problem(i18n.t(problem_key(problem))),
    }
}

/// Asks before a step that cannot be undone, saying what it will do; `true` once the person agreed.
pub fn confirmed(question: &str) -> bool {
    window().confirm_with_message(question).unwrap_or(false)
}
