//! The payload as the host sent it ([`RawEvent`]), and its members read when asked
//! ([`RawTicket`], [`RawSubmitter`], [`RawActor`]): what the smallest plugins use instead
//! of decoding the whole event into an [`Event`].

use core::fmt;
use std::borrow::Cow;

use otai_plugin_abi::event::EventKind;
use serde::Deserialize;

use super::{Event, scan};
use crate::Error;
use crate::json::{JsonError, Reader};

/// An event delivery as the JSON bytes the host sent, for plugins that do not want to
/// pay for JSON decoding (see [`RawPlugin`](crate::RawPlugin)).
///
/// The bytes are valid only during the call; copy what you keep.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RawEvent<'a> {
    json: &'a [u8],
}

impl<'a> RawEvent<'a> {
    /// Wraps payload bytes.
    pub fn new(json: &'a [u8]) -> Self {
        RawEvent { json }
    }

    /// The payload JSON.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.json
    }

    /// The payload JSON as text.
    ///
    /// # Errors
    /// When the bytes are not UTF-8 (a host that follows the ABI always sends UTF-8).
    pub fn as_str(&self) -> Result<&'a str, core::str::Utf8Error> {
        core::str::from_utf8(self.json)
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.json.len()
    }

    /// Whether the payload is empty (never, from a host that follows the ABI).
    pub fn is_empty(&self) -> bool {
        self.json.is_empty()
    }

    /// The event name (`ticket.created`, …), found by a small scan of the top-level
    /// object rather than a JSON decoder. `None` if there is no top-level `"event"`
    /// string, or it contains escapes or non-ASCII characters, which no event name
    /// does. The scan does not validate the rest of the JSON.
    ///
    /// ```
    /// use otai_plugin_sdk::RawEvent;
    /// let json = br#"{"ticket":{"event":"not this"},"event":"ticket.created"}"#;
    /// assert_eq!(RawEvent::new(json).name(), Some("ticket.created"));
    /// ```
    pub fn name(&self) -> Option<&'a str> {
        scan::top_level_string(self.json, b"event")
    }

    /// Decodes the payload into a typed [`Event`], for a raw plugin that decides per
    /// event whether decoding is worth it.
    ///
    /// # Errors
    /// As [`Event::from_json`].
    pub fn decode<C: Deserialize<'a>>(&self) -> Result<Event<'a, C>, Error> {
        Event::from_json(self.json)
    }
}

impl fmt::Debug for RawEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The payload holds decrypted secrets (`config`): never print it.
        f.debug_struct("RawEvent")
            .field("len", &self.json.len())
            .finish_non_exhaustive()
    }
}

/// Defines accessors that each look one member up by [`lookup`].
macro_rules! members {
    ($(#[doc = $doc:literal] $name:ident: $want:ident [$($path:literal),+];)*) => {$(
        #[doc = $doc]
        ///
        /// # Errors
        /// As [`RawEvent::kind`].
        pub fn $name(&self) -> members!(@ty $want) {
            members!(@get $want, lookup(self.json, &[$($path),+], Want::$want))
        }
    )*};
    (@ty String) => { crate::Result<Cow<'a, str>> };
    (@ty Nullable) => { crate::Result<Option<Cow<'a, str>>> };
    (@get String, $e:expr) => { $e.map(Option::unwrap_or_default) };
    (@get Nullable, $e:expr) => { $e };
}

impl<'a> RawEvent<'a> {
    /// Which event this is, read from the payload's `event` member.
    ///
    /// This and the other accessors of a raw event ([`RawEvent::ticket`],
    /// [`RawEvent::actor`] and theirs) read the payload when called and decode only the
    /// member asked for, so a plugin links no decoder of the whole event: the `minimal`
    /// template builds to under 20 KB with them, against 37 KB with [`Event`], and spends
    /// about as long on a delivery. Strings borrow from the payload unless the JSON
    /// escaped them.
    ///
    /// ```
    /// use otai_plugin_sdk::{EventKind, RawEvent};
    /// # fn main() -> otai_plugin_sdk::Result<()> {
    /// let payload = otai_plugin_sdk::testing::payload(
    ///     EventKind::TicketCreated,
    ///     otai_plugin_sdk::serde_json::json!({}),
    /// );
    /// let event = RawEvent::new(payload.as_bytes());
    /// assert_eq!(event.kind()?, EventKind::TicketCreated);
    /// assert_eq!(event.ticket().submitter().name()?, "Sam Ortiz");
    /// assert_eq!(event.ticket().custom_field("no such field")?, None);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When a member on the way (`ticket` for `ticket().subject()`) or the member itself
    /// is missing or of the wrong type, or the payload is not JSON before it. The message
    /// names the member and the byte as [`Event::from_json`]'s does for the same fault,
    /// e.g. ``invalid event payload: missing field `ticket.subject` at byte 412``.
    ///
    /// An accessor reads the payload from its start up to its member and no further, and
    /// decodes nothing but that member: it does not see a fault in what it does not read
    /// (a missing or mistyped member elsewhere, broken JSON after its member, a member
    /// given twice, of which it reads the first), which [`Event::from_json`] refuses.
    /// Hosts write the payload from the contract's types, so a fault is a host's bug; read
    /// [`RawEvent::decode`] where every member must be checked.
    pub fn kind(&self) -> crate::Result<EventKind> {
        let name = lookup(self.json, &["event"], Want::String)?;
        Ok(EventKind::from_name(name.as_deref().unwrap_or_default()))
    }

    members! {
        /// When the event happened, RFC 3339 (`occurred_at`).
        occurred_at: String["occurred_at"];
    }

    /// The ticket after the event, read member by member.
    pub fn ticket(&self) -> RawTicket<'a> {
        RawTicket { json: self.json }
    }

    /// Who caused the event, read member by member.
    pub fn actor(&self) -> RawActor<'a> {
        RawActor { json: self.json }
    }
}

/// The ticket of a [`RawEvent`]: each accessor reads its member from the payload when
/// called (see [`RawEvent::kind`]). [`Ticket`](crate::Ticket) is the decoded one.
#[derive(Clone, Copy)]
pub struct RawTicket<'a> {
    json: &'a [u8],
}

impl<'a> RawTicket<'a> {
    members! {
        /// The ticket's id (`ticket.id`).
        id: String["ticket", "id"];
        /// Its subject (`ticket.subject`).
        subject: String["ticket", "subject"];
        /// Its description (`ticket.description`).
        description: String["ticket", "description"];
        /// Its status, e.g. `New` (`ticket.status`).
        status: String["ticket", "status"];
        /// Its priority, e.g. `Medium` (`ticket.priority`).
        priority: String["ticket", "priority"];
        /// Its category, if it has one (`ticket.category`).
        category: Nullable["ticket", "category"];
        /// Its type, if it has one (`ticket.type`).
        ty: Nullable["ticket", "type"];
        /// The item it is about, if any (`ticket.item`).
        item: Nullable["ticket", "item"];
        /// When it was created, RFC 3339 (`ticket.created_at`).
        created_at: String["ticket", "created_at"];
        /// Its page in the help desk (`ticket.url`).
        url: String["ticket", "url"];
    }

    /// Who submitted it (`ticket.submitter`).
    pub fn submitter(&self) -> RawSubmitter<'a> {
        RawSubmitter { json: self.json }
    }

    /// The value of the custom field `name`, `None` if the ticket has none by that name
    /// (`ticket.custom_fields`).
    ///
    /// # Errors
    /// As [`RawEvent::kind`]; also when a value of `custom_fields` is not a string.
    pub fn custom_field(&self, name: &str) -> crate::Result<Option<Cow<'a, str>>> {
        lookup(self.json, &["ticket", "custom_fields", name], Want::Entry)
    }
}

// The ticket, submitter and actor views hold the whole payload, `config`'s secrets
// included: like `RawEvent`'s, their `Debug` prints none of it.
impl fmt::Debug for RawTicket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawTicket").finish_non_exhaustive()
    }
}

/// The submitter of a [`RawTicket`], read when asked. [`Person`](crate::Person) is the
/// decoded one.
#[derive(Clone, Copy)]
pub struct RawSubmitter<'a> {
    json: &'a [u8],
}

impl<'a> RawSubmitter<'a> {
    members! {
        /// The submitter's user id (`ticket.submitter.id`).
        id: String["ticket", "submitter", "id"];
        /// Their display name (`ticket.submitter.name`).
        name: String["ticket", "submitter", "name"];
        /// Their email address, if known (`ticket.submitter.email`).
        email: Nullable["ticket", "submitter", "email"];
    }
}

impl fmt::Debug for RawSubmitter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSubmitter").finish_non_exhaustive()
    }
}

/// The actor of a [`RawEvent`], read when asked. [`Actor`](crate::Actor) is the decoded
/// one.
#[derive(Clone, Copy)]
pub struct RawActor<'a> {
    json: &'a [u8],
}

impl<'a> RawActor<'a> {
    members! {
        /// The actor's id (`actor.id`).
        id: String["actor", "id"];
        /// Their display name (`actor.name`).
        name: String["actor", "name"];
        /// Their role, e.g. `user` or `agent` (`actor.role`).
        role: String["actor", "role"];
    }
}

impl fmt::Debug for RawActor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawActor").finish_non_exhaustive()
    }
}

/// What a lookup reads at the end of its path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A string that must be there.
    String,
    /// A string, `null` or absent (`None` for both), as the contract's optional members.
    Nullable,
    /// A value of `ticket.custom_fields`, a map of strings that may be absent; a name
    /// given twice keeps its last value, as the contract's map does.
    Entry,
}

/// Reads the string at `path`: the payload up to it, checked as JSON as it goes, the
/// objects on the path member by member, everything before the member read over without
/// decoding it; nothing after the member is read (except the rest of `custom_fields`,
/// whose last value of a name is the one).
fn lookup<'a>(json: &'a [u8], path: &[&str], want: Want) -> crate::Result<Option<Cow<'a, str>>> {
    core::str::from_utf8(json)
        .map_err(JsonError::not_utf8)
        .and_then(|text| find(&mut Reader::new(text), path, 0, want))
        .map_err(|err| Error::msg(format_args!("invalid event payload: {err}")))
}

/// [`lookup`] in the object at the cursor, for `path[depth..]`.
fn find<'a>(
    r: &mut Reader<'a>,
    path: &[&str],
    depth: usize,
    want: Want,
) -> Result<Option<Cow<'a, str>>, JsonError> {
    // One place prefixes the reader's errors with the object they happened in, which
    // keeps the walk small: it is in every plugin that uses a raw event's accessors.
    level(r, path, depth, want).map_err(|fault| match fault {
        Fault::Here(e) => within(e, path, depth),
        Fault::Done(e) => e,
    })
}

/// Why [`level`] stopped: an error of the reader in this object, or one that already
/// names its member.
enum Fault {
    Here(JsonError),
    Done(JsonError),
}

impl From<JsonError> for Fault {
    fn from(e: JsonError) -> Self {
        Fault::Here(e)
    }
}

fn level<'a>(
    r: &mut Reader<'a>,
    path: &[&str],
    depth: usize,
    want: Want,
) -> Result<Option<Cow<'a, str>>, Fault> {
    let name = path.get(depth).copied().unwrap_or_default();
    let last = depth + 1 == path.len();
    let in_map = want == Want::Entry && last;
    r.begin_object()?;
    let mut entry = None;
    let mut first = true;
    while let Some(key) = r.next_key(first)? {
        first = false;
        if key != name {
            // The other values of `custom_fields` are checked as `Event` checks them.
            if in_map {
                r.skip_string()?;
            } else {
                r.skip()?;
            }
        } else if !last {
            return find(r, path, depth + 1, want).map_err(Fault::Done);
        } else if in_map {
            // A name given twice keeps its last value, as the contract's map does: read on.
            entry = Some(r.string()?);
        } else if want == Want::Nullable && r.null()? {
            return Ok(None);
        } else {
            return Ok(Some(r.string()?));
        }
    }
    if in_map
        // `custom_fields` itself may be absent, as may an optional member.
        || (want == Want::Entry && depth + 2 == path.len())
        || (want == Want::Nullable && last)
    {
        return Ok(entry);
    }
    Err(Fault::Done(missing(r, path, depth)))
}

/// Prefixes an error with the object it happened in (`path[..depth]`), as [`Event`]'s
/// errors are.
///
/// This and [`missing`] word their messages as `decode.rs`'s twins do, from a path of
/// names rather than a dotted string: calling those instead, through a string built here,
/// costs the `minimal` template 205 bytes of its 20 KB. `tests/raw_parity.rs` holds the
/// two wordings to the same text.
#[cold]
#[inline(never)]
fn within(e: JsonError, path: &[&str], depth: usize) -> JsonError {
    let path = path.get(..depth).unwrap_or_default();
    if path.is_empty() {
        return e;
    }
    JsonError {
        message: format!("{}: {}", Dotted(path), e.message),
        at: e.at,
    }
}

/// The member `path[depth]` is missing.
#[cold]
#[inline(never)]
fn missing(r: &Reader<'_>, path: &[&str], depth: usize) -> JsonError {
    let path = path.get(..=depth).unwrap_or_default();
    r.error(format_args!("missing field `{}`", Dotted(path)))
}

/// A member's path as [`Event`]'s errors write it, `ticket.submitter.name`.
struct Dotted<'p>(&'p [&'p str]);

impl fmt::Display for Dotted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::CREATED;

    #[test]
    fn raw_name_skips_nested_values_and_strings() {
        let json = r#"{"ticket":{"event":"nested"},"s":"\"event\": \"x\"","n":-1.5e3,"a":[true,null,{}],"event":"ticket.closed"}"#;
        assert_eq!(RawEvent::new(json.as_bytes()).name(), Some("ticket.closed"));
        assert_eq!(
            RawEvent::new(CREATED.as_bytes()).name(),
            Some("ticket.created")
        );
        assert_eq!(
            RawEvent::new(br#"{"ticket":{"event":"nested"}}"#).name(),
            None
        );
        assert_eq!(RawEvent::new(br#"{"event":"tick\"et"}"#).name(), None);
        assert_eq!(RawEvent::new(br#"{"event":3}"#).name(), None);
        assert_eq!(
            RawEvent::new("{\"event\":\"tické\"}".as_bytes()).name(),
            None
        );
        assert_eq!(RawEvent::new(b"[1,2]").name(), None);
        assert_eq!(RawEvent::new(br#"{"a":[1,2"#).name(), None);
        assert_eq!(RawEvent::new(b"").name(), None);
    }

    #[test]
    fn raw_debug_hides_the_payload() {
        let dbg = format!("{:?}", RawEvent::new(CREATED.as_bytes()));
        assert!(!dbg.contains("hooks.slack.com"), "{dbg}");
    }
}
