/**
 * Saves the credentials the manifest flow receives into a `.env` file, for the App's next start: the
 * file's other lines are kept, earlier values of the same variables replaced, and the file made
 * readable by its owner only.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';

export type Credentials = Record<'APP_ID' | 'PRIVATE_KEY' | 'WEBHOOK_SECRET' | 'GITHUB_CLIENT_ID' | 'GITHUB_CLIENT_SECRET', string>;

export async function saveCredentials(path: string, credentials: Credentials): Promise<void> {
  let existing = '';
  try {
    existing = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const names = new Set(Object.keys(credentials));
  const kept = existing.split('\n').filter((line) => !names.has(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1] ?? ''));
  while (kept.length > 0 && kept.at(-1)!.trim() === '') kept.pop();
  const lines = Object.entries(credentials).map(([name, value]) => `${name}=${quoted(value)}`);
  await writeFile(path, `${[...kept, ...lines].join('\n')}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a file it creates.
  await chmod(path, 0o600);
}

/**
 * One line, double-quoted, newlines as `\n`: Node's `.env` reader (and dotenv) turn them back into
 * newlines, and Probot's key reader accepts either.
 */
function quoted(value: string): string {
  if (/["\\]/.test(value.replace(/\n/g, ''))) throw new Error('a credential with quotes or backslashes cannot be written to .env');
  return `"${value.replace(/\r?\n/g, '\\n')}"`;
}
