//! A logged delivery written as a fixture: a delivery logged before the log kept what a
//! fixture needs says so, and the web UI's download holds no secret.

use otai_plugin_desk::DeskError;
use otai_plugin_test_support::{LOG, Module};
use serde_json::json;

use crate::common::open_desk;

#[test]
fn a_delivery_logged_before_the_log_kept_its_payload_cannot_be_a_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = Module::new()
        .import(LOG)
        .body(
            r#"(func (export "on_event") (param i32 i32)
    (call $log (i32.const 0) (i32.const 5) (i32.const 1)))
  (data (i32.const 0) "hello")"#,
        )
        .manifest(
            &json!({"id": "com.example.old", "name": "Old", "version": "1.0.0",
                    "description": "d", "events": ["ticket.created"]})
            .to_string(),
        )
        .wasm();
    {
        let desk = open_desk(dir.path());
        desk.install(&wasm).unwrap();
        desk.deliver("ticket.created", "T-1").unwrap();
        desk.deliver("ticket.created", "T-1").unwrap();
    }
    // The first as a desk before the migration logged it: no record beside its report.
    let db = rusqlite::Connection::open(dir.path().join(otai_plugin_desk::DATABASE_FILE)).unwrap();
    db.execute("UPDATE deliveries SET replay = NULL WHERE seq = 1", [])
        .unwrap();
    drop(db);

    let desk = open_desk(dir.path());
    let log = desk.deliveries("com.example.old", 10).unwrap();
    assert_eq!(
        log.iter().map(|d| (d.seq, d.fixture)).collect::<Vec<_>>(),
        [(2, true), (1, false)]
    );
    let err = desk.fixture("com.example.old", Some(1)).unwrap_err();
    assert!(
        matches!(err, DeskError::NoFixture { seq: 1, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(
            "delivery #1 of `com.example.old` cannot be written as a fixture: it was logged by \
             a desk that did not keep the payload as delivered"
        ),
        "{err}"
    );
    let newest = desk.fixture("com.example.old", None).unwrap();
    assert!(
        newest.contains("Delivery #2 of `com.example.old`"),
        "{newest}"
    );
    assert!(newest.contains("contains = \"hello\""), "{newest}");
    let err = desk.fixture("com.example.old", Some(9)).unwrap_err();
    assert!(
        matches!(err, DeskError::NoDelivery { seq: Some(9), .. }),
        "{err:?}"
    );
}

#[cfg(feature = "web")]
#[test]
fn the_delivery_log_downloads_a_delivery_as_a_fixture_without_its_secret() {
    const SECRET: &str = "s3cr3t-T0KEN-of-the-web";
    let server = crate::common::start();
    let (status, _) = server.post(
        "/plugins/com.example.web/config",
        &[("token", SECRET), ("channel", "#ops")],
    );
    assert!(status < 400, "{status}");
    let (status, _) = server.post("/tickets", &[("subject", "Printer on fire")]);
    assert!(status < 400, "{status}");
    let (_, page) = server.get("/plugins/com.example.web");
    let link = "/plugins/com.example.web/deliveries/1/fixture";
    assert!(page.contains(link), "{page}");

    let mut response = crate::common::agent()
        .get(&format!("{}{link}", server.base))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let header = |name: &str| crate::common::header(&response, name);
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"delivery-1.toml\""
    );
    assert!(header("content-type").starts_with("application/toml"));
    assert!(!header("content-security-policy").is_empty());
    let toml = response.body_mut().read_to_string().unwrap();
    assert!(toml.contains("token = \"FILL-IN-token\""), "{toml}");
    assert!(toml.contains("channel = \"#ops\""), "{toml}");
    assert!(
        !toml.contains("s3cr3t") && !toml.contains("T0KEN"),
        "{toml}"
    );

    let (status, _) = server.get("/plugins/com.example.web/deliveries/7/fixture");
    assert_eq!(status, 404);
}
