//! Deliveries recorded in memory and committed in groups.
//!
//! The smallest write transaction costs ten to twenty times a delivery on the machines
//! we measure on (docs/PERFORMANCE.md, "The local desk"), so a delivery does not commit
//! its own: [`Desk::deliver`](crate::Desk::deliver) and the desk's stores in its host
//! (health, custom fields) record what happened here, and the desk commits the waiting
//! deliveries together when [`BATCH`] of them wait, when one of them disables a plugin,
//! before any other operation of the desk (so every read, page and command sees every
//! delivery), and when the desk is flushed or dropped.

use std::collections::{BTreeSet, HashMap};

use otai_plugin_host::DeliveryReport;
use rusqlite::{Transaction, params};
use serde_json::Value;

use crate::flamegraphs::Drawn;

/// How many deliveries wait at most before they are committed.
pub(crate) const BATCH: usize = 64;

/// What the deliveries since the last commit wrote.
#[derive(Default)]
pub(crate) struct Pending {
    deliveries: Vec<Recorded>,
    /// The outcomes the host recorded in the plugins' health ([`crate::health`]).
    outcomes: Vec<(String, i64, bool)>,
    /// The custom fields the host gave the desk's ticket store
    /// ([`crate::ticket_fields`]): `(ticket, key, value, plugin, at)`.
    fields: Vec<(String, String, String, String, i64)>,
    /// Plugins the health policy disabled, with why: the commit records it.
    pub(crate) disable: Vec<(String, String)>,
    /// Tickets as the next delivery about them carries them, custom fields included:
    /// read from the database once, then changed by the waiting deliveries (the
    /// database does not have their changes yet).
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
    /// What a fixture needs ([`crate::replay_record`]), as JSON.
    replay: String,
    replies: Vec<(String, String, bool)>,
    /// Its flame graph, for a desk that records them: written once the commit gives
    /// the delivery its number.
    flamegraph: Option<Drawn>,
}

/// A committed delivery's flame graph to write: `(plugin, seq, graph)`.
pub(crate) type GraphToWrite = (String, i64, Drawn);

impl Pending {
    /// How many deliveries wait.
    pub(crate) fn len(&self) -> usize {
        self.deliveries.len()
    }

    /// Whether nothing waits to be written.
    pub(crate) fn is_empty(&self) -> bool {
        self.deliveries.is_empty()
            && self.outcomes.is_empty()
            && self.fields.is_empty()
            && self.disable.is_empty()
    }

    /// The ticket `id` as the next delivery about it carries it, if read or written
    /// since the last commit.
    pub(crate) fn ticket(&self, id: &str) -> Option<&Value> {
        self.tickets.get(id)
    }

    /// Keeps `ticket` (as read from the database) as the ticket `id` until the commit.
    pub(crate) fn keep_ticket(&mut self, id: &str, ticket: Value) {
        self.tickets.insert(id.to_owned(), ticket);
    }

    /// Records `report`, a delivery about ticket `ticket_id` to a plugin whose version
    /// was `version`, with `replay`, the JSON of its [`crate::replay_record`], and its
    /// flame graph if one was drawn.
    pub(crate) fn push(
        &mut self,
        report: &DeliveryReport,
        replay: String,
        flamegraph: Option<Drawn>,
        version: String,
        ticket_id: &str,
        at: i64,
    ) {
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
            replay,
            replies: report
                .replies
                .iter()
                .map(|r| (r.ticket_id.clone(), r.body.clone(), r.is_internal))
                .collect(),
            flamegraph,
        });
    }

    /// Records one delivery's outcome in plugin `plugin_id`'s health.
    pub(crate) fn push_outcome(&mut self, plugin_id: &str, at: i64, failed: bool) {
        self.outcomes.push((plugin_id.to_owned(), at, failed));
    }

    /// Plugin `plugin_id`'s outcomes not committed yet, `(at, failed)`, oldest first.
    pub(crate) fn outcomes_of<'a>(
        &'a self,
        plugin_id: &'a str,
    ) -> impl Iterator<Item = (i64, bool)> + 'a {
        self.outcomes
            .iter()
            .filter(move |(id, _, _)| id == plugin_id)
            .map(|&(_, at, failed)| (at, failed))
    }

    /// Records a custom field plugin `plugin_id` set on ticket `ticket_id`, which
    /// [`Pending::keep_ticket`] holds.
    pub(crate) fn push_field(
        &mut self,
        ticket_id: &str,
        key: &str,
        value: &str,
        plugin_id: &str,
        at: i64,
    ) {
        if let Some(fields) = self
            .tickets
            .get_mut(ticket_id)
            .and_then(|t| t.get_mut("custom_fields"))
            .and_then(Value::as_object_mut)
        {
            fields.insert(key.to_owned(), Value::String(value.to_owned()));
        }
        self.fields.push((
            ticket_id.to_owned(),
            key.to_owned(),
            value.to_owned(),
            plugin_id.to_owned(),
            at,
        ));
    }

    /// Forgets the tickets kept (with nothing waiting to be written: their changes are
    /// in the database).
    pub(crate) fn forget_tickets(&mut self) {
        if self.fields.is_empty() {
            self.tickets.clear();
        }
    }

    /// Forgets the custom fields that wait, and every ticket's in the tickets kept.
    pub(crate) fn clear_fields(&mut self) {
        self.fields.clear();
        self.tickets.clear();
    }

    /// Writes the waiting deliveries in `tx` and forgets them: each report in the log
    /// (the last `keep` of each plugin), the outcomes in the health table, the replies
    /// and custom fields on the tickets. The plugins to disable are the caller's; so
    /// are the flame graphs, returned with their deliveries' numbers, to write once
    /// the transaction is committed.
    pub(crate) fn write(
        &mut self,
        tx: &Transaction<'_>,
        keep: u32,
    ) -> rusqlite::Result<Vec<GraphToWrite>> {
        let mut plugins = BTreeSet::new();
        let mut graphs = Vec::new();
        for d in self.deliveries.drain(..) {
            tx.prepare_cached(
                "INSERT INTO deliveries (plugin_id, version, event, ticket_id, at, outcome, failed, report, replay)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                d.plugin_id,
                d.version,
                d.event,
                d.ticket_id,
                d.at,
                d.outcome,
                d.failed,
                d.report,
                d.replay
            ])?;
            if let Some(drawn) = d.flamegraph {
                // `seq` is the table's rowid.
                graphs.push((d.plugin_id.clone(), tx.last_insert_rowid(), drawn));
            }
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
            plugins.insert(d.plugin_id);
        }
        for (plugin_id, at, failed) in self.outcomes.drain(..) {
            tx.prepare_cached("INSERT INTO outcomes (plugin_id, at, failed) VALUES (?1, ?2, ?3)")?
                .execute(params![plugin_id, at, failed])?;
        }
        for (ticket_id, key, value, plugin_id, at) in self.fields.drain(..) {
            tx.prepare_cached(
                "INSERT INTO ticket_fields (ticket_id, key, value, plugin_id, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (ticket_id, key) DO UPDATE
                 SET value = excluded.value, plugin_id = excluded.plugin_id, at = excluded.at",
            )?
            .execute(params![ticket_id, key, value, plugin_id, at])?;
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
        Ok(graphs)
    }

    /// Forgets the waiting deliveries (their commit failed), returning how many.
    pub(crate) fn discard(&mut self) -> usize {
        self.tickets.clear();
        self.outcomes.clear();
        self.fields.clear();
        std::mem::take(&mut self.deliveries).len()
    }
}
