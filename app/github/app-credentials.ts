/**
 * At start, the App's id and private key are tried on GitHub (`GET /app`). A key of another App, or
 * the id of another, is refused there with a 401 that the App would otherwise meet on its first
 * request, and that a waiting step could only report as the App failing.
 */
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';

const CHECK_TIMEOUT_MS = 10_000;

export interface AppCredentials {
  appId: number;
  privateKey: string;
  githubApiUrl: string;
}

/** Throws when GitHub refuses the credentials; GitHub out of reach, or failing, is only warned about: the App starts and tries again on use. */
export async function verifyAppCredentials(credentials: AppCredentials, warn: (message: string) => void): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  // As GitHub advises: issued a minute in the past against clock drift, and valid for less than ten minutes.
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(String(credentials.appId))
    .setIssuedAt(now - 60)
    .setExpirationTime(now + 540)
    .sign(createPrivateKey(credentials.privateKey));
  let response: Response;
  try {
    response = await fetch(`${credentials.githubApiUrl.replace(/\/+$/, '')}/app`, {
      headers: { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json', 'user-agent': 'mercurial-jit-app' },
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
  } catch (err) {
    warn(`could not check the App's credentials with GitHub at ${credentials.githubApiUrl} (${(err as Error).message}); starting anyway`);
    return;
  }
  if (response.ok) return;
  const { message } = (await response.json().catch(() => ({}))) as { message?: string };
  const answer = `HTTP ${response.status}${message ? `: ${message}` : ''}`;
  if (response.status === 401 || response.status === 404) {
    throw new Error(`APP_ID and PRIVATE_KEY: GitHub refused the App's token (${answer}); APP_ID must be the id of the GitHub App whose private key PRIVATE_KEY (or PRIVATE_KEY_PATH) holds`);
  }
  warn(`could not check the App's credentials with GitHub (${answer}); starting anyway`);
}
