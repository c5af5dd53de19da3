//! The desk the unit tests open: a mock transport (no request leaves the test) and a
//! fixed key, so that reopening the same folder opens the same sealed secrets.

use otai_plugin_host::http::MockHttp;

use crate::{Desk, DeskOptions};

/// The desk in `dir`, created or reopened.
pub(crate) fn open(dir: &std::path::Path) -> Desk {
    let options = DeskOptions {
        http: std::sync::Arc::new(MockHttp::new()),
        key: Some("ab".repeat(32)),
        ..DeskOptions::default()
    };
    Desk::open_with(dir, options).expect("the test desk opens")
}
