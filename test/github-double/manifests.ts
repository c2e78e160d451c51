/**
 * GitHub's App manifest flow: the web form that registers an App from a manifest
 * (`POST /settings/apps/new`, or `/organizations/{org}/settings/apps/new`) and the REST exchange of the
 * code it hands back (`POST /app-manifests/{code}/conversions`, no authentication). The double skips
 * GitHub's confirmation page: a valid form redirects at once to the manifest's `redirect_url`.
 */
import { randomBytes } from 'node:crypto';
import { githubError, notFound, validationFailed, type Reply } from './http.js';
import { generateAppKeyPair } from './keys.js';
import { appJson, type Urls } from './shapes.js';
import type { DoubleState } from './state.js';

/** GitHub: the code may be exchanged once, within an hour. */
const CODE_LIFETIME_MS = 60 * 60 * 1000;
const FIRST_REGISTERED_APP_ID = 900_000;

interface PendingManifest {
  manifest: Manifest;
  owner: string;
  expiresAt: number;
}

interface Manifest {
  name: string;
  url: string;
  description?: string;
  hook_attributes?: { url?: string; active?: boolean };
  redirect_url?: string;
  callback_urls?: string[];
  default_events?: string[];
  default_permissions?: Record<string, 'read' | 'write'>;
}

const pendingByState = new WeakMap<DoubleState, Map<string, PendingManifest>>();

function pending(state: DoubleState): Map<string, PendingManifest> {
  let codes = pendingByState.get(state);
  if (!codes) pendingByState.set(state, (codes = new Map()));
  return codes;
}

const WEB_FORM = /^\/(?:organizations\/([^/]+)\/)?settings\/apps\/new$/;
const CONVERSION = /^\/app-manifests\/([^/]+)\/conversions$/;

export interface ManifestRoute {
  template: '/settings/apps/new' | '/app-manifests/{code}/conversions';
  /** The conversion is REST (documented, recorded with the exchanges); the form is GitHub's web UI. */
  rest: boolean;
  params: Record<string, string>;
}

/** Which of the flow's two routes a request is for; undefined for any other. `path` has `/api/v3` removed. */
export function manifestRoute(method: string, path: string): ManifestRoute | undefined {
  if (method !== 'POST') return undefined;
  const form = WEB_FORM.exec(path);
  if (form) return { template: '/settings/apps/new', rest: false, params: form[1] ? { org: decodeURIComponent(form[1]) } : {} };
  const conversion = CONVERSION.exec(path);
  if (conversion) return { template: '/app-manifests/{code}/conversions', rest: true, params: { code: decodeURIComponent(conversion[1]!) } };
  return undefined;
}

export function handleManifests(state: DoubleState, urls: Urls, route: ManifestRoute, url: URL, raw: string, now = Date.now()): Reply {
  return route.rest ? convert(state, urls, route.params.code!, now) : registerFromForm(state, route.params.org, url, raw, now);
}

function registerFromForm(state: DoubleState, org: string | undefined, url: URL, raw: string, now: number): Reply {
  const text = new URLSearchParams(raw).get('manifest');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text ?? '') as Manifest;
  } catch {
    return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'Invalid GitHub App configuration: the manifest is not JSON' };
  }
  const missing = (['name', 'url'] as const).filter((field) => typeof manifest[field] !== 'string' || manifest[field] === '');
  if (!manifest.redirect_url) missing.push('redirect_url' as never);
  if (missing.length > 0) return { status: 400, headers: { 'content-type': 'text/plain' }, body: `Invalid GitHub App configuration: missing ${missing.join(', ')}` };
  const code = randomBytes(20).toString('hex');
  pending(state).set(code, { manifest, owner: org ?? 'github-double-apps', expiresAt: now + CODE_LIFETIME_MS });
  const location = new URL(manifest.redirect_url!);
  location.searchParams.set('code', code);
  const stateParam = url.searchParams.get('state');
  if (stateParam !== null) location.searchParams.set('state', stateParam);
  return { status: 302, headers: { location: location.href } };
}

function convert(state: DoubleState, urls: Urls, code: string, now: number): Reply {
  const codes = pending(state);
  const entry = codes.get(code);
  codes.delete(code);
  if (!entry || entry.expiresAt < now) throw notFound();
  const { manifest } = entry;
  const slug = manifest.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  if ([...state.apps.values()].some((app) => app.slug === slug)) {
    throw validationFailed([{ resource: 'Integration', field: 'name', code: 'already_exists', message: 'Name is already in use' }]);
  }
  if (!manifest.hook_attributes?.url && manifest.hook_attributes?.active !== false) throw githubError(422, 'Hook URL is missing');
  const id = Math.max(FIRST_REGISTERED_APP_ID - 1, ...state.apps.keys()) + 1;
  const keys = generateAppKeyPair();
  const webhookSecret = randomBytes(20).toString('hex');
  const clientSecret = randomBytes(20).toString('hex');
  const app = {
    id, slug, name: manifest.name, owner: state.ensureUser(entry.owner, 'Organization'), bot: state.ensureUser(`${slug}[bot]`, 'Bot'),
    publicKey: keys.publicKey, webhook: manifest.hook_attributes?.url ? { url: manifest.hook_attributes.url, secret: webhookSecret } : null,
    events: manifest.default_events ?? [], permissions: manifest.default_permissions ?? {}, createdAt: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    clientId: `Iv1.double${id}`, clientSecret, callbackUrls: manifest.callback_urls ?? [],
  };
  state.apps.set(id, app);
  return {
    status: 201,
    body: {
      ...appJson(app, urls), description: manifest.description ?? null, external_url: manifest.url,
      client_id: app.clientId, client_secret: clientSecret, webhook_secret: webhookSecret, pem: keys.privateKey,
    },
  };
}
