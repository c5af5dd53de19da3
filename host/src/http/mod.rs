//! Outbound HTTP for plugins: the [`HttpTransport`] trait, the real client
//! [`RealHttp`] and the scripted [`MockHttp`].
//!
//! The host checks a request (JSON shape, method, URL, headers, `allowed_hosts`)
//! before it reaches a transport, so a transport only ever sees requests the plugin
//! is allowed to send. A transport must bound its work by the `timeout` it is given
//! (the delivery's remaining deadline) and must not hand back a body larger than
//! [`MAX_HTTP_RESPONSE`](otai_plugin_abi::limits::MAX_HTTP_RESPONSE) bytes.
//!
//! Which *addresses* a request may reach is decided after name resolution, so it is the
//! transport's to enforce: [`RealHttp`] screens every address it is given with
//! `otai_plugin_abi::rules::address` and answers
//! [`TransportError::address_not_allowed`] when none is left. A scripted transport
//! resolves nothing and answers what it is told.

mod mock;
mod real;

use std::sync::Arc;
use std::time::Duration;

pub use otai_plugin_abi::calls::{HostErrorKind, HttpRequest};

pub use mock::{MockHttp, MockRule};
/// The allow-list check, as every host applies it (it lives in the contract crate).
pub use otai_plugin_abi::rules::http::{UrlCheck, check_url};
pub use real::RealHttp;

/// A response from a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code (3xx included: redirects are not followed).
    pub status: u16,
    /// The body, at most `MAX_HTTP_RESPONSE` bytes.
    pub body: Vec<u8>,
}

/// Why a transport got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// [`HostErrorKind::Network`], [`HostErrorKind::Timeout`],
    /// [`HostErrorKind::ResponseTooLarge`] or [`HostErrorKind::AddressNotAllowed`] (the
    /// others are the host's to decide).
    pub kind: HostErrorKind,
    /// What happened, for the plugin's logs.
    pub message: String,
}

impl TransportError {
    /// A connection, TLS, or protocol failure.
    pub fn network(message: impl Into<String>) -> Self {
        TransportError {
            kind: HostErrorKind::Network,
            message: message.into(),
        }
    }

    /// The timeout passed to [`HttpTransport::send`] ran out.
    pub fn timeout(message: impl Into<String>) -> Self {
        TransportError {
            kind: HostErrorKind::Timeout,
            message: message.into(),
        }
    }

    /// The URL's host resolved only to addresses the transport may not connect to
    /// (`otai_plugin_abi::rules::address`); nothing was sent.
    pub fn address_not_allowed(message: impl Into<String>) -> Self {
        TransportError {
            kind: HostErrorKind::AddressNotAllowed,
            message: message.into(),
        }
    }

    /// The response body exceeded the size cap.
    pub fn too_large(message: impl Into<String>) -> Self {
        TransportError {
            kind: HostErrorKind::ResponseTooLarge,
            message: message.into(),
        }
    }
}

/// Sends a plugin's (already checked) HTTP request.
///
/// Implementations are shared by every delivery, so they take `&self` and must be
/// `Send + Sync`.
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and waits at most `timeout` for the whole response.
    ///
    /// # Errors
    /// A [`TransportError`] when no response arrived in time or in one piece.
    fn send(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError>;
}

impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    fn send(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        (**self).send(request, timeout)
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    fn send(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        (**self).send(request, timeout)
    }
}
