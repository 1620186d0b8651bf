// A minimal FHIR server for benchmarks: serves the resources of the transaction Bundles given on the command
// line (read by id, search by type and patient; no sort, no paging) after a fixed latency per request.
// Usage: LATENCY_MS=50 PORT=8181 node bench/fake-fhir.mjs samples/patients/coapt-profile.json
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

const latency = Number(process.env.LATENCY_MS ?? 50);
const port = Number(process.env.PORT ?? 8181);
const resources = process.argv.slice(2)
  .flatMap(f => JSON.parse(readFileSync(f, 'utf8')).entry.map(e => e.resource));

createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean).slice(1); // drop the "fhir" prefix
  setTimeout(() => {
    res.setHeader('content-type', 'application/fhir+json');
    if (parts.length === 2) {
      const hit = resources.find(r => r.resourceType === parts[0] && r.id === parts[1]);
      res.statusCode = hit ? 200 : 404;
      res.end(JSON.stringify(hit ?? { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] }));
      return;
    }
    const patient = url.searchParams.get('patient');
    const entry = resources
      .filter(r => r.resourceType === parts[0] && (!patient || r.subject?.reference === `Patient/${patient}`))
      .map(resource => ({ resource }));
    res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: entry.length, entry }));
  }, latency);
}).listen(port, '127.0.0.1', () => console.log(`fake FHIR on http://127.0.0.1:${port}/fhir, ${latency} ms per request`));
