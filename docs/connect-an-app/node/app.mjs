// Bus Routes: a small web app that signs people in through Portal IdP with openid-client.
//
// Only Node.js (20 or newer) and two packages: openid-client (OpenID Connect) and jose (its own
// dependency, used here to check back-channel logout tokens). Run it with `node app.mjs` and:
//
//   PORTAL_IDP_ISSUER         the provider's issuer, e.g. https://idp.example.org
//   PORTAL_APP_URL            this app's own address, no path: e.g. http://127.0.0.1:8083
//   PORTAL_APP_CLIENT_ID      the client_id of the app's registration (clients/*.toml)
//   PORTAL_APP_CLIENT_SECRET  the secret held by the IdP server in the registration's `secret_env`
//   PORTAL_APP_ID_TOKEN_ALG   RS256 (default) or ES256: the registration's
//                             id_token_signed_response_alg
//   PORTAL_APP_PORT           optional: the port to listen on, when a TLS proxy in front serves
//                             PORTAL_APP_URL (default: the port of PORTAL_APP_URL)
//
// The app listens on 127.0.0.1 only. Sessions live in this process's memory: a restart signs
// everyone out of the app (not of the IdP).

import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

const APP_NAME = 'Bus Routes';
const SCOPE = 'openid profile email students';
const COOKIE = 'bus_routes_session';
const SIGN_IN_MINUTES = 10; // a started sign-in must come back within this time
const SESSION_HOURS = 8;
const JWKS_REFRESH_MINUTES = 5;
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const MAX_BODY_BYTES = 16 * 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(1);
  }
  return value;
}

const issuer = new URL(required('PORTAL_IDP_ISSUER'));
const appUrl = new URL(required('PORTAL_APP_URL'));
if (appUrl.pathname !== '/') {
  console.error('PORTAL_APP_URL must have no path, e.g. http://127.0.0.1:8083');
  process.exit(1);
}
const baseUrl = appUrl.origin;
const clientId = required('PORTAL_APP_CLIENT_ID');
const clientSecret = required('PORTAL_APP_CLIENT_SECRET');
const idTokenAlg = process.env.PORTAL_APP_ID_TOKEN_ALG || 'RS256';
if (!['RS256', 'ES256'].includes(idTokenAlg)) {
  console.error('PORTAL_APP_ID_TOKEN_ALG must be RS256 or ES256');
  process.exit(1);
}
// openid-client refuses plain http. Allow it only for a provider on this machine (development
// and tests); a real provider is always https.
const isInsecureAllowed = issuer.protocol === 'http:' && LOOPBACK_HOSTS.has(issuer.hostname);
if (issuer.protocol !== 'https:' && !isInsecureAllowed) {
  console.error('PORTAL_IDP_ISSUER must be https (http only for 127.0.0.1 or localhost)');
  process.exit(1);
}
const isSecureCookie = appUrl.protocol === 'https:';
const port = Number(process.env.PORTAL_APP_PORT || appUrl.port || (isSecureCookie ? 443 : 80));

// Discovery runs on first use (and again after a failure), so the app may start before the IdP.
let discovered = null;
function provider() {
  discovered ??= discover().catch((error) => {
    discovered = null;
    throw error;
  });
  return discovered;
}

async function discover() {
  // openid-client trusts https for the ID token's origin and skips its signature unless asked;
  // the app asks, so a token is checked against the IdP's keys (and only with `idTokenAlg`).
  const execute = [oidc.enableNonRepudiationChecks];
  if (isInsecureAllowed) execute.push(oidc.allowInsecureRequests);
  const metadata = { id_token_signed_response_alg: idTokenAlg };
  const config = await oidc.discovery(
    issuer, clientId, metadata, oidc.ClientSecretBasic(clientSecret), { execute },
  );
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  // Back-channel logout tokens are checked against keys fetched ahead of time, so answering the
  // IdP's logout call never waits on a call back to the IdP.
  await jwks.reload();
  setInterval(() => jwks.reload().catch(logError), JWKS_REFRESH_MINUTES * 60_000).unref();
  return { config, jwks };
}

// Server-side sessions: a random id in an HttpOnly cookie, the rest in memory.
const sessions = new Map();

const COOKIE_ATTRIBUTES = `Path=/; HttpOnly; SameSite=Lax${isSecureCookie ? '; Secure' : ''}`;

function newSession(response, data, minutes) {
  const id = randomBytes(32).toString('base64url');
  sessions.set(id, { ...data, expiresAt: Date.now() + minutes * 60_000 });
  response.setHeader('Set-Cookie', `${COOKIE}=${id}; ${COOKIE_ATTRIBUTES}`);
}

function sessionId(request) {
  for (const part of (request.headers.cookie || '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return null;
}

function currentSession(request) {
  const id = sessionId(request);
  const session = id && sessions.get(id);
  if (session && session.expiresAt > Date.now()) return session;
  if (id) sessions.delete(id);
  return null;
}

function endSession(request, response) {
  const id = sessionId(request);
  if (id) sessions.delete(id);
  response.setHeader('Set-Cookie', `${COOKIE}=; ${COOKIE_ATTRIBUTES}; Max-Age=0`);
}

setInterval(() => {
  const now = Date.now();
  for (const [id, session] of sessions) if (session.expiresAt <= now) sessions.delete(id);
}, 60_000).unref();

// Pages. Every value written into a page goes through escapeHtml.
function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendPage(response, status, body) {
  response.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'",
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(APP_NAME)}</title></head>
<body><h1>${escapeHtml(APP_NAME)}</h1>
${body}
</body></html>
`);
}

function redirect(response, location) {
  response.writeHead(302, { Location: location, 'Cache-Control': 'no-store' });
  response.end();
}

function homePage(session) {
  if (!session?.user) {
    return '<p id="status">You are signed out.</p>\n<p><a href="/login">Sign in</a></p>';
  }
  const { claims } = session.user;
  // `student_ids` is the flat list of the `students` scope; older IdP versions only send
  // `students`, a list of objects with the same ids.
  let ids = claims.student_ids;
  let note = '';
  if (!Array.isArray(ids) && Array.isArray(claims.students)) {
    ids = claims.students.map((student) => student.id);
    note = '<p id="student-ids-note">(from the <code>students</code> claim)</p>';
  }
  const items = (ids || []).map((id) => `<li>${escapeHtml(id)}</li>`).join('');
  return `<p id="status">Signed in through Portal IdP</p>
<dl>
<dt>Username</dt><dd id="user">${escapeHtml(claims.preferred_username)}</dd>
<dt>Name</dt><dd id="name">${escapeHtml(claims.name)}</dd>
<dt>Subject (sub)</dt><dd id="sub">${escapeHtml(claims.sub)}</dd>
</dl>
<h2>Students</h2>
${items ? `<ul id="student-ids">${items}</ul>` : '<p id="student-ids">None.</p>'}${note}
<p><a href="/logout">Sign out</a></p>`;
}

// Routes.
async function login(request, response) {
  const { config } = await provider();
  endSession(request, response);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  newSession(response, { signIn: { codeVerifier, state, nonce } }, SIGN_IN_MINUTES);
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${baseUrl}/callback`,
    scope: SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  redirect(response, url.href);
}

async function callback(request, response) {
  const signIn = currentSession(request)?.signIn;
  endSession(request, response); // a sign-in is used once, whether it succeeds or not
  if (!signIn) {
    sendPage(response, 400, '<p>This sign-in has expired.</p><p><a href="/login">Sign in</a></p>');
    return;
  }
  const { config } = await provider();
  // Checks state, the iss parameter, then the ID token: signature (JWKS), alg, iss, aud, exp,
  // iat and nonce. The redirect_uri sent is this URL without its query: `${baseUrl}/callback`.
  const tokens = await oidc.authorizationCodeGrant(config, requestUrl(request), {
    pkceCodeVerifier: signIn.codeVerifier,
    expectedState: signIn.state,
    expectedNonce: signIn.nonce,
    idTokenExpected: true,
  });
  const idClaims = tokens.claims();
  checkAccessTokenHash(idClaims, tokens.access_token);
  // UserInfo answers must name the same `sub` as the ID token (openid-client checks it).
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  // A new session id once signed in (never the one the sign-in started with).
  newSession(response, {
    user: { claims: { ...idClaims, ...userinfo }, idToken: tokens.id_token, sid: idClaims.sid },
  }, SESSION_HOURS * 60);
  redirect(response, '/');
}

// OIDC Core 3.1.3.8: at_hash is optional in the code flow; openid-client does not check it, so
// the app does when the IdP sends it (Portal IdP always does). RS256 and ES256 both use SHA-256.
function checkAccessTokenHash(claims, accessToken) {
  if (claims.at_hash === undefined) return;
  const digest = createHash('sha256').update(accessToken).digest();
  if (claims.at_hash !== digest.subarray(0, 16).toString('base64url')) {
    throw new Error('ID token at_hash does not match the access token');
  }
}

async function logout(request, response) {
  const user = currentSession(request)?.user;
  endSession(request, response); // the app's own session ends first, whatever the IdP answers
  if (!user) {
    redirect(response, '/');
    return;
  }
  // OpenID Connect RP-Initiated Logout: the IdP signs the person out, then sends them back.
  const { config } = await provider();
  const url = oidc.buildEndSessionUrl(config, {
    id_token_hint: user.idToken,
    post_logout_redirect_uri: `${baseUrl}/`,
  });
  redirect(response, url.href);
}

async function backchannelLogout(request, response) {
  const answer = (status, body) => {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    response.end(body === undefined ? '' : JSON.stringify(body));
  };
  let claims;
  try {
    claims = await verifyLogoutToken(await formField(request, 'logout_token'));
  } catch (error) {
    console.error(`back-channel logout refused: ${error.code || error.message}`);
    answer(400, { error: 'invalid_request' });
    return;
  }
  // Back-Channel Logout 2.7: end the sessions of that IdP session (sid), or all of that person's.
  for (const [id, session] of sessions) {
    const user = session.user;
    if (!user) continue;
    const isSameSub = claims.sub === undefined || user.claims.sub === claims.sub;
    if (claims.sid === undefined ? isSameSub : user.sid === claims.sid && isSameSub) {
      sessions.delete(id);
    }
  }
  answer(200);
}

// OpenID Connect Back-Channel Logout 1.0, 2.6: signature (the IdP's keys, only the algorithm
// this app registered), iss, aud, iat, exp, an `events` claim with the back-channel logout
// event, a sid or sub, and no nonce (so an ID token cannot be passed off as a logout token).
async function verifyLogoutToken(token) {
  if (!token) throw new Error('no logout_token');
  const { config, jwks } = await provider();
  const { payload } = await jwtVerify(token, jwks, {
    issuer: config.serverMetadata().issuer,
    audience: clientId,
    algorithms: [idTokenAlg],
    requiredClaims: ['iat', 'exp', 'jti', 'events'],
    clockTolerance: 30,
  });
  const event = payload.events?.[BACKCHANNEL_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new Error('no back-channel logout event');
  }
  if (payload.nonce !== undefined) throw new Error('a logout token has no nonce');
  if (typeof payload.sid !== 'string' && typeof payload.sub !== 'string') {
    throw new Error('no sid or sub');
  }
  return payload;
}

async function formField(request, name) {
  if (!(request.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')) {
    throw new Error('not a form');
  }
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > MAX_BODY_BYTES) throw new Error('body too large');
  }
  return new URLSearchParams(body).get(name);
}

const routes = {
  'GET /': (request, response) => sendPage(response, 200, homePage(currentSession(request))),
  'GET /login': login,
  'GET /callback': callback,
  'GET /logout': logout,
  'POST /backchannel-logout': backchannelLogout,
};

function logError(error) {
  console.error(error);
}

// The URL the browser asked for, always on PORTAL_APP_URL (never a host from the request).
function requestUrl(request) {
  return new URL(`${baseUrl}${request.url}`);
}

const server = createServer(async (request, response) => {
  const path = requestUrl(request).pathname;
  const route = routes[`${request.method} ${path}`];
  if (!route) {
    sendPage(response, 404, '<p>Not found.</p><p><a href="/">Home</a></p>');
    return;
  }
  try {
    await route(request, response);
  } catch (error) {
    logError(error);
    if (response.headersSent) {
      response.end();
      return;
    }
    // The IdP's own answer (e.g. access_denied) is safe to show; anything else stays in the log.
    const isRefused = error instanceof oidc.AuthorizationResponseError;
    const message = isRefused
      ? `Sign-in was refused (${escapeHtml(error.error)}).`
      : 'Something went wrong: the app log says what.';
    sendPage(response, isRefused ? 400 : 500, `<p>${message}</p><p><a href="/">Home</a></p>`);
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`${APP_NAME} on ${baseUrl}/ (IdP ${issuer.href})`);
});
