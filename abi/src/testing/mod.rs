//! What every test double of a host shares (feature `testing`): which scripted HTTP
//! answer a request gets, and the sample event payloads.
//!
//! The reference host's `MockHttp`, the `[[http]]` mocks of `cargo otai-plugin test`
//! fixtures and the SDK's `testing::mock_http` match requests with [`mock`]; the host's
//! `Event` builders, the SDK's `testing::payload` and the payload examples of
//! `docs/ABI.md` are [`sample`]s.

pub mod mock;
pub mod sample;
