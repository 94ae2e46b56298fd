//! The reference server of the VDK Data Job Secrets API.
//!
//! It serves the API of VEP-1493 over Vault KV v2 (or an embedded encrypted store), adds ETags
//! and `If-Match` so that concurrent writers never lose each other's changes, and serves the
//! Operations UI page at `/`.

pub mod audit;
pub mod auth;
pub mod edge;
pub mod error;
pub mod listener;
pub mod logging;
pub mod routes;
pub mod store;
pub mod ui;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use edge::DevHosts;
pub use routes::AppState;

/// How the HTTP side is put together, beyond the API itself.
#[derive(Default)]
pub struct Frontend {
    /// Origins allowed to call the API from a browser (CORS); empty allows only same-origin.
    pub cors_origins: Vec<HeaderValue>,
    /// A directory served at `/` (the Operations UI), if any.
    pub ui_dir: Option<PathBuf>,
}

/// The whole application: API, UI, CORS, and around every route and fallback the edge
/// ([`edge::guard`]: dev-mode host check, JSON errors, nosniff) and, outermost, the log.
pub fn app(state: Arc<AppState>, frontend: Frontend) -> Router {
    let router = routes::api(state.clone());
    let router = match frontend.ui_dir {
        Some(dir) => {
            let ui = Arc::new(ui::Ui::new(&dir));
            router.fallback(move |request: Request| ui.clone().serve(request))
        }
        None => router.fallback(routes::not_found),
    };
    let router = if frontend.cors_origins.is_empty() {
        router
    } else {
        router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(frontend.cors_origins))
                .allow_methods([Method::GET, Method::PUT])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::IF_MATCH,
                    header::ACCEPT,
                ])
                .expose_headers([header::ETAG])
                .max_age(std::time::Duration::from_secs(600)),
        )
    };
    // Router::layer wraps each route and the fallbacks (a path's 405 included); the last
    // layer added runs first.
    router
        .layer(axum::middleware::from_fn_with_state(state, edge::guard))
        .layer(axum::middleware::from_fn(logging::log_request))
}
