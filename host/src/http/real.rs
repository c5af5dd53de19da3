//! The real HTTP client, on `ureq` with rustls.

use std::io::Read;
use std::time::Duration;

use otai_plugin_abi::calls::HttpRequest;
use otai_plugin_abi::limits::MAX_HTTP_RESPONSE;
use ureq::http;

use super::{HttpResponse, HttpTransport, TransportError};

/// Sends requests with `ureq` (rustls, webpki roots).
///
/// - Each request is bounded by the timeout it is given (the delivery's remaining
///   deadline), covering DNS, connecting, TLS, sending and receiving the whole body.
/// - Redirects are not followed: a 3xx response is returned as it is.
/// - Any status is a response (4xx and 5xx are not errors).
/// - A body over 4 MiB fails with `response_too_large`; at most 4 MiB + 1 byte is
///   ever read.
///
/// Connections are pooled across deliveries by the underlying agent.
#[derive(Debug, Clone)]
pub struct RealHttp {
    agent: ureq::Agent,
}

impl Default for RealHttp {
    fn default() -> Self {
        RealHttp::new()
    }
}

impl RealHttp {
    /// A client with the settings above.
    pub fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .user_agent(concat!("otai-plugin-host/", env!("CARGO_PKG_VERSION")))
            .build();
        RealHttp {
            agent: config.new_agent(),
        }
    }

    fn run<B: ureq::AsSendBody>(
        &self,
        request: http::Request<B>,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        let mut response = self.agent.run(request).map_err(classify)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let limit = MAX_HTTP_RESPONSE as u64 + 1;
        response
            .body_mut()
            .as_reader()
            .take(limit)
            .read_to_end(&mut body)
            .map_err(|e| classify(ureq::Error::from(e)))?;
        if body.len() > MAX_HTTP_RESPONSE {
            return Err(TransportError::too_large(format!(
                "the response body is larger than {MAX_HTTP_RESPONSE} bytes"
            )));
        }
        Ok(HttpResponse { status, body })
    }
}

fn classify(error: ureq::Error) -> TransportError {
    match error {
        ureq::Error::Timeout(_) => TransportError::timeout(format!("timed out: {error}")),
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::timeout(format!("timed out: {error}"))
        }
        ureq::Error::BodyExceedsLimit(_) => TransportError::too_large(error.to_string()),
        other => TransportError::network(other.to_string()),
    }
}

impl HttpTransport for RealHttp {
    fn send(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let built = match &request.body {
            Some(body) => builder
                .body(body.clone().into_bytes())
                .map(|r| self.run(r, timeout)),
            None => builder.body(()).map(|r| self.run(r, timeout)),
        };
        built.unwrap_or_else(|e| Err(TransportError::network(format!("invalid request: {e}"))))
    }
}
