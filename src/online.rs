//! What the online-only screens (a secretary's, a township's, a county's) share: the id in the address, and the
//! server's answer asked with the signed-in session. These are the server's records of other people, never kept
//! on the phone.

use guihai_core::Id;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The id in the route's parameter `name`, when it is one.
pub fn id_param(name: &'static str) -> impl Fn() -> Option<Id> + Copy + 'static {
    let params = use_params_map();
    move || params.read().get(name).and_then(|id| Id::parse(&id).ok())
}

/// `GET` of `path()` with the session, again whenever it changes; `None` offline, signed out, or refused.
#[cfg(feature = "staff")]
pub fn fetched<T: serde::de::DeserializeOwned + 'static>(
    path: impl Fn() -> Option<String> + Copy + 'static,
) -> LocalResource<Option<T>> {
    LocalResource::new(move || async move {
        let token = crate::store::records::session()?.token;
        crate::api::get_json::<T>(&token, &path()?).await
    })
}
