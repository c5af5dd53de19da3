//! Deliveries recorded in memory and committed in groups.
//!
//! The smallest write transaction costs ten to twenty times a delivery on the machines
//! we measure on (docs/PERFORMANCE.md, "The local desk"), so a delivery does not commit
//! its own: [`Desk::deliver`](crate::Desk::deliver) records what happened here, and the
//! desk commits the waiting deliveries together when [`BATCH`] of them wait, when one of
//! them disables a plugin, before any other operation of the desk (so every read, page
//! and command sees every delivery), and when the desk is flushed or dropped.

use std::collections::{BTreeSet, HashMap};

use otai_plugin_host::DeliveryReport;
use rusqlite::{Transaction, params};
use serde_json::Value;

/// How many deliveries wait at most before they are committed.
pub(crate) const BATCH: usize = 64;

/// What the deliveries since the last commit wrote.
#[derive(Default)]
pub(crate) struct Pending {
    deliveries: Vec<Recorded>,
    /// Each ticket as the waiting deliveries left it, custom fields included: what the
    /// next delivery about it carries (the database does not have it yet).
    tickets: HashMap<String, Value>,
}

/// One plugin's delivery, as the log and the ticket will keep it.
struct Recorded {
    plugin_id: String,
    version: String,
    event: String,
    ticket_id: String,
    at: i64,
    outcome: &'static str,
    failed: bool,
    /// The report as JSON, written now so that the caller keeps the report itself.
    report: String,
    replies: Vec<(String, String, bool)>,
    fields: Vec<(String, String, String)>,
}

impl Pending {
    /// How many deliveries wait.
    pub(crate) fn len(&self) -> usize {
        self.deliveries.len()
    }

    /// The ticket `id` as the waiting deliveries left it, if they wrote on it.
    pub(crate) fn ticket(&self, id: &str) -> Option<&Value> {
        self.tickets.get(id)
    }

    /// Records `report`, a delivery about `ticket` (the ticket as it was delivered, with
    /// its custom fields) to a plugin whose version was `version`.
    pub(crate) fn push(
        &mut self,
        report: &DeliveryReport,
        version: String,
        ticket_id: &str,
        ticket: &Value,
        at: i64,
    ) {
        if !report.custom_fields.is_empty() {
            let ticket = self
                .tickets
                .entry(ticket_id.to_owned())
                .or_insert_with(|| ticket.clone());
            if let Some(fields) = ticket
                .get_mut("custom_fields")
                .and_then(Value::as_object_mut)
            {
                for field in &report.custom_fields {
                    fields.insert(field.key.clone(), Value::String(field.value.clone()));
                }
            }
        }
        self.deliveries.push(Recorded {
            plugin_id: report.plugin_id.clone(),
            version,
            event: report.event.clone(),
            ticket_id: ticket_id.to_owned(),
            at,
            outcome: report.outcome.status(),
            failed: report.outcome.is_failure(),
            // A report is plain data: serializing it cannot fail.
            report: serde_json::to_string(report).unwrap_or_default(),
            replies: report
                .replies
                .iter()
                .map(|r| (r.ticket_id.clone(), r.body.clone(), r.is_internal))
                .collect(),
            fields: report
                .custom_fields
                .iter()
                .map(|f| (f.ticket_id.clone(), f.key.clone(), f.value.clone()))
                .collect(),
        });
    }

    /// Writes the waiting deliveries in `tx` and forgets them: each report in the log
    /// (the last `keep` of each plugin), its outcome in the health table, the replies
    /// and custom fields on the tickets.
    pub(crate) fn write(&mut self, tx: &Transaction<'_>, keep: u32) -> rusqlite::Result<()> {
        let mut plugins = BTreeSet::new();
        for d in self.deliveries.drain(..) {
            tx.prepare_cached(
                "INSERT INTO deliveries (plugin_id, version, event, ticket_id, at, outcome, failed, report)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                d.plugin_id,
                d.version,
                d.event,
                d.ticket_id,
                d.at,
                d.outcome,
                d.failed,
                d.report
            ])?;
            tx.prepare_cached("INSERT INTO outcomes (plugin_id, at, failed) VALUES (?1, ?2, ?3)")?
                .execute(params![d.plugin_id, d.at, d.failed])?;
            for (ticket_id, body, is_internal) in &d.replies {
                tx.prepare_cached(
                    "INSERT INTO ticket_replies (ticket_id, plugin_id, body, is_internal, at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    ticket_id,
                    d.plugin_id,
                    body,
                    is_internal,
                    d.at
                ])?;
            }
            for (ticket_id, key, value) in &d.fields {
                tx.prepare_cached(
                    "INSERT INTO ticket_fields (ticket_id, key, value, plugin_id, at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (ticket_id, key) DO UPDATE
                     SET value = excluded.value, plugin_id = excluded.plugin_id, at = excluded.at",
                )?
                .execute(params![ticket_id, key, value, d.plugin_id, d.at])?;
            }
            plugins.insert(d.plugin_id);
        }
        for id in plugins {
            // The index on (plugin_id, seq) finds the newest row past the kept ones
            // without reading the others.
            tx.prepare_cached(
                "DELETE FROM deliveries WHERE plugin_id = ?1 AND seq <=
                 (SELECT seq FROM deliveries WHERE plugin_id = ?1
                  ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
            )?
            .execute(params![id, keep])?;
        }
        self.tickets.clear();
        Ok(())
    }

    /// Forgets the waiting deliveries (their commit failed), returning how many.
    pub(crate) fn discard(&mut self) -> usize {
        self.tickets.clear();
        std::mem::take(&mut self.deliveries).len()
    }
}
