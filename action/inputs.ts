/** Every input of the Action is read and validated here, and nowhere else. */
import * as core from '@actions/core';
import { parseDuration } from '../policies/duration.js';

export interface ActionInputs {
  action: string;
  /** Normalised: no trailing slash, so `${appUrl}/api/v1/...` is always well formed. */
  appUrl: string;
  environment?: string;
  severity?: string;
  summary?: string;
  /** Undefined: the policy's timeout applies. */
  timeoutSeconds?: number;
  audience: string;
  failOnReject: boolean;
  /** Empty when no token is available; the fallback is then disabled. */
  githubToken: string;
}

export class InputError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid inputs:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'InputError';
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The URL as the messages show it: without the user name and password a mistaken one carries, also
 * written without `//` (`https:user:password@host`, `user:password@host`), which URL parsers take too.
 */
const withoutCredentials = (text: string) => text.replace(/^([^:/\\@]*:[/\\]*)?.*@/s, '$1');

/** The OIDC token is a bearer credential: it may travel in clear text only to this machine. */
function parseAppUrl(text: string): { url?: string; problem?: string } {
  const shown = withoutCredentials(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `app-url "${shown}" is not a URL; expected something like https://jit.example.com` };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    return { problem: `app-url "${shown}" must use https:// (plain http:// is allowed only for localhost)` };
  }
  if (url.username || url.password) return { problem: `app-url "${shown}" must not contain credentials (a user name or password before the host)` };
  if (url.search || url.hash) return { problem: `app-url "${shown}" must not have a query or fragment` };
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

function optional(name: string): string | undefined {
  return core.getInput(name) || undefined;
}

export function readInputs(): ActionInputs {
  const problems: string[] = [];

  const action = core.getInput('action');
  if (!action) problems.push('action is required (the name the policy rules refer to, for example "deploy")');

  const rawAppUrl = core.getInput('app-url');
  let appUrl = '';
  if (!rawAppUrl) {
    problems.push('app-url is required (the base URL of the Mercurial JIT App)');
  } else {
    const parsed = parseAppUrl(rawAppUrl);
    if (parsed.problem) problems.push(parsed.problem);
    appUrl = parsed.url ?? '';
  }

  let timeoutSeconds: number | undefined;
  const rawTimeout = optional('timeout');
  if (rawTimeout) {
    const parsed = parseDuration(rawTimeout);
    if (parsed.ok) timeoutSeconds = parsed.seconds;
    else problems.push(`timeout: ${parsed.message}`);
  }

  let failOnReject = true;
  // action.yml supplies the default on a runner; elsewhere (local runs) an unset input means the same.
  if (core.getInput('fail-on-reject')) {
    try {
      failOnReject = core.getBooleanInput('fail-on-reject');
    } catch {
      problems.push(`fail-on-reject must be true or false, not "${core.getInput('fail-on-reject')}"`);
    }
  }

  if (problems.length > 0) throw new InputError(problems);
  return {
    action,
    appUrl,
    environment: optional('environment'),
    severity: optional('severity'),
    summary: optional('summary'),
    timeoutSeconds,
    audience: optional('audience') ?? appUrl,
    failOnReject,
    githubToken: core.getInput('github-token'),
  };
}
