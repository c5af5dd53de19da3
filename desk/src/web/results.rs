//! What a delivery made from a form did, held for the page the form redirects to
//! (post/redirect/get): reloading or bookmarking that page shows the result again and
//! never delivers the event again.

use std::collections::VecDeque;

use otai_plugin_host::DeliveryReport;

/// How many results are held: a result older than this many deliveries from forms is
/// gone, and its page says so (the plugin's page keeps the delivery log).
const HELD: usize = 32;

/// One delivery made from a form: what was delivered about which ticket, and each
/// plugin's report.
#[derive(Debug, Clone)]
pub(crate) struct Delivered {
    pub(crate) ticket_id: String,
    pub(crate) what: String,
    pub(crate) reports: Vec<DeliveryReport>,
}

/// The latest results, each under a number the redirect names (`?delivered=N`).
#[derive(Debug, Default)]
pub(crate) struct Results {
    next: u64,
    held: VecDeque<(u64, Delivered)>,
}

impl Results {
    /// Holds `delivered` and returns its number; the oldest result past [`HELD`] goes.
    pub(crate) fn hold(&mut self, delivered: Delivered) -> u64 {
        self.next += 1;
        self.held.push_back((self.next, delivered));
        while self.held.len() > HELD {
            self.held.pop_front();
        }
        self.next
    }

    /// The result numbered `n`, if it is still held.
    pub(crate) fn get(&self, n: u64) -> Option<&Delivered> {
        self.held.iter().find(|(k, _)| *k == n).map(|(_, d)| d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_result_goes_first() {
        let mut results = Results::default();
        let first = results.hold(Delivered {
            ticket_id: "T-1".into(),
            what: "ticket.created".into(),
            reports: Vec::new(),
        });
        for _ in 0..HELD - 1 {
            results.hold(results.get(first).unwrap().clone());
        }
        assert!(results.get(first).is_some());
        let last = results.hold(results.get(first).unwrap().clone());
        assert!(results.get(first).is_none());
        assert_eq!(results.get(last).unwrap().what, "ticket.created");
    }
}
