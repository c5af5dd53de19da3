// The load-time checks of docs/ABI.md section 10: every problem of a module at once,
// each with its kind, plus the warnings. Nothing here runs plugin code.

import { readFileSync } from 'node:fs';
import { readModule, functionType, signatureText, WasmFormatError } from './wasm-reader.mjs';
import { parseJson, JsonError, isObject, isInteger, decodeUtf8 } from './json.mjs';
import { validateManifest } from './manifest.mjs';

export const MAX_MODULE_BYTES = 32 * 1024 * 1024;
export const MAX_MANIFEST_BYTES = 64 * 1024;
export const MAX_TABLE_ELEMENTS = 20000;
export const PAGE = 65536;

/**
 * The version of the import table this host implements (docs/ABI.md section 3, "Versions
 * of the import table"): it provides every import whose `since` is this or older, and
 * refuses a module that imports a newer one.
 */
export const IMPLEMENTS = '1.0';

/** `"1.10"` -> [1, 10], so that versions compare as numbers, not as text. */
const versionKey = (v) => String(v).split('.').map((n) => Number.parseInt(n, 10) || 0);

/** Whether version `a` is newer than version `b`. */
function isNewer(a, b) {
  const [x, y] = [versionKey(a), versionKey(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  }
  return false;
}

/**
 * The signatures of sections 2 and 3, machine-readable: docs/abi-signatures.json, which
 * the contract's table generates (the prose of docs/ABI.md stays this host's source for
 * everything else), or another file of that shape (the driver's `--signatures`).
 */
export function readSignatures(path = new URL('../../../docs/abi-signatures.json', import.meta.url)) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * The imports of `signatures` this host provides, those up to its version: name ->
 * { params, results, since }. An import without `since` is as old as the table (1.0).
 */
export function providedImports(signatures) {
  return Object.fromEntries(Object.entries(signatures.imports).filter(([, f]) => !isNewer(f.since ?? '1.0', IMPLEMENTS)));
}

const sameSig = (a, b) => a !== null && signatureText(a) === signatureText(b);

/**
 * Checks a module against `signatures` (readSignatures()). Returns { problems, warnings,
 * info }: problems and warnings are { kind, message }, and a problem that is an import
 * newer than this host also has its `since`; info (when the module could be read) holds
 * the reader's view `module`, the validated `manifest`, and `allocator` ('ohd' or
 * 'libc').
 */
export function checkModule(bytes, { memoryLimitBytes, signatures }) {
  const provided = providedImports(signatures);
  const abiExports = signatures.exports;
  const problems = [];
  const warnings = [];
  const problem = (kind, message) => problems.push({ kind, message });
  const warn = (kind, message) => warnings.push({ kind, message });
  const result = { problems, warnings, info: null };

  if (bytes.length > MAX_MODULE_BYTES) {
    problem('module_too_large', `the module has ${bytes.length} bytes; the host loads at most ${MAX_MODULE_BYTES}`);
    return result;
  }
  const magic = bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic) {
    problem('not_wasm', 'not a WebAssembly binary (no \\0asm header)');
    return result;
  }
  const version = bytes[4] | (bytes[5] << 8);
  const layer = bytes[6] | (bytes[7] << 8);
  if (layer === 1) {
    problem('component', 'this is a WebAssembly component; the host loads core modules only');
    return result;
  }
  if (version !== 1 || layer !== 0) {
    problem('not_wasm', `WebAssembly binary version ${version} is not supported (expected 1)`);
    return result;
  }

  let m;
  try {
    m = readModule(bytes);
  } catch (e) {
    if (!(e instanceof WasmFormatError)) throw e;
    problem('invalid_wasm', `malformed module: ${e.message}`);
    return result;
  }
  // V8 (in Node 20) takes neither 64-bit memories nor more than one memory; such a
  // module is refused as `memory` below, so the engine's verdict on it would only add a
  // spurious `invalid_wasm`.
  const memoryCount = m.memories.length + m.imports.filter((i) => i.kind === 'memory').length;
  const hasMemory64 = m.memories.some((l) => l.memory64) || m.imports.some((i) => i.memory?.memory64);
  if (!hasMemory64 && memoryCount <= 1) {
    try {
      new WebAssembly.Module(bytes);
    } catch (e) {
      // The sections could be read, so the other checks still run: every problem at once.
      problem('invalid_wasm', `the module does not validate: ${e.message}`);
    }
  }

  // ABI v1's features (section 1) are narrower than V8's: exception handling and
  // `externref` would validate here but not on a host without a garbage collector.
  const usesExceptions = m.sections.some((sec) => sec.id === 13); // the tag section
  const usesExternref =
    m.types.some((t) => [...t.params, ...t.results].includes('externref')) ||
    m.tables.some((t) => t.elem === 'externref') ||
    m.imports.some((i) => i.table?.elem === 'externref');
  if (usesExceptions) {
    problem('invalid_wasm', 'the module uses exception handling (a tag section), which ABI v1 does not accept');
  }
  if (usesExternref) {
    problem('invalid_wasm', 'the module uses `externref`, which ABI v1 does not accept');
  }

  // Imports (section 10, rows 2 to 4).
  for (const imp of m.imports) {
    const full = `${imp.module}.${imp.name}`;
    if (imp.kind !== 'function') {
      problem('import_kind', `imported ${imp.kind} \`${full}\` is not supported: the plugin must define and export its own memory and tables; the host provides functions only`);
    } else if (imp.module !== 'ohd') {
      problem('foreign_import', `import \`${full}\` is from module \`${imp.module}\`; plugins import from \`ohd\` only`);
    } else if (Object.hasOwn(signatures.imports, imp.name) && !Object.hasOwn(provided, imp.name)) {
      // A later version's import: refused like any name `ohd` lacks, saying why.
      const { since } = signatures.imports[imp.name];
      problems.push({
        kind: 'unknown_import',
        message: `\`${full}\` was added in ABI ${since}; this host implements ABI ${IMPLEMENTS}`,
        since,
      });
    } else if (!Object.hasOwn(provided, imp.name)) {
      problem('unknown_import', `\`ohd\` provides no \`${imp.name}\`; it provides ${Object.keys(provided).join(', ')}`);
    } else if (!sameSig(m.types[imp.typeIndex] ?? null, provided[imp.name])) {
      problem('import_signature', `\`${full}\` is imported as ${signatureText(m.types[imp.typeIndex])}; expected ${signatureText(provided[imp.name])}`);
    }
  }

  // Exports (rows 5 and 7).
  const exports = new Map(m.exports.map((e) => [e.name, e]));
  const validExport = new Set(); // the names of section 2 exported with the right type
  const importedMemories = m.imports.filter((i) => i.kind === 'memory').length;
  const mem = exports.get('memory');
  if (!mem) {
    problem('missing_export', 'the module does not export `memory`');
  } else if (mem.kind !== 'memory') {
    problem('memory', `the export \`memory\` is a ${mem.kind}, not a memory`);
  } else {
    const limits = mem.index < importedMemories ? null : m.memories[mem.index - importedMemories];
    if (limits?.memory64) problem('memory', '`memory` is a 64-bit memory; plugins are wasm32');
    if (limits?.shared) problem('memory', '`memory` is a shared memory; plugins use an unshared one');
  }
  for (const [name, { required }] of Object.entries(abiExports)) {
    if (required && !exports.has(name)) problem('missing_export', `the module does not export \`${name}\``);
  }
  for (const [name, expected] of Object.entries(abiExports)) {
    const e = exports.get(name);
    if (!e) continue;
    if (e.kind !== 'function') {
      problem('export_signature', `the export \`${name}\` is a ${e.kind}; expected a function ${signatureText(expected)}`);
      continue;
    }
    const type = functionType(m, e.index);
    if (!sameSig(type, expected)) {
      problem('export_signature', `\`${name}\` has type ${type ? signatureText(type) : '?'}; expected ${signatureText(expected)}`);
      continue;
    }
    validExport.add(name);
    if (e.index < m.importedFunctionCount) {
      const imp = m.imports.filter((i) => i.kind === 'function')[e.index];
      if (imp.module === 'ohd') {
        problem('reexported_import', `\`${name}\` is the imported host function \`ohd.${imp.name}\` exported again; export your own function`);
      }
    }
  }

  // Memories and tables the module defines (row 6).
  if (m.memories.length > 1) problem('memory', `the module defines ${m.memories.length} memories; plugins have one`);
  for (const l of m.memories) {
    if (l.min * PAGE > memoryLimitBytes) {
      problem('memory_limit', `memory starts at ${l.min} pages (${l.min * PAGE} bytes), above the host's limit of ${memoryLimitBytes} bytes`);
    }
    if (l.memory64 && mem?.kind !== 'memory') problem('memory', 'the module defines a 64-bit memory');
  }
  if (m.tables.length > 1) problem('table', `the module defines ${m.tables.length} tables; at most one is allowed`);
  for (const t of m.tables) {
    if (t.min > MAX_TABLE_ELEMENTS) {
      problem('table', `a table starts with ${t.min} elements, above the limit of ${MAX_TABLE_ELEMENTS}`);
    }
  }

  // Allocator (row 8). A pair counts only if both halves are functions of the right type
  // (a mistyped half is reported as export_signature, and the pair as missing).
  const has = (n) => validExport.has(n) || (!Object.hasOwn(abiExports, n) && exports.has(n));
  let allocator = null;
  if (has('ohd_alloc') && has('ohd_free')) allocator = 'ohd';
  else if (has('malloc') && has('free')) {
    allocator = 'libc';
    if (has('ohd_alloc') || has('ohd_free')) {
      warn('allocator_fallback', 'only one of `ohd_alloc`/`ohd_free` is exported, so `malloc`/`free` are used');
    }
  } else {
    problem('no_allocator', 'the module exports neither `ohd_alloc` + `ohd_free` nor `malloc` + `free`');
  }

  // Manifest (rows 9 to 11).
  const manifest = checkManifestSection(m, problem, warn);
  if (manifest) {
    if (manifest.uiPanel && !exports.has('render_panel')) {
      const extra = exports.has('__ohd_render_panel_indirect') ? '; run `cargo otai-plugin build` to add it' : '';
      problem('render_panel_missing', `the manifest has \`ui_panel\` but the module does not export \`render_panel\`${extra}`);
    }
    if (!manifest.uiPanel && exports.has('render_panel')) {
      warn('render_panel_unused', '`render_panel` is exported but the manifest has no `ui_panel`, so it is never called');
    }
  }
  if (exports.has('__ohd_render_panel_indirect')) {
    warn('render_panel_indirect', '`__ohd_render_panel_indirect` is still exported (an SDK detail, not ABI)');
  }

  // ABI marker (row 12).
  checkAbiMarker(m, problem);

  result.info = { module: m, manifest, allocator };
  return result;
}

/** Reads and validates the `ohd_manifest` section; returns the manifest or null. */
function checkManifestSection(m, problem, warn) {
  const sections = m.customs.filter((c) => c.name === 'ohd_manifest');
  if (sections.length === 0) {
    problem('manifest_missing', 'the module has no `ohd_manifest` custom section');
    return null;
  }
  if (sections.length > 1) {
    problem('manifest_duplicate', `the module has ${sections.length} \`ohd_manifest\` sections; exactly one is allowed`);
    return null;
  }
  const data = sections[0].data;
  if (data.length > MAX_MANIFEST_BYTES) {
    problem('manifest_too_large', `the \`ohd_manifest\` section has ${data.length} bytes; at most ${MAX_MANIFEST_BYTES}`);
    return null;
  }
  let value;
  try {
    if (data.length === 0) throw new JsonError('the section is empty');
    // Section 7 does not forbid a member given twice in the manifest, and the
    // reference host takes it, so the later one wins here (as in a serde_json Value).
    value = parseJson(decodeUtf8(data), { duplicates: 'last' });
  } catch (e) {
    if (!(e instanceof JsonError)) throw e;
    problem('manifest_syntax', `\`ohd_manifest\`: ${e.message}`);
    return null;
  }
  if (!isObject(value)) {
    problem('manifest_syntax', '`ohd_manifest` does not hold one JSON object');
    return null;
  }
  const { errors, warnings, manifest } = validateManifest(value);
  for (const e of errors) problem('manifest', `${e.path}: ${e.message}`);
  for (const w of warnings) warn('manifest', `${w.path}: ${w.message}`);
  return manifest;
}

/** Section 8: at most one `ohd_abi` section, a JSON object naming ABI version 1. */
function checkAbiMarker(m, problem) {
  const markers = m.customs.filter((c) => c.name === 'ohd_abi');
  if (markers.length === 0) return;
  if (markers.length > 1) {
    problem('abi_marker', `the module has ${markers.length} \`ohd_abi\` sections; at most one is allowed`);
    return;
  }
  let v;
  try {
    v = parseJson(markers[0].data);
  } catch (e) {
    if (!(e instanceof JsonError)) throw e;
    problem('abi_marker', `\`ohd_abi\` is not valid JSON: ${e.message}`);
    return;
  }
  if (!isObject(v) || !isInteger(v.abi) || (v.sdk !== undefined && v.sdk !== null && typeof v.sdk !== 'string')) {
    problem('abi_marker', '`ohd_abi` must be a JSON object such as {"abi":1,"sdk":"…"}');
    return;
  }
  if (BigInt(v.abi) !== 1n) problem('abi_version', `the module was built for ABI version ${v.abi}; this host implements version 1`);
}
