// Node runtime for the conformance corpus:
//   node tests/runtimes/node.mjs <batch.json> <report.json>
// Loads dist/entitle.js (the wasm-bindgen glue, an ES module) and
// instantiates it synchronously over the bytes of dist/entitle.wasm, hashes
// those very bytes, runs every request of the batch and writes the report
// (format: tests/src/js.rs).

import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';

import { engineVersion, fromBase64, makeCompact, makeEvaluator } from './evaluate.mjs';

const [batchPath, reportPath] = process.argv.slice(2);
if (!batchPath || !reportPath) {
  console.error('usage: node tests/runtimes/node.mjs <batch.json> <report.json>');
  process.exit(2);
}

const batch = JSON.parse(readFileSync(batchPath, 'utf8'));
const bytes = readFileSync(batch.wasm);
const sha256 = createHash('sha256').update(bytes).digest('hex');
const glue = await import(pathToFileURL(batch.glue).href);
const wasm = glue.initSync({ module: bytes });
const evaluate = makeEvaluator(glue, wasm);

const outputs = batch.requests.map((request) => evaluate(fromBase64(request.base64)));
const compact = (batch.compact || []).map(makeCompact(glue));

writeFileSync(
  reportPath,
  JSON.stringify({
    runtime: `node ${process.version}`,
    engine: engineVersion(glue),
    sha256,
    outputs,
    compact,
  }),
);
