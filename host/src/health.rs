//! Per-plugin health: a rolling window of deliveries and failures, and automatic
//! disabling of a plugin that fails too often. Where the window and the enabled state
//! live is a [`HealthStore`]'s business; [`MemoryHealthStore`], the default, keeps them
//! in memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use otai_plugin_abi::limits::{
    DEFAULT_FAILURE_THRESHOLD, DEFAULT_FAILURE_WINDOW, DEFAULT_MIN_DELIVERIES,
};
use serde::Serialize;

/// A source of the current time, so that health windows can be tested without
/// waiting. The default health store's window ([`MemoryHealthStore`]) reads it; a store
/// of its own keeps its own time (the local desk's is wall time, which it persists).
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real clock ([`Instant::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to. Clones share the time.
///
/// ```
/// use otai_plugin_host::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(600));
/// assert_eq!(clock.now() - start, Duration::from_secs(600));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Instant>>,
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl ManualClock {
    /// A clock stopped at the current instant.
    pub fn new() -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// When a plugin is disabled automatically.
///
/// Defaults (the help desk's): more than 50% failed deliveries within a 10-minute
/// rolling window, judged once at least 10 deliveries fall in the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthPolicy {
    /// Disable when failures / deliveries is greater than this (0.0 to 1.0). Default 0.5.
    pub failure_threshold: f64,
    /// The rolling window. Default 10 minutes.
    pub window: Duration,
    /// No judgement before this many deliveries are in the window. Default 10.
    pub min_deliveries: u32,
    /// Whether to disable at all. Default `true`.
    pub auto_disable: bool,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            window: DEFAULT_FAILURE_WINDOW,
            min_deliveries: DEFAULT_MIN_DELIVERIES,
            auto_disable: true,
        }
    }
}

impl HealthPolicy {
    /// What makes this policy one no host takes, if anything.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        (!(0.0..=1.0).contains(&self.failure_threshold))
            .then_some("`failure_threshold` must be between 0.0 and 1.0")
    }

    /// Whether a plugin with `status` in its current window is to be disabled: the
    /// window holds at least `min_deliveries` and more than `failure_threshold` of them
    /// failed. Every [`HealthStore`] judges its window with it (in
    /// [`PluginHealth::record`]), so that the rule stays this one wherever the window is kept.
    ///
    /// ```
    /// use otai_plugin_host::{HealthPolicy, HealthStatus};
    ///
    /// let status = |deliveries, failures| HealthStatus { enabled: true, auto_disabled: false, deliveries, failures };
    /// let policy = HealthPolicy::default();
    /// assert!(!policy.should_disable(&status(9, 9))); // too few to judge
    /// assert!(!policy.should_disable(&status(10, 5))); // half is not more than half
    /// assert!(policy.should_disable(&status(10, 6)));
    /// ```
    pub fn should_disable(&self, status: &HealthStatus) -> bool {
        self.auto_disable
            && status.deliveries >= self.min_deliveries
            && status.failure_rate() > self.failure_threshold
    }
}

/// A plugin's health, as [`crate::Host::health`] reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthStatus {
    /// Whether deliveries reach the plugin.
    pub enabled: bool,
    /// Whether it was disabled by the health policy (rather than by hand).
    pub auto_disabled: bool,
    /// Deliveries in the current window.
    pub deliveries: u32,
    /// Failed deliveries (trapped or timed out) in the current window.
    pub failures: u32,
}

impl HealthStatus {
    /// failures / deliveries, 0.0 when there were none.
    pub fn failure_rate(&self) -> f64 {
        if self.deliveries == 0 {
            0.0
        } else {
            f64::from(self.failures) / f64::from(self.deliveries)
        }
    }
}

/// The callback fired when a plugin is disabled automatically.
pub type OnDisabled = Box<dyn Fn(&str, &HealthStatus) + Send + Sync>;

/// Where a host keeps its plugins' health: the window of outcomes the
/// [`HealthPolicy`] judges, and whether each plugin is enabled.
///
/// The host asks for a plugin's [`PluginHealth`] when it installs a plugin it does not
/// have installed, keeps it while the plugin stays installed (a reinstall keeps it, an
/// uninstall drops it) and records every delivery's outcome in it. The default,
/// [`MemoryHealthStore`], keeps both in memory, so that they last as long as the host.
/// An embedder that must keep them longer (the local desk persists them, so that a
/// plugin disabled for failing stays disabled after a restart) gives its own with
/// [`HostBuilder::health_store`](crate::HostBuilder::health_store).
///
/// ```
/// use otai_plugin_host::{Event, HealthPolicy, HealthStatus, HealthStore, Host, MemoryHealthStore, PluginHealth};
/// use std::sync::{Arc, Mutex};
///
/// /// Keeps health in memory, as the default does, and lists every outcome it records.
/// #[derive(Default)]
/// struct Audited {
///     inner: MemoryHealthStore,
///     outcomes: Arc<Mutex<Vec<(String, bool)>>>,
/// }
///
/// struct AuditedPlugin {
///     id: String,
///     inner: Arc<dyn PluginHealth>,
///     outcomes: Arc<Mutex<Vec<(String, bool)>>>,
/// }
///
/// impl HealthStore for Audited {
///     fn plugin(&self, plugin_id: &str) -> Arc<dyn PluginHealth> {
///         Arc::new(AuditedPlugin {
///             id: plugin_id.to_owned(),
///             inner: self.inner.plugin(plugin_id),
///             outcomes: self.outcomes.clone(),
///         })
///     }
/// }
///
/// impl PluginHealth for AuditedPlugin {
///     fn is_enabled(&self) -> bool { self.inner.is_enabled() }
///     fn record(&self, failed: bool, policy: &HealthPolicy) -> Option<HealthStatus> {
///         self.outcomes.lock().unwrap().push((self.id.clone(), failed));
///         self.inner.record(failed, policy)
///     }
///     fn status(&self, policy: &HealthPolicy) -> HealthStatus { self.inner.status(policy) }
///     fn enable(&self) { self.inner.enable() }
///     fn disable(&self) { self.inner.disable() }
/// }
///
/// let store = Audited::default();
/// let outcomes = store.outcomes.clone();
/// let host = Host::builder().health_store(store).build()?;
///
/// let wasm = wat::parse_str(r#"(module
///   (memory (export "memory") 1)
///   (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
///   (func (export "ohd_free") (param i32 i32))
///   (func (export "on_event") (param i32 i32) unreachable)
///   (@custom "ohd_manifest" "{\"id\":\"com.example.trap\",\"name\":\"Trap\",\"version\":\"1.0.0\",\"description\":\"Traps.\",\"events\":[\"ticket.created\"]}")
/// )"#)?;
/// host.install(&host.load(&wasm)?, serde_json::json!({}))?;
/// host.deliver(&Event::ticket_created());
/// assert_eq!(*outcomes.lock().unwrap(), [("com.example.trap".to_owned(), true)]);
/// assert_eq!(host.health("com.example.trap").map(|h| h.failures), Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait HealthStore: Send + Sync {
    /// The health of the plugin `plugin_id`, which the host is installing. A store
    /// that persists health returns the state it kept for this id.
    fn plugin(&self, plugin_id: &str) -> Arc<dyn PluginHealth>;
}

/// One installed plugin's health, shared by its deliveries on every thread: the host
/// asks [`PluginHealth::is_enabled`] before every delivery and [`PluginHealth::record`]s
/// after it, so both are on the delivery's path and should take no more than a lock.
pub trait PluginHealth: Send + Sync {
    /// Whether deliveries reach the plugin.
    fn is_enabled(&self) -> bool;

    /// Counts one delivery's outcome (`failed`: it trapped or timed out) in the window
    /// that ends now, `policy.window` long. Then, if the plugin is enabled and
    /// [`HealthPolicy::should_disable`] judges the window so, disables it as
    /// `auto_disabled`, in the same step (no other delivery's outcome in between), and
    /// returns its status after that; otherwise `None`.
    fn record(&self, failed: bool, policy: &HealthPolicy) -> Option<HealthStatus>;

    /// The plugin's status: enabled or not, and its window that ends now.
    fn status(&self, policy: &HealthPolicy) -> HealthStatus;

    /// Enables the plugin and starts a fresh window ([`crate::Host::enable`]).
    fn enable(&self);

    /// Disables the plugin by hand ([`crate::Host::disable`]).
    fn disable(&self);
}

impl<T: HealthStore + ?Sized> HealthStore for Arc<T> {
    fn plugin(&self, plugin_id: &str) -> Arc<dyn PluginHealth> {
        (**self).plugin(plugin_id)
    }
}

/// The default [`HealthStore`]: each plugin's window and state in memory, for as long
/// as the host runs. The window is cut into 60 slices, so that its memory stays bounded
/// however many deliveries a plugin gets; a delivery leaves it between 59/60 and 60/60
/// of the window after it happened, by the clock given.
#[derive(Clone)]
pub struct MemoryHealthStore {
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryHealthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryHealthStore").finish_non_exhaustive()
    }
}

impl Default for MemoryHealthStore {
    /// A store on the system clock.
    fn default() -> Self {
        MemoryHealthStore::new(SystemClock)
    }
}

impl MemoryHealthStore {
    /// A store whose windows are measured by `clock`.
    pub fn new(clock: impl Clock + 'static) -> Self {
        MemoryHealthStore::with_clock(Arc::new(clock))
    }

    pub(crate) fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryHealthStore { clock }
    }
}

impl HealthStore for MemoryHealthStore {
    fn plugin(&self, _plugin_id: &str) -> Arc<dyn PluginHealth> {
        Arc::new(SharedHealth {
            clock: self.clock.clone(),
            window: Mutex::default(),
            disabled: AtomicBool::new(false),
        })
    }
}

/// Deliveries that started within one slice of the window.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: Instant,
    deliveries: u32,
    failures: u32,
}

/// How many slices a window is cut into: memory stays bounded however many
/// deliveries a plugin gets, and a delivery leaves the window between
/// `window - window / SLICES` and `window` after it happened.
const SLICES: u32 = 60;

/// One plugin's window.
#[derive(Debug, Default)]
struct Health {
    buckets: VecDeque<Bucket>,
    deliveries: u32,
    failures: u32,
    disabled: bool,
    auto_disabled: bool,
}

impl Health {
    fn expire(&mut self, now: Instant, policy: &HealthPolicy) {
        while let Some(b) = self.buckets.front() {
            if now.saturating_duration_since(b.start) >= policy.window {
                self.deliveries = self.deliveries.saturating_sub(b.deliveries);
                self.failures = self.failures.saturating_sub(b.failures);
                self.buckets.pop_front();
            } else {
                break;
            }
        }
    }

    /// Records a delivery; returns the status when this one disabled the plugin.
    fn record(
        &mut self,
        now: Instant,
        failed: bool,
        policy: &HealthPolicy,
    ) -> Option<HealthStatus> {
        self.expire(now, policy);
        let slice = policy.window / SLICES;
        let failed = u32::from(failed);
        match self.buckets.back_mut() {
            Some(b) if now.saturating_duration_since(b.start) < slice => {
                b.deliveries = b.deliveries.saturating_add(1);
                b.failures = b.failures.saturating_add(failed);
            }
            _ => self.buckets.push_back(Bucket {
                start: now,
                deliveries: 1,
                failures: failed,
            }),
        }
        self.deliveries = self.deliveries.saturating_add(1);
        self.failures = self.failures.saturating_add(failed);
        if self.disabled || !policy.auto_disable {
            return None;
        }
        let status = self.status_at(now, policy);
        if policy.should_disable(&status) {
            self.disabled = true;
            self.auto_disabled = true;
            return Some(self.status_at(now, policy));
        }
        None
    }

    fn status_at(&mut self, now: Instant, policy: &HealthPolicy) -> HealthStatus {
        self.expire(now, policy);
        HealthStatus {
            enabled: !self.disabled,
            auto_disabled: self.auto_disabled,
            deliveries: self.deliveries,
            failures: self.failures,
        }
    }
}

/// [`MemoryHealthStore`]'s [`PluginHealth`]. Whether the plugin is enabled, which every
/// delivery asks first, is kept beside the window in an atomic, so that asking takes no
/// lock.
struct SharedHealth {
    clock: Arc<dyn Clock>,
    window: Mutex<Health>,
    disabled: AtomicBool,
}

impl SharedHealth {
    /// Runs `change` on the window, then publishes whether the plugin is enabled.
    fn update<R>(&self, change: impl FnOnce(&mut Health) -> R) -> R {
        // The window is updated in single steps; a panic elsewhere cannot leave it
        // half-written.
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let result = change(&mut window);
        self.disabled.store(window.disabled, Ordering::Release);
        result
    }
}

impl PluginHealth for SharedHealth {
    fn is_enabled(&self) -> bool {
        !self.disabled.load(Ordering::Acquire)
    }

    fn record(&self, failed: bool, policy: &HealthPolicy) -> Option<HealthStatus> {
        let now = self.clock.now();
        self.update(|health| health.record(now, failed, policy))
    }

    fn status(&self, policy: &HealthPolicy) -> HealthStatus {
        let now = self.clock.now();
        self.update(|health| health.status_at(now, policy))
    }

    fn enable(&self) {
        self.update(|health| *health = Health::default());
    }

    fn disable(&self) {
        self.update(|health| health.disabled = true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded_and_counts_expire_by_slice() {
        let policy = HealthPolicy {
            auto_disable: false,
            ..HealthPolicy::default()
        };
        let mut health = Health::default();
        let start = Instant::now();
        for i in 0..100_000u64 {
            health.record(start + Duration::from_millis(i * 10), i % 4 == 0, &policy);
        }
        assert!(
            health.buckets.len() <= SLICES as usize + 1,
            "{}",
            health.buckets.len()
        );
        // 1000 s of deliveries, 10 min window: about the last 60 000 are counted.
        let status = health.status_at(start + Duration::from_secs(1000), &policy);
        assert!((59_000..=60_000).contains(&status.deliveries), "{status:?}");
        assert_eq!(status.failures, status.deliveries / 4);
    }

    #[test]
    fn a_delivery_one_slice_later_starts_a_bucket_and_leaves_the_window_later() {
        let policy = HealthPolicy {
            auto_disable: false,
            ..HealthPolicy::default()
        };
        let slice = policy.window / SLICES;
        let start = Instant::now();
        let mut health = Health::default();
        health.record(start, true, &policy);
        health.record(start + slice, true, &policy);
        assert_eq!(health.buckets.len(), 2);
        // The first leaves the window when it is a window old; the second is younger.
        let status = health.status_at(start + policy.window, &policy);
        assert_eq!((status.deliveries, status.failures), (1, 1));
    }
}
