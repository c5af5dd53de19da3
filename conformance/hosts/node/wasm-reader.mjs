// Reads the parts of a WebAssembly binary a plugin host has to look at before it
// compiles anything: function types, imports, functions, tables, memories, exports and
// custom sections. WebAssembly.Module's own reflection (Module.imports/exports) gives
// names and kinds but no signatures and no memory limits, so the sections are read here.
//
// Only the structure is read; instruction bodies are left to the engine's validator.
// Anything this reader does not understand throws a WasmFormatError.

export class WasmFormatError extends Error {}

export const SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6,
  export: 7, start: 8, element: 9, code: 10, data: 11, datacount: 12, tag: 13,
};

export const KIND_NAMES = ['function', 'table', 'memory', 'global', 'tag'];

const VALTYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  constructor(bytes, pos = 0, end = bytes.length) {
    this.b = bytes;
    this.pos = pos;
    this.end = end;
  }

  fail(what) {
    throw new WasmFormatError(`${what} at byte ${this.pos}`);
  }

  byte() {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.b[this.pos++];
  }

  /** Unsigned LEB128 of at most `bits` bits, as a JS number (exact up to 2^53) */
  uleb(bits = 32) {
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (i >= Math.ceil(bits / 7)) this.fail('LEB128 too long');
      const byte = this.byte();
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if (!(byte & 0x80)) break;
    }
    if (result >= 2 ** bits) this.fail('LEB128 out of range');
    return result;
  }

  bytes(n) {
    if (this.pos + n > this.end) this.fail('unexpected end');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name() {
    const len = this.uleb();
    try {
      return utf8.decode(this.bytes(len));
    } catch (e) {
      if (e instanceof WasmFormatError) throw e;
      this.fail('name is not UTF-8');
    }
  }

  valtype() {
    const t = VALTYPES[this.byte()];
    if (!t) this.fail('unsupported value type');
    return t;
  }

  /** limits: { min, max (or null), shared, memory64 } */
  limits() {
    const flags = this.byte();
    if (flags & ~0x07) this.fail('invalid limits flags');
    const memory64 = (flags & 0x04) !== 0;
    const bits = memory64 ? 64 : 32;
    const min = this.uleb(bits);
    const max = flags & 0x01 ? this.uleb(bits) : null;
    return { min, max, shared: (flags & 0x02) !== 0, memory64 };
  }

  tabletype() {
    const elem = this.valtype();
    return { elem, ...this.limits() };
  }
}

/** `i32 i32 -> i32` style text of a function type, for messages and comparisons. */
export function signatureText(type) {
  return `(${type.params.join(', ')}) -> (${type.results.join(', ')})`;
}

/**
 * Reads a core module. Returns
 * { types, imports, functions (type indexes of all functions, imports first),
 *   importedFunctionCount, tables, memories (defined ones), exports, customs, sections,
 *   start }.
 * The caller has already checked the 8-byte header.
 */
export function readModule(bytes) {
  const r = new Reader(bytes, 8);
  const m = {
    types: [], imports: [], functions: [], importedFunctionCount: 0,
    tables: [], memories: [], exports: [], customs: [], sections: [], start: null,
  };
  while (r.pos < r.end) {
    const start = r.pos;
    const id = r.byte();
    const size = r.uleb();
    const payloadStart = r.pos;
    const end = payloadStart + size;
    if (end > r.end) r.fail(`section ${id} runs past the end of the module`);
    const s = new Reader(bytes, payloadStart, end);
    m.sections.push({ id, start, payloadStart, end });
    switch (id) {
      case SECTION.custom: {
        const name = s.name();
        m.customs.push({ name, data: bytes.subarray(s.pos, end), size: end - payloadStart });
        s.pos = end;
        break;
      }
      case SECTION.type:
        for (let n = s.uleb(); n > 0; n--) {
          if (s.byte() !== 0x60) s.fail('unsupported type form');
          const params = [];
          for (let k = s.uleb(); k > 0; k--) params.push(s.valtype());
          const results = [];
          for (let k = s.uleb(); k > 0; k--) results.push(s.valtype());
          m.types.push({ params, results });
        }
        break;
      case SECTION.import:
        for (let n = s.uleb(); n > 0; n--) {
          const imp = { module: s.name(), name: s.name() };
          const kind = s.byte();
          imp.kind = KIND_NAMES[kind];
          if (kind === 0) {
            imp.typeIndex = s.uleb();
            m.functions.push(imp.typeIndex);
            m.importedFunctionCount++;
          } else if (kind === 1) {
            imp.table = s.tabletype();
          } else if (kind === 2) {
            imp.memory = s.limits();
          } else if (kind === 3) {
            s.valtype();
            s.byte();
          } else if (kind === 4) {
            s.byte();
            s.uleb();
          } else {
            s.fail('unknown import kind');
          }
          m.imports.push(imp);
        }
        break;
      case SECTION.function:
        for (let n = s.uleb(); n > 0; n--) m.functions.push(s.uleb());
        break;
      case SECTION.table:
        for (let n = s.uleb(); n > 0; n--) m.tables.push(s.tabletype());
        break;
      case SECTION.memory:
        for (let n = s.uleb(); n > 0; n--) m.memories.push(s.limits());
        break;
      case SECTION.export:
        for (let n = s.uleb(); n > 0; n--) {
          const name = s.name();
          const kind = KIND_NAMES[s.byte()];
          if (!kind) s.fail('unknown export kind');
          m.exports.push({ name, kind, index: s.uleb() });
        }
        break;
      case SECTION.start:
        m.start = s.uleb();
        break;
      default:
        // globals, elements, code, data, ...: left to the engine's validator
        s.pos = end;
    }
    if (s.pos !== end) s.fail(`section ${id} has ${end - s.pos} bytes left over`);
    r.pos = end;
  }
  return m;
}

/** The function type of function `index` (imports first), or null. */
export function functionType(m, index) {
  const t = m.functions[index];
  return t === undefined ? null : (m.types[t] ?? null);
}

function leb(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function encodeLimits(l) {
  const flags = (l.max !== null ? 1 : 0) | (l.shared ? 2 : 0) | (l.memory64 ? 4 : 0);
  return [flags, ...leb(l.min), ...(l.max !== null ? leb(l.max) : [])];
}

const REFTYPE_BYTES = { funcref: 0x70, externref: 0x6f };

/**
 * Returns a copy of the module whose defined memories may grow to at most `maxPages`
 * pages and whose tables to at most `maxElements` elements: the engine then makes
 * `memory.grow` and `table.grow` past the host's limits return -1, as docs/ABI.md
 * section 9 requires, without a hook at run time. Declared maxima below the limits stay.
 */
export function withGrowthLimits(bytes, m, { maxPages, maxElements }) {
  const cap = (l, limit) => ({ ...l, max: l.max === null ? limit : Math.min(l.max, limit) });
  const parts = [];
  let copied = 0;
  for (const sec of m.sections) {
    let body;
    if (sec.id === SECTION.memory) {
      body = [...leb(m.memories.length)];
      for (const mem of m.memories) body.push(...encodeLimits(cap(mem, maxPages)));
    } else if (sec.id === SECTION.table) {
      body = [...leb(m.tables.length)];
      for (const t of m.tables) body.push(REFTYPE_BYTES[t.elem], ...encodeLimits(cap(t, maxElements)));
    } else {
      continue;
    }
    parts.push(bytes.subarray(copied, sec.start));
    parts.push(Uint8Array.from([sec.id, ...leb(body.length), ...body]));
    copied = sec.end;
  }
  parts.push(bytes.subarray(copied));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
