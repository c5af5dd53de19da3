//! Running a plugin with the reference host, as `run` and `test` do: production limits
//! (5 s deadline, 64 MiB memory, `allowed_hosts` enforced), HTTP answered by mocks, and
//! real network only when asked for.

use anyhow::{Context, Result};
use otai_plugin_host::http::{MockHttp, RealHttp};
use otai_plugin_host::{
    CustomFieldSet, DeliveryReport, Host, HttpExchange, LogLine, Outcome, PanelReport, Plugin,
    Reply,
};
use serde_json::Value;

use crate::mock::{HttpMock, MockError};
use crate::term::Shell;

/// The host's `MockHttp` answering as `mocks` say. A request no mock matches fails with
/// a network error whose message ends with `no_match`, or is sent for real with
/// `network` (still only to `allowed_hosts`, which the host enforces before any
/// transport).
pub(crate) fn transport(mocks: &[HttpMock], no_match: &str, network: Option<RealHttp>) -> MockHttp {
    let mut transport = MockHttp::new().unmatched_hint(no_match);
    for mock in mocks {
        let rule = transport.on(&mock.method, &mock.url);
        transport = match mock.error {
            Some(MockError::Timeout) => rule.timeout(),
            Some(MockError::Network) => rule.network_error("the connection failed (mocked)"),
            None => rule.respond(mock.status.unwrap_or(200), mock.response_body()),
        };
    }
    if let Some(real) = network {
        transport = transport.fallback(real);
    }
    transport
}

/// A warning for each request no mock answered, whatever the plugin then did (a plugin
/// that treats a network error as nothing to worry about still ends `ok`): the request,
/// and the mock it was most likely meant for.
pub(crate) fn unmatched_warnings(http: &[HttpExchange]) -> Vec<String> {
    http.iter()
        .filter_map(|x| x.error.as_ref())
        .filter_map(|e| otai_plugin_host::abi::testing::mock::unmatched(&e.message))
        .map(|u| u.to_string())
        .collect()
}

/// The proxy variables other HTTP clients read, which the host's transport ignores.
const PROXY_VARIABLES: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

/// The transport of `--allow-network`: the host's real client, reaching internal
/// addresses (loopback, private networks, …) only with `--allow-private-network`.
/// Says so when a proxy variable is set, since the client does not use it: a proxy
/// resolves names itself, where the host cannot check the address it connects to.
pub(crate) fn real_network(shell: &Shell, allow_private_network: bool) -> RealHttp {
    let set: Vec<&str> = PROXY_VARIABLES
        .into_iter()
        .filter(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
        .collect();
    if !set.is_empty() {
        shell.warn(format_args!(
            "{} set, and not used: the plugin's requests go straight to the allowed hosts, \
             as on the help desk (a proxy would resolve names out of reach of the host's \
             address check)",
            set.iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
                + if set.len() == 1 { " is" } else { " are" }
        ));
    }
    RealHttp::new().allow_internal_addresses(allow_private_network)
}

/// What one run produced: a delivery's report or a panel's, as the host typed them.
#[derive(Debug, Clone)]
pub(crate) enum Report {
    /// `on_event`.
    Delivery(DeliveryReport),
    /// `render_panel`.
    Panel(PanelReport),
}

impl Report {
    pub(crate) fn outcome(&self) -> &Outcome {
        match self {
            Report::Delivery(r) => &r.outcome,
            Report::Panel(r) => &r.outcome,
        }
    }

    pub(crate) fn logs(&self) -> &[LogLine] {
        match self {
            Report::Delivery(r) => &r.logs,
            Report::Panel(r) => &r.logs,
        }
    }

    pub(crate) fn http(&self) -> &[HttpExchange] {
        match self {
            Report::Delivery(r) => &r.http,
            Report::Panel(r) => &r.http,
        }
    }

    /// Replies: none from a panel, where ticket operations are not available.
    pub(crate) fn replies(&self) -> &[Reply] {
        match self {
            Report::Delivery(r) => &r.replies,
            Report::Panel(_) => &[],
        }
    }

    /// Custom fields: none from a panel.
    pub(crate) fn custom_fields(&self) -> &[CustomFieldSet] {
        match self {
            Report::Delivery(r) => &r.custom_fields,
            Report::Panel(_) => &[],
        }
    }

    /// The run's profile, when its host recorded one.
    pub(crate) fn profile(&self) -> Option<&otai_plugin_host::Profile> {
        match self {
            Report::Delivery(r) => r.profile.as_ref(),
            Report::Panel(r) => r.profile.as_ref(),
        }
    }

    /// What ran, for people: `ticket.created to com.example.slack`.
    pub(crate) fn title(&self) -> String {
        match self {
            Report::Delivery(r) => format!("{} to {}", r.event, r.plugin_id),
            Report::Panel(r) => format!("the panel of {} for {}", r.plugin_id, r.ticket_id),
        }
    }

    /// The fuel the run consumed (the CLI's hosts count it).
    pub(crate) fn fuel(&self) -> Option<u64> {
        match self {
            Report::Delivery(r) => r.fuel,
            Report::Panel(r) => r.fuel,
        }
    }

    /// The wall time of the run, in microseconds.
    pub(crate) fn total_us(&self) -> u64 {
        match self {
            Report::Delivery(r) => r.timings.total_us,
            Report::Panel(r) => r.timings.total_us,
        }
    }

    /// The URL a panel returned and the host accepted.
    pub(crate) fn panel_url(&self) -> Option<&str> {
        match self {
            Report::Delivery(_) => None,
            Report::Panel(r) => r.url.as_deref(),
        }
    }

    /// Whether the run did what it should: ended `ok` (and, for a panel, without a
    /// refused URL; `(0, 0)`, no panel for this ticket, is an answer too).
    pub(crate) fn succeeded(&self) -> bool {
        self.outcome().is_ok() && !matches!(self, Report::Panel(p) if p.refused.is_some())
    }

    /// The report as JSON, as `--format json` prints it.
    pub(crate) fn to_json(&self) -> Result<Value> {
        match self {
            Report::Delivery(r) => serde_json::to_value(r),
            Report::Panel(r) => serde_json::to_value(r),
        }
        .context("failed to encode the report")
    }
}

/// A host with the help desk's production limits around `transport`, with the plugin
/// loaded and installed with `config`.
///
/// Auto-disabling is off, so a run of failing fixtures keeps being delivered. It counts
/// the fuel of each run, which the desk does not: reports give the cost beside the
/// time, and fixtures can hold a budget. With `profile`, each report carries a profile
/// of its run (`--flamegraph`).
///
/// # Errors
/// The host cannot start, the module is refused, or the config does not fit.
pub(crate) fn host_with(
    wasm: &[u8],
    transport: MockHttp,
    config: Value,
    profile: bool,
) -> Result<(Host, Plugin)> {
    let host = Host::builder()
        .http(transport)
        .auto_disable(false)
        .count_fuel(true)
        .profile(profile)
        .build()
        .context("failed to start the reference host")?;
    let plugin = host.load(wasm).context("the host refused the module")?;
    host.install(&plugin, config)
        .context("the host refused the config")?;
    Ok((host, plugin))
}

/// The host's redaction of `plugin`'s secrets, to apply to expectations.
pub(crate) fn redactor<'a>(host: &'a Host, plugin: &'a Plugin) -> impl Fn(&str) -> String + 'a {
    move |text: &str| host.redact(plugin.id(), text)
}
