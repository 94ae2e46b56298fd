//! # vdk-secrets
//!
//! The client side of the VDK Data Job Secrets API (VEP-1493): the rules of a valid secret
//! set, and a client that reads and writes a job's secrets, written once and compiled for
//! native Rust, the browser (npm package) and WASI components.
//!
//! The core does no I/O. [`api::Endpoint`] builds each request and interprets each response;
//! a [`Transport`] only moves bytes; [`SecretsClient`] combines the two into the operations a
//! data job or a UI needs.
//!
//! ```no_run
//! # async fn demo(transport: impl vdk_secrets::Transport) -> Result<(), vdk_secrets::Error> {
//! use vdk_secrets::{Endpoint, JobRef, SecretsClient, Token};
//!
//! // With the `native` feature, the transport is `vdk_secrets::native::NativeTransport::new()?`.
//! let job = JobRef::new("my-team", "my-job")?;
//! let token = Token::new(std::env::var("VDK_TOKEN").unwrap_or_default())?;
//! let endpoint = Endpoint::new("https://control-service.example.com", job, Some(token))?;
//! let client = SecretsClient::new(transport, endpoint);
//!
//! client.set("db_password", "s3cret".into()).await?;
//! let all = client.read_all().await?;
//! println!("{} secrets: {:?}", all.len(), all); // Debug shows names only
//! # Ok(()) }
//! ```

pub mod api;
pub mod client;
pub mod error;
pub mod http;
pub mod job;
pub mod mask;
mod numbers;
pub mod secrets;
mod text;
pub mod validate;

pub mod transport;

#[cfg(feature = "native")]
pub use transport::native;

#[cfg(feature = "js")]
pub use transport::fetch;

#[cfg(feature = "js")]
pub mod js;

#[cfg(all(feature = "component", target_os = "wasi"))]
pub use transport::wasi;

#[cfg(all(feature = "component", target_os = "wasi"))]
mod component;

pub use api::{ETag, Endpoint, History, ServerLimits, Token, VersionInfo, Versioned};
pub use client::{RetryPolicy, SecretsClient, Transport};
pub use error::{Error, ErrorKind, Problem, Report};
pub use http::{HttpRequest, HttpResponse, Method, TransportError};
pub use job::JobRef;
pub use secrets::{SecretValue, Secrets};
pub use validate::Limits;
