// Strict JSON (RFC 8259) for the ABI's inputs, which JSON.parse cannot check:
//
// - duplicate member names are an error (docs/ABI.md section 11: "Duplicate keys in
//   JSON I pass to the host? Rejected"); JSON.parse silently keeps the last one;
// - the bytes must be UTF-8; TextDecoder with `fatal` rejects anything else;
// - `\uD800` without its low half is an error (it cannot become UTF-8 text);
// - integers keep their exact value (an `integer` config field is a 64-bit signed
//   number, beyond what a double holds), and a number written with a fraction or an
//   exponent stays distinguishable from an integer (`1.0` is not an integer).
//
// Values: null, booleans, strings, arrays as JS arrays, objects as prototype-less
// objects (so a member named `__proto__` is just a member), integers as JS numbers when
// they are safe integers and BigInt otherwise, other numbers as JsonFloat.

/** A JSON number written with a fraction or an exponent. */
export class JsonFloat {
  constructor(value, raw) {
    this.value = value;
    this.raw = raw;
  }
}

export class JsonError extends Error {}

// No nesting limit of its own (the reference host takes a manifest nested 200 deep); a
// document deeper than the JS stack allows is refused as too deep instead of crashing.
const MAX_DEPTH = Infinity;

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly; throws JsonError on invalid bytes. */
export function decodeUtf8(bytes) {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new JsonError('not valid UTF-8');
  }
}

/**
 * Parses one JSON value from a string or UTF-8 bytes, with nothing but whitespace after
 * it. `duplicates: 'last'` lets a later member win, for the driver's own input files.
 */
export function parseJson(input, { duplicates = 'error' } = {}) {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  const p = new Parser(text, duplicates === 'error');
  p.ws();
  let value;
  try {
    value = p.value(0);
  } catch (e) {
    if (e instanceof RangeError) throw new JsonError('nesting too deep');
    throw e;
  }
  p.ws();
  if (p.i !== text.length) p.fail('data after the JSON value');
  return value;
}

class Parser {
  constructor(text, strictDuplicates) {
    this.s = text;
    this.i = 0;
    this.strictDuplicates = strictDuplicates;
  }

  fail(what) {
    throw new JsonError(`${what} at offset ${this.i}`);
  }

  ws() {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  value(depth) {
    const c = this.s[this.i];
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    if (this.s.startsWith('true', this.i)) return (this.i += 4), true;
    if (this.s.startsWith('false', this.i)) return (this.i += 5), false;
    if (this.s.startsWith('null', this.i)) return (this.i += 4), null;
    this.fail(c === undefined ? 'unexpected end of input' : 'unexpected character');
  }

  object(depth) {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.i++; // {
    const obj = Object.create(null);
    this.ws();
    if (this.s[this.i] === '}') return this.i++, obj;
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a member name');
      const key = this.string();
      if (this.strictDuplicates && Object.hasOwn(obj, key)) {
        this.fail(`duplicate member ${JSON.stringify(key)}`);
      }
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      this.ws();
      obj[key] = this.value(depth);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return obj;
      if (c !== ',') this.i--, this.fail("expected ',' or '}'");
    }
  }

  array(depth) {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.i++; // [
    const arr = [];
    this.ws();
    if (this.s[this.i] === ']') return this.i++, arr;
    for (;;) {
      this.ws();
      arr.push(this.value(depth));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return arr;
      if (c !== ',') this.i--, this.fail("expected ',' or ']'");
    }
  }

  string() {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let start = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += s.slice(start, this.i);
      this.i++; // backslash
      const e = s[this.i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hi = this.hex4();
          if (hi >= 0xdc00 && hi <= 0xdfff) this.fail('lone low surrogate');
          if (hi >= 0xd800 && hi <= 0xdbff) {
            if (s[this.i] !== '\\' || s[this.i + 1] !== 'u') this.fail('lone high surrogate');
            this.i += 2;
            const lo = this.hex4();
            if (lo < 0xdc00 || lo > 0xdfff) this.fail('lone high surrogate');
            out += String.fromCharCode(hi, lo);
          } else {
            out += String.fromCharCode(hi);
          }
          break;
        }
        default:
          this.i--;
          this.fail('invalid escape');
      }
      start = this.i;
    }
  }

  hex4() {
    const h = this.s.slice(this.i, this.i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('invalid \\u escape');
    this.i += 4;
    return parseInt(h, 16);
  }

  number() {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail('invalid number');
    const raw = m[0];
    this.i += raw.length;
    if (m[1] === undefined && m[2] === undefined) {
      const big = BigInt(raw);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big)
        : big;
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) this.fail('number out of range');
    return new JsonFloat(value, raw);
  }
}

/** True for a JSON integer value (a number written without fraction or exponent). */
export function isInteger(v) {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonFloat);
}

/** The JSON type name of a value, for messages. */
export function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (isInteger(v)) return 'an integer';
  if (v instanceof JsonFloat) return 'a number';
  return 'an object';
}

/** Compact serialization of values produced by parseJson (BigInt and JsonFloat included). */
export function stringify(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof JsonFloat) return v.raw;
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stringify).join(',')}]`;
  const parts = [];
  for (const k of Object.keys(v)) parts.push(`${JSON.stringify(k)}:${stringify(v[k])}`);
  return `{${parts.join(',')}}`;
}

// Unicode White_Space (what Rust's char::is_whitespace tests); JS's \s differs from it
// (it includes U+FEFF and lacks U+0085).
const WHITE_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/** True for a string that is empty or holds only Unicode White_Space. */
export function isBlank(s) {
  return WHITE_SPACE.test(s);
}

/** Byte length of a string in UTF-8. */
export function utf8Length(s) {
  return Buffer.byteLength(s, 'utf8');
}
