//! A staff screen's first requests, asked from its address as soon as the store is open, before the app mounts
//! and builds the screen: on a slow phone that is a tenth of a second and more in which the request is already
//! on its way. Each answer is taken by the screen's first `fetched` of its path, and by nothing else.

use std::cell::RefCell;
use std::rc::Rc;

use guihai_core::Id;
use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::api;

/// What the staff screens ask the server for, each named once: for the screen and for `ask`.
pub mod asks {
    use guihai_core::Id;

    pub fn members(org: Id) -> String {
        format!("/orgs/{org}/members")
    }
    pub fn notices(org: Id) -> String {
        format!("/orgs/{org}/notices")
    }
    pub fn flow(org: Id) -> String {
        format!("/orgs/{org}/flow")
    }
    pub fn tree(county: Id) -> String {
        format!("/orgs/{county}/tree")
    }
    pub fn overview(org: Id) -> String {
        format!("/orgs/{org}/overview")
    }
    pub fn person(person: Id) -> String {
        format!("/people/{person}")
    }
}

/// The requests the screen at `address` makes as it is built (the routes are `app::StaffRoutes`').
fn first_asked(address: &str) -> Vec<String> {
    let segments: Vec<&str> = address.split('/').filter(|s| !s.is_empty()).collect();
    let id = |segment: &str| Id::parse(segment).ok();
    let asked = match segments.as_slice() {
        ["township", org] => id(org).map(|org| vec![asks::members(org), asks::notices(org)]),
        ["township", org, "summary"] => id(org).map(|org| vec![asks::members(org), asks::flow(org)]),
        ["township", _, person] => id(person).map(|person| vec![asks::person(person)]),
        ["county", org] => id(org).map(|org| vec![asks::tree(org), asks::notices(org)]),
        ["org", org] => id(org).map(|org| vec![asks::overview(org), asks::notices(org)]),
        _ => None,
    };
    asked.unwrap_or_default()
}

/// An answer asked early with the session `token`: `answered` resolves once `body` holds it.
struct Early {
    path: String,
    token: String,
    answered: Promise,
    body: Rc<RefCell<Option<Vec<u8>>>>,
}

thread_local! {
    static EARLY: RefCell<Vec<Early>> = const { RefCell::new(Vec::new()) };
}

/// Sends the requests of the screen at `address` with `token`, to be taken by the screen (`take`); returns once
/// they have left.
pub async fn ask(address: &str, token: &str) {
    let paths = first_asked(address);
    if paths.is_empty() {
        return;
    }
    for path in paths {
        let body = Rc::new(RefCell::new(None));
        // A promise drives its future by itself, where a Rust future would wait for the screen to poll it.
        let answered = future_to_promise({
            let (body, token, path) = (body.clone(), token.to_owned(), path.clone());
            async move {
                *body.borrow_mut() = api::get_body(&token, &path).await;
                Ok(JsValue::UNDEFINED)
            }
        });
        let token = token.to_owned();
        EARLY.with(|early| {
            early.borrow_mut().push(Early {
                path,
                token,
                answered,
                body,
            })
        });
    }
    // Each request leaves when its future first runs, once this one yields: before the app mounts, which holds
    // the main thread for tens of milliseconds on a slow phone.
    let _ = JsFuture::from(Promise::resolve(&JsValue::UNDEFINED)).await;
}

/// The answer to `path` asked early for the session `token`, once it has come (`Some(None)`: the server could
/// not be asked or said no); `None` when it was not asked early for this session, or was taken before.
pub async fn take(path: &str, token: &str) -> Option<Option<Vec<u8>>> {
    let early = EARLY.with(|early| {
        let mut early = early.borrow_mut();
        let at = early.iter().position(|e| e.path == path && e.token == token)?;
        Some(early.swap_remove(at))
    })?;
    // The promise's future never fails.
    let _ = JsFuture::from(early.answered).await;
    Some(early.body.take())
}
