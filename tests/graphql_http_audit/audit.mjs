// graphql-http's GraphQL-over-HTTP audit against a live server.
// Usage: node audit.mjs URL API_KEY
// Prints one JSON object: {"total": N, "ok": N, "notOk": [{id, name, status, reason}]}
// and exits 1 unless every audit is ok.
import { auditServer } from 'graphql-http';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node audit.mjs URL API_KEY');
  process.exit(2);
}

// Every audit request carries the key, as a real client's would.
function fetchWithKey(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithKey });
const notOk = results
  .filter((result) => result.status !== 'ok')
  .map(({ id, name, status, reason }) => ({ id, name, status, reason }));
const ok = results.length - notOk.length;
console.log(JSON.stringify({ total: results.length, ok, notOk }, null, 2));
process.exit(notOk.length === 0 ? 0 : 1);
