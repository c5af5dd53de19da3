//! [`HostCall`], one `ohd` call of a delivery, and the record of each function's calls.
//!
//! Expanded from the ABI's table (`otai_plugin_abi::for_each_host_function!`): a
//! variant per row, named by its `call` column, wrapping the record of that name which
//! the function's own file in the host defines. Serialized, a call is its record's
//! fields beside `"function"`, the import's name: `{"function": "ohd_log", "line": 0}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::functions::Lists;

macro_rules! host_call {
    ($($group:ident {
        $(
            $(#[$doc:meta])*
            $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                returns $returns:literal;
                $(wit $wit:literal;)?
                since $since:literal;
                call $call:ident;
        )*
    })*) => {
        $($(
            pub use crate::functions::$name::$call;

            impl From<$call> for HostCall {
                fn from(call: $call) -> HostCall {
                    HostCall::$call(call)
                }
            }
        )*)*

        /// One `ohd` call of a delivery, in the order the plugin made them: what it
        /// returned, and where the report keeps what it did. Recorded only by a host built
        /// with [`HostBuilder::record_calls`](crate::HostBuilder::record_calls), which
        /// conformance drivers and debuggers use to see the interleaving the separate
        /// lists do not show. A call that trapped the delivery (an out-of-bounds buffer,
        /// the deadline) is not listed.
        ///
        /// A function the ABI gains is a variant more: match with a wildcard arm.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "function", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum HostCall {
            $($(
                #[doc = concat!("A call of `", stringify!($name), "`.")]
                $call($call),
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
            /// with what it points to in the report's lists written out.
            pub(crate) fn transcript(&self, lists: &Lists<'_>) -> Value {
                match self {
                    $($(HostCall::$call(call) => call.transcript(lists),)*)*
                }
            }
        }
    };
}
otai_plugin_abi::for_each_host_function!(host_call);

#[cfg(test)]
mod tests {
    use super::*;

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
