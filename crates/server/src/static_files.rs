//! The built app from `--dist`: files as they are (with the `.br`/`.gz` siblings xtask wrote, when the browser
//! takes them), `index.html` for the app's own routes (`/q/<payload>`, `/checkins`, ...), the staff app's page
//! `staff/index.html` for the staff screens (core's `screens`), and cache headers that let a phone keep hashed
//! assets forever while always revalidating what names them.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

use guihai_core::screens::{is_staff_path, STAFF_APP_DIR};

use crate::guard;

#[derive(Clone)]
struct Dist {
    files: ServeDir,
    member: Page,
    /// `None` for a `--dist` built without the staff app: its screens are then the member app's `index.html`.
    staff: Option<Page>,
}

/// An app's page, served in place of the routes it handles.
#[derive(Clone)]
struct Page {
    file: ServeFile,
    path: PathBuf,
}

impl Page {
    fn at(path: PathBuf) -> Page {
        Page {
            file: ServeFile::new(&path).precompressed_br().precompressed_gzip(),
            path,
        }
    }
}

pub fn router(dist: &Path) -> Router {
    let staff = dist.join(STAFF_APP_DIR).join("index.html");
    let dist = Dist {
        files: ServeDir::new(dist).precompressed_br().precompressed_gzip(),
        member: Page::at(dist.join("index.html")),
        staff: staff.exists().then(|| Page::at(staff)),
    };
    Router::new().fallback(serve).with_state(dist)
}

async fn serve(State(dist): State<Dist>, request: Request) -> Response {
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    let path = request.uri().path().to_owned();
    // The index is served in place of a missing file, so it needs the request's headers (Accept-Encoding,
    // conditional headers) but not its body, which a GET or HEAD does not have.
    let mut index_request = Request::new(Body::empty());
    *index_request.method_mut() = request.method().clone();
    *index_request.headers_mut() = request.headers().clone();

    let staff_page = format!("/{STAFF_APP_DIR}/index.html");
    let Ok(response) = dist.files.oneshot(request).await;
    let (mut response, cache, page) = if response.status() == StatusCode::NOT_FOUND && is_read && is_app_route(&path) {
        let page = match &dist.staff {
            Some(staff) if is_staff_path(&path) => staff,
            _ => &dist.member,
        };
        let Ok(index) = page.file.clone().oneshot(index_request).await;
        (index.into_response(), NO_CACHE, Some(page))
    } else {
        let cache = if is_hashed_asset(&path) { IMMUTABLE } else { NO_CACHE };
        let page = match path.as_str() {
            "/" | "/index.html" => Some(&dist.member),
            _ if path == staff_page => dist.staff.as_ref(),
            _ => None,
        };
        (response.into_response(), cache, page)
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    if let Some(page) = page {
        // The page's policy names its start-up script by hash: read from the file being served, so a new build
        // copied into place is served under its own hash without a restart. A 304 carries it too: the browser
        // takes the headers of a 304 for the copy it keeps.
        let html = tokio::fs::read_to_string(&page.path).await.ok();
        if let Ok(policy) = HeaderValue::from_str(&guard::content_security_policy(html.as_deref())) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    response
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Stored, but checked with the server before each use: `index.html`, `sw.js`, the manifest, icons.
const NO_CACHE: &str = "no-cache";

/// A path the app's router handles: anything whose last segment has no file extension. A missing file such as
/// `/guihai-<hash>.js` (asked for by a stale page) stays a 404, rather than HTML served as a script.
fn is_app_route(path: &str) -> bool {
    !path.rsplit('/').next().unwrap_or_default().contains('.')
}

/// Trunk's content-hashed names: `guihai-<hex>.js`, `guihai-<hex>_bg.wasm`, `main-<hex>.css` (and their
/// compressed siblings). Their content never changes under the same name.
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, _extension)) = name.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trunk_hashed_names_are_immutable() {
        for hashed in [
            "/guihai-5c9a3f0e1b2d4a67.js",
            "/guihai-5c9a3f0e1b2d4a67_bg.wasm",
            "/main-00ff00ff00ff00ff.css",
        ] {
            assert!(is_hashed_asset(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/sw.js",
            "/manifest.webmanifest",
            "/icons/icon-192.png",
            "/q/abc-def",
        ] {
            assert!(!is_hashed_asset(plain), "{plain}");
        }
    }

    #[test]
    fn app_routes_fall_back_to_the_index_but_missing_files_do_not() {
        assert!(is_app_route("/q/AQIAAf-_x"));
        assert!(is_app_route("/checkins"));
        assert!(!is_app_route("/guihai-5c9a3f0e1b2d4a67.js"));
    }
}
