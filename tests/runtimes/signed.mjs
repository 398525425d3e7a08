// The JS API's signed bundles, in Node:
//   node tests/runtimes/signed.mjs <report.json>
// Loads dist/entitle.js over dist/entitle.wasm, loads the corpus's signed
// bundle with Bundle.loadSigned, loads its signed license, checks by id,
// and records each answer (JSON text) and each refusal (the thrown error's
// message, the error envelope) for tests/tests/js_signed.rs to compare with
// native core.

import { readFileSync, writeFileSync } from 'node:fs';

const [reportPath] = process.argv.slice(2);
const root = new URL('../../', import.meta.url);
const read = (path) => readFileSync(new URL(path, root), 'utf8');
const glue = await import(new URL('dist/entitle.js', root).href);
glue.initSync({ module: readFileSync(new URL('dist/entitle.wasm', root)) });

const fixtures = 'tests/conformance/fixtures/';
const keys = read(`${fixtures}keys/keys.json`);
const bundle = read(`${fixtures}signature/bundle.envelope.json`);
const license = read(`${fixtures}signature/license.envelope.json`);
const check = '{"op":"check","license":"lic-signed-1","now":"2026-06-01T12:00:00Z","feature":"audit_log"}';

const report = {};
const loaded = glue.Bundle.loadSigned(bundle, keys);
report.describe = loaded.describeJson();
report.load_license = loaded.loadLicenseJson(license);
report.load_plain_license = loaded.loadLicenseJson(read(`${fixtures}signature/license.payload.json`));
report.check = loaded.evaluateJson(check);
report.check_object = JSON.stringify(loaded.evaluate(JSON.parse(check)));
try {
  glue.Bundle.loadSigned(license, keys);
  report.refused = null;
} catch (error) {
  report.refused = error.message;
}
loaded.free();
writeFileSync(reportPath, JSON.stringify(report));
