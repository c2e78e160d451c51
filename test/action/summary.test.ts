import { describe, expect, it } from '@jest/globals';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { summaryMarkdown } from '../../action/summary.js';
import type { Outcome } from '../../action/wait.js';

const outcome = (overrides: Partial<Outcome>): Outcome => ({
  status: 'approved', decision: 'approved', reason: 'quorum', approvedBy: [], matchedRules: [], problems: [], source: 'app', waitedSeconds: 0, ...overrides,
});

/** A Markdown node's text, as the reader sees it. */
const text = (node: object): string => ('value' in node && typeof node.value === 'string' ? node.value : 'children' in node && Array.isArray(node.children) ? node.children.map(text).join('') : '');

describe('summaryMarkdown', () => {
  it('renders the whole decision record', () => {
    const markdown = summaryMarkdown(
      outcome({
        approvedBy: ['alice', 'bob'], matchedRules: ['production'], requestId: 'r1',
        checkRunUrl: 'https://github.test/o/r/runs/9', waitedSeconds: 130,
      }),
      { action: 'deploy', environment: 'production' },
    );
    expect(markdown).toBe(
      [
        '## ✅ Approved: `deploy` to `production`',
        '',
        '| | |',
        '|---|---|',
        '| Decision | approved |',
        '| Approved by | @alice, @bob |',
        '| Reason | `quorum` |',
        '| Matched rules | production |',
        '| Request | `r1` |',
        '| Check run | [https://github.test/o/r/runs/9](https://github.test/o/r/runs/9) |',
        '| Waited | 2m10s |',
        '',
      ].join('\n'),
    );
  });

  it.each([
    { name: 'auto-approval', outcome: outcome({ decision: 'auto_approved', reason: 'auto' }), lines: ['## ✅ Approved automatically: `deploy`', '| Decision | auto_approved |'] },
    { name: 'rejection', outcome: outcome({ status: 'rejected', decision: 'rejected', reason: 'not on a Friday' }), lines: ['## ❌ Rejected: `deploy`', '| Reason | `not on a Friday` |'] },
    { name: 'timeout', outcome: outcome({ status: 'timed_out', decision: 'timed_out', reason: 'no decision within 30m' }), lines: ['## ⏱️ Timed out: `deploy`', '| Approved by | — |'] },
    { name: 'cancellation', outcome: outcome({ status: 'cancelled', decision: 'cancelled' }), lines: ['## 🚫 Cancelled: `deploy`'] },
    {
      name: 'a pipe or newline in the reason cannot break the table',
      outcome: outcome({ status: 'rejected', decision: 'rejected', reason: 'a | b\nc' }),
      lines: ['| Reason | `a \\| b c` |'],
    },
    {
      name: 'read from the check run',
      outcome: outcome({ source: 'check-run' }),
      lines: ['| Read from | the check run (the App was unreachable) |'],
    },
    {
      name: 'policy errors',
      outcome: outcome({ status: 'failed', decision: undefined, reason: 'invalid policy', problems: ['.github/jit-approval.yml:3:5: unknown key "rulez"'] }),
      lines: ['## ⚠️ Cannot be approved: `deploy`', '| Decision | none (error) |', '**Policy errors**', '.github/jit-approval.yml:3:5: unknown key "rulez"'],
    },
  ])('$name', ({ outcome: input, lines }) => {
    const markdown = summaryMarkdown(input, { action: 'deploy' }).split('\n');
    for (const line of lines) expect(markdown).toContain(line);
  });
  it("keeps a reason's lone carriage return from starting a row of its own (a forged 'Approved by')", () => {
    // A dashboard reject reason is a textarea's text; Markdown ends a line at a lone \r too.
    const markdown = summaryMarkdown(outcome({ status: 'rejected', decision: 'rejected', reason: 'not today\rApproved by @alice, @bob' }), { action: 'deploy' });
    const table = fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }).children.find((node) => node.type === 'table');
    expect(table && 'children' in table ? table.children.length : 0).toBe(8);
  });
  it("keeps backticks in a policy error from closing its code block and writing the summary's lines", () => {
    const problems = ['severity `high\n```\n## ✅ Approved: `deploy`\n```` is not one of the policy\'s severities (low < high)'];
    const markdown = summaryMarkdown(outcome({ status: 'failed', decision: undefined, reason: problems[0], problems }), { action: 'deploy' });
    const tree = fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
    expect(tree.children.filter((node) => node.type === 'heading').map(text)).toEqual(['⚠️ Cannot be approved: deploy']);
    expect(tree.children.filter((node) => node.type === 'code').map(text).join('\n')).toContain('## ✅ Approved: `deploy`');
  });
  it('shows a reason, and the action and environment the step states, as code: no links, images or HTML of their own', () => {
    const markdown = summaryMarkdown(
      outcome({ status: 'rejected', decision: 'rejected', reason: 'see [the fix](https://evil.example) <img src=x>' }),
      { action: 'deploy', environment: 'staging`\n## ✅ Approved: `deploy` to `production' },
    );
    const tree = fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
    const kinds = new Set<string>();
    const walk = (node: { type: string; children?: unknown[] }) => {
      kinds.add(node.type);
      for (const child of node.children ?? []) walk(child as { type: string; children?: unknown[] });
    };
    walk(tree);
    expect([...kinds].filter((kind) => ['link', 'image', 'html'].includes(kind))).toEqual([]);
    expect(tree.children.filter((node) => node.type === 'heading').map(text)).toEqual(['❌ Rejected: deploy to staging` ## ✅ Approved: `deploy` to `production']);
  });
  it('keeps a backslash before a pipe in the reason from ending the cell', () => {
    // `\\|` is an escaped backslash and then a pipe that ends the cell, unless the backslash is escaped too.
    const markdown = summaryMarkdown(outcome({ status: 'rejected', decision: 'rejected', reason: 'not today \\| forged cell' }), { action: 'deploy' });
    const table = fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }).children.find((node) => node.type === 'table');
    const rows = table && 'children' in table ? table.children : [];
    const cells = rows.map((row) => ('children' in row ? row.children.map(text) : []));
    // In a code span the backslash shows doubled: GitHub's tables take `\\|` as an escaped pipe before code is read.
    expect(cells.find(([name]) => name === 'Reason')).toEqual(['Reason', 'not today \\\\| forged cell']);
  });
});
