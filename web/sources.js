// Where the documents come from: the gateway's `/v1/status/{license}?documents=true`,
// files the customer drops, picks or pastes, or the demo documents. Documents
// are only sorted by their shape here; whether they are valid, signed and
// signed by a trusted key is for the module to say.

const SIGNED = 'entitle-signed/1';

/** What a JSON document is, by its shape: bundle, license, usage, case, pack or unknown. */
export function kindOf(doc) {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'unknown';
  if (doc.format === SIGNED) return doc.kind === 'bundle' || doc.kind === 'license' ? doc.kind : 'unknown';
  if (doc.documents && typeof doc.documents === 'object') return 'gateway';
  if (typeof doc.bundle === 'string' && doc.tiers) return 'bundle';
  if (typeof doc.license === 'string' && 'tier' in doc) return 'license';
  if (typeof doc.case === 'string' && 'opened_at' in doc) return 'case';
  if ('metrics' in doc || 'active_seats' in doc) return 'usage';
  if ('bundle' in doc || 'license' in doc) return 'pack';
  return 'unknown';
}

/** An empty set of documents. */
export const empty = () => ({ bundle: null, license: null, usage: null, cases: [], signed: false, notes: [] });

/** Adds one parsed document (or a pack of them) to `docs`. */
export function add(docs, doc, name) {
  const kind = kindOf(doc);
  switch (kind) {
    case 'gateway':
      return fromGateway(docs, doc);
    case 'pack':
      for (const key of ['bundle', 'license', 'usage']) if (doc[key] !== undefined) add(docs, doc[key], `${name} ${key}`);
      for (const item of doc.cases ?? []) add(docs, item && item.case ? item.case : item, `${name} case`);
      return docs;
    case 'bundle':
    case 'license':
      docs[kind] = doc;
      return docs;
    case 'usage':
      docs.usage = doc;
      return docs;
    case 'case':
      docs.cases.push({ file: name, case: doc });
      return docs;
    default:
      docs.notes.push(`${name}: not a bundle, license, usage or support case`);
      return docs;
  }
}

function fromGateway(docs, body) {
  const d = body.documents;
  docs.bundle = d.bundle;
  docs.license = d.license;
  docs.usage = d.usage;
  docs.cases = Array.isArray(d.cases) ? d.cases : [];
  docs.gateway = { status: body.status, now: d.now, signed: d.signed };
  return docs;
}

/** Parses text a customer pasted or dropped; a parse error names the file. */
export function parse(text, name) {
  try {
    return { doc: JSON.parse(text) };
  } catch (error) {
    return { error: `${name}: not JSON (${error.message})` };
  }
}

/** Reads dropped or picked files into documents. */
export async function fromFiles(files) {
  const docs = empty();
  for (const file of files) {
    const { doc, error } = parse(await file.text(), file.name);
    if (error) docs.notes.push(error);
    else add(docs, doc, file.name);
  }
  return docs;
}

/** Reads pasted text: one document, a pack, or a gateway answer. */
export function fromText(text) {
  const docs = empty();
  const { doc, error } = parse(text, 'the pasted text');
  if (error) docs.notes.push(error);
  else add(docs, doc, 'the pasted text');
  return docs;
}

/** Fetches a license's documents from the gateway. */
export async function fromGatewayUrl(base, license) {
  const root = new URL(base.endsWith('/') ? base : `${base}/`, location.href);
  const url = new URL(`v1/status/${encodeURIComponent(license)}?documents=true`, root);
  const response = await fetch(url, { cache: 'no-store' });
  const body = await response.json().catch(() => null);
  if (!body || !body.documents) {
    const errors = body && Array.isArray(body.errors) ? body.errors : [];
    const detail = errors.map((e) => `${e.code} at ${e.path}`).join(', ') || `HTTP ${response.status}`;
    throw new Error(`the gateway at ${url.origin} gave no documents for \`${license}\`: ${detail}`);
  }
  const docs = fromGateway(empty(), body);
  docs.gateway.url = url.origin;
  try {
    const health = await (await fetch(new URL('healthz', root), { cache: 'no-store' })).json();
    docs.gateway.moduleSha256 = health.module_sha256;
  } catch {
    docs.gateway.moduleSha256 = null;
  }
  return docs;
}

/** The demo documents of examples/ (unsigned). */
export async function demo() {
  const base = new URL('../examples/', import.meta.url);
  const get = async (name) => {
    const response = await fetch(new URL(name, base), { cache: 'no-cache' });
    if (!response.ok) throw new Error(`examples/${name}: HTTP ${response.status}`);
    return response.json();
  };
  const docs = empty();
  docs.bundle = await get('bundle.json');
  docs.license = await get('license.json');
  docs.usage = await get('usage.json');
  docs.cases = [{ file: 'case-3107.json', case: await get('cases/lic_7Q2M9/case-3107.json') }];
  return docs;
}

/** Whether the documents are signed envelopes. */
export const isSigned = (docs) => [docs.bundle, docs.license].some((d) => d && d.format === SIGNED);
