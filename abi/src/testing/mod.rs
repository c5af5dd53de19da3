//! What every test double of a host shares (feature `testing`): which scripted HTTP
//! answer a request gets.
//!
//! The reference host's `MockHttp`, the `[[http]]` mocks of `cargo otai-plugin test`
//! fixtures and the SDK's `testing::mock_http` match requests with [`mock`]. The sample
//! event payloads are not test doubles: hosts fill partial events from them, so they are
//! `event::sample` (feature `sample`).

pub mod mock;
