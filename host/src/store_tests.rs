//! The stores a [`HostBuilder`] is given are the ones its host keeps health and custom
//! fields in, and the fields they are given are those the reports show.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use otai_plugin_test_support::{FIELD, LOG, Module, data};

use crate::http::MockHttp;
use crate::{
    CustomFieldSet, Event, HealthPolicy, HealthStatus, HealthStore, HostBuilder, MemoryHealthStore,
    PluginHealth, TicketStore,
};

/// What the stores below were given, in order.
#[derive(Default)]
struct Seen {
    outcomes: Mutex<Vec<(String, bool)>>,
    sets: Mutex<Vec<(String, CustomFieldSet)>>,
    fields: Mutex<BTreeMap<String, String>>,
}

/// A health store that counts in memory, as the default does, and lists outcomes.
struct Health(Arc<Seen>, MemoryHealthStore);
struct PluginHealthSeen(Arc<Seen>, String, Arc<dyn PluginHealth>);

impl HealthStore for Health {
    fn plugin(&self, plugin_id: &str) -> Arc<dyn PluginHealth> {
        Arc::new(PluginHealthSeen(
            self.0.clone(),
            plugin_id.to_owned(),
            self.1.plugin(plugin_id),
        ))
    }
}

impl PluginHealth for PluginHealthSeen {
    fn is_enabled(&self) -> bool {
        self.2.is_enabled()
    }
    fn record(&self, failed: bool, policy: &HealthPolicy) -> Option<HealthStatus> {
        self.0
            .outcomes
            .lock()
            .unwrap()
            .push((self.1.clone(), failed));
        self.2.record(failed, policy)
    }
    fn status(&self, policy: &HealthPolicy) -> HealthStatus {
        self.2.status(policy)
    }
    fn enable(&self) {
        self.2.enable();
    }
    fn disable(&self) {
        self.2.disable();
    }
}

/// One ticket's fields, whatever the ticket; lists the sets.
struct Tickets(Arc<Seen>);

impl TicketStore for Tickets {
    fn fields_for_delivery(&self, _: &str) -> Option<BTreeMap<String, String>> {
        Some(self.0.fields.lock().unwrap().clone())
    }
    fn record_sets(&self, plugin_id: &str, sets: &[CustomFieldSet]) {
        for set in sets {
            self.0
                .sets
                .lock()
                .unwrap()
                .push((plugin_id.to_owned(), set.clone()));
        }
    }
    fn fields(&self, _: &str) -> BTreeMap<String, String> {
        self.0.fields.lock().unwrap().clone()
    }
    fn clear(&self) {
        self.0.fields.lock().unwrap().clear();
    }
}

/// Logs its payload, sets a field, then traps.
fn failing_field_setter() -> Vec<u8> {
    let set = format!(
        r#"{{"ticket_id":"{}","key":"k","value":"v"}}"#,
        crate::DEFAULT_TICKET_ID
    );
    Module::new()
          .imports(&[LOG, FIELD])
          .body(&format!(
              r#"(func (export "on_event") (param $p i32) (param $n i32)
  (call $log (local.get $p) (local.get $n) (i32.const 1))
  (drop (call $field (i32.const 100) (i32.const {len})))
  unreachable)
{data}"#,
              len = set.len(),
              data = data(100, &set)
          ))
          .manifest(
              r#"{"id":"com.example.stores","name":"Stores","version":"1.0.0","description":"Sets a field, fails.","events":["ticket.created"]}"#,
          )
          .wasm()
}

#[test]
fn the_stores_given_keep_health_and_custom_fields() {
    let seen = Arc::new(Seen::default());
    seen.fields
        .lock()
        .unwrap()
        .insert("from_store".into(), "yes".into());
    let host = HostBuilder::default()
        .http(MockHttp::new())
        .health_store(Health(seen.clone(), MemoryHealthStore::default()))
        .ticket_store(Tickets(seen.clone()))
        .build()
        .unwrap();
    let plugin = host.load(&failing_field_setter()).unwrap();
    host.install(&plugin, serde_json::json!({})).unwrap();
    let id = "com.example.stores";

    let report = host.deliver_to(id, &Event::ticket_created()).unwrap();
    assert!(report.outcome.is_failure(), "{:?}", report.outcome);
    // The store's fields are in the payload the plugin got.
    assert!(
        report.logs[0]
            .message
            .contains(r#""custom_fields":{"from_store":"yes"}"#),
        "{}",
        report.logs[0].message
    );
    assert_eq!(*seen.outcomes.lock().unwrap(), [(id.to_owned(), true)]);
    let sets = seen.sets.lock().unwrap().clone();
    assert_eq!(sets.len(), 1);
    assert_eq!(
        (
            sets[0].0.as_str(),
            sets[0].1.key.as_str(),
            sets[0].1.value.as_str()
        ),
        (id, "k", "v")
    );
    // The host reads health and fields back from the stores.
    let health = host.health(id).unwrap();
    assert_eq!((health.deliveries, health.failures), (1, 1));
    assert_eq!(host.custom_fields("any")["from_store"], "yes");
    host.forget_custom_fields();
    assert!(seen.fields.lock().unwrap().is_empty());
    // A reinstall keeps the plugin's health: the store is not asked again.
    host.install(&plugin, serde_json::json!({})).unwrap();
    assert_eq!(host.health(id).unwrap().deliveries, 1);
}

/// Both stores, the default one and a given one, are given the field as the report
/// shows it: a store never holds the secret (the desk's database keeps secrets only
/// sealed), and the next delivery carries what the report said was set.
#[test]
fn a_secret_a_plugin_writes_into_a_field_is_stored_redacted() {
    let set = format!(
        r#"{{"ticket_id":"{}","key":"k","value":"token s3cr3t"}}"#,
        crate::DEFAULT_TICKET_ID
    );
    let wasm = Module::new()
          .imports(&[FIELD])
          .body(&format!(
              r#"(func (export "on_event") (param i32 i32)
  (drop (call $field (i32.const 100) (i32.const {len}))))
{data}"#,
              len = set.len(),
              data = data(100, &set)
          ))
          .manifest(
              r#"{"id":"com.example.leak","name":"Leak","version":"1.0.0","description":"Leaks.","events":["ticket.created"],"config_schema":{"token":{"type":"string","secret":true}}}"#,
          )
          .wasm();
    let seen = Arc::new(Seen::default());
    for host in [
        HostBuilder::default().http(MockHttp::new()),
        HostBuilder::default()
            .http(MockHttp::new())
            .ticket_store(Tickets(seen.clone())),
    ] {
        let host = host.build().unwrap();
        let plugin = host.load(&wasm).unwrap();
        host.install(&plugin, serde_json::json!({"token": "s3cr3t"}))
            .unwrap();
        host.deliver(&Event::ticket_created());
        if seen.sets.lock().unwrap().is_empty() {
            assert_eq!(
                host.custom_fields(crate::DEFAULT_TICKET_ID)["k"],
                "token [redacted]"
            );
        }
    }
    assert_eq!(seen.sets.lock().unwrap()[0].1.value, "token [redacted]");
}

#[test]
fn a_default_stores_setting_beside_a_given_store_is_refused() {
    let seen = Arc::new(Seen::default());
    let clock = HostBuilder::default()
        .http(MockHttp::new())
        .clock(crate::ManualClock::new())
        .health_store(Health(seen.clone(), MemoryHealthStore::default()))
        .build()
        .unwrap_err();
    assert!(
        clock
            .to_string()
            .contains("`clock` times the host's default health store"),
        "{clock}"
    );
    let tickets = HostBuilder::default()
        .http(MockHttp::new())
        .ticket_store(Tickets(seen))
        .custom_field_tickets(10)
        .build()
        .unwrap_err();
    assert!(
        tickets
            .to_string()
            .contains("`custom_field_tickets` sizes the host's default ticket store"),
        "{tickets}"
    );
}
