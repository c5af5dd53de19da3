//! "Did you mean …?" for names a user mistyped.

/// The candidate closest to `given`, if one is close enough to be a plausible typo.
///
/// Close enough: an edit distance of at most a third of the longer name (at least 1),
/// or `given` being a candidate without its dotted prefix (`created` for
/// `ticket.created`), which is a common slip too.
pub fn nearest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = given.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate
            .rsplit_once('.')
            .is_some_and(|(_, last)| last == lower)
        {
            return Some(candidate);
        }
        let distance = strsim::osa_distance(&lower, candidate);
        let limit = (lower.len().max(candidate.len()) / 3).max(1);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `"a", "b", "c"`: names quoted for a message.
pub(crate) fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_missing_prefixes_only() {
        let events = ["ticket.created", "ticket.closed", "ticket.reopened"];
        assert_eq!(nearest("ticket.create", events), Some("ticket.created"));
        assert_eq!(nearest("Ticket.Closed", events), Some("ticket.closed"));
        assert_eq!(nearest("reopened", events), Some("ticket.reopened"));
        assert_eq!(nearest("user.signed_up", events), None);
    }
}
