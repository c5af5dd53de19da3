//! `ohd_http_request(req_ptr, req_len, resp_ptr_out, resp_len_out) -> status`: a request
//! to a host of `allowed_hosts`. Its public face is [`crate::http`]: the request
//! builder, the request as JSON (core flavour and stand-in) or as a record (component
//! flavour), the answer decoded into a response or a typed error.

/// The stand-in: the request judged by the contract's rules (`allowed_hosts` when the
/// manifest is known), recorded, and answered by the scripted mocks or with the host's
/// network error naming the closest script.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn native(request: &[u8]) -> (u32, Vec<u8>) {
    use crate::sys::native::with;
    use otai_plugin_abi::calls::HostErrorKind;
    use otai_plugin_abi::rules::http::{
        check_request, check_request_shape, decode_request, error_body,
    };
    use otai_plugin_abi::status;
    use otai_plugin_abi::testing::mock::unmatched_message;

    let mut request = match decode_request(request) {
        Ok(r) => r,
        Err(refusal) => return (refusal.status(), refusal.body()),
    };
    let checked = with(|s| match &s.allowed {
        Some(allowed) => check_request(&request, allowed),
        // Without the plugin's manifest every host is let through; the rest is checked.
        None => check_request_shape(&request),
    });
    let url = match checked {
        Ok(url) => url,
        Err(refusal) => {
            with(|s| s.recorded.http.push(request));
            return (refusal.status(), refusal.body());
        }
    };
    // As the host does: the URL that was judged is the one sent (and matched).
    request.url = url.into();
    with(|s| s.recorded.http.push(request.clone()));
    let answer = with(|s| s.mocks.find(&request.method, &request.url).cloned());
    match answer {
        Some(r) => (r.status, r.body),
        None => {
            let closest = with(|s| s.mocks.closest(&request.url).cloned());
            let message = unmatched_message(
                &request.method,
                &request.url,
                closest.as_ref(),
                "add one with `testing::mock_http`",
            );
            (
                status::HTTP_NO_RESPONSE,
                error_body(HostErrorKind::Network, &message, None),
            )
        }
    }
}

/// `http-request(request)`, `ohd_http_request`'s twin: the server's status and body, or
/// the host's error as the core flavour's error body would carry it.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
pub(crate) fn component(
    request: otai_plugin_abi::calls::HttpRequest,
) -> Result<(u16, Vec<u8>), otai_plugin_abi::calls::HostError> {
    use crate::sys::component::host;
    use crate::sys::component::types::{Method, Request, RequestError};
    use otai_plugin_abi::calls::{HostError, HostErrorKind};

    let method = match request.method.as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => {
            return Err(HostError {
                kind: HostErrorKind::InvalidRequest,
                message: format!(
                    "method `{other}` is not supported: use one of {}",
                    otai_plugin_abi::calls::HTTP_METHODS.join(", ")
                ),
                host: None,
            });
        }
    };
    let request = Request {
        method,
        url: request.url,
        headers: request.headers.into_iter().collect(),
        body: request.body,
    };
    match host::http_request(&request) {
        Ok(response) => Ok((response.status, response.body)),
        Err(error) => {
            let (kind, message, host) = match error {
                RequestError::HostNotAllowed(refusal) => (
                    HostErrorKind::HostNotAllowed,
                    refusal.message,
                    Some(refusal.host),
                ),
                RequestError::InvalidRequest(m) => (HostErrorKind::InvalidRequest, m, None),
                RequestError::Network(m) => (HostErrorKind::Network, m, None),
                RequestError::Timeout(m) => (HostErrorKind::Timeout, m, None),
                RequestError::ResponseTooLarge(m) => (HostErrorKind::ResponseTooLarge, m, None),
            };
            Err(HostError {
                kind,
                message,
                host,
            })
        }
    }
}
