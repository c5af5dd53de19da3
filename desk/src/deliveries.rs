//! Delivering events about tickets to the installed plugins, and the delivery log.

use std::sync::{Arc, Mutex};

use otai_plugin_abi::event::EventKind;
use otai_plugin_host::{DeliveryReport, Event, Host};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::batch::BATCH;
use crate::database::Database;
use crate::error::DeskError;
use crate::flamegraphs::{self, FLAMEGRAPH_DIR, FlameGraphs};
use crate::plugins::{Plugins, row};
use crate::recent_events::RecentEvents;
use crate::replay_record::{self, ReplayRecord, record_json, take_bodies};
use crate::store::{Store, lock, now_ms};
use crate::ticket_records::{
    Ticket, TicketReply, apply, custom_fields, replies, stored_ticket, write_ticket,
};
use crate::tickets::Tickets;

/// What [`Desk::fire`](crate::Desk::fire) did.
#[derive(Debug, Clone)]
pub struct Fired {
    /// Each plugin's delivery, in order.
    pub reports: Vec<DeliveryReport>,
    /// The ticket as the deliveries left it.
    pub ticket: Ticket,
}

/// One delivery in the log.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Its number, increasing.
    pub seq: i64,
    /// The plugin's version then.
    pub version: String,
    /// The ticket.
    pub ticket_id: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// What the host reported, secrets redacted.
    pub report: DeliveryReport,
    /// Whether the log kept what a fixture needs
    /// ([`Desk::fixture`](crate::Desk::fixture)): deliveries logged before the desk's
    /// schema version 7 did not.
    pub fixture: bool,
    /// Whether its flame graph is in the data directory
    /// ([`Desk::flamegraph`](crate::Desk::flamegraph)): the desk recorded profiles
    /// ([`DeskOptions::flamegraphs`](crate::DeskOptions::flamegraphs)), the plugin's code
    /// ran, and the graph is among the last kept.
    pub flamegraph: bool,
}

impl Delivery {
    /// When it was delivered, as the pages show it: `2026-12-07 19:31:34 UTC`.
    pub fn at_utc(&self) -> String {
        crate::clock::utc_text(self.at_ms)
    }
}

/// Delivering events to the plugins, and the delivery log; the health the host judges
/// by is recorded through the desk's stores ([`crate::health`]).
pub(crate) struct Deliveries {
    db: Arc<Database>,
    host: Arc<Host>,
    tickets: Tickets,
    /// Loads the plugins subscribed to an event at their first delivery.
    plugins: Arc<Plugins>,
    /// The last event delivered about each ticket lately.
    recent: Mutex<RecentEvents>,
    /// How deliveries are drawn, for a desk that records their profiles.
    flamegraphs: Option<FlameGraphs>,
}

impl Deliveries {
    pub(crate) fn new(
        db: Arc<Database>,
        host: Arc<Host>,
        tickets: Tickets,
        plugins: Arc<Plugins>,
        flamegraphs: Option<FlameGraphs>,
    ) -> Deliveries {
        Deliveries {
            db,
            host,
            tickets,
            plugins,
            recent: Mutex::default(),
            flamegraphs,
        }
    }

    /// See [`Desk::deliver`](crate::Desk::deliver).
    pub(crate) fn deliver(
        &self,
        event: &str,
        ticket_id: &str,
    ) -> Result<Vec<DeliveryReport>, DeskError> {
        let ticket = self.tickets.ticket_now(ticket_id)?;
        let event = lock(&self.recent).event(event, ticket_id, &ticket)?;
        Ok(self.deliver_event(&event, ticket_id)?.0)
    }

    /// See [`Desk::fire`](crate::Desk::fire).
    pub(crate) fn fire(
        &self,
        ticket_id: &str,
        event: &str,
        changes: Map<String, Value>,
        data: Map<String, Value>,
    ) -> Result<Fired, DeskError> {
        let (event, mut ticket) = {
            let store = self.db.store()?;
            let mut fields = stored_ticket(&store, ticket_id)?;
            apply(&mut fields, changes);
            let mut ticket = Ticket {
                ticket: fields.clone(),
                replies: replies(&store, ticket_id)?,
            };
            ticket.ticket["custom_fields"] = Value::Object(custom_fields(&store, ticket_id)?);
            let event = if data.is_empty() {
                lock(&self.recent).event(event, ticket_id, &ticket.ticket)?
            } else {
                // Data given is this delivery's own: not one to deliver again as is.
                // The sample fills what the stored ticket and `data` leave out, but a
                // member given replaces the sample's whole (a group assignee has no
                // email, which a merge at every depth would add).
                let sampled = Event::from_partial_json(serde_json::json!({
                    "event": event, "ticket": ticket.ticket.clone()
                }))?;
                let mut payload = sampled.payload().clone();
                if let Some(fields) = payload["ticket"].as_object_mut()
                    && let Some(stored) = ticket.ticket.as_object()
                {
                    fields.extend(stored.clone());
                }
                if let Some(sample_data) = payload["data"].as_object_mut() {
                    sample_data.extend(data);
                }
                Arc::new(Event::from_json(payload)?)
            };
            write_ticket(&store, ticket_id, &fields)?;
            (event, ticket)
        };
        let (reports, at_ms) = self.deliver_event(&event, ticket_id)?;
        // What the deliveries wrote on this ticket, as the database records it (see
        // `Pending::write`): the page shows it without reading the ticket again.
        for report in &reports {
            if let Some(fields) = ticket.ticket["custom_fields"].as_object_mut() {
                for field in report
                    .custom_fields
                    .iter()
                    .filter(|f| f.ticket_id == ticket_id)
                {
                    fields.insert(field.key.clone(), Value::String(field.value.clone()));
                }
            }
            let replies = report.replies.iter().filter(|r| r.ticket_id == ticket_id);
            ticket.replies.extend(replies.map(|r| TicketReply {
                plugin_id: report.plugin_id.clone(),
                body: r.body.clone(),
                is_internal: r.is_internal,
                at_ms,
            }));
        }
        Ok(Fired { reports, ticket })
    }

    /// See [`Desk::change_status`](crate::Desk::change_status).
    pub(crate) fn change_status(
        &self,
        ticket_id: &str,
        to: &str,
        notes: &str,
    ) -> Result<Vec<DeliveryReport>, DeskError> {
        if to.trim().is_empty() {
            return Err(DeskError::BlankStatus {
                ticket_id: ticket_id.to_owned(),
            });
        }
        let before = self.tickets.ticket_now(ticket_id)?;
        let events = Event::from_partial_json(serde_json::json!({
            "event": EventKind::TicketStatusChanged.as_str(),
            "ticket": before,
        }))?
        .status_change(to, notes)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut status = Map::new();
        status.insert("status".into(), Value::String(to.to_owned()));
        self.tickets.update_ticket(ticket_id, status)?;
        let mut reports = Vec::new();
        for event in events {
            // The deliveries of the events before this one may have set fields.
            let ticket = self.tickets.ticket_now(ticket_id)?;
            let event = event.merge_json(serde_json::json!({
                "ticket": { "custom_fields": ticket["custom_fields"].clone() }
            }))?;
            reports.extend(self.deliver_event(&event, ticket_id)?.0);
        }
        Ok(reports)
    }

    /// Delivers `event`, about ticket `ticket_id`, and records what happened (the
    /// host records the outcomes and the custom fields in the desk's stores); returns
    /// the reports and the time they are recorded at.
    fn deliver_event(
        &self,
        event: &Event,
        ticket_id: &str,
    ) -> Result<(Vec<DeliveryReport>, i64), DeskError> {
        let mut reports = {
            let _in_use = self.plugins.in_use();
            let mut reports = self.plugins.load_subscribed(event.kind())?;
            reports.extend(self.host.deliver(event));
            reports
        };
        self.plugins
            .used(reports.iter().map(|r| r.plugin_id.as_str()))?;
        // In plugin id order, as the host delivers, the ones that did not load among them.
        reports.sort_by(|a, b| a.plugin_id.cmp(&b.plugin_id));
        // What each plugin received and each response body whole, for a fixture; the
        // reports keep the bodies' first 16 KiB, as before.
        let payloads = replay_record::payloads(event, &reports);
        let replays: Vec<String> = reports
            .iter_mut()
            .zip(&payloads)
            .map(|(report, payload)| record_json(payload, &take_bodies(report)))
            .collect();
        // Drawn before the database is locked: drawing takes longer than recording.
        let graphs: Vec<_> = reports
            .iter()
            .map(|report| {
                let profile = report.profile.as_ref()?;
                self.flamegraphs
                    .as_ref()?
                    .draw(&report.plugin_id, &report.event, profile)
            })
            .collect();

        let mut store = self.db.as_is();
        let store = &mut *store;
        if let Some(e) = store.host_error.take() {
            return Err(e);
        }
        let now = now_ms();
        for ((report, replay), graph) in reports.iter().zip(replays).zip(graphs) {
            let version: String = store
                .conn
                .prepare_cached(
                    "SELECT v.version FROM plugins p
                     JOIN versions v ON v.seq = p.current_seq WHERE p.id = ?1",
                )
                .and_then(|mut s| s.query_row([&report.plugin_id], |r| r.get(0)))
                .map_err(|e| store.error(e))?;
            store
                .pending
                .push(report, replay, graph, version, ticket_id, now);
        }
        // A plugin the health policy disabled is recorded at once, with the deliveries
        // that led to it.
        if !store.pending.disable.is_empty() || store.pending.len() >= BATCH {
            self.db.commit_pending(store)?;
        }
        Ok((reports, now))
    }

    /// See [`Desk::deliveries`](crate::Desk::deliveries).
    pub(crate) fn deliveries(&self, id: &str, limit: u32) -> Result<Vec<Delivery>, DeskError> {
        let store = self.db.store()?;
        row(&store, id)?;
        let mut stmt = store
            .conn
            .prepare(
                "SELECT seq, version, ticket_id, at, report, replay IS NOT NULL FROM deliveries
                 WHERE plugin_id = ?1 ORDER BY seq DESC LIMIT ?2",
            )
            .map_err(|e| store.error(e))?;
        let rows: Vec<(i64, String, String, i64, String, bool)> = stmt
            .query_map(params![id, limit], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .and_then(Iterator::collect)
            .map_err(|e| store.error(e))?;
        let graphs = self.plugins.dir.join(FLAMEGRAPH_DIR);
        rows.into_iter()
            .map(|(seq, version, ticket_id, at_ms, report, fixture)| {
                let flamegraph =
                    flamegraphs::svg_path(&graphs, id, seq).is_some_and(|p| p.is_file());
                let report = serde_json::from_str(&report)
                    .map_err(|e| store.error(format!("delivery {seq}'s report: {e}")))?;
                Ok(Delivery {
                    seq,
                    version,
                    ticket_id,
                    at_ms,
                    report,
                    fixture,
                    flamegraph,
                })
            })
            .collect()
    }

    /// Plugin `id`'s delivery `seq` (the newest without one) with what the log kept to
    /// run it again, `None` for a delivery logged before the log kept it.
    pub(crate) fn recorded(
        &self,
        store: &Store,
        id: &str,
        seq: Option<i64>,
    ) -> Result<(Delivery, Option<ReplayRecord>), DeskError> {
        let found = store
            .conn
            .prepare(
                "SELECT seq, version, ticket_id, at, report, replay FROM deliveries
                 WHERE plugin_id = ?1 AND (?2 IS NULL OR seq = ?2) ORDER BY seq DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![id, seq], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                })
                .optional()
            })
            .map_err(|e| store.error(e))?;
        let Some((seq, version, ticket_id, at_ms, report, replay)) = found else {
            return Err(DeskError::NoDelivery {
                plugin_id: id.to_owned(),
                seq,
            });
        };
        let report = serde_json::from_str(&report)
            .map_err(|e| store.error(format!("delivery {seq}'s report: {e}")))?;
        let replay = replay
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| store.error(format!("delivery {seq}'s record: {e}")))?;
        let flamegraph = flamegraphs::svg_path(&self.plugins.dir.join(FLAMEGRAPH_DIR), id, seq)
            .is_some_and(|p| p.is_file());
        let delivery = Delivery {
            seq,
            version,
            ticket_id,
            at_ms,
            report,
            fixture: replay.is_some(),
            flamegraph,
        };
        Ok((delivery, replay))
    }
}
