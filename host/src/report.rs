//! What a delivery did: [`DeliveryReport`] and [`PanelReport`], and [`HostCall`], one
//! `ohd` call of it, with the record of each function's calls ([`host_call`]).
//!
//! Reports are plain data (serde `Serialize` + `Deserialize`, fields in a stable
//! order) so that tools can print them and tests can snapshot them; `timings` is the
//! one field that changes from run to run and may be left out when deserializing, and
//! `fuel` is there only when the host counts it.

use otai_plugin_abi::calls::{HostErrorKind, HttpRequest};
use otai_plugin_abi::status::LogLevel;
use serde::{Deserialize, Serialize};

use serde_json::Value;

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// `on_event` (or `render_panel`) returned.
    Ok,
    /// The plugin trapped: a wasm trap (a Rust panic is `unreachable`), an
    /// out-of-bounds buffer handed to a host function, a failed allocation, or fuel
    /// running out.
    Trapped {
        /// The trap, e.g. ``wasm trap: wasm `unreachable` instruction executed``, without
        /// the wasm backtrace.
        message: String,
        /// The plugin's own account of the failure: the line it logged at error level
        /// as its last host call before trapping. For a plugin built with the SDK, the
        /// panic message (`panicked at src/lib.rs:12:5: …`) or the handler's error
        /// (`on_event failed: …`). Reports from before this field was renamed called it
        /// `panic`.
        #[serde(default, alias = "panic", skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The wasm backtrace of the trap, one frame per line, when wasmtime captured
        /// one. Frames are function names from the module's `name` section, or numbers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backtrace: Option<String>,
    },
    /// The delivery's deadline ran out (in wasm code or during a host call).
    TimedOut,
    /// The host could not run the delivery at all (for example, every instance slot
    /// is in use); the plugin did not run and this does not count against its health.
    Rejected {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// Whether the delivery failed in a way that counts against the plugin's health
    /// ([`Outcome::Trapped`] and [`Outcome::TimedOut`]).
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Trapped { .. } | Outcome::TimedOut)
    }

    /// Whether this is [`Outcome::Ok`].
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    /// Its `status` as reports write it: `ok`, `trapped`, `timed_out`, `rejected`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Trapped { .. } => "trapped",
            Outcome::TimedOut => "timed_out",
            Outcome::Rejected { .. } => "rejected",
        }
    }
}

impl std::fmt::Display for Outcome {
    /// One line for people: `ok`, `trapped: <the plugin's reason> (<the trap>)`,
    /// `timed out`, `not run: <why>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Trapped {
                message,
                reason: Some(reason),
                ..
            } => write!(f, "trapped: {reason} ({message})"),
            Outcome::Trapped { message, .. } => write!(f, "trapped: {message}"),
            Outcome::TimedOut => f.write_str("timed out"),
            Outcome::Rejected { reason } => write!(f, "not run: {reason}"),
        }
    }
}

/// One line the plugin logged with `ohd_log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Its level (codes above 3 are logged at `error`).
    pub level: LogLevel,
    /// The text, decoded lossily (invalid UTF-8 becomes U+FFFD), cut at 16 KiB.
    pub message: String,
}

/// Why an HTTP request got no response (status 0) or was refused (403).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpError {
    /// The kind the plugin saw in the `ohd_error` body.
    pub kind: HostErrorKind,
    /// The explanation the plugin saw.
    pub message: String,
    /// For [`HostErrorKind::HostNotAllowed`] and [`HostErrorKind::AddressNotAllowed`]:
    /// the URL's host, as the allow-list compared it (lower case, without a trailing
    /// dot), as the error body names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// One `ohd_http_request` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpExchange {
    /// The request as the plugin made it, with the URL as the host sent it (serialized
    /// by the URL Standard, see docs/ABI.md); method and URL are empty when its JSON
    /// could not be parsed.
    pub request: HttpRequest,
    /// The status returned to the plugin: the server's, or 0 / 403 from the host.
    pub status: u32,
    /// Whether the host refused the request because its host is not in
    /// `allowed_hosts` (nothing was sent).
    pub blocked: bool,
    /// Set when the status came from the host rather than a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<HttpError>,
    /// The server's response body (lossy UTF-8, at most 16 KiB kept here unless the host
    /// records calls or keeps more, `HostBuilder::report_body_bytes`; the plugin received
    /// all of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
}

/// One `ohd_add_reply` call that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The ticket.
    pub ticket_id: String,
    /// The reply text.
    pub body: String,
    /// Whether it is an internal note.
    pub is_internal: bool,
}

/// One `ohd_set_custom_field` call that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldSet {
    /// The ticket.
    pub ticket_id: String,
    /// The field key.
    pub key: String,
    /// The new value.
    pub value: String,
}

macro_rules! host_calls {
    ($($group:ident {
        $(
            $(#[$doc:meta])*
            $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                returns $returns:literal;
                $(wit $wit:literal;)?
                since $since:literal;
                call $call:ident {
                    $($(#[$field_doc:meta])* $field:ident: $field_type:ty),* $(,)?
                };
        )*
    })*) => {
        /// What a report records of each `ohd` call: one record per function of the ABI's
        /// table, whose `call` column gives its fields (`otai_plugin_abi::wasm`), and
        /// which [`HostCall`] wraps.
        pub mod host_call {
            use serde::{Deserialize, Serialize};

            $($(
                #[doc = concat!("A call of `", stringify!($name), "`.")]
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
                pub struct $call {
                    $($(#[$field_doc])* pub $field: $field_type,)*
                }

                impl From<$call> for super::HostCall {
                    fn from(call: $call) -> super::HostCall {
                        super::HostCall::$call(call)
                    }
                }
            )*)*

            pub use super::HostCall;
        }

        /// One `ohd` call of a delivery, in the order the plugin made them: what it
        /// returned, and where the report keeps what it did. Recorded only by a host built
        /// with [`HostBuilder::record_calls`](crate::HostBuilder::record_calls), which
        /// conformance drivers and debuggers use to see the interleaving the separate
        /// lists do not show. A call that trapped the delivery (an out-of-bounds buffer,
        /// the deadline) is not listed. Serialized, a call is its record's fields beside
        /// `"function"`, the import's name: `{"function": "ohd_log", "line": 0}`.
        ///
        /// A function the ABI gains is a variant more: match with a wildcard arm.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "function", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum HostCall {
            $($(
                #[doc = concat!("A call of `", stringify!($name), "`.")]
                $call(host_call::$call),
            )*)*
        }

        impl HostCall {
            /// The import's name, `ohd_log`: what `"function"` holds when serialized.
            pub fn function(&self) -> &'static str {
                match self {
                    $($(HostCall::$call(_) => otai_plugin_abi::wasm::$constant.name,)*)*
                }
            }

            /// The call's entry in a conformance transcript (`conformance/README.md`),
            /// with what it points to in the report's lists written out: each function's
            /// file in `host/src/functions/` writes its own.
            fn transcript(&self, lists: &Lists<'_>) -> Value {
                match self {
                    $($(HostCall::$call(call) => Transcript::transcript(call, lists),)*)*
                }
            }
        }
    };
}
otai_plugin_abi::for_each_host_function!(host_calls);

/// A call's entry in a conformance transcript, which the function's own file writes.
pub(crate) trait Transcript {
    /// The entry, `{"fn": "ohd_log", …}`, with what the record points to in `lists`.
    fn transcript(&self, lists: &Lists<'_>) -> Value;
}

/// The lists of a report that the records of its calls point into, for their
/// transcript entries.
pub(crate) struct Lists<'a> {
    pub(crate) logs: &'a [LogLine],
    pub(crate) http: &'a [HttpExchange],
    pub(crate) replies: &'a [Reply],
    pub(crate) custom_fields: &'a [CustomFieldSet],
}

/// Where the time of a delivery went, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    /// From the start of the delivery to the report.
    pub total_us: u64,
    /// Creating the instance (including a wasm start function and `_initialize`).
    pub instantiate_us: u64,
    /// Writing the payload and calling the export.
    pub call_us: u64,
}

/// What one delivery of an event to one plugin did.
///
/// Known secret config values are replaced by `[redacted]` wherever they occur, as given
/// or encoded (JSON, percent-encoding, the URL parser's serialization of a URL holding
/// them: the request URLs here are the ones sent), and so are the credentials in `Authorization`, `Proxy-Authorization`, `Cookie` and
/// `X-Api-Key` request headers (the scheme, e.g. `Basic`, is kept). A secret that is a
/// URL on one of the plugin's `allowed_hosts`, which its manifest shows to anyone, keeps
/// `https://host/` where it is written whole: `https://hooks.slack.com/[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// The plugin's manifest id.
    pub plugin_id: String,
    /// The event name, e.g. `ticket.created`.
    pub event: String,
    /// How the delivery ended.
    pub outcome: Outcome,
    /// What the plugin logged, in order.
    pub logs: Vec<LogLine>,
    /// Its HTTP requests, in order.
    pub http: Vec<HttpExchange>,
    /// Replies it added.
    pub replies: Vec<Reply>,
    /// Custom fields it set.
    pub custom_fields: Vec<CustomFieldSet>,
    /// Every `ohd` call in order, when the host records them
    /// ([`HostBuilder::record_calls`](crate::HostBuilder::record_calls)); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<HostCall>,
    /// The fuel the delivery consumed, when the host counts it
    /// ([`HostBuilder::count_fuel`](crate::HostBuilder::count_fuel)): wasmtime's count of
    /// the wasm operators the plugin executed (most cost 1; bulk memory operations 1 per
    /// byte), from instantiation to the export's return or trap, its allocator calls
    /// included and the time spent in host calls not. The same for the same module,
    /// input and wasmtime version on any machine, unlike `timings`; another wasmtime, SDK
    /// or compiler changes it. Absent in snapshots, like `timings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Timings; absent in snapshots.
    #[serde(default)]
    pub timings: Timings,
    /// Where the delivery's time went, when the host records profiles
    /// ([`HostBuilder::profile`](crate::HostBuilder::profile)); never serialized.
    #[serde(skip)]
    pub profile: Option<crate::Profile>,
}

/// What a `render_panel` call produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelReport {
    /// The plugin's manifest id.
    pub plugin_id: String,
    /// The ticket the panel is for.
    pub ticket_id: String,
    /// How the call ended.
    pub outcome: Outcome,
    /// The URL for the iframe, when the plugin returned an acceptable one, with the
    /// installation's secrets redacted as everywhere in a report (a page loads
    /// [`PanelReport::embed_url`]). With an `ok` outcome and nothing `refused`, its
    /// absence means the plugin returned `(0, 0)`: no panel for this ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `url` before redaction; never serialized, never in `Debug`.
    #[serde(skip)]
    pub(crate) embed_url: Option<Unredacted>,
    /// Why the returned URL was refused (not UTF-8, not an http(s) URL, host not in
    /// `allowed_hosts`, too long), when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// What the plugin logged.
    pub logs: Vec<LogLine>,
    /// Its HTTP requests.
    pub http: Vec<HttpExchange>,
    /// Every `ohd` call in order, as for [`DeliveryReport::calls`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<HostCall>,
    /// The fuel the call consumed, as for [`DeliveryReport::fuel`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Timings; absent in snapshots.
    #[serde(default)]
    pub timings: Timings,
    /// The call's profile, as for [`DeliveryReport::profile`].
    #[serde(skip)]
    pub profile: Option<crate::Profile>,
}

impl PanelReport {
    /// The URL to load in the panel's iframe: [`url`](PanelReport::url) before the
    /// installation's secrets were redacted from it. A panel URL may carry a value of
    /// the config (a signed token, say) and only works with it; logs and reports get
    /// `url`. `None` for a report read back from JSON, which never holds it.
    pub fn embed_url(&self) -> Option<&str> {
        self.embed_url.as_ref().map(|u| u.0.as_str())
    }
}

/// A panel URL before redaction: its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Unredacted(pub(crate) String);

impl std::fmt::Debug for Unredacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[unredacted URL]")
    }
}

/// The replacement for a secret value in reports.
pub const REDACTED: &str = "[redacted]";

impl DeliveryReport {
    /// The report as pretty JSON without `timings` and `fuel`, for snapshots and
    /// readable panics: what depends on the machine, or on the build and the wasmtime
    /// version rather than on what the plugin did.
    pub fn to_snapshot(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.remove("timings");
            map.remove("fuel");
        }
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// `calls` as a conformance transcript gives them (`conformance/README.md`): one
    /// object per call, `fn` naming it, with what it points to in the report's lists
    /// written out.
    pub fn transcript_calls(&self) -> serde_json::Value {
        let lists = Lists {
            logs: &self.logs,
            http: &self.http,
            replies: &self.replies,
            custom_fields: &self.custom_fields,
        };
        self.calls.iter().map(|c| c.transcript(&lists)).collect()
    }
}

impl PanelReport {
    /// `calls` as a conformance transcript gives them, as
    /// [`DeliveryReport::transcript_calls`] does.
    pub fn transcript_calls(&self) -> serde_json::Value {
        let lists = Lists {
            logs: &self.logs,
            http: &self.http,
            replies: &[],
            custom_fields: &[],
        };
        self.calls.iter().map(|c| c.transcript(&lists)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_is_the_reports_own_tag() {
        let trapped = Outcome::Trapped {
            message: "t".into(),
            reason: Some("r".into()),
            backtrace: None,
        };
        for outcome in [
            Outcome::Ok,
            trapped,
            Outcome::TimedOut,
            Outcome::Rejected { reason: "r".into() },
        ] {
            let json = serde_json::to_value(&outcome).unwrap();
            assert_eq!(json["status"], outcome.status(), "{outcome:?}");
        }
    }

    #[test]
    fn only_ok_is_ok_and_only_traps_and_timeouts_are_failures() {
        let trapped = Outcome::Trapped {
            message: "t".into(),
            reason: None,
            backtrace: None,
        };
        let rejected = Outcome::Rejected { reason: "r".into() };
        assert!(Outcome::Ok.is_ok() && !Outcome::Ok.is_failure());
        for failed in [&trapped, &Outcome::TimedOut] {
            assert!(!failed.is_ok() && failed.is_failure(), "{failed:?}");
        }
        assert!(!rejected.is_ok() && !rejected.is_failure());
    }

    use super::host_call::OhdAddReply;

    /// The JSON of the variants of ABI 1.0 as reports and debuggers have always read it
    /// (before the variants wrapped records, when they were struct variants): any change
    /// to a field's name, type or order, or to the tag, fails here. A function added
    /// later needs no line here: its JSON is new, and the next test holds its tag.
    const JSON: &[&str] = &[
        r#"{"function":"ohd_log","line":3}"#,
        r#"{"function":"ohd_log","line":null}"#,
        r#"{"function":"ohd_http_request","exchange":0}"#,
        r#"{"function":"ohd_add_reply","status":0,"reply":1}"#,
        r#"{"function":"ohd_add_reply","status":2,"reply":null}"#,
        r#"{"function":"ohd_set_custom_field","status":0,"field":0}"#,
        r#"{"function":"ohd_set_custom_field","status":3,"field":null}"#,
        r#"{"function":"ohd_alloc","size":16,"ptr":1024}"#,
        r#"{"function":"ohd_free","ptr":1024,"size":16}"#,
    ];

    #[test]
    fn every_call_serializes_as_it_always_did() {
        for json in JSON {
            let call: HostCall = serde_json::from_str(json).unwrap();
            assert_eq!(serde_json::to_string(&call).unwrap(), *json, "{call:?}");
            assert!(json.starts_with(&format!(r#"{{"function":"{}""#, call.function())));
        }
        // Built in code, not only read back: the record's fields, in its order.
        let built = HostCall::from(OhdAddReply {
            status: 0,
            reply: Some(1),
        });
        assert_eq!(serde_json::to_string(&built).unwrap(), JSON[3]);
    }

    #[test]
    fn every_host_function_of_the_table_has_a_call_of_its_own() {
        // A call is read back by its tag, `function`, the import's name: a row of the
        // ABI's table without a variant is an unknown variant, whatever its fields.
        for f in otai_plugin_abi::wasm::HOST_FUNCTIONS {
            let read =
                serde_json::from_value::<HostCall>(serde_json::json!({ "function": f.name }));
            if let Err(e) = read {
                assert!(
                    !e.to_string().contains("unknown variant"),
                    "`{}` has no `HostCall` variant, so its calls are missing from \
                     `calls` in reports and transcripts: {e}",
                    f.name
                );
            }
        }
    }
}
