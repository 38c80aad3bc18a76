//! Calls to the Guihai server. reqwest in the browser takes no relative URLs, so every URL is built from the
//! page's origin. Every request has a deadline (reqwest aborts it with the browser's AbortController): a
//! connection that stalls must never hold the sync lock, or a screen, forever.

use std::time::Duration;

use guihai_core::engine::Reply;
use guihai_core::sync::{
    ErrorBody, PinSignIn, PullResponse, PushRequest, PushResponse, SessionRequest, SessionResponse, SetPin,
};
use guihai_core::Id;
use reqwest::Method;
use serde::de::DeserializeOwned;

/// How long a request may take, from sending it to the end of its answer.
const DEADLINE: Duration = Duration::from_secs(15);
/// A push may take longer by the time its body takes on a poor uplink (64 kbit/s, 8 KB a second): a full push
/// of codes on a slow phone is not given up for being big.
const UPLINK_BYTES_PER_SECOND: u64 = 8_000;

fn push_deadline(body_bytes: usize) -> Duration {
    DEADLINE + Duration::from_millis(body_bytes as u64 * 1000 / UPLINK_BYTES_PER_SECOND)
}

/// A request to `path` on the page's origin, with the deadline every request has.
fn request(method: Method, path: &str) -> reqwest::RequestBuilder {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    reqwest::Client::new()
        .request(method, format!("{origin}{path}"))
        .timeout(DEADLINE)
}

/// A request to the API at `path`.
fn api(method: Method, path: &str) -> reqwest::RequestBuilder {
    request(method, &format!("/api/v1{path}"))
}

/// A text file the app's build serves at `path` (the service worker answers offline once it keeps it); `None`
/// when it cannot be had.
pub async fn text_file(path: &str) -> Option<String> {
    let response = request(Method::GET, path).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.text().await.ok()
}

/// Why a sign-in did not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInError {
    /// The activation code, or the phone number and PIN, are not right.
    Refused,
    /// Too many wrong PINs: closed until this time (Unix ms).
    Locked(i64),
    /// This phone's sync identity belongs to the member who signed in here before, whose writes still wait.
    ClientTaken,
    /// Too many requests from here, or the server is too busy to check a PIN: try again shortly.
    Busy,
    Offline,
    Failed,
}

pub async fn sign_in(activation_code: &str, client_id: Id) -> Result<SessionResponse, SignInError> {
    let body = SessionRequest {
        activation_code: activation_code.trim().to_owned(),
        client_id,
    };
    session("/session", &body).await
}

pub async fn sign_in_with_pin(phone: &str, pin: &str, client_id: Id) -> Result<SessionResponse, SignInError> {
    let body = PinSignIn {
        phone: phone.to_owned(),
        pin: pin.to_owned(),
        client_id,
    };
    session("/session/pin", &body).await
}

async fn session(path: &str, body: &impl serde::Serialize) -> Result<SessionResponse, SignInError> {
    let response = api(Method::POST, path)
        .json(body)
        .send()
        .await
        .map_err(|_| SignInError::Offline)?;
    match response.status().as_u16() {
        200 => response.json().await.map_err(|_| SignInError::Failed),
        401 => Err(SignInError::Refused),
        409 => Err(SignInError::ClientTaken),
        429 | 503 => Err(refusal(response).await.unwrap_or(SignInError::Busy)),
        _ => Err(SignInError::Failed),
    }
}

/// A 429 of the PIN lockout, with its time; `None` for the others (too many requests, the server busy).
async fn refusal(response: reqwest::Response) -> Option<SignInError> {
    match response.json::<ErrorBody>().await {
        Ok(ErrorBody {
            locked_until: Some(until),
            ..
        }) => Some(SignInError::Locked(until)),
        _ => None,
    }
}

/// Sets the member's PIN, with the `current` one when it changes one.
pub async fn set_pin(token: &str, pin: &str, current: Option<String>) -> Result<(), SignInError> {
    let body = SetPin {
        pin: pin.to_owned(),
        current,
    };
    let sent = api(Method::PUT, "/me/pin").bearer_auth(token).json(&body).send().await;
    let response = sent.map_err(|_| SignInError::Offline)?;
    match response.status().as_u16() {
        204 => Ok(()),
        401 => match response.json::<ErrorBody>().await {
            Ok(body) if body.error == "bad_pin" => Err(SignInError::Refused),
            _ => Err(SignInError::Failed),
        },
        429 | 503 => Err(refusal(response).await.unwrap_or(SignInError::Busy)),
        _ => Err(SignInError::Failed),
    }
}

/// Revokes one of the member's phones, and with `forget_pin` their PIN too; false when it did not reach the
/// server.
pub async fn revoke_device(token: &str, id: Id, forget_pin: bool) -> bool {
    let query = if forget_pin { "?forget_pin=true" } else { "" };
    let sent = api(Method::DELETE, &format!("/devices/{id}{query}"))
        .bearer_auth(token)
        .send()
        .await;
    sent.is_ok_and(|response| response.status().is_success())
}

/// Ends the session on the server. Best effort: signing out works offline too, the token is then forgotten on
/// the phone and can still be revoked from the member's device list.
pub async fn sign_out(token: &str) {
    let _ = api(Method::DELETE, "/session").bearer_auth(token).send().await;
}

async fn reply<T: DeserializeOwned>(sent: Result<reqwest::Response, reqwest::Error>) -> Reply<T> {
    let Ok(response) = sent else { return Reply::Failed };
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(body) => Reply::from_http(status, &body),
        Err(_) => Reply::Failed,
    }
}

/// A push as it goes over the wire, gzipped where the browser can gzip: a push is mostly signed codes, and
/// shrinks to a third. Encoded apart from sending, so that the next push can be encoded while one is out
/// (`sync`).
pub enum PushBody {
    Gzip(Vec<u8>),
    Json(String),
}

impl PushBody {
    pub async fn encode(request: &PushRequest) -> PushBody {
        let json = serde_json::to_string(request).expect("push requests serialise");
        match crate::pwa::gzip(&json).await {
            Some(gzipped) => PushBody::Gzip(gzipped),
            None => PushBody::Json(json),
        }
    }
}

pub async fn push(token: &str, body: PushBody) -> Reply<PushResponse> {
    let builder = api(Method::POST, "/sync/push")
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    let builder = match body {
        PushBody::Gzip(gzipped) => builder
            .timeout(push_deadline(gzipped.len()))
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .body(gzipped),
        PushBody::Json(json) => builder.timeout(push_deadline(json.len())).body(json),
    };
    reply(builder.send().await).await
}

pub async fn pull(token: &str, client_id: Id, cursor: u64) -> Reply<PullResponse> {
    let pull = api(Method::GET, &format!("/sync/pull?cursor={cursor}"))
        .bearer_auth(token)
        .header("X-Client-Id", client_id.to_string());
    reply(pull.send().await).await
}

/// What a secretary or administrator screen gets back from a call that changes something.
#[cfg(feature = "staff")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Done,
    /// The server refused the input (a reason or evaluation left empty).
    Invalid,
    /// Someone else acted first (the report was already decided).
    Conflict,
    /// No network, or the server is down: nothing changed.
    Failed,
}

/// A successful answer to a `GET`, or `None` when the server cannot be asked or says no.
async fn get_ok(token: &str, path: &str) -> Option<reqwest::Response> {
    let response = api(Method::GET, path).bearer_auth(token).send().await.ok()?;
    response.status().is_success().then_some(response)
}

/// `GET` for the online-only screens; `None` when the server cannot be asked or says no.
pub async fn get_json<T: DeserializeOwned>(token: &str, path: &str) -> Option<T> {
    serde_json::from_slice(&get_body(token, path).await?).ok()
}

/// The body of a successful `GET`, as `get_json` reads it.
pub async fn get_body(token: &str, path: &str) -> Option<Vec<u8>> {
    get_ok(token, path).await?.bytes().await.ok().map(Vec::from)
}

/// `POST` for the online-only screens, with an optional JSON body.
#[cfg(feature = "staff")]
pub async fn post(token: &str, path: &str, body: Option<&impl serde::Serialize>) -> Answer {
    let mut post = api(Method::POST, path).bearer_auth(token);
    if let Some(body) = body {
        post = post.json(body);
    }
    match post.send().await.map(|r| r.status().as_u16()) {
        Ok(200..=299) => Answer::Done,
        Ok(400) => Answer::Invalid,
        Ok(409) => Answer::Conflict,
        _ => Answer::Failed,
    }
}

/// `POST` of a JSON body whose answer is JSON; `None` when the server cannot be asked or says no.
pub async fn post_json<T: DeserializeOwned>(token: &str, path: &str, body: &impl serde::Serialize) -> Option<T> {
    let response = api(Method::POST, path)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

/// `GET` of a file to save (a poster, a spreadsheet), as it is; `None` when the server cannot be asked or says
/// no. Bytes, not text: decoding text drops a byte order mark, which Excel needs.
#[cfg(feature = "staff")]
pub async fn get_file(token: &str, path: &str) -> Option<Vec<u8>> {
    Some(get_ok(token, path).await?.bytes().await.ok()?.to_vec())
}

/// Sends a CSV file and reads the JSON answer whatever its status (a refused import explains itself).
#[cfg(feature = "staff")]
pub async fn post_csv<T: DeserializeOwned>(token: &str, path: &str, csv: Vec<u8>) -> Option<T> {
    let response = api(Method::POST, path)
        .timeout(push_deadline(csv.len()))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .body(csv)
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}
