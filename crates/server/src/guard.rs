//! What keeps a hostile internet from spending the server (docs/security.md): a bounded pool for PIN hashing,
//! rate limits per client address and per session (tower_governor), deadlines for requests and their bodies,
//! the security headers every answer carries, and request paths fit for the log.
//!
//! Anonymous requests are the danger: they need no account, and a PIN check costs ~19 MiB and tens of
//! milliseconds of a CPU by design. The pool lets only as many run as there are CPUs, with a short line behind
//! them; anyone beyond the line is told 503 at once instead of holding memory.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{self, AUTHORIZATION};
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use sha2::{Digest, Sha256};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use crate::error::AppError;

/// PIN checks waiting for a free CPU, per CPU, before more are refused.
const QUEUED_PER_HASHER: usize = 4;
/// How long a PIN check waits for a free CPU before it is refused.
const HASH_WAIT: Duration = Duration::from_secs(3);

/// The PIN hashes that may run at once, on threads of their own, and the line behind them.
pub struct HashPool {
    line: Arc<Semaphore>,
    hashers: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// A place in the pool's line: the attempt may be counted, and will be checked or refused within `HASH_WAIT`.
pub struct Admitted {
    _place: OwnedSemaphorePermit,
    hashers: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
}

impl HashPool {
    /// One hasher a CPU: argon2 holds one for its whole run, and memory grows with hashers, not with requests.
    pub fn new() -> HashPool {
        let hashers = std::thread::available_parallelism().map_or(1, usize::from);
        HashPool::with_hashers(hashers)
    }

    /// Hashes run on `hashers` threads kept for them, not on tokio's blocking pool: the allocator keeps a
    /// freed 19 MiB block for the thread that freed it, so a hash on each of hundreds of pool threads left
    /// hundreds of them held; on a few threads of its own each block is used again.
    pub fn with_hashers(hashers: usize) -> HashPool {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..hashers {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("pin-hash-{n}"))
                .spawn(move || loop {
                    // The lock is held only while taking a job. The queue ends when the pool is dropped.
                    let Ok(job) = queue.lock().map_err(drop).and_then(|queue| queue.recv().map_err(drop)) else {
                        return;
                    };
                    job();
                })
                .expect("a thread for PIN hashes");
        }
        HashPool {
            line: Arc::new(Semaphore::new(hashers * (1 + QUEUED_PER_HASHER))),
            hashers: Arc::new(Semaphore::new(hashers)),
            jobs,
        }
    }

    /// A place in the line, or `Busy` at once when it is full.
    pub fn admit(&self) -> Result<Admitted, AppError> {
        let place = Arc::clone(&self.line).try_acquire_owned().map_err(|_| busy())?;
        Ok(Admitted {
            _place: place,
            hashers: Arc::clone(&self.hashers),
            jobs: self.jobs.clone(),
        })
    }
}

impl Admitted {
    /// `work` on a hashing thread once one is free; `Busy` if none is within `HASH_WAIT`.
    pub async fn run<T: Send + 'static>(self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let hasher = tokio::time::timeout(HASH_WAIT, Arc::clone(&self.hashers).acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|error| AppError::Internal(error.to_string()))?;
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _hasher = hasher;
                let _ = done.send(work());
            }))
            .map_err(|error| AppError::Internal(error.to_string()))?;
        result.await.map_err(|error| AppError::Internal(error.to_string()))
    }
}

fn busy() -> AppError {
    AppError::Busy {
        retry_after_secs: HASH_WAIT.as_secs(),
    }
}

/// A rate: `burst` requests at once, then one every `every`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub burst: u32,
    pub every: Duration,
}

/// Every request, per client address: far above what the hundreds of phones behind one event's Wi-Fi send, and
/// a ceiling on what one address can make the server do.
pub const PER_ADDRESS: Rate = Rate {
    burst: 1_000,
    every: Duration::from_millis(2),
};
/// Signing in (an activation code or a PIN), per client address: a township signing in a hall of members, but
/// no one guessing codes or PINs by the thousand.
pub const SIGN_IN: Rate = Rate {
    burst: 30,
    every: Duration::from_secs(2),
};
/// The API, per session (per address for anonymous requests): a phone syncing thousands of check-ins, a
/// secretary's busiest screen, with room to spare.
pub const PER_CALLER: Rate = Rate {
    burst: 500,
    every: Duration::from_millis(5),
};

/// A request's whole answer, and receiving its body (a 2 MiB push on a slow uplink takes a while).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
pub const BODY_DEADLINE: Duration = Duration::from_secs(60);

/// Who a request comes from: the peer address, or with `--behind-proxy` the last address of
/// `X-Forwarded-For` (the one the proxy itself appended; any before it are the client's word).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr {
    pub behind_proxy: bool,
}

impl ClientAddr {
    pub fn of<T>(self, request: &Request<T>) -> IpAddr {
        let forwarded = self
            .behind_proxy
            .then(|| request.headers().get("x-forwarded-for"))
            .flatten()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok());
        let peer = || {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        };
        // In-process tests call the router without a connection: they share one address.
        forwarded.or_else(peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

impl KeyExtractor for ClientAddr {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(self.of(request))
    }
}

/// A session (the digest of its bearer token), or the address of an anonymous request.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub addr: ClientAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallerKey {
    Session([u8; 16]),
    Addr(IpAddr),
}

impl KeyExtractor for Caller {
    type Key = CallerKey;

    fn extract<T>(&self, request: &Request<T>) -> Result<CallerKey, GovernorError> {
        let token = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        Ok(match token {
            Some(token) => {
                let digest = Sha256::digest(token.trim().as_bytes());
                let mut key = [0; 16];
                key.copy_from_slice(&digest[..16]);
                CallerKey::Session(key)
            }
            None => CallerKey::Addr(self.addr.of(request)),
        })
    }
}

/// The limiters, kept so that their memory of quiet callers can be let go (`forget_quiet`).
#[derive(Clone)]
pub struct Limits {
    per_address: Arc<GovernorConfig<ClientAddr, NoOpMiddleware>>,
    sign_in: Arc<GovernorConfig<ClientAddr, NoOpMiddleware>>,
    per_caller: Arc<GovernorConfig<Caller, NoOpMiddleware>>,
}

impl Limits {
    pub fn new(behind_proxy: bool) -> Limits {
        let addr = ClientAddr { behind_proxy };
        Limits {
            per_address: Arc::new(config(addr, PER_ADDRESS)),
            sign_in: Arc::new(config(addr, SIGN_IN)),
            per_caller: Arc::new(config(Caller { addr }, PER_CALLER)),
        }
    }

    pub fn per_address(&self) -> GovernorLayer<ClientAddr, NoOpMiddleware, Body> {
        GovernorLayer::new(Arc::clone(&self.per_address)).error_handler(too_many)
    }

    pub fn sign_in(&self) -> GovernorLayer<ClientAddr, NoOpMiddleware, Body> {
        GovernorLayer::new(Arc::clone(&self.sign_in)).error_handler(too_many)
    }

    pub fn per_caller(&self) -> GovernorLayer<Caller, NoOpMiddleware, Body> {
        GovernorLayer::new(Arc::clone(&self.per_caller)).error_handler(too_many)
    }

    /// Lets go of every caller whose limit is back to full: without it, each address or token ever seen would
    /// stay in memory.
    pub fn forget_quiet(&self) {
        for limiter in [self.per_address.limiter(), self.sign_in.limiter()] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.per_caller.limiter().retain_recent();
        self.per_caller.limiter().shrink_to_fit();
    }
}

fn config<K: KeyExtractor>(key: K, rate: Rate) -> GovernorConfig<K, NoOpMiddleware> {
    GovernorConfigBuilder::default()
        .period(rate.every)
        .burst_size(rate.burst)
        .key_extractor(key)
        .finish()
        .expect("the rates are positive")
}

/// A refusal in the API's error shape, with `Retry-After`.
fn too_many(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => AppError::RateLimited {
            retry_after_secs: wait_time.max(1),
        }
        .into_response(),
        other => AppError::Internal(other.to_string()).into_response(),
    }
}

/// The headers every answer carries (`SetResponseHeaderLayer::if_not_present` for each). The policy here names
/// no inline script: pages get their own, with their start-up script's hash (`static_files`).
pub fn security_headers() -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        // Activation links carry their code: never in a Referer.
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&content_security_policy(None)).expect("the policy is ASCII"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(self), geolocation=(), microphone=()"),
        ),
    ]
}

/// The policy the app and its workers run under: only this origin's scripts (and the inline start-up script in
/// `index.html`, by its hash), wasm compiled from them, no plugins, no framing.
pub fn content_security_policy(index_html: Option<&str>) -> String {
    let inline: String = index_html
        .map(inline_scripts)
        .unwrap_or_default()
        .iter()
        .map(|script| {
            use base64::Engine as _;
            let digest = Sha256::digest(script.as_bytes());
            format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{inline}; style-src 'self'; \
         img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The contents of the `<script>` elements without `src` in `html`.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let open = &after[..open_end];
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</script>") else { break };
        if !open.contains("src=") {
            scripts.push(&body[..close]);
        }
        rest = &body[close..];
    }
    scripts
}

/// A request's path as the log keeps it: a `/q/` link carries a whole code (a member card names its member and
/// can be replayed that day), so only its kind is kept.
pub fn loggable_path(path: &str) -> &str {
    if path.starts_with("/q/") {
        "/q/…"
    } else {
        path
    }
}

/// `StatusCode` for a request that ran out of time.
pub const TIMED_OUT: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_each_inline_script_by_its_hash_and_no_other() {
        let html = "<head><script type=\"module\">\nimport init from '/a.js';\n</script>\
                    <script src=\"/b.js\"></script><script>x()</script></head>";
        assert_eq!(inline_scripts(html), ["\nimport init from '/a.js';\n", "x()"]);
        let csp = content_security_policy(Some(html));
        assert_eq!(csp.matches("'sha256-").count(), 2);
        assert!(!csp.contains("unsafe-inline"));
        assert!(content_security_policy(None).contains("script-src 'self' 'wasm-unsafe-eval';"));
    }

    #[test]
    fn member_cards_stay_out_of_the_log() {
        assert_eq!(loggable_path("/q/M1.abc.def"), "/q/…");
        assert_eq!(loggable_path("/api/v1/sync/push"), "/api/v1/sync/push");
    }

    #[test]
    fn behind_a_proxy_the_address_is_the_one_it_appended() {
        let request = Request::builder()
            .header("x-forwarded-for", "6.6.6.6, 10.0.0.7")
            .body(())
            .unwrap();
        assert_eq!(
            ClientAddr { behind_proxy: true }.of(&request),
            "10.0.0.7".parse::<IpAddr>().unwrap()
        );
        // Not behind a proxy, the header is anyone's word and is not read.
        assert_eq!(
            ClientAddr { behind_proxy: false }.of(&request),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }

    #[tokio::test]
    async fn the_pool_refuses_beyond_its_line_at_once() {
        let pool = Arc::new(HashPool::with_hashers(1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(std::sync::Mutex::new(wait));
        let mut running = Vec::new();
        for _ in 0..(1 + QUEUED_PER_HASHER) {
            let admitted = pool.admit().unwrap();
            let wait = Arc::clone(&wait);
            running.push(tokio::spawn(admitted.run(move || {
                let _ = wait.lock().unwrap().recv();
            })));
        }
        assert!(matches!(pool.admit(), Err(AppError::Busy { .. })));
        for _ in 0..running.len() {
            release.send(()).unwrap();
        }
        for task in running {
            task.await.unwrap().unwrap();
        }
        assert!(pool.admit().is_ok(), "places free up once checks end");
    }
}
