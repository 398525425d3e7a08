// Loads the one module file (dist/entitle.wasm) with its wasm-bindgen glue,
// hashes the very bytes it compiles, and hands requests to it. Every figure
// the portal shows is an answer of `evaluate`; the page decides nothing.

const MODULE = new URL('../dist/entitle.wasm', import.meta.url);
const GLUE = new URL('../dist/entitle.js', import.meta.url);
const RECORDED = new URL('../dist/entitle.wasm.sha256', import.meta.url);

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The module's operation table (its `ops()`), keyed by each name in capitals:
 * `ops.STATUS` is `{op: 'status', accepts, requires, license, now, section}`.
 * Naming an operation the module does not have throws, so a page and a module
 * that disagree fail at once instead of sending a request the module refuses.
 */
function opTable(rows) {
  const table = Object.freeze(Object.fromEntries(
    rows.map((row) => [row.op.toUpperCase(), Object.freeze({ ...row, accepts: Object.freeze([...row.accepts]) })])));
  return new Proxy(table, {
    get(target, key) {
      if (typeof key === 'string' && /^[A-Z][A-Z_]*$/.test(key) && !Object.hasOwn(target, key)) {
        throw new Error(`the module has no operation \`${key.toLowerCase()}\``);
      }
      return Reflect.get(target, key);
    },
  });
}

/** The loaded module: its hash, size, engine version, operations and `evaluate`. */
export class Engine {
  constructor(glue, exports, info) {
    this.glue = glue;
    this.exports = exports;
    Object.assign(this, info);
  }

  /** Fetches, hashes and instantiates the module. */
  static async load() {
    const glue = await import(GLUE.href);
    const response = await fetch(MODULE, { cache: 'no-cache' });
    if (!response.ok) throw new Error(`the module (${MODULE.pathname}): HTTP ${response.status}`);
    const bytes = await response.clone().arrayBuffer();
    const sha256 = globalThis.crypto && crypto.subtle
      ? hex(await crypto.subtle.digest('SHA-256', bytes))
      : null;
    // The same response the bytes were hashed from, compiled while streaming.
    const exports = await glue.default({ module_or_path: response });
    const version = typeof glue.version === 'function' ? glue.version() : {};
    if (typeof glue.ops !== 'function') {
      throw new Error(`the module (${GLUE.pathname}) exports no operation table: rebuild it (cargo xtask build-wasm)`);
    }
    return new Engine(glue, exports, {
      ops: opTable(glue.ops()),
      sha256,
      size: bytes.byteLength,
      contentType: response.headers.get('content-type'),
      engine: version && typeof version === 'object' ? version.engine : String(version),
      abi: version && typeof version === 'object' ? version.abi : null,
    });
  }

  /** The hash recorded beside the module when it was built, if served. */
  static async recordedSha256() {
    try {
      const response = await fetch(RECORDED, { cache: 'no-cache' });
      if (!response.ok) return null;
      return ((await response.text()).trim().split(/\s+/)[0] || '').toLowerCase() || null;
    } catch {
      return null;
    }
  }

  /**
   * Evaluates a request object: `{text, envelope, ms}` where `text` is the
   * module's exact answer and `ms` the time the call took in this page.
   */
  evaluate(request) {
    const body = JSON.stringify(request);
    const started = performance.now();
    const text = this.glue.evaluateJson(body);
    const ms = performance.now() - started;
    return { text, envelope: JSON.parse(text), ms };
  }
}
