// The SMART side of the sandbox EHR: what the CDS Hooks Sandbox and a SMART app need from an EHR, beside the FHIR API.
//   POST {fhir}/_services/smart/Launch  the Sandbox registers a card's SMART link before opening it:
//                                       {"launchUrl", "parameters": {"patient", "encounter"?, "appContext"?}} -> {"launch_id"}
//   GET  {fhir}/.well-known/smart-configuration   discovery (SMART App Launch 2.x)
//   GET  /auth/authorize                an EHR launch: the clinician is signed in already and approves at once
//   POST /auth/token                    authorization code + PKCE S256 -> a launch-scoped access token with patient,
//                                       encounter, appContext, need_patient_banner and (with openid) an id_token
//   GET  /auth/jwks                     the key the id_tokens are signed with
// This is a sandbox, not an authorization server to deploy: it checks what catches a wrong client (PKCE, the code used
// once and within a minute, redirect_uri, client_id, aud, a registered launch) but takes any client_id and ignores
// client secrets, as smart-launcher-v2 does. SMART_USER names the signed-in clinician (default
// Practitioner/sandbox-clinician).
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const user = process.env.SMART_USER ?? 'Practitioner/sandbox-clinician';
const launchLifetimeMs = 60 * 60 * 1000;
const codeLifetimeMs = 60 * 1000;
const tokenLifetimeSeconds = 3600;
const maxPending = 10000;

const launches = new Map(); // launch_id -> { patient, encounter, appContext, at }
const codes = new Map(); // code -> { clientId, redirectUri, challenge, scope, context, at }
const tokens = new Map(); // access token -> { patient, scope, expires }
export const smartStats = { launchesRegistered: 0, tokensIssued: 0, requestsWithIssuedToken: 0 };

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('base64url').slice(0, 16);

const id = () => randomBytes(24).toString('hex');
const fhirId = /^[A-Za-z0-9\-.]{1,64}$/;

/** Forget what has expired, and never hold more than maxPending of a kind. */
function sweep(map, lifetimeMs) {
  const now = Date.now();
  for (const [key, value] of map) {
    if (now - value.at > lifetimeMs || map.size > maxPending) map.delete(key);
  }
}

/** True when the request carries a token this EHR issued and that has not expired. */
export function carriesIssuedToken(req) {
  const header = req.headers.authorization ?? '';
  const granted = header.startsWith('Bearer ') ? tokens.get(header.slice('Bearer '.length)) : undefined;
  if (!granted || granted.expires < Date.now()) return false;
  smartStats.requestsWithIssuedToken++;
  return true;
}

/** The OAuth endpoints' URIs, for the CapabilityStatement's security extension (the older discovery). */
export function oauthUris(origin) {
  return { authorize: `${origin}/auth/authorize`, token: `${origin}/auth/token` };
}

function smartConfiguration(origin, fhirBase) {
  return {
    issuer: fhirBase,
    jwks_uri: `${origin}/auth/jwks`,
    authorization_endpoint: `${origin}/auth/authorize`,
    token_endpoint: `${origin}/auth/token`,
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    grant_types_supported: ['authorization_code'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['launch', 'openid', 'fhirUser', 'patient/*.rs', 'patient/*.cruds', 'patient/*.read', 'patient/*.write'],
    capabilities: ['launch-ehr', 'client-public', 'client-confidential-symmetric', 'context-ehr-patient', 'context-ehr-encounter',
      'context-banner', 'sso-openid-connect', 'permission-patient', 'permission-v1', 'permission-v2'],
  };
}

function base64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function idToken(issuer, clientId) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: 'RS256', typ: 'JWT', kid });
  const payload = base64url({ iss: issuer, sub: user, aud: clientId, fhirUser: user, iat: now, exp: now + tokenLifetimeSeconds });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** An error returned to the client at its redirect_uri, as RFC 6749 4.1.2.1 says once the redirect_uri is trusted. */
function redirectError(res, redirectUri, state, error, description) {
  const to = new URL(redirectUri);
  to.searchParams.set('error', error);
  to.searchParams.set('error_description', description);
  if (state) to.searchParams.set('state', state);
  res.writeHead(302, { location: to.toString(), 'cache-control': 'no-store' });
  res.end();
}

function authorize(res, params, fhirBase) {
  const redirectUri = params.get('redirect_uri');
  let target;
  try {
    target = new URL(redirectUri ?? '');
  } catch {
    target = undefined;
  }
  if (!target || !['http:', 'https:'].includes(target.protocol) || target.hash || !params.get('client_id')) {
    // Without a usable redirect_uri and client the error cannot go back to the app: it is shown here.
    return json(res, 400, { error: 'invalid_request', error_description: 'client_id and an absolute http(s) redirect_uri are required' });
  }
  const state = params.get('state');
  const scope = (params.get('scope') ?? '').split(' ').filter((s) => s.length > 0);
  if (params.get('response_type') !== 'code') {
    return redirectError(res, redirectUri, state, 'unsupported_response_type', 'only response_type=code');
  }
  if ((params.get('aud') ?? '').replace(/\/$/, '') !== fhirBase) {
    return redirectError(res, redirectUri, state, 'invalid_request', `aud must be this EHR's FHIR base, ${fhirBase}`);
  }
  if (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')) {
    return redirectError(res, redirectUri, state, 'invalid_request', 'PKCE with code_challenge_method=S256 is required');
  }
  sweep(launches, launchLifetimeMs);
  const context = launches.get(params.get('launch') ?? '');
  if (!scope.includes('launch') || !context) {
    return redirectError(res, redirectUri, state, 'invalid_request',
      'this sandbox EHR supports the EHR launch: scope must include launch, and launch must be an id from _services/smart/Launch');
  }
  sweep(codes, codeLifetimeMs);
  const code = id();
  codes.set(code, {
    clientId: params.get('client_id'), redirectUri, challenge: params.get('code_challenge'), scope: scope.join(' '), context, at: Date.now(),
  });
  target.searchParams.set('code', code);
  if (state) target.searchParams.set('state', state);
  res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
  res.end();
}

function token(req, res, text, fhirBase, headers) {
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return json(res, 400, { error: 'invalid_request', error_description: 'the token request must be form-encoded' }, headers);
  }
  const params = new URLSearchParams(text);
  let clientId = params.get('client_id');
  const basic = req.headers.authorization ?? '';
  if (basic.startsWith('Basic ')) {
    const decoded = Buffer.from(basic.slice('Basic '.length), 'base64').toString('utf8');
    clientId = decodeURIComponent(decoded.slice(0, Math.max(0, decoded.indexOf(':'))).replace(/\+/g, ' ')) || clientId;
  }
  if (params.get('grant_type') !== 'authorization_code') {
    return json(res, 400, { error: 'unsupported_grant_type', error_description: 'only authorization_code' }, headers);
  }
  const code = params.get('code') ?? '';
  const pending = codes.get(code);
  codes.delete(code); // good once, whatever happens next
  if (!pending || Date.now() - pending.at > codeLifetimeMs) {
    return json(res, 400, { error: 'invalid_grant', error_description: 'unknown, used or expired code' }, headers);
  }
  if (pending.clientId !== clientId || pending.redirectUri !== params.get('redirect_uri')) {
    return json(res, 400, { error: 'invalid_grant', error_description: 'client_id or redirect_uri differ from the authorize request' }, headers);
  }
  const verifier = params.get('code_verifier') ?? '';
  if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) {
    return json(res, 400, { error: 'invalid_grant', error_description: 'code_verifier does not match code_challenge' }, headers);
  }
  const accessToken = id();
  tokens.set(accessToken, { patient: pending.context.patient, scope: pending.scope, expires: Date.now() + tokenLifetimeSeconds * 1000 });
  smartStats.tokensIssued++;
  const scopes = pending.scope.split(' ');
  return json(res, 200, {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: tokenLifetimeSeconds,
    scope: pending.scope,
    patient: pending.context.patient,
    ...(pending.context.encounter ? { encounter: pending.context.encounter } : {}),
    ...(pending.context.appContext ? { appContext: pending.context.appContext } : {}),
    need_patient_banner: true,
    ...(scopes.includes('openid') && (scopes.includes('fhirUser') || scopes.includes('profile')) ? { id_token: idToken(fhirBase, clientId) } : {}),
  }, headers);
}

/** The Sandbox's launch registration (current cds-hooks/sandbox: POST {fhirServer}/_services/smart/Launch). */
function registerLaunch(res, text, headers) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parameters = body?.parameters;
  if (typeof parameters?.patient !== 'string' || !fhirId.test(parameters.patient)) {
    return json(res, 400, { error: 'invalid_request', error_description: 'parameters.patient must be a FHIR id' }, headers);
  }
  if (parameters.encounter !== undefined && (typeof parameters.encounter !== 'string' || !fhirId.test(parameters.encounter))) {
    return json(res, 400, { error: 'invalid_request', error_description: 'parameters.encounter must be a FHIR id' }, headers);
  }
  const appContext = parameters.appContext === undefined || parameters.appContext === null ? undefined
    : typeof parameters.appContext === 'string' ? parameters.appContext : JSON.stringify(parameters.appContext);
  if (appContext !== undefined && appContext.length > 4096) {
    return json(res, 400, { error: 'invalid_request', error_description: 'appContext is longer than 4096 characters' }, headers);
  }
  sweep(launches, launchLifetimeMs);
  const launchId = id();
  launches.set(launchId, { patient: parameters.patient, encounter: parameters.encounter, appContext, at: Date.now() });
  smartStats.launchesRegistered++;
  return json(res, 200, { launch_id: launchId }, headers);
}

/**
 * Answers the request if it is one of the SMART endpoints; returns false otherwise. Runs before the FHIR token check:
 * discovery and OAuth carry no bearer token, and the Sandbox registers its launches without one.
 */
export async function handleSmart(req, res, url, origin, fhirBase, corsHeaders) {
  const path = url.pathname;
  const readBody = async () => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  };
  if (req.method === 'GET' && path === '/fhir/.well-known/smart-configuration') {
    json(res, 200, smartConfiguration(origin, fhirBase), corsHeaders);
    return true;
  }
  if (req.method === 'POST' && /^\/fhir\/_services\/smart\/launch$/i.test(path)) {
    registerLaunch(res, await readBody(), corsHeaders);
    return true;
  }
  if (path === '/auth/authorize' && (req.method === 'GET' || req.method === 'POST')) {
    const params = new URLSearchParams(url.search);
    if (req.method === 'POST') for (const [key, value] of new URLSearchParams(await readBody())) params.append(key, value);
    authorize(res, params, fhirBase);
    return true;
  }
  if (path === '/auth/token' && req.method === 'POST') {
    token(req, res, await readBody(), fhirBase, corsHeaders);
    return true;
  }
  if (path === '/auth/jwks' && req.method === 'GET') {
    json(res, 200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] }, corsHeaders);
    return true;
  }
  return false;
}
