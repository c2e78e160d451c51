/**
 * Every policy the README and docs/*.md show is one a user may copy: each ```yaml block that is a
 * policy (or a rule, or an `escalate:` list, placed in a minimal policy) passes the validator with
 * no problem and no warning. A deliberately wrong example says so with `<!-- invalid example -->`
 * just before its block, and must then really be invalid.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { loadPolicy } from '../../policies/loader.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OPT_OUT = /^<!--\s*invalid example\s*-->$/;

interface Node {
  type: string;
  lang?: string | null;
  value?: string;
  children?: Node[];
  position?: { start: { line: number } };
}

interface PolicyBlock {
  /** `README.md:215`: where the block's first line of YAML is. */
  where: string;
  /** What the block shows: a whole policy, one or more rules, or an escalate list. */
  shape: 'policy' | 'rules' | 'escalate';
  /** The YAML as validated; fragments are placed in a minimal policy. */
  text: string;
  /** Lines and columns the fragment moved by being placed, to point back into the document. */
  shift: { lines: number; cols: number };
  invalidExample: boolean;
}

/** The policy blocks of one Markdown document. */
function policyBlocks(file: string, markdown: string): PolicyBlock[] {
  const found: PolicyBlock[] = [];
  const walk = (node: Node) => {
    node.children?.forEach((child, i) => {
      const before = i > 0 ? node.children![i - 1] : undefined;
      if (child.type === 'code' && child.lang === 'yaml') {
        const placed = asPolicy(child.value ?? '');
        if (placed) {
          // The fence is on the node's first line; the YAML starts on the next.
          const line = (child.position?.start.line ?? 0) + 1;
          const invalidExample = before?.type === 'html' && OPT_OUT.test((before.value ?? '').trim());
          found.push({ where: `${file}:${line}`, ...placed, invalidExample });
        }
      }
      walk(child);
    });
  };
  walk(fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }) as Node);
  return found;
}

function asPolicy(yaml: string): Pick<PolicyBlock, 'shape' | 'text' | 'shift'> | null {
  if (/^(version: *1\b|rules:)/m.test(yaml)) return { shape: 'policy', text: yaml, shift: { lines: 0, cols: 0 } };
  const firstLine = yaml.split('\n').find((line) => line.trim() !== '' && !line.trim().startsWith('#')) ?? '';
  if (/^\s*- name:/.test(firstLine)) return { shape: 'rules', text: `version: 1\nrules:\n${yaml}`, shift: { lines: 2, cols: 0 } };
  if (/^escalate:/.test(firstLine)) {
    const indented = yaml.split('\n').map((line) => (line === '' ? line : `    ${line}`)).join('\n');
    return { shape: 'escalate', text: `version: 1\nrules:\n  - name: example\n${indented}`, shift: { lines: 3, cols: 4 } };
  }
  return null;
}

/** What the validator says about a block, as `FILE:LINE:COL: message` in the Markdown document. */
function problems(block: PolicyBlock): string[] {
  const [file, first] = block.where.split(':');
  const at = (d: { line: number; col: number; message: string }, kind: string) =>
    `${file}:${Number(first) + d.line - 1 - block.shift.lines}:${Math.max(1, d.col - block.shift.cols)}: ${kind}${d.message}`;
  const result = loadPolicy(block.text, file);
  return result.ok ? result.warnings.map((w) => at(w, 'warning: ')) : result.diagnostics.map((d) => at(d, ''));
}

const documents = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
const blocks = documents.flatMap((file) => policyBlocks(file, readFileSync(join(ROOT, file), 'utf8')));

describe('policies shown in the README and docs/*.md', () => {
  it('are found wherever the docs show one', () => {
    const byFile = (file: string) => blocks.filter((b) => b.where.startsWith(`${file}:`)).map((b) => b.shape);
    expect(byFile('README.md')).toEqual(['policy', 'policy', 'policy']);
    expect(byFile('docs/NOTIFICATIONS.md')).toEqual(['policy', 'policy']);
    // The rules table's example, the explained examples of conditions, changed files and approvers,
    // the escalate list, the explained escalations, freezes and windows.
    expect(byFile('docs/POLICY.md')).toEqual(['policy', ...Array(6).fill('policy'), 'escalate', 'policy', 'policy', 'policy']);
  });

  it.each(blocks.filter((b) => !b.invalidExample).map((b): [string, PolicyBlock] => [b.where, b]))('%s is valid, without warnings', (_where, block) => {
    expect(problems(block)).toEqual([]);
  });

  it('marked as invalid examples are invalid', () => {
    expect(blocks.filter((b) => b.invalidExample && problems(b).length === 0).map((b) => b.where)).toEqual([]);
  });
});

describe('the check itself', () => {
  const doc = [
    '# Notifications',
    '',
    '```yaml',
    'version: 1',
    'rules:',
    '  - name: production',
    '    escalate:',
    '      - after: 1h',
    '        approvers: ["@acme/sre-oncall"]',
    '```',
    '',
    '<!-- invalid example -->',
    '```yaml',
    'rules: { name: nope }',
    '```',
    '',
    '- In a list:',
    '',
    '  ```yaml',
    '  - name: docs',
    '    if: { paths: ["docs/**"] }',
    '    auto_approve: true',
    '  ```',
    '',
    '```yaml',
    'escalate:',
    '  - if: { severity: critical }',
    '    require: { approvals: 2, approvers: [codeowners] }',
    '```',
    '',
    '```yaml',
    'jobs: { build: { runs-on: ubuntu-latest } }',
    '```',
  ].join('\n');
  const found = policyBlocks('DOC.md', doc);

  it('finds whole policies, rules and escalations, in lists too, and skips other YAML', () => {
    expect(found.map((b) => [b.where, b.shape, b.invalidExample])).toEqual([
      ['DOC.md:4', 'policy', false],
      ['DOC.md:14', 'policy', true],
      ['DOC.md:20', 'rules', false],
      ['DOC.md:26', 'escalate', false],
    ]);
  });

  it('reports an escalation with "approvers" at its line in the document', () => {
    expect(problems(found[0])).toEqual([expect.stringMatching(/^DOC\.md:9:9: rules\[0\]\.escalate\[0\]\.approvers: an escalation has no "approvers"/)]);
  });

  it('reports warnings, at their line in the document', () => {
    expect(problems(found[2])).toEqual([expect.stringMatching(/^DOC\.md:21:\d+: warning: .*only_paths/)]);
  });

  it('passes a valid fragment and fails an opted-out block only if it is really invalid', () => {
    expect(problems(found[3])).toEqual([]);
    expect(problems(found[1])).not.toEqual([]);
  });
});
