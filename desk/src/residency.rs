//! When a plugin is loaded into the host: at its first delivery or panel, or when it is
//! installed or upgraded (to check it), never when the desk opens (issue 41). Opening a
//! desk with a thousand plugins installed reads the database only; listing,
//! configuring, enabling, disabling, the log and the plugin pages compile nothing. A
//! stored module this host no longer loads is found at its first use, and each delivery
//! to it reports why, naming the plugin, its version and the database it is stored in.

use std::collections::HashSet;
use std::sync::{MutexGuard, PoisonError, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use otai_plugin_abi::event::EventKind;
use otai_plugin_host::{DeliveryReport, Outcome, PanelReport, Plugin};
use serde::Deserialize;
use serde_json::Value;

use crate::config_records::config_of;
use crate::error::DeskError;
use crate::plugins::{Plugins, missing_config, row};
use crate::residents::Waiting;
use crate::store::lock;

/// A stored manifest's events, without the rest of it.
#[derive(Deserialize)]
struct Events {
    events: Vec<EventKind>,
}

impl Plugins {
    /// Held by a delivery or a panel from loading its plugins until the host ran them.
    pub(crate) fn in_use(&self) -> RwLockReadGuard<'_, ()> {
        self.in_use.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until no delivery or panel is between loading its plugins and running
    /// them, and keeps new ones from starting: a plugin taken out of the host now is not
    /// one a delivery loaded and is about to run. Taken before `loading`, never after.
    fn alone(&self) -> RwLockWriteGuard<'_, ()> {
        self.in_use.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Plugin `id` was put in the host.
    pub(crate) fn loaded(&self, id: &str) {
        lock(&self.uses).last.insert(id.to_owned(), Instant::now());
    }

    /// `ids` ran (or were asked for a panel): now the most recently used. Then takes the
    /// plugins idle longer than the bound out of the host (they are loaded again, from
    /// the disk cache of compiled modules, at their next use).
    ///
    /// # Errors
    /// A database error reading an idle plugin's events.
    pub(crate) fn used<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Result<(), DeskError> {
        let now = Instant::now();
        let just_used: HashSet<&str> = ids.into_iter().collect();
        let idle = {
            let mut uses = lock(&self.uses);
            for id in &just_used {
                if let Some(last) = uses.last.get_mut(*id) {
                    *last = now;
                }
            }
            uses.idle(&just_used)
        };
        if idle.is_empty() {
            return Ok(());
        }
        let _alone = self.alone();
        for id in idle {
            match self.unload_alone(&id) {
                // Removed meanwhile: nothing to unload.
                Ok(()) | Err(DeskError::NotInstalled { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The plugins that wait to be loaded, read from the database the first time.
    fn waiting(&self) -> Result<MutexGuard<'_, Waiting>, DeskError> {
        let mut waiting = lock(&self.waiting);
        if !waiting.read {
            let in_host: HashSet<String> = self.host.installed().into_iter().collect();
            // As it is: the deliveries that wait change no plugin's row or manifest.
            let store = self.db.as_is();
            let rows: Vec<(String, String)> = store
                .conn
                .prepare(
                    "SELECT p.id, v.manifest FROM plugins p JOIN versions v ON v.seq = p.current_seq",
                )
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                        .and_then(Iterator::collect)
                })
                .map_err(|e| store.error(e))?;
            for (id, manifest) in rows {
                if in_host.contains(&id) {
                    continue;
                }
                let events: Events = serde_json::from_str(&manifest)
                    .map_err(|e| store.error(format!("plugin `{id}`'s manifest: {e}")))?;
                waiting.add(&id, &events.events);
            }
            waiting.read = true;
        }
        Ok(waiting)
    }

    /// Loads the enabled plugins subscribed to `kind` that the host does not hold yet,
    /// so that the host delivers to them. Returns, for each one that does not load, a
    /// report saying why (the delivery is not dropped silently): the host did not run
    /// it, so it does not count against its health.
    pub(crate) fn load_subscribed(
        &self,
        kind: &EventKind,
    ) -> Result<Vec<DeliveryReport>, DeskError> {
        let ids = self.waiting()?.subscribed(kind);
        let mut refused = Vec::new();
        for id in ids {
            let enabled = match row(&self.db.as_is(), &id) {
                Ok(row) => row.enabled,
                // Removed since the list was taken (by another thread): not delivered to.
                Err(DeskError::NotInstalled { .. }) => false,
                Err(e) => return Err(e),
            };
            if !enabled {
                continue;
            }
            // Refused before: not compiled again at every delivery (an upgrade, a
            // rollback or a change of config tries again).
            let known = lock(&self.unloadable).get(&id).cloned();
            let reason = match known {
                Some(reason) => Some(reason),
                None => match self.load_now(&id) {
                    Ok(()) | Err(DeskError::Load(_)) => lock(&self.unloadable).get(&id).cloned(),
                    Err(DeskError::NotInstalled { .. }) => None,
                    Err(e) => return Err(e),
                },
            };
            if let Some(reason) = reason {
                refused.push(DeliveryReport {
                    plugin_id: id.clone(),
                    event: kind.to_string(),
                    outcome: Outcome::Rejected {
                        reason: format!("plugin `{id}` cannot run: {reason}"),
                    },
                    logs: Vec::new(),
                    http: Vec::new(),
                    replies: Vec::new(),
                    custom_fields: Vec::new(),
                    calls: Vec::new(),
                    fuel: None,
                    timings: Default::default(),
                    profile: None,
                });
            }
        }
        Ok(refused)
    }

    /// See [`Desk::render_panel`](crate::Desk::render_panel).
    pub(crate) fn render_panel(&self, id: &str, ticket_id: &str) -> Result<PanelReport, DeskError> {
        let report = {
            let _in_use = self.in_use();
            self.load_and_render(id, ticket_id)?
        };
        self.used([id])?;
        Ok(report)
    }

    fn load_and_render(&self, id: &str, ticket_id: &str) -> Result<PanelReport, DeskError> {
        let waits = self.waiting()?.holds(id);
        if waits {
            if let Some(reason) = lock(&self.unloadable).get(id).cloned() {
                return Err(DeskError::Unloadable {
                    plugin_id: id.to_owned(),
                    reason,
                });
            }
            match self.load_now(id) {
                Ok(()) | Err(DeskError::Load(_)) => {}
                Err(e) => return Err(e),
            }
            if let Some(reason) = lock(&self.unloadable).get(id).cloned() {
                return Err(DeskError::Unloadable {
                    plugin_id: id.to_owned(),
                    reason,
                });
            }
        }
        Ok(self.host.render_panel(id, ticket_id)?)
    }

    /// Takes plugin `id` out of the host after a change (config, version): it is
    /// loaded again, as the database then says, at its next use. What was refused
    /// before is tried again then.
    pub(crate) fn unload(&self, id: &str) -> Result<(), DeskError> {
        let _alone = self.alone();
        self.unload_alone(id)
    }

    /// [`Plugins::unload`], with [`Plugins::alone`] held.
    fn unload_alone(&self, id: &str) -> Result<(), DeskError> {
        let _one_at_a_time = lock(&self.loading);
        self.host.uninstall(id);
        lock(&self.uses).last.remove(id);
        lock(&self.unloadable).remove(id);
        let events = {
            let store = self.store()?;
            let row = self.row(&store, id)?;
            self.version_row(&store, row.current_seq)?.manifest.events
        };
        let mut waiting = lock(&self.waiting);
        // Unread, it is read with this plugin in it.
        if waiting.read {
            waiting.add(id, &events);
        }
        Ok(())
    }

    /// Forgets plugin `id` (removed).
    pub(crate) fn forget_loaded(&self, id: &str) {
        let _alone = self.alone();
        let _one_at_a_time = lock(&self.loading);
        self.host.uninstall(id);
        lock(&self.uses).last.remove(id);
        lock(&self.unloadable).remove(id);
        lock(&self.waiting).remove(id);
    }

    /// Loads a plugin's current version into the host as the database says: installed
    /// with its config when that is complete, enabled or not. A module or a config
    /// this host refuses (stored by an earlier, laxer host) must not lock the desk: the
    /// plugin stays listed, with why, so that it can be upgraded or removed.
    pub(crate) fn load_now(&self, id: &str) -> Result<(), DeskError> {
        self.load_now_with(id, None)
    }

    /// [`Plugins::load_now`], with `loaded`, the bytes of a module and the plugin the
    /// host just loaded from them (at install and upgrade, to check them): used when
    /// they are the stored current version's, instead of loading them again.
    pub(crate) fn load_now_with(
        &self,
        id: &str,
        loaded: Option<(&[u8], &Plugin)>,
    ) -> Result<(), DeskError> {
        let _one_at_a_time = lock(&self.loading);
        let (version, wasm, config, path) = {
            let store = self.store()?;
            let row = self.row(&store, id)?;
            let version = self.version_row(&store, row.current_seq)?;
            let wasm = self.version_wasm(&store, row.current_seq)?;
            let config = config_of(&store, &self.key, id, row.current_seq)?;
            (version, wasm, config, store.path.clone())
        };
        let events = version.manifest.events.clone();
        let plugin = match loaded {
            Some((bytes, plugin)) if *bytes == *wasm => Ok(plugin.clone()),
            _ => self.host.load(&wasm),
        };
        let plugin = match plugin {
            Ok(plugin) => plugin,
            Err(e) => {
                self.host.uninstall(id);
                lock(&self.unloadable).insert(
                    id.to_owned(),
                    format!(
                        "this host does not load its module (version {}, stored in `{}`): {e}",
                        version.version,
                        path.display()
                    ),
                );
                self.still_waiting(id, &events);
                return Err(DeskError::Load(e));
            }
        };
        lock(&self.unloadable).remove(id);
        let config = Value::Object(config);
        let validated = match version.manifest.validate_config(&config) {
            Ok(validated) => validated,
            Err(diagnostics) => {
                self.host.uninstall(id);
                // Missing values are the plugin's wait for config, shown as its state.
                // Values this host refuses (stored by an earlier, laxer one: a value past
                // the size limits) would otherwise leave it listed as enabled and never
                // run.
                let set = |key: &str| config.get(key).is_some_and(|v| !v.is_null());
                if missing_config(&version.manifest, set).is_empty() {
                    let problems: Vec<String> = diagnostics
                        .errors()
                        .map(|d| match d.path.as_str() {
                            "" => d.message.clone(),
                            key => format!("`{key}`: {}", d.message),
                        })
                        .collect();
                    lock(&self.unloadable).insert(
                        id.to_owned(),
                        format!(
                            "its stored config is refused ({}); set the values again",
                            problems.join("; ")
                        ),
                    );
                }
                self.still_waiting(id, &events);
                return Ok(());
            }
        };
        self.run_in_host(&plugin, &validated)?;
        lock(&self.waiting).remove(id);
        Ok(())
    }

    /// Plugin `id`, subscribed to `events`, is not in the host.
    fn still_waiting(&self, id: &str, events: &[EventKind]) {
        let mut waiting = lock(&self.waiting);
        if waiting.read {
            waiting.add(id, events);
        }
    }
}
