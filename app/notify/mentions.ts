/**
 * The @-mention line for PR comments and approval issues. Pure.
 *
 * GitHub notifies only the first 50 people or teams @-mentioned in one comment (reports since
 * 2017; it used to be 10), so at most `limit` are mentioned and the rest are summarised
 * ("and 12 more"). Teams come first: one team mention reaches a whole group. Logins are
 * case-insensitive on GitHub, so `@Alice` and `@alice` are one mention. Roles and e-mail owners
 * cannot be mentioned; they are named in words instead.
 */

import { fencedSpan } from '../../policies/markdown.js';

export const GITHUB_MENTION_LIMIT = 50;

export interface MentionLine {
  /** e.g. `@acme/sre, @alice, @bob and 12 more, or anyone with write access`; '' when there is nobody. */
  line: string;
  /** What was @-mentioned, in order. */
  mentioned: string[];
  /** Mentionable approvers left out by the limit. */
  omitted: string[];
}

// GitHub logins: letters, digits and single inner hyphens, at most 39 characters. Team slugs are looser.
const USER = /^@?([A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?)$/;
const TEAM = /^@([A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?)\/([A-Za-z0-9][A-Za-z0-9_.-]*)$/;
const ROLE = /^role:(admin|maintain|write)$/;

const alternatives = new Intl.ListFormat('en', { style: 'long', type: 'disjunction' });

export function mentionLine(approvers: readonly string[], limit = GITHUB_MENTION_LIMIT): MentionLine {
  const teams: string[] = [];
  const users: string[] = [];
  const inWords: string[] = [];
  const seen = new Set<string>();
  const once = (key: string) => !seen.has(key.toLowerCase()) && seen.add(key.toLowerCase());
  for (const raw of approvers) {
    const approver = raw.trim();
    const team = TEAM.exec(approver);
    const role = ROLE.exec(approver);
    const user = USER.exec(approver);
    if (approver === 'codeowners') {
      if (once(approver)) inWords.push('the code owners');
    } else if (role) {
      if (once(approver)) inWords.push(`anyone with ${role[1]} access`);
    } else if (team) {
      if (once(`@${team[1]}/${team[2]}`)) teams.push(`@${team[1]}/${team[2]}`);
    } else if (user) {
      if (once(`@${user[1]}`)) users.push(`@${user[1]}`);
    } else if (approver !== '' && once(approver)) {
      // An e-mail owner from CODEOWNERS, or anything else: shown as code, which GitHub never turns into a mention.
      inWords.push(fencedSpan(approver));
    }
  }
  const mentionable = [...teams, ...users];
  const mentioned = mentionable.slice(0, Math.max(0, limit));
  const omitted = mentionable.slice(mentioned.length);
  const names = [mentioned.join(', '), omitted.length > 0 ? `${omitted.length} more` : ''].filter(Boolean).join(' and ');
  const groups = [...(names ? [names] : []), ...inWords];
  return { line: alternatives.format(groups), mentioned, omitted };
}
