//! Guihai's server: sign-in, the sync protocol (push and pull), signed activity codes, and the built app.
//!
//! Where to start: `serve` opens the state and listens; `router` is the whole HTTP surface, one `routes()` per
//! area, each a folder (`identity`, `sync`, `organisations`, `activities`; `keys` alone) under `/api/v1`, and the app's files from
//! `--dist` for everything else. Tests build `AppState::open` + `router` and call it directly.
//!
//! Architecture invariants: the wire types are core's (`guihai_core::sync`, `qr`, `domain`), never redefined
//! here; no client clock decides anything (the server stamps `received_at` and the change log's order); every
//! error leaves through `AppError`, which logs internals and answers core's `ErrorBody`.

mod activities;
mod clock;
pub mod config;
mod db;
mod demo;
mod error;
pub mod faults;
mod guard;
mod identity;
mod keys;
mod organisations;
mod qr_image;
pub mod routes;
mod sheets;
mod static_files;
mod sync;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Method, Request};
use axum::{Json, Router};
use sqlx::SqlitePool;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;

pub use config::Config;
pub use keys::{KeyError, Keyring};
use routes::{Endpoint, Routes};

/// For the benchmarks' seeding program (`examples/bench_seed.rs`) only, which fills a database with many people
/// and activities the way the server itself writes them. Not an API: nothing in the server uses it.
#[doc(hidden)]
pub mod bench_support {
    pub use crate::activities::{insert as insert_activity, issue_code};
    pub use crate::clock::{new_id, now_ms};
    pub use crate::db::begin_write;
    pub use crate::identity::auth::activation_code_hash;
    pub use crate::sync::changes::{touch, Audience, LogKey};
}

/// Largest request body the API reads, for anyone (signing in among them): a form's worth. The two endpoints
/// that take more say so on their route (`MAX_UPLOAD_BYTES`).
pub const MAX_BODY_BYTES: usize = 64 << 10;
/// A push (a full one of the longest codes fits) and a township's roster file.
pub const MAX_UPLOAD_BYTES: usize = 2 << 20;

/// Everything a request handler may use.
#[derive(Clone)]
pub struct AppState {
    /// For reads, and the odd single write.
    pub db: SqlitePool,
    /// The one connection write transactions queue for (`db::begin_write`; see `db::Db`).
    pub writes: SqlitePool,
    /// The writer that settles pushes, many to a transaction.
    pushes: sync::push::Pushes,
    checkpoints: db::Checkpoints,
    /// Replaced whole when the keys change while the server runs (`keys::watch`).
    keys: Arc<RwLock<Arc<Keyring>>>,
    dist: PathBuf,
    faults: Arc<faults::Faults>,
    /// `Config::lost_after_days`.
    lost_after_days: u32,
    /// `Config::session_idle_days`, in ms.
    session_idle_ms: i64,
    /// The PIN checks that may run at once (`guard`).
    hashing: Arc<guard::HashPool>,
    limits: guard::Limits,
    /// `Config::behind_proxy` and `Config::public_url`: where printed links point (`organisations::public_origin`).
    behind_proxy: bool,
    public_url: Option<Arc<str>>,
}

impl AppState {
    /// Opens (and migrates) the database in `config.data_dir`, loads or creates the signing key, and seeds the
    /// demo data when asked and the database is empty.
    pub async fn open(config: &Config) -> Result<AppState, StartError> {
        let db::Db {
            read,
            write,
            checkpoints,
        } = db::open(&config.data_dir).await?;
        if config.test_clock_ahead_days > 0 {
            tracing::warn!(
                days = config.test_clock_ahead_days,
                "TEST CLOCK: this server's clock runs ahead on purpose; never run it in production"
            );
            clock::run_ahead(config.test_clock_ahead_days);
        }
        let keys = keys::load_or_create(&write, &keys::KeyDir::open(&config.keys_dir)?).await?;
        let keys = Arc::new(RwLock::new(Arc::new(keys)));
        if config.demo && demo::seed_if_empty(&write).await? {
            tracing::info!("seeded the demo data");
        }
        Ok(AppState {
            db: read,
            pushes: sync::push::Pushes::start(write.clone()),
            writes: write,
            checkpoints,
            keys,
            dist: config.dist.clone(),
            faults: Arc::new(faults::Faults::arm(config.faults.clone())),
            lost_after_days: config.lost_after_days,
            session_idle_ms: i64::from(config.session_idle_days) * 24 * 3_600_000,
            hashing: Arc::new(guard::HashPool::new()),
            limits: guard::Limits::new(config.behind_proxy),
            behind_proxy: config.behind_proxy,
            public_url: config.public_url.as_deref().map(Arc::from),
        })
    }

    /// The server's signing keys, as they are now.
    pub fn keys(&self) -> Arc<Keyring> {
        Arc::clone(&self.keys.read().expect("no panic while holding it"))
    }

    fn replace_keys(&self, keys: Keyring) {
        *self.keys.write().expect("no panic while holding it") = Arc::new(keys);
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    App(#[from] error::AppError),
    #[error("signing keys: {0}")]
    Keys(#[from] keys::KeyError),
}

/// The whole HTTP surface.
/// Every endpoint under `/api/v1`, one `routes()` per area.
fn api_routes(limits: &guard::Limits) -> Routes {
    Routes::new()
        .route(Method::GET, "/health", || async {
            Json(serde_json::json!({ "ok": true }))
        })
        .merge(identity::auth::sign_in_routes().layer(limits.sign_in()))
        .merge(identity::routes())
        .merge(keys::routes())
        .merge(sync::routes())
        .merge(activities::routes())
        .merge(organisations::routes())
}

/// The API's endpoints (method and path under `/api/v1`), from the same table the router is built from.
pub fn api_endpoints() -> Vec<Endpoint> {
    api_routes(&guard::Limits::new(false)).into_parts().1
}

pub fn router(state: AppState) -> Router {
    let (v1, _) = api_routes(&state.limits).into_parts();
    let api = Router::new()
        .nest("/v1", v1)
        .fallback(|| async { error::AppError::NotFound })
        .layer(state.limits.per_caller())
        // The limit holds for the body as decompressed, so a small gzip bomb is refused like a large body.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Phones gzip their pushes: on a slow uplink the bytes are the time (a check-in's signed code is ~250 chars).
        .layer(RequestDecompressionLayer::new())
        // Answers carry personal data and tokens: no cache on the way may keep them.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(CompressionLayer::new());
    let mut app = Router::new()
        .nest("/api", api)
        .with_state(state.clone())
        .fallback_service(static_files::router(&state.dist));
    for (name, value) in guard::security_headers() {
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    app.layer(TimeoutLayer::with_status_code(
        guard::TIMED_OUT,
        guard::REQUEST_DEADLINE,
    ))
    .layer(RequestBodyTimeoutLayer::new(guard::BODY_DEADLINE))
    .layer(state.limits.per_address())
    .layer(
        // One line per request, when it is answered. Only method and path (without a code): never headers
        // (the token), never the query.
        TraceLayer::new_for_http()
            .make_span_with(|request: &Request<_>| {
                let path = guard::loggable_path(request.uri().path());
                tracing::info_span!("request", method = %request.method(), path = %path)
            })
            .on_request(())
            .on_response(
                DefaultOnResponse::new()
                    .level(tracing::Level::INFO)
                    .latency_unit(LatencyUnit::Millis),
            )
            // Failures are logged once, with their cause, by `AppError`.
            .on_failure(()),
    )
}

/// Opens the state, listens on `config.addr`, prints `guihai listening on http://<addr>` (and, with `--demo`,
/// the demo sign-in sheet) to stdout, and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let state = AppState::open(&config).await?;
    let stopped = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let mut banner = format!("guihai listening on http://{addr}\n");
    if config.demo {
        banner.push_str(&demo::sign_in_sheet(&state, addr).await?);
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(banner.as_bytes())?;
    stdout.flush()?;
    drop(stdout);

    let limits = state.limits.clone();
    let watching = tokio::spawn(keys::watch(state.clone(), keys::KeyDir::open(&config.keys_dir)?));
    let forgetting = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            limits.forget_quiet();
        }
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(stopped).await?;
    forgetting.abort();
    watching.abort();
    db::close(db::Db {
        read: state.db.clone(),
        write: state.writes.clone(),
        checkpoints: state.checkpoints.clone(),
    })
    .await;
    tracing::info!("stopped");
    Ok(())
}

/// `guihai-server keys ...`: does it on the database and key directory of `config`, and says what it did.
pub async fn keys_command(action: config::KeysCommand, config: &Config) -> Result<String, StartError> {
    let db = db::open(&config.data_dir).await?;
    let done = keys::command(&db.write, &keys::KeyDir::open(&config.keys_dir)?, action).await;
    db::close(db).await;
    Ok(done?)
}

/// Ctrl-C or SIGTERM. The handlers are in place when this returns, before the listening line is printed: a
/// signal sent at once (a supervisor's, a test's) stops the server cleanly instead of killing it.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let stopped = {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
    };
    #[cfg(not(unix))]
    let stopped = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    Ok(async move {
        stopped.await;
        tracing::info!("shutting down");
    })
}
