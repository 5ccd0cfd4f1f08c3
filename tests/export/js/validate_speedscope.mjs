// Validates speedscope files against the file-format schema that the speedscope package
// publishes, then checks what the schema cannot say: frame indices in range and one weight per
// sample. Usage: node validate_speedscope.mjs FILE...; exits non-zero on the first bad file.
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';

const schemaUrl = new URL(
  './node_modules/speedscope/dist/release/file-format-schema.json', import.meta.url);
const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(schemaUrl, 'utf8')));

for (const path of process.argv.slice(2)) {
  const file = JSON.parse(readFileSync(path, 'utf8'));
  if (!validate(file)) {
    console.error(`${path}: ${JSON.stringify(validate.errors, null, 2)}`);
    process.exit(1);
  }
  const frames = file.shared.frames.length;
  for (const profile of file.profiles) {
    if (profile.type !== 'sampled') continue;
    if (profile.samples.length !== profile.weights.length) {
      console.error(`${path}: profile ${profile.name}: ${profile.samples.length} samples, ` +
                    `${profile.weights.length} weights`);
      process.exit(1);
    }
    for (const stack of profile.samples) {
      if (stack.some((i) => !Number.isInteger(i) || i < 0 || i >= frames)) {
        console.error(`${path}: profile ${profile.name}: bad frame index in [${stack}]`);
        process.exit(1);
      }
    }
  }
  console.log(`${path}: valid`);
}
