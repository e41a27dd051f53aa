// Runs the graphql-http server audit (the GraphQL-over-HTTP conformance suite) against a URL.
//
//   node audit.mjs http://127.0.0.1:8000/graphql
//
// Prints a JSON array on stdout, one object per audit:
//   {id, name, level: "MUST"|"SHOULD"|"MAY", status: "ok"|"error"|"warn"|"notice", reason?, response?}
// where `response` (for failures) is {status, contentType, body} of the offending response.
// Exits 0 once the audit ran, whatever its results; 2 on bad usage, 1 on a fatal error.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <url of the GraphQL endpoint>');
  process.exit(2);
}

async function describe(response) {
  if (!response) return undefined;
  let body;
  try {
    body = await response.text();
  } catch {
    body = '<body already read>';
  }
  return { status: response.status, contentType: response.headers.get('content-type'), body };
}

try {
  const results = await auditServer({ url });
  const out = [];
  for (const result of results) {
    const entry = { id: result.id, name: result.name, level: result.name.split(' ')[0], status: result.status };
    if (result.status !== 'ok') {
      entry.reason = result.reason;
      entry.response = await describe(result.response);
    }
    out.push(entry);
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} catch (err) {
  console.error('the audit could not run:', err);
  process.exit(1);
}
