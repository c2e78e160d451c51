/**
 * Slash commands in issue and PR comments. Only the first non-empty line is read, so quoting a
 * command further down ("> /approve") in a reply never votes.
 */
import { closest, distance } from 'fastest-levenshtein';

export type Command =
  | { kind: 'approve'; note: string }
  | { kind: 'reject'; reason: string }
  /** Looks like a command meant for us but is not one we accept; `suggestion` is the likely intent. */
  | { kind: 'invalid'; problem: string; suggestion?: string };

const KNOWN = ['approve', 'reject'] as const;

/** The command in a comment body, or undefined when the comment is not a slash command at all. */
export function parseCommand(body: string): Command | undefined {
  const firstLine = body.split(/\r?\n/).find((line) => line.trim().length > 0)?.trim();
  const match = firstLine?.match(/^\/([A-Za-z][\w-]*)(?:\s+(.*))?$/);
  if (!match) return undefined;
  const name = match[1].toLowerCase();
  const rest = (match[2] ?? '').trim();
  if (name === 'approve') return { kind: 'approve', note: rest };
  if (name === 'reject') {
    if (rest.length === 0) return { kind: 'invalid', problem: '`/reject` needs a reason, for example `/reject migration is not reversible`' };
    return { kind: 'reject', reason: rest };
  }
  const nearest = closest(name, [...KNOWN]);
  if (distance(name, nearest) <= 2 || name.startsWith(nearest)) {
    return { kind: 'invalid', problem: `unknown command \`/${name}\``, suggestion: `/${nearest}` };
  }
  // Other bots' commands (`/label`, `/cc`) are none of our business.
  return undefined;
}

/** When several requests wait on one thread, a command names the action it is for as its first word. */
export function targetAction(text: string, pendingActions: readonly string[]): { action: string; rest: string } | undefined {
  const [first = '', ...rest] = text.split(/\s+/);
  const action = pendingActions.find((name) => name.toLowerCase() === first.toLowerCase());
  return action ? { action, rest: rest.join(' ') } : undefined;
}
