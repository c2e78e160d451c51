/**
 * README "Register the App" is what someone registering the App by hand follows: its permissions
 * table and its list of events must be exactly app.yml's, the manifest the setup page sends.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const manifest = parse(readFileSync(join(ROOT, 'app.yml'), 'utf8')) as { default_permissions: Record<string, string>; default_events: string[] };

/** The text of README's "### 1. Register the App", up to the next heading of that level. */
function registerSection(markdown: string): string {
  const start = markdown.indexOf('### 1. Register the App');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf('\n### ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** `Pull requests` → `pull_requests`, `Members (organization)` → `members`, as GitHub names them in a manifest. */
const manifestName = (shown: string) => shown.replace(/\s*\(.*\)$/, '').trim().toLowerCase().replace(/\s+/g, '_');

function permissionsTable(section: string): Record<string, string> {
  const rows = section.split('\n').filter((line) => /^\| [A-Z]/.test(line) && !line.startsWith('| Permission'));
  return Object.fromEntries(rows.map((row) => {
    const [name, access] = row.split('|').slice(1, 3).map((cell) => cell.trim());
    return [manifestName(name), access];
  }));
}

function events(section: string): string[] {
  const paragraph = section.slice(section.indexOf('\nEvents: '), section.indexOf('\n\n', section.indexOf('\nEvents: ')));
  return [...paragraph.matchAll(/\*\*([^*]+)\*\*/g)].map((m) => manifestName(m[1]));
}

describe('README "Register the App"', () => {
  const section = registerSection(readme);

  it('lists exactly the permissions app.yml asks for, with the same access', () => {
    expect(permissionsTable(section)).toEqual(manifest.default_permissions);
  });

  it('lists exactly the events app.yml subscribes to', () => {
    expect(events(section).sort()).toEqual([...manifest.default_events].sort());
  });

  it('reads the table and the events as written', () => {
    const sample = [
      '### 1. Register the App',
      '| Permission | Access | Why |',
      '|---|---|---|',
      '| Pull requests | read | x |',
      '| Members (organization) | read | y |',
      '',
      'Events: **Issue comment** (a), **Check run**',
      'and **Deployment protection rule**.',
      '',
      '### 2. Next',
      '| Other | write | z |',
    ].join('\n');
    expect(permissionsTable(registerSection(sample))).toEqual({ pull_requests: 'read', members: 'read' });
    expect(events(registerSection(sample))).toEqual(['issue_comment', 'check_run', 'deployment_protection_rule']);
  });
});
