// validate.mjs: checks recorded HTTP exchanges against docs/openapi.yaml.
//
//   node validate.mjs OPENAPI.yaml EXCHANGES.jsonl
//
// Each line of EXCHANGES.jsonl is one exchange recorded by
// tests/integration/t88-openapi.sh:
//   {"name", "path" (the documented template), "method", "status",
//    "headers" (the raw response head, as curl -D wrote it), "body"}
// or a skipped pair: {"skip": REASON, "path", "method", "status"}.
// For each exchange it prints "ok - ..." when the status is documented
// for that operation and the media type, the required headers, the
// values of the documented headers and the body (JSON Schema 2020-12,
// with formats) all match; "not ok - ..." with the reasons otherwise.
// Then one coverage line: every documented (path, method, status) must
// have been exercised or explicitly skipped.  A 405 documented by a
// path's x-method-not-allowed counts as the method "other".
// Exits 0 when every line was ok.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const DEFS = 'urn:msgcmd:openapi';

const [docFile, exchangesFile] = process.argv.slice(2);
if (!docFile || !exchangesFile) {
  console.error('usage: node validate.mjs OPENAPI.yaml EXCHANGES.jsonl');
  process.exit(2);
}
const doc = parse(readFileSync(docFile, 'utf8'));

// Rewrites "#/components/schemas/X" to an absolute reference into one
// schema resource that holds all component schemas as $defs.
function rebase(node) {
  if (Array.isArray(node)) return node.map(rebase);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
      ? `${DEFS}#/$defs/${v.slice('#/components/schemas/'.length)}`
      : rebase(v);
  }
  return out;
}

const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: DEFS, $defs: rebase(doc.components?.schemas ?? {}) });

// Resolves a local "#/..." reference of the document (responses, headers).
function deref(node) {
  let seen = 0;
  while (node && typeof node.$ref === 'string') {
    if (!node.$ref.startsWith('#/') || ++seen > 10) throw new Error(`cannot resolve ${node.$ref}`);
    node = node.$ref.slice(2).split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((n, p) => (n === undefined ? undefined : n[p]), doc);
  }
  return node;
}

const compiled = new Map();
function validator(schema) {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) compiled.set(key, ajv.compile(rebase(schema)));
  return compiled.get(key);
}

function schemaErrors(schema, value) {
  const v = validator(schema);
  if (v(value)) return [];
  return v.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
}

// The last response head of curl's -D output (a 100 Continue may come first).
function parseHead(raw) {
  const blocks = raw.replace(/\r/g, '').split(/\n\s*\n/).filter((b) => /^HTTP\//.test(b));
  const lines = (blocks.at(-1) ?? '').split('\n');
  const headers = new Map();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return headers;
}

// The documented answer for an exchange, or a reason why there is none.
function documented(ex) {
  const item = doc.paths?.[ex.path];
  if (!item) return { why: `path ${ex.path} is not documented` };
  const method = ex.method.toLowerCase();
  const op = item[method];
  if (!op) {
    if (ex.status === 405 && item['x-method-not-allowed']) {
      return { key: `${ex.path} other 405`, response: deref(item['x-method-not-allowed']), item };
    }
    return { why: `${ex.method} ${ex.path} is not documented` };
  }
  const response = op.responses?.[String(ex.status)];
  if (!response) {
    const listed = Object.keys(op.responses ?? {}).join(', ');
    return { why: `status ${ex.status} is not documented for ${ex.method} ${ex.path} (documented: ${listed})` };
  }
  return { key: `${ex.path} ${method} ${ex.status}`, response: deref(response), item };
}

function headerValue(schema, text) {
  const types = [].concat(schema?.type ?? []);
  if (types.includes('integer') && /^-?\d+$/.test(text)) return Number(text);
  return text;
}

function check(ex) {
  const d = documented(ex);
  if (d.why) return { errors: [d.why] };
  const errors = [];
  const heads = parseHead(ex.headers ?? '');
  for (const [name, h] of Object.entries(d.response.headers ?? {})) {
    const header = deref(h);
    const value = heads.get(name.toLowerCase());
    if (value === undefined) {
      if (header.required) errors.push(`required header ${name} missing`);
      continue;
    }
    for (const e of schemaErrors(header.schema ?? {}, headerValue(header.schema, value))) {
      errors.push(`header ${name}: "${value}": ${e}`);
    }
  }
  if (ex.status === 405 && !ex.method.match(/^options$/i)) {
    const allow = (heads.get('allow') ?? '').split(/,\s*/);
    const want = METHODS.filter((m) => d.item[m]).map((m) => m.toUpperCase());
    const lacking = want.filter((m) => !allow.includes(m));
    if (lacking.length) errors.push(`Allow lacks documented ${lacking.join(', ')}`);
  }
  const content = d.response.content;
  const type = (heads.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!content) {
    if (ex.body) errors.push(`a body where none is documented: ${ex.body.slice(0, 80)}`);
    return { key: d.key, errors };
  }
  const media = content[type];
  if (!media) {
    errors.push(`Content-Type "${type}" is not one of ${Object.keys(content).join(', ')}`);
    return { key: d.key, errors };
  }
  let body = ex.body ?? '';
  if (/[/+]json$/.test(type)) {
    try {
      body = JSON.parse(body);
    } catch (e) {
      errors.push(`body is not JSON: ${body.slice(0, 80)}`);
      return { key: d.key, errors };
    }
  }
  for (const e of schemaErrors(media.schema ?? {}, body)) errors.push(`body ${e}`);
  return { key: d.key, errors };
}

// Every documented (path, method, status); "default" is not a status.
function documentedPairs() {
  const pairs = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const m of METHODS) {
      for (const status of Object.keys(item[m]?.responses ?? {})) {
        if (/^\d{3}$/.test(status)) pairs.push(`${path} ${m} ${status}`);
      }
    }
    if (item['x-method-not-allowed']) pairs.push(`${path} other 405`);
  }
  return pairs;
}

const exercised = new Set();
const skipped = new Map();
let failed = 0;
for (const line of readFileSync(exchangesFile, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const ex = JSON.parse(line);
  ex.status = Number(ex.status);
  if (ex.skip) {
    skipped.set(`${ex.path} ${ex.method.toLowerCase()} ${ex.status}`, ex.skip);
    continue;
  }
  const r = check(ex);
  const what = `${ex.name}: ${ex.method} ${ex.path} -> ${ex.status}`;
  if (r.key) exercised.add(r.key);
  if (r.errors.length === 0) {
    console.log(`ok - ${what} as documented`);
  } else {
    failed++;
    console.log(`not ok - ${what}: ${r.errors.join('; ')}${ex.body ? ` (body: ${ex.body.slice(0, 200)})` : ''}`);
  }
}

const pairs = documentedPairs();
const missing = pairs.filter((p) => !exercised.has(p) && !skipped.has(p));
const skips = pairs.filter((p) => !exercised.has(p) && skipped.has(p));
for (const p of skips) console.log(`ok - # SKIP ${p}: ${skipped.get(p)}`);
const summary = `coverage: ${pairs.filter((p) => exercised.has(p)).length} of ${pairs.length} ` +
  `documented (path, method, status) pairs exercised, ${skips.length} skipped`;
if (missing.length === 0) {
  console.log(`ok - ${summary}`);
} else {
  failed++;
  console.log(`not ok - ${summary}; never exercised: ${missing.join('; ')}`);
}
process.exit(failed ? 1 : 0);
