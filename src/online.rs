//! What the online-only screens (a secretary's, a township's, a county's) share: the id in the address, and the
//! server's answer asked with the signed-in session. These are the server's records of other people, never kept
//! on the phone.

use guihai_core::Id;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[cfg(feature = "staff")]
pub mod early;

/// The id in the route's parameter `name`, when it is one.
pub fn id_param(name: &'static str) -> impl Fn() -> Option<Id> + Copy + 'static {
    let params = use_params_map();
    move || params.read().get(name).and_then(|id| Id::parse(&id).ok())
}

/// `GET` of `path()` with the session, again whenever it changes; `None` offline, signed out, or refused. The
/// first answer may have been asked before the screen was built (`early`).
#[cfg(feature = "staff")]
pub fn fetched<T: serde::de::DeserializeOwned + 'static>(
    path: impl Fn() -> Option<String> + Copy + 'static,
) -> LocalResource<Option<T>> {
    LocalResource::new(move || async move {
        let path = path()?;
        let token = crate::store::records::session()?.token;
        if let Some(early) = early::take(&path, &token).await {
            return serde_json::from_slice(&early?).ok();
        }
        crate::api::get_json::<T>(&token, &path).await
    })
}
