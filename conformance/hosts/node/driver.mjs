#!/usr/bin/env node
// The conformance driver (conformance/README.md, "Writing a driver"):
//
//   node conformance/hosts/node/driver.mjs [--signatures FILE] <case folder>
//
// reads plugin.wasm, case.json, event.json, config.json and http.json from the folder,
// runs them on this host, and prints the transcript as one JSON object. Exit status 0
// whenever a transcript was printed (a refused module and a trapped plugin included);
// non-zero, with the reason on stderr, only for an unreadable folder or a driver bug.
// `--signatures` checks modules against another signature file than
// docs/abi-signatures.json (one with imports of a later version, say).

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Host, DEFAULT_DEADLINE_MS, DEFAULT_MEMORY_LIMIT } from './host.mjs';
import { IMPLEMENTS, readSignatures } from './module-check.mjs';
import { parseJson } from './json.mjs';
import { statusChangeEvents, changeEvent } from './status.mjs';

/** Reads a JSON input file of the folder; later duplicate members win, as in serde_json's Value. */
function readJson(folder, name, fallback) {
  const path = join(folder, name);
  if (!existsSync(path) && fallback !== undefined) return fallback;
  return expand(parseJson(readFileSync(path), { duplicates: 'last' }));
}

/**
 * The string constructors of conformance/README.md ({"$repeat": [s, n]}, {"$concat":
 * [...]}). The runner expands them when it writes the folder; doing it again here is
 * harmless and keeps the driver usable on a case folder as written.
 */
function expand(v) {
  if (Array.isArray(v)) return v.map(expand);
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== null) return v;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === '$repeat' && Array.isArray(v.$repeat)) {
    const [s, n] = v.$repeat.map(expand);
    return String(s).repeat(Number(n));
  }
  if (keys.length === 1 && keys[0] === '$concat' && Array.isArray(v.$concat)) {
    return v.$concat.map(expand).join('');
  }
  const out = Object.create(null);
  for (const k of keys) out[k] = expand(v[k]);
  return out;
}

/**
 * Runs the call on a worker thread and stops it at the deadline. The worker's own
 * Delivery also checks the deadline at every host call and at the end; this timer is
 * what stops wasm code that never calls the host. The timer starts when the worker is
 * about to instantiate, not while the worker thread itself starts up.
 */
function runInWorker(hostSettings, plugin, spec) {
  const worker = new Worker(new URL('./delivery-worker.mjs', import.meta.url), {
    workerData: { settings: hostSettings, module: plugin.module, parts: plugin.parts(), ...spec },
  });
  const calls = new Map();
  return new Promise((resolve, reject) => {
    let timer = null;
    let result = null;
    let bug = null;
    let timedOut = false;
    worker.on('message', (m) => {
      if (m.started) {
        timer = setTimeout(() => {
          timedOut = true;
          worker.terminate();
        }, hostSettings.deadlineMs);
      } else if (m.call) calls.set(m.call.seq, m.call.record);
      else if (m.done) result = m.done;
      else if (m.bug) bug = m.bug;
    });
    worker.on('error', (e) => (bug ??= e?.stack ?? String(e)));
    worker.on('exit', () => {
      clearTimeout(timer);
      if (bug) reject(new Error(`delivery worker: ${bug}`));
      else if (result) resolve(result);
      else if (timedOut) {
        const ordered = [...calls.entries()].sort((a, b) => a[0] - b[0]).map(([, record]) => record);
        resolve({ outcome: 'timed_out', calls: ordered });
      } else reject(new Error('the delivery worker exited without a result'));
    });
  });
}

async function main(folder, signatures) {
  const settings = readJson(folder, 'case.json');
  // docs/ABI.md section 14: a host may accept core modules only, as this one does; the
  // kit lets it skip the component cases, which say so in `requires`.
  if ((settings.requires ?? []).includes('component')) {
    return { skipped: 'this host runs core modules only, not components' };
  }
  const hostSettings = settings.host ?? {};
  const event = readJson(folder, 'event.json');
  const config = readJson(folder, 'config.json', Object.create(null));
  const http = readJson(folder, 'http.json', []);
  const hostConfig = {
    deadlineMs: Number(hostSettings.deadline_ms ?? DEFAULT_DEADLINE_MS),
    memoryLimitBytes: Number(hostSettings.memory_limit_bytes ?? DEFAULT_MEMORY_LIMIT),
    http,
    signatures,
  };
  const host = new Host(hostConfig);

  const loaded = host.load(new Uint8Array(readFileSync(join(folder, 'plugin.wasm'))));
  for (const w of loaded.warnings) process.stderr.write(`warning[${w.kind}]: ${w.message}\n`);
  if (loaded.refused) {
    for (const p of loaded.refused) process.stderr.write(`error[${p.kind}]: ${p.message}\n`);
    // docs/ABI.md section 3, "Versions of the import table": a case whose plugin imports
    // a function newer than this host is for newer hosts. The runner accepts the skip
    // when the case does need that version, and counts it apart.
    const newer = loaded.refused.filter((p) => p.since !== undefined);
    if (newer.length > 0) {
      const needs = newer.map((p) => p.message).join('; ');
      return { skipped: needs, implements: IMPLEMENTS };
    }
    return { load: { refused: [...new Set(loaded.refused.map((p) => p.kind))] } };
  }
  const plugin = loaded.plugin;
  const configErrors = plugin.install(config);
  if (configErrors.length > 0) {
    for (const e of configErrors) process.stderr.write(`config: ${e}\n`);
    return { load: 'loaded', install: 'refused' };
  }
  const transcript = { load: 'loaded', install: 'installed' };
  const call = settings.call ?? 'on_event';
  if (call === 'status_change') {
    return { ...transcript, deliveries: await changeStatus(hostConfig, plugin, event, settings.status_change) };
  }
  const result = await runInWorker(hostConfig, plugin, {
    call,
    // The payload is serialized here: the worker gets text, not values to clone.
    payload: call === 'on_event' ? plugin.payload(event) : null,
    ticketId: call === 'render_panel' ? (settings.ticket_id ?? event.ticket.id) : event.ticket?.id,
  });
  return { ...transcript, ...result };
}

/**
 * Changes the status of `before`'s ticket to `change.to` (docs/ABI.md section 6): each
 * event of the change the manifest lists is delivered in order, one after the other, on
 * a fresh instance; the custom fields a delivery set (status 0), failed or not, are on
 * the ticket of the ones after it (section 9, "What a failed delivery keeps").
 */
async function changeStatus(hostConfig, plugin, before, change) {
  const deliveries = [];
  const fields = Object.create(null);
  for (const name of statusChangeEvents(before.ticket.status, change.to)) {
    if (!plugin.subscribesTo(name)) continue;
    const event = changeEvent(before, name, change.to, change.notes ?? '', fields);
    const result = await runInWorker(hostConfig, plugin, {
      call: 'on_event',
      payload: plugin.payload(event),
      ticketId: event.ticket.id,
    });
    for (const c of result.calls) {
      if (c.fn === 'ohd_set_custom_field' && c.status === 0 && c.field.ticket_id === event.ticket.id) {
        fields[c.field.key] = c.field.value;
      }
    }
    deliveries.push({ event: name, ...result });
  }
  return deliveries;
}

const args = process.argv.slice(2);
let signaturesFile;
if (args[0] === '--signatures') [, signaturesFile] = args.splice(0, 2);
const [folder] = args;
if (args.length !== 1) {
  process.stderr.write('usage: node driver.mjs [--signatures FILE] <case folder>\n');
  process.exit(2);
}
let transcript;
try {
  transcript = await main(folder, signaturesFile === undefined ? readSignatures() : readSignatures(signaturesFile));
} catch (e) {
  process.stderr.write(`driver error: ${e?.stack ?? e}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify(transcript)}\n`);
