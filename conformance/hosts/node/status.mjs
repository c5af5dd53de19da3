// One change of a ticket's status and the events it sends (docs/ABI.md section 6, "One
// change, several events"): every change is a ticket.status_changed; a change to
// Resolved or Closed is followed by ticket.resolved or ticket.closed, and one from
// Resolved or Closed to another status by ticket.reopened. Setting the status a ticket
// has is no change.

const RESOLVED = 'Resolved';
const CLOSED = 'Closed';

/** The event names a change from `from` to `to` sends, in order. */
export function statusChangeEvents(from, to) {
  if (from === to) return [];
  const events = ['ticket.status_changed'];
  if (to === RESOLVED) events.push('ticket.resolved');
  else if (to === CLOSED) events.push('ticket.closed');
  else if (from === RESOLVED || from === CLOSED) events.push('ticket.reopened');
  return events;
}

/**
 * The event `name` of the change of `before`'s ticket to `to`: the ticket after the
 * change (its custom_fields with `fields` added, the ones set by the deliveries before
 * this one), the change's occurred_at and actor, and the event's own data.
 */
export function changeEvent(before, name, to, notes, fields) {
  const ticket = { ...before.ticket, status: to, custom_fields: { ...before.ticket.custom_fields, ...fields } };
  const data = {
    'ticket.status_changed': { from_status: before.ticket.status, to_status: to },
    'ticket.resolved': { resolution_notes: notes },
    'ticket.reopened': { reason: notes },
  }[name] ?? {};
  return { event: name, occurred_at: before.occurred_at, ticket, actor: before.actor, data };
}
