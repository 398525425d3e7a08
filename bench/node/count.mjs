// Runs N preloaded checks (a metric and a feature each) through a module's
// JS API (Bundle.evaluateJson), for counting instructions under cachegrind:
//   node bench/node/count.mjs <dist dir> <repo root> <N>
import { readFileSync } from 'node:fs';
const [dist, root, n] = process.argv.slice(2);
const glue = await import(`${dist}/entitle.js`);
glue.initSync({ module: readFileSync(`${dist}/entitle.wasm`) });
const bundle = new glue.Bundle(readFileSync(`${root}/examples/bundle.json`, 'utf8'));
bundle.loadLicenseJson(readFileSync(`${root}/examples/license.json`, 'utf8'));
const metric = '{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","usage":{"metrics":{"api_calls":{"used":131500,"soft_exceeded_at":"2026-11-20T14:05:00Z"}}},"metric":"api_calls","amount":1}';
const feature = '{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","feature":"sso"}';
let total = 0;
for (let i = 0; i < Number(n); i++) {
  total += bundle.evaluateJson(metric).length + bundle.evaluateJson(feature).length;
}
console.log(total);
