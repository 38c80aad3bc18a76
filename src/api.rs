//! Calls to the Guihai server. reqwest in the browser takes no relative URLs, so every URL is built from the
//! page's origin.

use guihai_core::engine::Reply;
use guihai_core::sync::{PullResponse, PushRequest, PushResponse, SessionRequest, SessionResponse};
use guihai_core::Id;
use serde::de::DeserializeOwned;

fn url(path: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}/api/v1{path}")
}

/// Why a sign-in did not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInError {
    BadCode,
    Offline,
    Failed,
}

pub async fn sign_in(activation_code: &str, client_id: Id) -> Result<SessionResponse, SignInError> {
    let body = SessionRequest {
        activation_code: activation_code.trim().to_owned(),
        client_id,
    };
    let response = reqwest::Client::new()
        .post(url("/session"))
        .json(&body)
        .send()
        .await
        .map_err(|_| SignInError::Offline)?;
    match response.status().as_u16() {
        200 => response.json().await.map_err(|_| SignInError::Failed),
        401 => Err(SignInError::BadCode),
        _ => Err(SignInError::Failed),
    }
}

/// Ends the session on the server. Best effort: signing out works offline too, the token is then forgotten on
/// the phone and can still be revoked from the member's device list.
pub async fn sign_out(token: &str) {
    let _ = reqwest::Client::new()
        .delete(url("/session"))
        .bearer_auth(token)
        .send()
        .await;
}

async fn reply<T: DeserializeOwned>(sent: Result<reqwest::Response, reqwest::Error>) -> Reply<T> {
    let Ok(response) = sent else { return Reply::Failed };
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(body) => Reply::from_http(status, &body),
        Err(_) => Reply::Failed,
    }
}

pub async fn push(token: &str, request: &PushRequest) -> Reply<PushResponse> {
    reply(
        reqwest::Client::new()
            .post(url("/sync/push"))
            .bearer_auth(token)
            .json(request)
            .send()
            .await,
    )
    .await
}

pub async fn pull(token: &str, client_id: Id, cursor: u64) -> Reply<PullResponse> {
    let request = reqwest::Client::new()
        .get(url(&format!("/sync/pull?cursor={cursor}")))
        .bearer_auth(token)
        .header("X-Client-Id", client_id.to_string());
    reply(request.send().await).await
}
