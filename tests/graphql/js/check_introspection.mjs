// graphql-js interoperability check of the engine's introspection output.
//
//   node check_introspection.mjs --print-query <file>      writes GraphiQL's introspection query
//   node check_introspection.mjs <result.json> [testdata]  checks an introspection response
//
// The check builds a client schema from the response (buildClientSchema), validates it, checks
// a few documents against it, and compares its printed SDL with the SDL files of the test schema
// (both sorted). Exits non-zero on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  parse,
  printSchema,
  validate,
  validateSchema,
} from 'graphql';

const here = path.dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === '--print-query') {
  fs.writeFileSync(process.argv[3], getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  }));
  process.exit(0);
}

let failures = 0;
function check(condition, message) {
  if (!condition) {
    console.error(`FAIL: ${message}`);
    failures++;
  }
}

const response = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
check(!response.errors, `introspection returned errors: ${JSON.stringify(response.errors)}`);
const schema = buildClientSchema(response.data);
const schemaErrors = validateSchema(schema);
check(schemaErrors.length === 0, `invalid schema: ${schemaErrors.map(String).join('; ')}`);

const valid = [
  '{ hello(name: "x") version }',
  'query Q($f: Filter, $n: Int!) { echo(filter: $f) nodes(count: $n) { id children { value } } }',
  '{ search(text: "a") { __typename ... on Dog { knows(command: SIT) } ... on Person { age } } }',
  'mutation { append(entry: "a") }',
  '{ pets { name ... on Cat { nickname lives } owner { pets { name } } } }',
];
const invalid = [
  '{ nope }',
  '{ hello(name: 1) }',
  '{ pets }',
  'query ($x: Int) { hello(name: $x) }',
];
for (const source of valid) {
  const errors = validate(schema, parse(source));
  check(errors.length === 0, `expected valid: ${source}: ${errors.map(String).join('; ')}`);
}
for (const source of invalid) {
  check(validate(schema, parse(source)).length > 0, `expected invalid: ${source}`);
}

const testdata = process.argv[3] || path.join(here, '..', 'testdata');
const sdl = fs.readdirSync(testdata)
  .filter((f) => f.endsWith('.graphqls'))
  .sort()
  .map((f) => fs.readFileSync(path.join(testdata, f), 'utf8'))
  .join('\n');
const expected = printSchema(lexicographicSortSchema(buildSchema(sdl)));
const actual = printSchema(lexicographicSortSchema(schema));
if (expected !== actual) {
  const e = expected.split('\n');
  const a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) {
      console.error(`first difference at line ${i + 1}:\n  SDL:           ${e[i]}\n  introspection: ${a[i]}`);
      break;
    }
  }
}
check(expected === actual, 'printed schema differs from the SDL');

if (failures > 0) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log(`graphql-js accepted the introspection result (${Object.keys(schema.getTypeMap()).length} types)`);
