// Validates JSON values against the schemas of schemas/ with ajv (draft
// 2020-12) and ajv-formats, an implementation independent of the Rust code
// that generates the schemas. Driven by tests/tests/schemas.rs.
//
// usage: node tests/schema/ajv.mjs <input.json>
// input: {"schemas": [<schema>, ...], "checks": [{"ref": "<$id>[#/$defs/Name]", "value": ...}, ...]}
// output (stdout): [{"valid": bool, "errors": [{"path": "<instancePath>", "message": "..."}, ...]}, ...],
// one per check

import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
// Strict, but for two lints of style: a `required` naming a property the
// same subschema does not define (the request's choices between fields),
// and a `prefixItems` without `minItems` (an interval's start of `24:00`).
const ajv = new Ajv2020({ strict: true, strictRequired: false, strictTuples: false, allErrors: true });
addFormats(ajv);

// The integer formats schemars writes, with the ranges they name.
const integer = (min, max) => ({
  type: "number",
  validate: (n) => Number.isInteger(n) && n >= min && n <= max,
});
ajv.addFormat("uint8", integer(0, 255));
ajv.addFormat("uint16", integer(0, 65535));
ajv.addFormat("uint32", integer(0, 4294967295));
ajv.addFormat("uint64", integer(0, 18446744073709551615));
ajv.addFormat("int32", integer(-2147483648, 2147483647));
ajv.addFormat("int64", integer(-9223372036854775808, 9223372036854775807));

for (const schema of input.schemas) {
  ajv.addSchema(schema);
}

const compiled = new Map();
const results = input.checks.map(({ ref, value }) => {
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  const valid = validate(value);
  const errors = valid
    ? []
    : (validate.errors ?? []).map((e) => {
        const detail = e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : "";
        return { path: e.instancePath, message: `${e.message}${detail}` };
      });
  return { valid, errors };
});
process.stdout.write(JSON.stringify(results));
