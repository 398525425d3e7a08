// How the JS runtimes hand one request to the module, shared by Node
// (node.mjs) and the Chromium page (harness.mjs); no Node or DOM APIs.
//
// A request whose bytes are valid UTF-8 goes through the wasm-bindgen API,
// `evaluateJson(text)`, exactly as an application would call it: the bytes
// are decoded to a JS string (keeping a leading BOM) and the glue encodes
// that string back to the very same UTF-8 bytes. A request that is not valid
// UTF-8 cannot be a JS string, so it goes through the module's plain byte
// ABI on the same instance (`entitle_alloc`, `entitle_evaluate`,
// `entitle_free`), which takes raw bytes. Each result records its route.

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes base64 text to bytes. */
export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Lowercase hex of an ArrayBuffer or typed array. */
export function toHex(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The engine version the glue reports, as text. */
export function engineVersion(glue) {
  if (typeof glue.version !== 'function') return null;
  const v = glue.version();
  if (v && typeof v === 'object' && 'engine' in v) return `${v.engine} (abi ${v.abi})`;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function viaBytes(wasm, bytes) {
  for (const name of ['memory', 'entitle_alloc', 'entitle_evaluate', 'entitle_free']) {
    if (!(name in wasm)) throw new Error(`the module exports no \`${name}\` for non-UTF-8 requests`);
  }
  const ptr = wasm.entitle_alloc(bytes.length) >>> 0;
  if (ptr === 0 && bytes.length > 0) throw new Error('entitle_alloc returned 0');
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  const packed = BigInt.asUintN(64, BigInt(wasm.entitle_evaluate(ptr, bytes.length)));
  wasm.entitle_free(ptr, bytes.length);
  const outPtr = Number(packed >> 32n);
  const outLen = Number(packed & 0xffffffffn);
  const text = strictUtf8.decode(new Uint8Array(wasm.memory.buffer, outPtr, outLen).slice());
  wasm.entitle_free(outPtr, outLen);
  return text;
}

/**
 * Returns `evaluate(bytes) -> {ok, via} | {failure}` over an initialised
 * glue module and the raw exports `init`/`initSync` returned.
 */
export function makeEvaluator(glue, wasm) {
  return (bytes) => {
    let text = null;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      text = null;
    }
    try {
      if (text !== null) return { ok: glue.evaluateJson(text), via: 'evaluateJson' };
      return { ok: viaBytes(wasm, bytes), via: 'bytes' };
    } catch (error) {
      return { failure: `${error && error.name ? error.name : 'Error'}: ${error && error.message ? error.message : error}` };
    }
  };
}

/** Base64 text of bytes. */
function toBase64(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * Returns `compact(c) -> {answer, described} | {refused}` over an
 * initialised glue module: the compact check as a JavaScript application
 * makes it, through the wasm-bindgen API (`Bundle`, `loadLicenseJson`,
 * `compile`, `CompactCheck.check`). `c` is one compact case of the batch
 * (tests/src/js.rs): `{bundle, license, license_id, name, kind, ask}` with
 * the documents as JSON text and the 64-byte ask as base64 (or null).
 */
export function makeCompact(glue) {
  return (c) => {
    let bundle = null;
    let compiled = null;
    try {
      bundle = new glue.Bundle(c.bundle);
      const loaded = JSON.parse(bundle.loadLicenseJson(c.license));
      if (loaded.outcome !== 'ok') return { refused: 'license' };
      compiled = bundle.compile(c.license_id, c.name, c.kind);
      if (c.ask === null) return { refused: 'ask' };
      const answer = compiled.check(fromBase64(c.ask));
      if (answer === undefined) return { refused: 'the JSON entry answers these inputs' };
      return { answer: toBase64(answer), described: compiled.describeJson() };
    } catch (error) {
      return { refused: `${error && error.message ? error.message : error}` };
    } finally {
      if (compiled !== null) compiled.free();
      if (bundle !== null) bundle.free();
    }
  };
}
