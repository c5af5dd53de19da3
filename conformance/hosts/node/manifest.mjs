// The manifest of docs/ABI.md section 7: its rules, the allowed-hosts entries, the
// config schema, and the check of an installation's config values (with defaults).
//
// Validation collects every problem at once, each with its JSON path, as errors (the
// module is refused with kind `manifest`) or warnings (unknown fields and oddities,
// which never refuse a module).

import { isObject, isInteger, isBlank, typeName, stringify, utf8Length } from './json.mjs';
import { SPDX_LICENSES, SPDX_EXCEPTIONS } from './spdx-ids.mjs';

export const EVENT_NAMES = [
  'ticket.created', 'ticket.assigned', 'ticket.status_changed', 'ticket.reply_added',
  'ticket.note_added', 'ticket.resolved', 'ticket.closed', 'ticket.reopened',
];

const CONFIG_TYPES = ['string', 'boolean', 'integer', 'select'];

const ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
// The regular expression semver.org gives for MAJOR.MINOR.PATCH[-pre][+build].
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const CONFIG_KEY = /^[a-z_][a-z0-9_]*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

class Problems {
  constructor() {
    this.errors = [];
    this.warnings = [];
  }
  error(path, message) {
    this.errors.push({ path, message });
  }
  warn(path, message) {
    this.warnings.push({ path, message });
  }
  /** Warns about members of `obj` not in `known`. */
  unknownFields(obj, known, path) {
    for (const k of Object.keys(obj)) {
      if (!known.includes(k)) this.warn(`${path}.${k}`, `unknown field \`${k}\` is ignored`);
    }
  }
}

/** Levenshtein distance, for "did you mean" hints. */
function distance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export function nearest(word, candidates) {
  let best = null;
  for (const c of candidates) {
    const d = distance(word, c);
    if (best === null || d < best.d) best = { c, d };
  }
  return best && best.d <= Math.max(3, Math.floor(word.length / 3)) ? best.c : null;
}

/** Reads an optional member: undefined and null both mean absent. */
function optional(obj, key) {
  const v = obj[key];
  return v === undefined || v === null ? undefined : v;
}

/**
 * Validates a parsed manifest. Returns { errors, warnings, manifest } where manifest
 * holds what the host uses: id, events, allowedHosts (lowercase, without IPv6
 * brackets), configSchema (array of [key, field] in order) and uiPanel.
 */
export function validateManifest(m) {
  const p = new Problems();
  const out = { id: null, events: [], allowedHosts: [], configSchema: [], uiPanel: null };
  if (!isObject(m)) {
    p.error('$', `the manifest must be a JSON object, found ${typeName(m)}`);
    return { ...p, manifest: out };
  }
  p.unknownFields(m, ['id', 'name', 'version', 'description', 'author', 'license', 'homepage',
    'events', 'permissions', 'config_schema', 'ui_panel'], '$');

  const requiredString = (key) => {
    const v = m[key];
    if (v === undefined) p.error(`$.${key}`, `missing field \`${key}\``);
    else if (typeof v !== 'string') p.error(`$.${key}`, `expected a string, found ${typeName(v)}`);
    else return v;
    return undefined;
  };
  const optionalString = (key) => {
    const v = optional(m, key);
    if (v !== undefined && typeof v !== 'string') {
      p.error(`$.${key}`, `expected a string, found ${typeName(v)}`);
      return undefined;
    }
    return v;
  };

  const id = requiredString('id');
  if (id !== undefined) {
    out.id = id;
    if (!ID.test(id)) {
      p.error('$.id', `\`${id}\` is not a reverse-domain id such as \`com.example.my-plugin\``);
    }
  }
  for (const key of ['name', 'description']) {
    const v = requiredString(key);
    if (v !== undefined && isBlank(v)) p.error(`$.${key}`, `\`${key}\` must not be blank`);
  }
  const version = requiredString('version');
  if (version !== undefined && !SEMVER.test(version)) {
    p.error('$.version', `\`${version}\` is not a semantic version (MAJOR.MINOR.PATCH)`);
  }
  optionalString('author');
  const license = optionalString('license');
  if (license !== undefined) checkLicense(license, p);
  const homepage = optionalString('homepage');
  if (homepage !== undefined) {
    let url = null;
    try {
      url = new URL(homepage);
    } catch {}
    // `https:example.com` is an absolute URL to the URL Standard, but not what anyone
    // means by a homepage; the reference host requires the `//` too.
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !/^https?:\/\//i.test(homepage)) {
      p.error('$.homepage', 'the homepage must be an absolute http or https URL');
    }
  }
  out.events = checkEvents(m.events, p);
  out.allowedHosts = checkPermissions(m.permissions, p);
  out.configSchema = checkConfigSchema(m.config_schema, p);
  out.uiPanel = checkUiPanel(optional(m, 'ui_panel'), p);
  return { errors: p.errors, warnings: p.warnings, manifest: out };
}

// An SPDX license expression: license ids of the SPDX list (with an optional `+`),
// LicenseRef-/DocumentRef- references, WITH exceptions, AND/OR, parentheses. As the SPDX
// specification says, ids and operators are matched without regard to case.
const LOWER_LICENSES = new Set([...SPDX_LICENSES].map((x) => x.toLowerCase()));
const LOWER_EXCEPTIONS = new Set([...SPDX_EXCEPTIONS].map((x) => x.toLowerCase()));
const REF = /^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/i;
const isLicenseId = (t) => REF.test(t) || LOWER_LICENSES.has(t.replace(/\+$/, '').toLowerCase());
const isExceptionId = (t) => REF.test(t) || LOWER_EXCEPTIONS.has(t.toLowerCase());

function checkLicense(license, p) {
  if (isBlank(license)) {
    p.warn('$.license', 'the license is blank');
    return;
  }
  const tokens = license.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const op = (t) => (typeof t === 'string' ? t.toUpperCase() : t);
  const isOp = (t) => ['AND', 'OR', 'WITH'].includes(op(t));
  const simple = () => {
    const t = tokens[i];
    if (t === '(') {
      i++;
      if (!expr() || tokens[i] !== ')') return false;
      i++;
      return true;
    }
    if (t === undefined || isOp(t) || !isLicenseId(t)) return false;
    i++;
    if (op(tokens[i]) === 'WITH') {
      i++;
      if (tokens[i] === undefined || !isExceptionId(tokens[i])) return false;
      i++;
    }
    return true;
  };
  const expr = () => {
    if (!simple()) return false;
    while (op(tokens[i]) === 'AND' || op(tokens[i]) === 'OR') {
      i++;
      if (!simple()) return false;
    }
    return true;
  };
  if (expr() && i === tokens.length) return;
  const parts = license.split('/').map((x) => x.trim());
  if (parts.length > 1 && parts.every(isLicenseId)) {
    p.warn('$.license', `\`${license}\` is an old form: write the SPDX expression \`${parts.join(' OR ')}\``);
    return;
  }
  p.error('$.license', `\`${license}\` is not an SPDX license expression of listed licenses`);
}

function checkEvents(events, p) {
  if (events === undefined) {
    p.error('$.events', 'missing field `events`');
    return [];
  }
  if (!Array.isArray(events)) {
    p.error('$.events', `expected an array, found ${typeName(events)}`);
    return [];
  }
  if (events.length === 0) p.error('$.events', 'the plugin must subscribe to at least one event');
  const seen = new Set();
  events.forEach((e, i) => {
    const path = `$.events[${i}]`;
    if (typeof e !== 'string') return p.error(path, `expected a string, found ${typeName(e)}`);
    if (!EVENT_NAMES.includes(e)) {
      const hint = nearest(e, EVENT_NAMES);
      p.error(path, `unknown event \`${e}\`${hint ? `; did you mean \`${hint}\`?` : ''}`);
    } else if (seen.has(e)) {
      p.error(path, `event \`${e}\` is listed twice`);
    }
    seen.add(e);
  });
  return events.filter((e) => typeof e === 'string');
}

function checkPermissions(perm, p) {
  if (perm === undefined) return [];
  if (!isObject(perm)) {
    p.error('$.permissions', `expected an object, found ${typeName(perm)}`);
    return [];
  }
  p.unknownFields(perm, ['http'], '$.permissions');
  const http = optional(perm, 'http');
  if (http === undefined) return [];
  if (!isObject(http)) {
    p.error('$.permissions.http', `expected an object, found ${typeName(http)}`);
    return [];
  }
  p.unknownFields(http, ['allowed_hosts'], '$.permissions.http');
  const hosts = http.allowed_hosts;
  if (hosts === undefined) return [];
  const path = '$.permissions.http.allowed_hosts';
  if (!Array.isArray(hosts)) {
    p.error(path, `expected an array, found ${typeName(hosts)}`);
    return [];
  }
  const seen = new Set();
  const out = [];
  hosts.forEach((h, i) => {
    if (typeof h !== 'string') return p.error(`${path}[${i}]`, `expected a string, found ${typeName(h)}`);
    checkAllowedHost(h, `${path}[${i}]`, p);
    const key = duplicateKey(h);
    if (seen.has(key)) p.error(`${path}[${i}]`, `host \`${h}\` is listed twice`);
    seen.add(key);
    out.push(normalizeEntry(h));
  });
  return out;
}

/** An allowed-hosts entry as URLs are matched with it: lower case, IPv6 without
 * brackets and in the canonical form URLs are written in. */
export function normalizeEntry(h) {
  const lower = h.toLowerCase();
  const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return (bare.includes(':') && canonicalIpv6(bare)) || bare;
}

/** The same host, for finding duplicates: IPv6 addresses compared as addresses. */
function duplicateKey(h) {
  return normalizeEntry(h);
}

/** The canonical text of an IPv6 address (the URL Standard's), or null if invalid. */
function canonicalIpv6(s) {
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

/** One entry of permissions.http.allowed_hosts (docs/ABI.md section 7, "Allowed hosts"). */
export function checkAllowedHost(h, path, p) {
  const bare = (what) => p.error(path, `"${h}" is not a bare hostname (${what}); write just the host, e.g. "hooks.slack.com"`);
  if (h === '') return p.error(path, 'an allowed host must not be empty');
  if (/[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/.test(h)) {
    return p.error(path, `"${h}" contains whitespace`);
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(h)) return bare('it has a scheme');
  if (h.includes('@')) return bare('it has user info');
  if (/[/?#]/.test(h)) return bare('it has a path, query or fragment');
  if (h.includes('*')) return p.error(path, `"${h}": wildcards are not supported; list each host`);
  if (h.includes(':') || h.startsWith('[')) {
    const bracketed = h.startsWith('[') && h.endsWith(']');
    const inner = bracketed ? h.slice(1, -1) : h;
    const canonical = inner.includes(':') ? canonicalIpv6(inner) : null;
    if (canonical === null) {
      if (/^[^:[\]]+:\d*$/.test(h) || /^\[.*\]:\d*$/.test(h)) return bare('it has a port');
      return p.error(path, `"${h}" is not a valid IPv6 address`);
    }
    if (inner !== inner.toLowerCase()) p.warn(path, `"${h}" has upper case; write it in lower case`);
    if (canonical !== inner.toLowerCase()) {
      p.warn(path, `"${h}" is not in canonical form; write "${canonical}"`);
    }
    return;
  }
  if (/[^\x00-\x7f]/.test(h)) {
    return p.error(path, `"${h}" is not ASCII; write its xn-- punycode form`);
  }
  if (/[^A-Za-z0-9._-]/.test(h)) {
    return p.error(path, `"${h}" has characters other than letters, digits, '-', '_' and '.'`);
  }
  if (h.endsWith('.')) return p.error(path, `"${h}" ends with a dot; write "${h.slice(0, -1)}"`);
  if (h.length > 253) return p.error(path, `"${h}" is longer than 253 bytes`);
  const labels = h.split('.');
  for (const l of labels) {
    if (l === '') return p.error(path, `"${h}" has an empty label`);
    if (l.startsWith('-') || l.endsWith('-')) {
      return p.error(path, `"${h}" has a label starting or ending with '-'`);
    }
    if (l.length > 63) return p.error(path, `"${h}" has a label longer than 63 bytes`);
  }
  // The URL Standard reads a host whose last label is a number (decimal or 0x hex) as
  // an IPv4 address, so such a name would never match a URL: only dotted quads are hosts.
  const last = labels[labels.length - 1];
  if (/^\d+$/.test(last) || /^0x[0-9a-f]*$/i.test(last)) {
    if (!IPV4.test(h)) return p.error(path, `"${h}" is neither a host name nor a dotted-quad IPv4 address`);
  }
  if (h !== h.toLowerCase()) p.warn(path, `"${h}" has upper case; write "${h.toLowerCase()}"`);
}

function checkUiPanel(panel, p) {
  if (panel === undefined) return null;
  if (!isObject(panel)) {
    p.error('$.ui_panel', `expected an object, found ${typeName(panel)}`);
    return null;
  }
  p.unknownFields(panel, ['title', 'height'], '$.ui_panel');
  if (panel.title === undefined) p.error('$.ui_panel.title', 'missing field `title`');
  else if (typeof panel.title !== 'string') p.error('$.ui_panel.title', `expected a string, found ${typeName(panel.title)}`);
  else if (isBlank(panel.title)) p.error('$.ui_panel.title', 'the title must not be blank');
  const h = panel.height;
  if (h === undefined) p.error('$.ui_panel.height', 'missing field `height`');
  else if (!isInteger(h)) p.error('$.ui_panel.height', `expected an integer, found ${typeName(h)}`);
  else if (!(h >= 1 && h <= 2000)) p.error('$.ui_panel.height', `height ${h} is not between 1 and 2000`);
  // An invalid panel is reported as such, not also as a missing render_panel.
  return p.errors.some((e) => e.path.startsWith('$.ui_panel')) ? null : panel;
}

function checkConfigSchema(schema, p) {
  if (schema === undefined) return [];
  if (!isObject(schema)) {
    p.error('$.config_schema', `expected an object, found ${typeName(schema)}`);
    return [];
  }
  const out = [];
  for (const [key, field] of Object.entries(schema)) {
    const path = `$.config_schema.${key}`;
    if (!CONFIG_KEY.test(key)) p.error(path, `\`${key}\` is not an identifier ([a-z_][a-z0-9_]*)`);
    if (!isObject(field)) {
      p.error(path, `expected an object, found ${typeName(field)}`);
      continue;
    }
    p.unknownFields(field, ['type', 'label', 'description', 'required', 'secret', 'options', 'default'], path);
    const type = field.type;
    if (type === undefined) p.error(`${path}.type`, 'missing field `type`');
    else if (!CONFIG_TYPES.includes(type)) {
      p.error(`${path}.type`, `expected one of ${CONFIG_TYPES.join(', ')}, found ${JSON.stringify(type)}`);
    }
    for (const k of ['label', 'description']) {
      const v = optional(field, k);
      if (v !== undefined && typeof v !== 'string') p.error(`${path}.${k}`, `expected a string, found ${typeName(v)}`);
    }
    for (const k of ['required', 'secret']) {
      if (field[k] !== undefined && typeof field[k] !== 'boolean') {
        p.error(`${path}.${k}`, `expected a boolean, found ${typeName(field[k])}`);
      }
    }
    if (field.secret === true && type !== 'string') p.error(`${path}.secret`, '`secret` applies to string fields only');
    const options = optional(field, 'options');
    let optionsOk = false;
    if (options !== undefined) {
      if (!Array.isArray(options) || options.some((o) => typeof o !== 'string')) {
        p.error(`${path}.options`, 'expected a list of strings');
      } else if (type !== 'select') {
        p.error(`${path}.options`, '`options` applies to select fields only');
      } else if (options.length === 0) {
        p.error(`${path}.options`, 'a select needs at least one option');
      } else if (new Set(options).size !== options.length) {
        p.error(`${path}.options`, 'options must be distinct');
      } else {
        optionsOk = true;
      }
    } else if (type === 'select') {
      p.error(`${path}.options`, 'a select field needs `options`');
    }
    const def = optional(field, 'default');
    if (def !== undefined) {
      if (field.secret === true) {
        p.error(`${path}.default`, 'a secret field cannot have a default: the manifest is public');
      } else if (CONFIG_TYPES.includes(type) && (type !== 'select' || optionsOk)) {
        const problem = valueProblem(type, def, options);
        if (problem) p.error(`${path}.default`, `the default ${problem}`);
      }
      if (field.required === true) {
        p.warn(`${path}.required`, '`required` has no effect on a field with a default');
      }
    }
    out.push([key, field]);
  }
  return out;
}

// docs/ABI.md section 9: a config value (a string, in UTF-8 bytes) and the whole config
// as the payload carries it (compact JSON, defaults filled in).
const MAX_CONFIG_VALUE = 16 * 1024;
const MAX_CONFIG = 64 * 1024;

/** Why `v` is not a value of a field of type `type`, or null when it is. */
function valueProblem(type, v, options) {
  if (typeof v === 'string' && utf8Length(v) > MAX_CONFIG_VALUE) {
    return `is ${utf8Length(v)} bytes long; a config value may be at most ${MAX_CONFIG_VALUE} bytes`;
  }
  switch (type) {
    case 'string':
      return typeof v === 'string' ? null : `must be a string, found ${typeName(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `must be a boolean, found ${typeName(v)}`;
    case 'integer':
      if (!isInteger(v)) return `must be an integer, found ${typeName(v)}`;
      return BigInt(v) >= I64_MIN && BigInt(v) <= I64_MAX ? null : 'is out of the 64-bit range';
    case 'select':
      if (typeof v !== 'string') return `must be a string, found ${typeName(v)}`;
      return options.includes(v) ? null : 'is not one of the options';
    default:
      return 'has an unknown type';
  }
}

/**
 * Checks an installation's config values against the schema ([key, field] pairs) and
 * fills in defaults. Returns { errors, config } (config in schema order). Messages never
 * quote a value: it may be a secret, or a secret under a mistyped key.
 */
export function validateConfig(schema, values) {
  const errors = [];
  if (!isObject(values)) return { errors: [`the config must be an object, found ${typeName(values)}`], config: null };
  const keys = schema.map(([k]) => k);
  for (const k of Object.keys(values)) {
    if (!keys.includes(k)) {
      const hint = nearest(k, keys);
      errors.push(`unknown config key \`${k}\`${hint ? `; did you mean \`${hint}\`?` : ''}`);
    }
  }
  const config = Object.create(null);
  for (const [key, field] of schema) {
    const v = values[key];
    if (v === undefined || v === null) {
      const def = optional(field, 'default');
      if (def !== undefined) config[key] = def;
      else if (field.required === true) errors.push(`\`${key}\` is required`);
      continue;
    }
    const problem = valueProblem(field.type, v, field.options ?? []);
    if (problem) errors.push(`\`${key}\` ${problem}`);
    else config[key] = v;
  }
  const size = utf8Length(stringify(config));
  if (size > MAX_CONFIG) {
    errors.push(`the config is ${size} bytes as JSON; a config may be at most ${MAX_CONFIG} bytes`);
  }
  return { errors, config };
}
