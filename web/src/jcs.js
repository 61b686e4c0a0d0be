// RFC 8785 (JSON Canonicalization Scheme) for the shapes signed by e-Cabinet clients.

/**
 * Serialise a JSON value canonically: object keys sorted by UTF-16 code units, no whitespace,
 * strings escaped exactly as ES2015 JSON.stringify does (which RFC 8785 adopts), numbers in
 * ES2015 Number-to-String form. Refuses values JSON cannot carry (undefined, NaN, functions).
 */
export function canonicalize(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('JCS: non-finite number');
      // ES2015 Number.prototype.toString is the RFC 8785 number form (-0 becomes "0").
      return JSON.stringify(value);
    case 'string':
      // JSON.stringify escapes ", \, control characters (\b \f \n \r \t or \u00XX) and
      // lone surrogates (well-formed JSON.stringify), as RFC 8785 section 3.2.2.2 requires.
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map(canonicalize).join(',') + ']';
      // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
      const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalize(value[k])).join(',') + '}';
    }
    default:
      throw new TypeError(`JCS: cannot serialise ${typeof value}`);
  }
}
