//! One error type for every API answer: each variant has its status and its stable key in core's `ErrorBody`.
//! Internal causes are logged here, once, and never sent to the client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use guihai_core::sync::ErrorBody;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("missing, unknown or revoked session token")]
    Unauthorized,
    #[error("this phone's session was revoked")]
    SessionRevoked,
    #[error("unknown, used or expired activation code")]
    BadCode,
    #[error("wrong phone number or PIN")]
    BadPin,
    #[error("PIN sign-in is closed until {until}")]
    Locked { until: i64 },
    #[error("not allowed for this user")]
    Forbidden,
    #[error("no such resource")]
    NotFound,
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("request body too large")]
    TooLarge,
    #[error("sequence gap: the server holds up to {last_seq}")]
    SeqGap { last_seq: u64 },
    /// A push names a code by its signature that the server does not keep (`keys::Issued`): nothing of it was
    /// applied, and the phone sends it again with its codes whole.
    #[error("a code named by its signature is not kept here")]
    SendInFull,
    /// Signing in on an installation whose sync identity belongs to someone else (their writes still wait on it).
    #[error("this installation's client id belongs to another person")]
    ClientTaken,
    /// Someone else already signs in with this phone number.
    #[error("another person signs in with this phone number")]
    PhoneTaken,
    /// Too many requests from this address or session (`guard`): try again after the given seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// Every PIN check is taken (`guard::HashPool`): try again shortly.
    #[error("too busy to check a PIN")]
    Busy { retry_after_secs: u64 },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// From the push writer's statements (`push.rs`), run on the same connection without sqlx.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    fn status_and_key(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::SessionRevoked => (StatusCode::UNAUTHORIZED, "session_revoked"),
            AppError::BadCode => (StatusCode::UNAUTHORIZED, "bad_code"),
            AppError::BadPin => (StatusCode::UNAUTHORIZED, "bad_pin"),
            AppError::Locked { .. } => (StatusCode::TOO_MANY_REQUESTS, "locked"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "invalid"),
            AppError::SeqGap { .. } => (StatusCode::CONFLICT, "seq_gap"),
            AppError::SendInFull => (StatusCode::CONFLICT, guihai_core::engine::SEND_IN_FULL),
            AppError::ClientTaken => (StatusCode::CONFLICT, "client_taken"),
            AppError::PhoneTaken => (StatusCode::CONFLICT, "phone_taken"),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            AppError::Database(_) | AppError::Sqlite(_) | AppError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, key) = self.status_and_key();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else if let AppError::Invalid(detail) = &self {
            tracing::debug!(%detail, "invalid request");
        }
        let (last_seq, locked_until) = match self {
            AppError::SeqGap { last_seq } => (Some(last_seq), None),
            AppError::Locked { until } => (None, Some(until)),
            _ => (None, None),
        };
        let retry_after = match self {
            AppError::RateLimited { retry_after_secs } | AppError::Busy { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let body = Json(ErrorBody {
            error: key.to_owned(),
            last_seq,
            locked_until,
        });
        match retry_after {
            Some(secs) => (status, [(header::RETRY_AFTER, secs.to_string())], body).into_response(),
            None => (status, body).into_response(),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
            _ => AppError::Invalid(rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> AppError {
        AppError::Invalid(rejection.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> AppError {
        AppError::Invalid(rejection.body_text())
    }
}

/// `Json` whose rejections (malformed body, wrong content type, too large) answer in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}
