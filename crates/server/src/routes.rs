//! The API's route table as data: every endpoint goes through `Routes`, which keeps its method and path beside
//! the axum router, so that a test can walk all of them (the access matrix fails for an endpoint without a rule).

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::Router;

use crate::AppState;

/// One endpoint: its method and its path under `/api/v1`, in axum's syntax (`{id}` for a parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
}

/// A router that knows its endpoints.
pub struct Routes {
    router: Router<AppState>,
    endpoints: Vec<Endpoint>,
}

impl Default for Routes {
    fn default() -> Routes {
        Routes {
            router: Router::new(),
            endpoints: Vec::new(),
        }
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Adds `handler` for `method` on `path` (several methods may share a path).
    pub fn route<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("the API uses only methods axum can route");
        self.router = self.router.route(path, on(filter, handler));
        self.endpoints.push(Endpoint { method, path });
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.endpoints.extend(other.endpoints);
        self
    }

    /// Wraps this group's endpoints (not those merged into it later) in `layer`.
    pub fn layer<L>(mut self, layer: L) -> Routes
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response: axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<Endpoint>) {
        (self.router, self.endpoints)
    }
}
