//! The real HTTP client, on `ureq` with rustls, and the address screening of its name
//! resolution.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use otai_plugin_abi::calls::HttpRequest;
use otai_plugin_abi::limits::MAX_HTTP_RESPONSE;
use otai_plugin_abi::rules::address::{InternalAddresses, screen_addresses};
use otai_plugin_abi::rules::http::{RequestRefusal, normalize_allowed_host};
use ureq::config::Config;
use ureq::http::{self, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::{HttpResponse, HttpTransport, TransportError};

/// A name lookup for [`RealHttp::resolver`]: a host name (never an IP literal) to its
/// addresses.
type Lookup = dyn Fn(&str) -> std::io::Result<Vec<IpAddr>> + Send + Sync;

/// Sends requests with `ureq` (rustls, webpki roots).
///
/// - Each request is bounded by the timeout it is given (the delivery's remaining
///   deadline), covering DNS, connecting, TLS, sending and receiving the whole body.
/// - It connects only to addresses that
///   [`screen_addresses`](otai_plugin_abi::rules::address::screen_addresses) keeps: every
///   address the URL's host resolves to is checked, and the connection is made to the
///   checked ones only, so a second, different DNS answer cannot slip through. By default
///   no internal address (loopback, private, link-local, …) is kept unless the URL names
///   it as an IP literal; when none is left the request fails with
///   `address_not_allowed`, naming the host and the addresses, and no connection is made.
///   [`RealHttp::allow_internal_addresses`] keeps them all.
/// - No proxy: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` are ignored. A
///   proxy resolves the name itself, out of reach of the check above, and a variable set
///   for other programs would silently send plugins' requests (and their secrets)
///   through it.
/// - Redirects are not followed: a 3xx response is returned as it is.
/// - Any status is a response (4xx and 5xx are not errors).
/// - A body over 4 MiB fails with `response_too_large`; at most 4 MiB + 1 byte is
///   ever read.
///
/// Connections are pooled across deliveries by the underlying agent.
#[derive(Debug, Clone)]
pub struct RealHttp {
    agent: ureq::Agent,
    resolver: ScreeningResolver,
}

impl Default for RealHttp {
    fn default() -> Self {
        RealHttp::new()
    }
}

impl RealHttp {
    /// A client with the settings above, resolving names with the system's resolver
    /// and refusing internal addresses.
    pub fn new() -> Self {
        RealHttp::with(ScreeningResolver {
            lookup: None,
            internal: InternalAddresses::Refuse,
        })
    }

    /// Whether requests may connect to internal addresses (loopback, private, link-local,
    /// carrier-grade NAT, …: [`AddressClass`](otai_plugin_abi::rules::address::AddressClass)
    /// lists them): for a help desk whose plugins call services on its own network, or
    /// a plugin run against a local server. Default `false`: only an internal address
    /// written in the URL itself (and so listed in `allowed_hosts`) is reached.
    pub fn allow_internal_addresses(self, allow: bool) -> Self {
        RealHttp::with(ScreeningResolver {
            internal: if allow {
                InternalAddresses::Allow
            } else {
                InternalAddresses::Refuse
            },
            ..self.resolver
        })
    }

    /// Resolves host names with `lookup` instead of the system's resolver (`lookup` is
    /// never asked about an IP literal). Its answers are screened as the system's are.
    /// It runs on the delivering thread and is not bounded by the delivery's deadline,
    /// so it must answer in good time itself. Default: the system's resolver, bounded by
    /// the deadline.
    pub fn resolver(
        self,
        lookup: impl Fn(&str) -> std::io::Result<Vec<IpAddr>> + Send + Sync + 'static,
    ) -> Self {
        RealHttp::with(ScreeningResolver {
            lookup: Some(Arc::new(lookup)),
            ..self.resolver
        })
    }

    fn with(resolver: ScreeningResolver) -> Self {
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .proxy(None)
            .user_agent(concat!("otai-plugin-host/", env!("CARGO_PKG_VERSION")))
            .build();
        RealHttp {
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver.clone()),
            resolver,
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
    if let ureq::Error::Io(io) = &error
        && let Some(refusal) = io
            .get_ref()
            .and_then(|e| e.downcast_ref::<RequestRefusal>())
    {
        return TransportError::address_not_allowed(refusal.message.clone());
    }
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

/// The name resolution of [`RealHttp`]: looks the URL's host up, and hands the connector
/// only the addresses [`screen_addresses`] keeps, or fails with its refusal (carried in
/// an I/O error for [`classify`] to find) before any connection is attempted.
#[derive(Clone)]
struct ScreeningResolver {
    /// `None`: the system's resolver.
    lookup: Option<Arc<Lookup>>,
    internal: InternalAddresses,
}

impl std::fmt::Debug for ScreeningResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScreeningResolver")
            .field(
                "lookup",
                &if self.lookup.is_some() {
                    "custom"
                } else {
                    "system"
                },
            )
            .field("internal", &self.internal)
            .finish()
    }
}

impl ScreeningResolver {
    /// Every address of `uri`'s host, with the URL's port.
    fn look_up(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<Vec<SocketAddr>, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        if let Ok(ip) = normalize_allowed_host(host).parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        match &self.lookup {
            None => Ok(DefaultResolver::default()
                .resolve(uri, config, timeout)?
                .to_vec()),
            Some(lookup) => Ok(lookup(host)
                .map_err(|e| {
                    ureq::Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("cannot resolve `{host}`: {e}"),
                    ))
                })?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect()),
        }
    }
}

impl Resolver for ScreeningResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let answers = self.look_up(uri, config, timeout)?;
        let ips: Vec<IpAddr> = answers.iter().map(SocketAddr::ip).collect();
        let host = uri.host().unwrap_or_default();
        let kept = screen_addresses(host, &ips, self.internal)
            .map_err(|refusal| ureq::Error::Io(std::io::Error::other(refusal)))?;
        let mut result = self.empty();
        for addr in answers.into_iter().filter(|a| kept.contains(&a.ip())) {
            if result.try_push(addr).is_err() {
                break;
            }
        }
        if result.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_abi::calls::HostErrorKind;

    use super::*;

    fn resolver(answers: &'static [&'static str]) -> ScreeningResolver {
        ScreeningResolver {
            lookup: Some(Arc::new(move |_: &str| {
                Ok(answers.iter().map(|a| a.parse().unwrap()).collect())
            })),
            internal: InternalAddresses::Refuse,
        }
    }

    fn resolve(resolver: &ScreeningResolver, url: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let uri: Uri = url.parse().unwrap();
        resolver
            .resolve(&uri, &Config::default(), NextTimeout::default())
            .map(|addrs| addrs.to_vec())
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    /// What the resolver returns is all the connector is given (ureq's `run` hands its
    /// answer to the connector as `ConnectionDetails::addrs`): a mixed answer cannot
    /// lead to a connection to its internal addresses, whichever comes first.
    #[test]
    fn a_mixed_answer_hands_the_connector_only_its_public_addresses() {
        let mixed = resolver(&[
            "127.0.0.1",
            "8.8.8.8",
            "::ffff:10.0.0.1",
            "169.254.169.254",
            "2606:4700::1111",
            "::1",
        ]);
        assert_eq!(
            resolve(&mixed, "http://svc.example:8080/x").unwrap(),
            addrs(&["8.8.8.8:8080", "[2606:4700::1111]:8080"])
        );
        assert_eq!(
            resolve(&mixed, "https://svc.example/").unwrap(),
            addrs(&["8.8.8.8:443", "[2606:4700::1111]:443"])
        );
        let allowing = ScreeningResolver {
            internal: InternalAddresses::Allow,
            ..mixed
        };
        assert_eq!(resolve(&allowing, "http://svc.example/").unwrap().len(), 6);
    }

    #[test]
    fn an_all_internal_answer_is_the_refusal_that_classify_reports() {
        let error =
            resolve(&resolver(&["10.0.0.1", "fd00::1"]), "http://svc.example/").unwrap_err();
        let reported = classify(error);
        assert_eq!(reported.kind, HostErrorKind::AddressNotAllowed);
        assert!(
            reported.message.starts_with(
                "host `svc.example` resolves only to internal addresses (10.0.0.1: private; \
                 fd00::1: private)"
            ),
            "{}",
            reported.message
        );
        // An ordinary I/O error is still a network error.
        let io = classify(ureq::Error::Io(std::io::Error::other("reset")));
        assert_eq!(io.kind, HostErrorKind::Network);
    }

    #[test]
    fn an_ip_literal_is_not_looked_up_and_keeps_its_own_address() {
        let never = ScreeningResolver {
            lookup: Some(Arc::new(|host: &str| panic!("`{host}` was looked up"))),
            internal: InternalAddresses::Refuse,
        };
        assert_eq!(
            resolve(&never, "http://127.0.0.1:9/").unwrap(),
            addrs(&["127.0.0.1:9"])
        );
        assert_eq!(
            resolve(&never, "http://[::1]/").unwrap(),
            addrs(&["[::1]:80"])
        );
    }

    #[test]
    fn a_failed_lookup_names_the_host_and_an_empty_one_is_not_found() {
        let failing = ScreeningResolver {
            lookup: Some(Arc::new(|_: &str| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such name",
                ))
            })),
            internal: InternalAddresses::Refuse,
        };
        let error = classify(resolve(&failing, "http://gone.example/").unwrap_err());
        assert_eq!(error.kind, HostErrorKind::Network);
        assert!(
            error
                .message
                .contains("cannot resolve `gone.example`: no such name"),
            "{}",
            error.message
        );
        assert!(matches!(
            resolve(&resolver(&[]), "http://empty.example/"),
            Err(ureq::Error::HostNotFound)
        ));
    }
}
