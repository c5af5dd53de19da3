// ohd_http_request without the memory part (docs/ABI.md sections 3, 5 and 7): decoding
// the request JSON, checking method, URL and headers, matching the URL's host against
// permissions.http.allowed_hosts, the host error bodies, and answering from the case's
// scripted servers (http.json) instead of a network.

import { parseJson, JsonError, isObject, stringify } from './json.mjs';

export const MAX_REQUEST_BYTES = 1024 * 1024;
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
// RFC 9110 token: the characters a header name may have.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Headers the host sets itself: they decide where and how the request travels.
const REFUSED = ['host', 'connection', 'content-length', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'keep-alive'];

/** A failure with the kind of a host error body. */
export class HttpFailure {
  constructor(kind, message, host) {
    this.kind = kind;
    this.message = message;
    this.host = host;
  }
  /** The status ohd_http_request returns for this failure. */
  get status() {
    return this.kind === 'host_not_allowed' ? 403 : 0;
  }
  /** The host error body of section 5. */
  body() {
    const err = { kind: this.kind, message: this.message };
    if (this.host !== undefined) err.host = this.host;
    return stringify({ ohd_error: err });
  }
}

const invalid = (message) => new HttpFailure('invalid_request', message);

/**
 * Decodes and checks a request. Returns { method, url (a URL), headers, body } or an
 * HttpFailure: invalid_request, or host_not_allowed for a URL whose host is not in
 * `allowedHosts`. The order of the checks is the reference host's (docs/ABI.md does not
 * give one): the JSON and its members (header values' types and repeated
 * names included), the method, the URL, the host, then the header names and values.
 */
export function decodeRequest(bytes, allowedHosts) {
  if (bytes.length > MAX_REQUEST_BYTES) {
    return invalid(`the request has ${bytes.length} bytes; at most ${MAX_REQUEST_BYTES}`);
  }
  let v;
  try {
    v = parseJson(bytes);
  } catch (e) {
    if (!(e instanceof JsonError)) throw e;
    return invalid(`the request is not valid JSON: ${e.message}`);
  }
  if (!isObject(v)) return invalid('the request must be a JSON object');
  for (const k of Object.keys(v)) {
    if (!['method', 'url', 'headers', 'body'].includes(k)) return invalid(`unknown field \`${k}\``);
  }
  if (typeof v.method !== 'string') return invalid('`method` must be a string');
  if (!METHODS.includes(v.method)) return invalid(`method \`${v.method}\` is not one of ${METHODS.join(', ')}`);
  if (typeof v.url !== 'string') return invalid('`url` must be a string');
  // `headers` may be absent but not null; `body` may be null (as the reference host has it).
  const headers = v.headers === undefined ? Object.create(null) : v.headers;
  if (!isObject(headers)) return invalid('`headers` must be an object');
  const seen = new Set();
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') return invalid(`the value of header \`${name}\` must be a string`);
    if (seen.has(name.toLowerCase())) return invalid(`header \`${name}\` is given twice`);
    seen.add(name.toLowerCase());
  }
  const body = v.body ?? null;
  if (body !== null && typeof body !== 'string') return invalid('`body` must be a string');
  const url = checkUrl(v.url);
  if (url instanceof HttpFailure) return url;
  const denied = checkAllowed(url, allowedHosts);
  if (denied) return denied;

  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) return invalid(`header name ${JSON.stringify(name)} is not an HTTP token`);
    if (REFUSED.includes(lower) || lower.startsWith('proxy-')) {
      return invalid(`header \`${name}\` is set by the host and refused from a plugin`);
    }
    if (/[\r\n\0]/.test(value)) return invalid(`the value of header \`${name}\` contains CR, LF or NUL`);
  }
  return { method: v.method, url, headers, body };
}

/**
 * Parses a URL by the URL Standard and requires http(s) without user info; returns the
 * URL or an invalid_request HttpFailure.
 */
export function checkUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return invalid('the URL is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return invalid(`the URL's scheme \`${url.protocol.slice(0, -1)}\` is not http or https`);
  }
  if (url.username !== '' || url.password !== '') return invalid('the URL must not contain a user name or password');
  return url;
}

/**
 * The host a URL is matched with (section 7, "Allowed-hosts matching"): lower case,
 * one trailing dot removed, IPv6 brackets removed.
 */
export function matchHost(url) {
  let host = url.hostname.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host;
}

/** Null when the URL's host is allowed, else a host_not_allowed HttpFailure. */
export function checkAllowed(url, allowedHosts) {
  const host = matchHost(url);
  // Entries are compared as written (lower case, without brackets): an IPv6 entry not in
  // canonical form, which the manifest check warns about, matches no URL.
  if (allowedHosts.includes(host)) return null;
  return new HttpFailure('host_not_allowed', `host \`${host}\` is not in permissions.http.allowed_hosts`, host);
}

/**
 * Answers a sent request from the scripted servers: the first entry with the same
 * method and URL. Returns { status, body } or an HttpFailure (network, timeout,
 * response_too_large).
 */
export function answer(script, method, url) {
  const entry = script.find((e) => e.method === method && e.url === url);
  if (!entry) return new HttpFailure('network', `no server answers ${method} ${url}`);
  if (entry.error === 'timeout') return new HttpFailure('timeout', 'the deadline ran out before the response arrived');
  if (entry.error !== undefined && entry.error !== null) return new HttpFailure('network', `${entry.error}: the request failed`);
  const body = Buffer.from(entry.body ?? '', 'utf8');
  if (body.length > MAX_RESPONSE_BYTES) {
    return new HttpFailure('response_too_large', `the response body exceeded ${MAX_RESPONSE_BYTES} bytes`);
  }
  return { status: entry.status, body };
}
