// The ticket operations ohd_add_reply and ohd_set_custom_field: their call statuses
// (docs/ABI.md section 5) in the documented order of precedence:
//
//   1. NOT_AVAILABLE  called from render_panel, whatever the bytes
//   2. TOO_LARGE      the JSON is over 64 KiB (it is not parsed)
//   3. INVALID_REQUEST the JSON is not of the documented shape
//   4. WRONG_TICKET   ticket_id is not the delivered event's ticket
//   5. the fields' own rules: INVALID_REQUEST for a blank body or an empty key,
//      then TOO_LARGE for a key or value over its limit
//
// The caller has already checked that the buffer lies inside memory (a trap otherwise).

import { parseJson, JsonError, isObject, isBlank, utf8Length } from './json.mjs';

export const STATUS = { OK: 0, INVALID_REQUEST: 1, WRONG_TICKET: 2, TOO_LARGE: 3, NOT_AVAILABLE: 4 };

export const MAX_TICKET_JSON = 64 * 1024;
export const MAX_KEY_BYTES = 128;
export const MAX_VALUE_BYTES = 4 * 1024;

/**
 * Parses `bytes` as an object whose members are exactly those of `fields`
 * ({name: {type, optional}}); unknown, duplicate or missing members and wrong types
 * give null.
 */
function parseShape(bytes, fields) {
  let v;
  try {
    v = parseJson(bytes);
  } catch (e) {
    if (e instanceof JsonError) return null;
    throw e;
  }
  if (!isObject(v)) return null;
  for (const k of Object.keys(v)) if (!Object.hasOwn(fields, k)) return null;
  for (const [k, { type, optional }] of Object.entries(fields)) {
    if (v[k] === undefined) {
      if (!optional) return null;
    } else if (typeof v[k] !== type) {
      return null;
    }
  }
  return v;
}

/** Steps 1 and 2 of the precedence, shared by both operations. */
function precheck(bytes, ctx) {
  if (ctx.inPanel) return STATUS.NOT_AVAILABLE;
  if (bytes.length > MAX_TICKET_JSON) return STATUS.TOO_LARGE;
  return null;
}

/**
 * ohd_add_reply. ctx: { inPanel, ticketId }. Returns { status, reply } with reply
 * ({ ticket_id, body, is_internal }) only for status 0.
 */
export function addReply(bytes, ctx) {
  const early = precheck(bytes, ctx);
  if (early !== null) return { status: early };
  const v = parseShape(bytes, {
    ticket_id: { type: 'string' },
    body: { type: 'string' },
    is_internal: { type: 'boolean', optional: true },
  });
  if (!v) return { status: STATUS.INVALID_REQUEST };
  if (v.ticket_id !== ctx.ticketId) return { status: STATUS.WRONG_TICKET };
  if (isBlank(v.body)) return { status: STATUS.INVALID_REQUEST };
  return {
    status: STATUS.OK,
    reply: { ticket_id: v.ticket_id, body: v.body, is_internal: v.is_internal ?? false },
  };
}

/**
 * ohd_set_custom_field. ctx: { inPanel, ticketId }. Returns { status, field } with
 * field ({ ticket_id, key, value }) only for status 0.
 */
export function setCustomField(bytes, ctx) {
  const early = precheck(bytes, ctx);
  if (early !== null) return { status: early };
  const v = parseShape(bytes, {
    ticket_id: { type: 'string' },
    key: { type: 'string' },
    value: { type: 'string' },
  });
  if (!v) return { status: STATUS.INVALID_REQUEST };
  if (v.ticket_id !== ctx.ticketId) return { status: STATUS.WRONG_TICKET };
  if (v.key === '') return { status: STATUS.INVALID_REQUEST };
  if (utf8Length(v.key) > MAX_KEY_BYTES || utf8Length(v.value) > MAX_VALUE_BYTES) {
    return { status: STATUS.TOO_LARGE };
  }
  return { status: STATUS.OK, field: { ticket_id: v.ticket_id, key: v.key, value: v.value } };
}
