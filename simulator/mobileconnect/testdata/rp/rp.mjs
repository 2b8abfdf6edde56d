// A Mobile Connect login with npm openid-client 6.x as the relying party:
// discovery, PKCE, the authorization URL with the Mobile Connect
// parameters, the headless re-GET of /authorize (as the GSMA SDKs do), the
// code exchange with client_secret_basic, the id_token checks openid-client
// makes (iss, aud, azp, exp, iat, nonce, state, and the JWS signature
// against jwks_uri with enableNonRepudiationChecks), then acr and
// hashed_login_hint, which it leaves to the application. Prints the claims
// as JSON. Usage: node rp.mjs ISSUER CLIENT_ID CLIENT_SECRET MSISDN ACR
// (an http issuer needs MC_INSECURE=1; an https one with a self-signed
// certificate NODE_EXTRA_CA_CERTS=cert.pem).
import * as client from 'openid-client';
import { createHash } from 'node:crypto';

const [issuer, clientId, secret, msisdn, acr] = process.argv.slice(2);
const redirect = 'http://127.0.0.1:9/callback';
const options = process.env.MC_INSECURE ? { execute: [client.allowInsecureRequests] } : undefined;
const config = await client.discovery(new URL(issuer), clientId,
  { id_token_signed_response_alg: 'ES256' }, client.ClientSecretBasic(secret), options);
client.enableNonRepudiationChecks(config);

const verifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const state = client.randomState();
const loginHint = `MSISDN:${msisdn.replace(/^\+/, '')}`;
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirect, scope: 'openid mc_authn', response_type: 'code',
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  nonce, state, version: 'mc_di_r2_v2.3', acr_values: acr, login_hint: loginHint,
});

// Headless: GET the same URL until the gateway redirects.
let location;
for (let i = 0; i < 600 && !location; i++) {
  const res = await fetch(url, { redirect: 'manual' });
  await res.arrayBuffer();
  if (res.status === 302) location = res.headers.get('location');
  else if (res.status === 200) await new Promise((r) => setTimeout(r, 100));
  else throw new Error(`authorize answered ${res.status}`);
}
if (!location || !location.startsWith(redirect)) throw new Error(`redirected to ${location}`);

const tokens = await client.authorizationCodeGrant(config, new URL(location),
  { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
const claims = tokens.claims();
if (!acr.split(' ').includes(claims.acr)) throw new Error(`acr ${claims.acr} not among ${acr}`);
const want = createHash('sha256').update(loginHint).digest('hex');
if (claims.hashed_login_hint !== want) throw new Error('hashed_login_hint does not match');
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
process.stdout.write(JSON.stringify({ claims, userinfo_sub: userinfo.sub }) + '\n');
