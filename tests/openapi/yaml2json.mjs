// yaml2json.mjs: prints a YAML file as JSON (one document), for the
// shell tests' jq.  Exits 1 with the parser's message on a syntax error.
//
//   node yaml2json.mjs FILE.yaml
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

const file = process.argv[2];
const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true, uniqueKeys: true });
if (doc.errors.length) {
  for (const e of doc.errors) console.error(`${file}: ${e.message}`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify(doc.toJS({ maxAliasCount: 100 }))}\n`);
