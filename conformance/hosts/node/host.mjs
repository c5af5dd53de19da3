// The plugin host: loading (checks of module-check.mjs, then compiling), installing with
// a config, and running one delivery or render_panel call on a fresh instance with the
// `ohd` imports (docs/ABI.md sections 3, 4 and 9).
//
// Every delivery records the host calls the plugin made, for the conformance
// transcript. Failures inside a delivery are JS exceptions: Trap (including engine
// traps, which are wrapped into one), Timeout (the deadline seen at a host call or at
// the end), and DriverBug (a bug of this host, which must not pass for a plugin trap).

import { checkModule, providedImports, readSignatures, IMPLEMENTS, MAX_TABLE_ELEMENTS, PAGE } from './module-check.mjs';
import { withGrowthLimits } from './wasm-reader.mjs';
import { validateConfig } from './manifest.mjs';
import { decodeUtf8, JsonError, stringify } from './json.mjs';
import { decodeRequest, checkUrl, checkAllowed, answer, HttpFailure } from './http.mjs';
import { addReply, setCustomField } from './tickets.mjs';

export const DEFAULT_DEADLINE_MS = 5000;
export const DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024;
export const MAX_LOG_LINE = 16 * 1024;
export const MAX_LOG_PER_DELIVERY = 1024 * 1024;
export const MAX_PANEL_URL = 4 * 1024;
const TRUNCATED = ' …[truncated]';
const LEVELS = ['debug', 'info', 'warn', 'error'];

export class Trap extends Error {}
export class Timeout extends Error {}
export class DriverBug extends Error {}

const lossy = new TextDecoder('utf-8'); // invalid bytes become U+FFFD
const encoder = new TextEncoder();

const isStackOverflow = (e) => e instanceof RangeError && /call stack/i.test(e.message);

export class Host {
  /**
   * settings: { deadlineMs, memoryLimitBytes, http (the scripted servers), signatures (the
   * signature file's contents, default docs/abi-signatures.json) }
   */
  constructor({ deadlineMs = DEFAULT_DEADLINE_MS, memoryLimitBytes = DEFAULT_MEMORY_LIMIT, http = [], signatures = readSignatures() } = {}) {
    this.deadlineMs = deadlineMs;
    this.memoryLimitBytes = memoryLimitBytes;
    this.http = http;
    this.signatures = signatures;
  }

  /** Returns { refused: [{kind, message}], warnings } or { plugin, warnings }. */
  load(bytes) {
    const { problems, warnings, info } = checkModule(bytes, { memoryLimitBytes: this.memoryLimitBytes, signatures: this.signatures });
    if (problems.length > 0) return { refused: problems, warnings };
    // The engine enforces the limits if the module declares them as its maxima.
    const limited = withGrowthLimits(bytes, info.module, {
      maxPages: Math.min(Math.floor(this.memoryLimitBytes / PAGE), 65536),
      maxElements: MAX_TABLE_ELEMENTS,
    });
    const module = new WebAssembly.Module(limited);
    const { allowedHosts, configSchema, events } = info.manifest;
    return { plugin: new Plugin(this, module, { allocator: info.allocator, allowedHosts, configSchema, events }), warnings };
  }
}

export class Plugin {
  /**
   * parts: { allocator ('ohd' or 'libc'), allowedHosts, configSchema, events }. The module
   * and the parts can be posted to a worker, which makes the same Plugin there (parts()).
   */
  constructor(host, module, { allocator, allowedHosts, configSchema, events }) {
    this.host = host;
    this.module = module;
    this.allocator = allocator;
    this.allowedHosts = allowedHosts;
    this.configSchema = configSchema;
    this.events = events;
    this.config = null;
  }

  parts() {
    return { allocator: this.allocator, allowedHosts: this.allowedHosts, configSchema: this.configSchema, events: this.events };
  }

  /** Whether the manifest lists `event`: a host delivers no other. */
  subscribesTo(event) {
    return this.events.includes(event);
  }

  /** Checks the config values and fills in defaults; returns the list of errors. */
  install(values) {
    const { errors, config } = validateConfig(this.configSchema, values);
    if (errors.length === 0) this.config = config;
    return errors;
  }

  /** The payload of section 6: the event's members with `config` added (before `data`). */
  payload(event) {
    const out = Object.create(null);
    for (const [k, v] of Object.entries(event)) {
      if (k === 'config') continue;
      if (k === 'data') out.config = this.config;
      out[k] = v;
    }
    out.config ??= this.config;
    return stringify(out);
  }

  /**
   * Delivers a payload (the text of payload()) to on_event. Returns { outcome, calls }.
   * `onCall(seq, record)` sees each host call as it completes (seq: its place in order).
   */
  deliver(payload, ticketId, onCall) {
    const d = new Delivery(this, { inPanel: false, ticketId, onCall });
    return d.run(() => {
      const bytes = encoder.encode(payload);
      const ptr = d.allocate(bytes);
      d.callExport('on_event', ptr, bytes.length);
      d.free(ptr, bytes.length);
    });
  }

  /** Calls render_panel with a ticket id. Returns { outcome, calls, panel? }. */
  renderPanel(ticketId, onCall) {
    const d = new Delivery(this, { inPanel: true, ticketId, onCall });
    let panel;
    const result = d.run(() => {
      const id = encoder.encode(ticketId);
      const idPtr = id.length > 0 ? d.allocate(id) : 0;
      const [p, n] = d.callExport('render_panel', idPtr, id.length).map((x) => x >>> 0);
      let url = null;
      if (n !== 0) {
        const bytes = d.read('render_panel', p, n);
        d.free(p, n);
        url = this.panelUrl(bytes, d);
      } else if (p !== 0) {
        // Length 0 is "no panel" whatever the pointer; a buffer the plugin did
        // allocate is still freed.
        d.free(p, 0);
      }
      if (id.length > 0) d.free(idPtr, id.length);
      panel = url === null && n !== 0 ? { refused: true } : { url };
    });
    if (panel && result.outcome === 'ok') result.panel = panel;
    return result;
  }

  /** The panel URL the host shows, or null when it refuses it (the reason is logged). */
  panelUrl(bytes, d) {
    const refuse = (why) => {
      d.hostLog.push(`panel not shown: ${why}`);
      return null;
    };
    if (bytes.length > MAX_PANEL_URL) return refuse(`the URL has ${bytes.length} bytes, at most ${MAX_PANEL_URL}`);
    let text;
    try {
      text = decodeUtf8(bytes);
    } catch (e) {
      if (e instanceof JsonError) return refuse('the URL is not UTF-8');
      throw e;
    }
    const url = checkUrl(text);
    if (url instanceof HttpFailure) return refuse(url.message);
    const denied = checkAllowed(url, this.allowedHosts);
    if (denied) return refuse(denied.message);
    // The URL as the plugin gave it, as the reference host shows it (the iframe's
    // browser parses it by the same URL Standard, so it reaches the host checked here).
    return text;
  }
}

/** One delivery (or render_panel call) on a fresh instance. */
class Delivery {
  constructor(plugin, { inPanel, ticketId, onCall }) {
    this.plugin = plugin;
    this.onCall = onCall;
    this.host = plugin.host;
    this.inPanel = inPanel;
    this.ticketId = ticketId;
    this.calls = [];
    this.hostLog = []; // the host's own lines (not part of the transcript)
    this.logBytes = 0;
    this.dropped = { lines: 0, bytes: 0 };
    this.deadline = performance.now() + this.host.deadlineMs;
    this.exports = null;
    this.failure = null; // the first Trap/Timeout/DriverBug, kept even if wasm catches it
  }

  /** Instantiates, calls _initialize, runs `body`, and maps the way it ended to an outcome. */
  run(body) {
    let outcome = 'ok';
    try {
      let instance;
      try {
        instance = new WebAssembly.Instance(this.plugin.module, { ohd: this.imports() });
      } catch (e) {
        throw this.wrapEngineError(e);
      }
      this.exports = instance.exports;
      this.memory = instance.exports.memory;
      if (this.exports._initialize) this.callExport('_initialize');
      body();
      if (this.failure) throw this.failure;
      this.checkDeadline();
    } catch (e) {
      const failure = this.failure ?? e;
      if (failure instanceof DriverBug) throw failure.cause ?? failure;
      if (failure instanceof Timeout) outcome = 'timed_out';
      else if (failure instanceof Trap) outcome = 'trapped';
      else throw failure;
    }
    if (this.dropped.lines > 0) {
      this.hostLog.push(`warn: ${this.dropped.lines} log lines (${this.dropped.bytes} bytes) dropped after 1 MiB`);
    }
    const calls = this.calls.filter((c) => !c.pending);
    return { outcome, calls };
  }

  /** Remembers the first failure (a plugin could catch the JS exception with catch_all). */
  fail(e) {
    this.failure ??= e;
    return this.failure;
  }

  wrapEngineError(e) {
    if (e instanceof Trap || e instanceof Timeout || e instanceof DriverBug) return this.fail(e);
    // WebAssembly.RuntimeError, a stack overflow, or anything else out of plugin code.
    return this.fail(new Trap(e?.message ?? String(e)));
  }

  checkDeadline() {
    if (performance.now() > this.deadline) throw this.fail(new Timeout('the deadline ran out'));
  }

  /** Calls an export of the plugin; engine errors become Traps. */
  callExport(name, ...args) {
    const fn = this.exports[name];
    try {
      return fn(...args);
    } catch (e) {
      throw this.wrapEngineError(e);
    }
  }

  mem() {
    return new Uint8Array(this.memory.buffer);
  }

  /** A bounds-checked copy of (ptr, len); out of memory is a trap naming `fn`. */
  read(fn, ptr, len) {
    ptr >>>= 0;
    len >>>= 0;
    const size = this.memory.buffer.byteLength;
    if (ptr + len > size) {
      throw this.fail(new Trap(`${fn}: buffer 0x${ptr.toString(16)}+${len} is outside linear memory (${size} bytes)`));
    }
    return this.mem().slice(ptr, ptr + len);
  }

  checkOutPointer(fn, ptr) {
    ptr >>>= 0;
    const size = this.memory.buffer.byteLength;
    if (ptr + 4 > size) {
      throw this.fail(new Trap(`${fn}: out-pointer 0x${ptr.toString(16)}+4 is outside linear memory (${size} bytes)`));
    }
    return ptr;
  }

  writeU32(fn, ptr, value) {
    ptr = this.checkOutPointer(fn, ptr);
    new DataView(this.memory.buffer).setUint32(ptr, value >>> 0, true);
  }

  /** Allocates with the plugin's allocator and writes `bytes` there. */
  allocate(bytes) {
    const name = this.plugin.allocator === 'ohd' ? 'ohd_alloc' : 'malloc';
    const ptr = this.callExport(name, bytes.length) >>> 0;
    if (ptr === 0) throw this.fail(new Trap(`allocation failed: ${name}(${bytes.length}) returned 0`));
    const size = this.memory.buffer.byteLength;
    if (ptr + bytes.length > size) {
      throw this.fail(new Trap(`${name} returned 0x${ptr.toString(16)}+${bytes.length}, outside linear memory (${size} bytes)`));
    }
    this.mem().set(bytes, ptr);
    return ptr;
  }

  /** Frees with the plugin's allocator: ohd_free(ptr, size) or free(ptr). */
  free(ptr, size) {
    if (this.plugin.allocator === 'ohd') this.callExport('ohd_free', ptr, size);
    else this.callExport('free', ptr);
  }

  /**
   * The `ohd` import object. Each function records its call first (as pending, so that
   * the order is the order the plugin made them even when calls nest) and completes
   * the record only if it returns; a trapping call stays pending and is left out.
   */
  imports() {
    const wrap = (name, impl) => (...args) => {
      if (this.failure) throw this.failure;
      const record = { fn: name, pending: true };
      this.calls.push(record);
      const seq = this.calls.length - 1;
      try {
        this.checkDeadline();
        const result = impl(record, ...args.map((a) => a >>> 0));
        delete record.pending;
        this.onCall?.(seq, record);
        return result;
      } catch (e) {
        if (e instanceof Trap || e instanceof Timeout || e instanceof DriverBug) throw this.fail(e);
        if (isStackOverflow(e)) throw this.fail(new Trap(e.message));
        throw this.fail(new DriverBug(`${name}: ${e.message}`, { cause: e }));
      }
    };
    const imports = {
      ohd_log: wrap('ohd_log', (r, ptr, len, level) => this.log(r, ptr, len, level)),
      ohd_http_request: wrap('ohd_http_request', (r, ...a) => this.httpRequest(r, ...a)),
      ohd_add_reply: wrap('ohd_add_reply', (r, ptr, len) => {
        const { status, reply } = addReply(this.read('ohd_add_reply', ptr, len), this);
        Object.assign(r, { status }, reply ? { reply } : {});
        return status;
      }),
      ohd_set_custom_field: wrap('ohd_set_custom_field', (r, ptr, len) => {
        const { status, field } = setCustomField(this.read('ohd_set_custom_field', ptr, len), this);
        Object.assign(r, { status }, field ? { field } : {});
        return status;
      }),
      // Section 3: the imports of these names forward to the plugin's own allocator.
      ohd_alloc: wrap('ohd_alloc', (r, size) => {
        const name = this.plugin.allocator === 'ohd' ? 'ohd_alloc' : 'malloc';
        const ptr = this.callExport(name, size) >>> 0;
        Object.assign(r, { size, ptr });
        return ptr;
      }),
      ohd_free: wrap('ohd_free', (r, ptr, size) => {
        this.free(ptr, size);
        Object.assign(r, { ptr, size });
      }),
    };
    // A function of this host's version that the signature file gained without an
    // implementation here stops every run, not only a plugin that happens to import it.
    // A later version's function is not this host's to implement: module-check.mjs
    // refuses a module that imports it.
    for (const [name, { since }] of Object.entries(providedImports(this.host.signatures))) {
      if (!Object.hasOwn(imports, name)) {
        throw new DriverBug(`host.mjs implements no \`ohd.${name}\`, which the signature file says ABI ${since} added: this host implements ABI ${IMPLEMENTS}`);
      }
    }
    return imports;
  }

  /** ohd_log: 16 KiB per line (cut at a character boundary), 1 MiB per delivery. */
  log(record, ptr, len, level) {
    const bytes = this.read('ohd_log', ptr, len);
    const levelName = LEVELS[level] ?? 'error';
    if (this.logBytes >= MAX_LOG_PER_DELIVERY) {
      this.dropped.lines++;
      this.dropped.bytes += bytes.length;
      record.dropped = true;
      return;
    }
    let message = lossy.decode(bytes);
    let encoded = encoder.encode(message);
    if (encoded.length > MAX_LOG_LINE) {
      let cut = MAX_LOG_LINE;
      while (cut > 0 && (encoded[cut] & 0xc0) === 0x80) cut--; // not inside a character
      message = lossy.decode(encoded.subarray(0, cut)) + TRUNCATED;
      encoded = encoder.encode(message);
    }
    if (this.logBytes + encoded.length > MAX_LOG_PER_DELIVERY) {
      // The line that would take the log past 1 MiB is dropped, and every one after.
      this.logBytes = MAX_LOG_PER_DELIVERY;
      this.dropped.lines++;
      this.dropped.bytes += bytes.length;
      record.dropped = true;
      return;
    }
    this.logBytes += encoded.length;
    Object.assign(record, { level: levelName, message });
  }

  /** ohd_http_request: decode, check, answer from the script, write the body back. */
  httpRequest(record, reqPtr, reqLen, outPtr, outLen) {
    const fn = 'ohd_http_request';
    const bytes = this.read(fn, reqPtr, reqLen);
    this.checkOutPointer(fn, outPtr);
    this.checkOutPointer(fn, outLen);
    let result = decodeRequest(bytes, this.plugin.allowedHosts);
    if (!(result instanceof HttpFailure)) {
      const req = result;
      record.sent = { method: req.method, url: req.url.href, headers: req.headers, body: req.body };
      result = answer(this.host.http, req.method, req.url.href);
    }
    let status;
    let body;
    if (result instanceof HttpFailure) {
      status = result.status;
      body = encoder.encode(result.body());
      record.error = result.kind === 'host_not_allowed' ? { kind: result.kind, host: result.host } : { kind: result.kind };
    } else {
      status = result.status;
      body = result.body;
      record.body = decodeUtf8(body);
    }
    // An empty body is (0, 0): nothing allocated, nothing for the plugin to free.
    const ptr = body.length > 0 ? this.allocate(body) : 0;
    this.writeU32(fn, outPtr, ptr);
    this.writeU32(fn, outLen, body.length);
    record.status = status;
    return status;
  }
}

