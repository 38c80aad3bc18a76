//! The built app: files, precompressed siblings, the index for app routes, cache headers; JSON 404s under /api.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::Server;

const SCRIPT: &str = "/guihai-5c9a3f0e1b2d4a67.js";

async fn server_with_dist() -> Server {
    let server = Server::start().await;
    let dist = server.dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>归海</title>").unwrap();
    std::fs::write(dist.join("sw.js"), "// service worker").unwrap();
    std::fs::write(dist.join(&SCRIPT[1..]), "console.log('plain')").unwrap();
    std::fs::write(dist.join(format!("{}.gz", &SCRIPT[1..])), "pretend gzip").unwrap();
    server
}

async fn get(server: &Server, path: &str, accept_encoding: Option<&str>) -> crate::Reply {
    let mut request = Request::get(path);
    if let Some(encoding) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, encoding);
    }
    server.request(request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn app_routes_get_the_index_revalidated_every_time() {
    let server = server_with_dist().await;
    for path in ["/", "/checkins", "/q/AQIAAQGiINSx93pj-_x"] {
        let reply = get(&server, path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(String::from_utf8_lossy(&reply.body).contains("归海"), "{path}");
        assert_eq!(reply.header(header::CACHE_CONTROL), "no-cache", "{path}");
    }
    assert_eq!(
        get(&server, "/sw.js", None).await.header(header::CACHE_CONTROL),
        "no-cache"
    );
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_served_precompressed() {
    let server = server_with_dist().await;
    let reply = get(&server, SCRIPT, Some("gzip")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(reply.body, b"pretend gzip");
    assert_eq!(
        reply.header(header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(get(&server, SCRIPT, None).await.body, b"console.log('plain')");
}

#[tokio::test]
async fn a_missing_file_is_not_found_rather_than_the_index() {
    let server = server_with_dist().await;
    let reply = get(&server, "/guihai-0000000000000000.js", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.header(header::CACHE_CONTROL), "");
}

#[tokio::test]
async fn an_unknown_api_path_is_a_json_not_found() {
    let server = server_with_dist().await;
    for path in ["/api/v1/nothing", "/api/v2/sync/pull", "/api"] {
        assert_eq!(
            get(&server, path, None).await.error(),
            (StatusCode::NOT_FOUND, "not_found".to_owned()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn api_answers_are_compressed_and_never_cached() {
    let server = Server::start().await;
    let reply = get(&server, "/api/v1/keys", Some("gzip")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(reply.header(header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn a_page_is_served_under_a_policy_naming_its_own_start_up_script_even_after_a_new_build() {
    let server = server_with_dist().await;
    let index = server.dir.path().join("dist").join("index.html");
    let policy_with = |script: &str| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(script.as_bytes());
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
    };
    for build in [
        "import init from '/a-1.js'; await init();",
        "import init from '/a-2.js'; await init();",
    ] {
        // Copied into place while the server runs, as a deployment does.
        std::fs::write(
            &index,
            format!("<!doctype html><script type=\"module\">{build}</script>"),
        )
        .unwrap();
        for path in ["/", "/index.html", "/checkins"] {
            let reply = get(&server, path, None).await;
            let policy = reply.header(header::CONTENT_SECURITY_POLICY);
            assert!(policy.contains(&policy_with(build)), "{path}: {policy}");
            assert_eq!(
                policy.matches("'sha256-").count(),
                1,
                "{path}: only this build's script"
            );
            // Asked again, as a browser revalidates its copy: the 304's headers replace the copy's.
            let since = reply.header(header::LAST_MODIFIED).to_owned();
            let request = Request::get(path).header(header::IF_MODIFIED_SINCE, since);
            let again = server.request(request.body(Body::empty()).unwrap()).await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
            let policy = again.header(header::CONTENT_SECURITY_POLICY);
            assert!(policy.contains(&policy_with(build)), "{path}, 304: {policy}");
        }
    }
    // What is not a page names no script of its own.
    let reply = get(&server, SCRIPT, None).await;
    let policy = reply.header(header::CONTENT_SECURITY_POLICY);
    assert!(!policy.contains("'sha256-"), "{policy}");
}
