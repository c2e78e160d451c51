import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { parseCommand, targetAction } from '../../app/webhooks/commands.js';

describe('parseCommand', () => {
  it('reads /approve with and without a note', () => {
    expect(parseCommand('/approve')).toEqual({ kind: 'approve', note: '' });
    expect(parseCommand('  \n/approve  looks good to me \nmore text')).toEqual({ kind: 'approve', note: 'looks good to me' });
    expect(parseCommand('/APPROVE ok')).toEqual({ kind: 'approve', note: 'ok' });
  });

  it('requires a reason for /reject', () => {
    expect(parseCommand('/reject not during the freeze')).toEqual({ kind: 'reject', reason: 'not during the freeze' });
    expect(parseCommand('/reject')).toMatchObject({ kind: 'invalid', choice: 'reject', problem: expect.stringContaining('needs a reason') });
    expect(parseCommand('/reject   ')).toMatchObject({ kind: 'invalid' });
  });

  it('only reads the first non-empty line, so quoted commands never vote', () => {
    expect(parseCommand('I disagree\n> /approve')).toBeUndefined();
    expect(parseCommand('please /approve this')).toBeUndefined();
  });

  it('suggests the intended command for near misses', () => {
    expect(parseCommand('/aprove')).toEqual({ kind: 'invalid', choice: 'approve', problem: 'unknown command `/aprove`', suggestion: '/approve' });
    expect(parseCommand('/approved yes')).toMatchObject({ kind: 'invalid', suggestion: '/approve' });
    expect(parseCommand('/rejected')).toMatchObject({ kind: 'invalid', choice: 'reject', suggestion: '/reject' });
  });

  it('answers, and never counts, a command run into what follows it, rather than passing over it in silence', () => {
    for (const body of ['/reject: not during the freeze', '/reject, not now', '/approve.', '/approve?', '/approve\u200b ship it', '/APPROVE!']) {
      const choice = body.toLowerCase().startsWith('/reject') ? 'reject' : 'approve';
      expect(parseCommand(body)).toEqual({ kind: 'invalid', choice, problem: expect.stringContaining('must be followed by a space or the end of the line') });
    }
    // Other bots' commands stay theirs, however they are written.
    expect(parseCommand('/label: bug')).toBeUndefined();
    expect(parseCommand('/cc, @alice')).toBeUndefined();
  });

  it('ignores other bots\' commands and plain text', () => {
    expect(parseCommand('/label bug')).toBeUndefined();
    expect(parseCommand('/cc @alice')).toBeUndefined();
    expect(parseCommand('LGTM')).toBeUndefined();
    expect(parseCommand('')).toBeUndefined();
  });
});

describe('commands are read only where GitHub renders them as a plain paragraph line', () => {
  it.each([
    ['an indented code block (four spaces)', '    /approve'],
    ['an indented code block (a tab)', '\t/approve'],
    ['an indented code block after blank lines', '\n\n    /approve ship it'],
    ['a fenced code block', '```\n/approve\n```'],
    ['a tilde-fenced code block', '~~~\n/approve\n~~~'],
    ['a block quote', '> /approve'],
    ['a lazy continuation of a block quote', '> quoted\n/approve'],
    ['an HTML comment', '<!-- /approve -->'],
    ['an HTML comment over several lines', '<!--\n/approve\n-->'],
    ['a paragraph after an HTML comment', '<!-- hidden -->\n/approve'],
    ['a <details> block', '<details>\n/approve\n</details>'],
    ['a <details> block with blank lines', '<details><summary>Why</summary>\n\n/approve\n\n</details>'],
    ['another HTML block', '<div>\n/approve\n</div>'],
    ['a table', '| /approve |\n| --- |'],
    ['a table whose header row has no pipes at its ends', '/approve | now\n--- | ---'],
    ['a bullet list', '- /approve'],
    ['an ordered list', '1. /approve'],
    ['a task list', '- [ ] /approve'],
    ['an ATX heading', '# /approve'],
    ['a setext heading', '/approve\n==='],
    ['a setext heading underlined with dashes', '/approve\n---'],
    ['a link', '[/approve](https://example.com)'],
    ['emphasis', '*/approve*'],
    ['inline HTML', '<span>/approve</span>'],
    ['a footnote definition', '[^1]: /approve'],
    ['a link reference definition before it', '[x]: https://example.com\n/approve'],
    ['a second paragraph', 'LGTM\n\n/approve'],
  ])('not in %s', (_, body) => {
    expect(parseCommand(body)).toBeUndefined();
  });

  it.each([
    ['indented by up to three spaces', '   /approve ok', { kind: 'approve', note: 'ok' }],
    ['after blank lines', '\n\n/approve', { kind: 'approve', note: '' }],
    ['ending at a lone \\r, which ends a Markdown line', '/approve ok\r/reject no', { kind: 'approve', note: 'ok' }],
    ['ending at \\r\\n', '/reject no\r\nmore text', { kind: 'reject', reason: 'no' }],
    ['ending at a hard line break', '/approve ok\\\nmore text', { kind: 'approve', note: 'ok' }],
    ['with a note read as rendered', '/approve **ship** it <!-- x --> `now`', { kind: 'approve', note: 'ship it  now' }],
    ['with a code span over two lines in its note', '/reject see `a\nb`', { kind: 'reject', reason: 'see a b' }],
    ['with a character reference', '/appr&#111;ve ok', { kind: 'approve', note: 'ok' }],
  ])('in a paragraph %s', (_, body, command) => {
    expect(parseCommand(body)).toEqual(command);
  });
});

describe('comments up to GitHub\'s 65,536 characters', () => {
  const GITHUB_MAX = 65_536;
  /** Markdown whose inline syntax is slowest to read, repeated up to `length` characters. */
  const slowMarkdown = (length: number) => '*['.repeat(Math.ceil(length / 2)).slice(0, length);
  /** Quotes nested deeper than the Markdown reader's recursion can follow. */
  const deepQuotes = (levels: number) => '> '.repeat(levels);

  it('reads a command whose paragraph ends at a blank line, whatever follows, without reading the rest', () => {
    const head = '/approve ship it\n\n';
    expect(parseCommand(head + slowMarkdown(GITHUB_MAX - head.length))).toEqual({ kind: 'approve', note: 'ship it' });
    // Read whole, these overflowed the stack: the comment's vote was lost, and the reconciler gave up on its thread.
    expect(parseCommand(head + deepQuotes(20_000))).toEqual({ kind: 'approve', note: 'ship it' });
    expect(parseCommand(`/approve ${deepQuotes(20_000)}`)).toMatchObject({ kind: 'invalid', choice: 'approve' });
  });

  it('answers a command whose opening paragraph is too long to read, never counting it', () => {
    expect(parseCommand(`/approve ${slowMarkdown(GITHUB_MAX - 9)}`)).toMatchObject({ kind: 'invalid', choice: 'approve', problem: expect.stringContaining('longer than 2,048 characters') });
    expect(parseCommand(`/reject ${'no '.repeat(1_000)}*`)).toMatchObject({ kind: 'invalid', choice: 'reject' });
    // Not a command at all, however long: no answer.
    expect(parseCommand(`/label ${'x'.repeat(GITHUB_MAX - 7)}`)).toBeUndefined();
  });

  it('reads a long note in plain words in full, however long', () => {
    const note = `ship it ${'x'.repeat(GITHUB_MAX - 20)}`;
    expect(parseCommand(`   /approve ${note}  \nmore text`)).toEqual({ kind: 'approve', note });
    expect(parseCommand(`/reject ${'😀'.repeat(30_000)}`)).toEqual({ kind: 'reject', reason: '😀'.repeat(30_000) });
    // Plain words that GitHub shows as something else are still not a command.
    expect(parseCommand(`    /approve ${note}`)).toBeUndefined();
    expect(parseCommand(`/approve ${note}\n===`)).toBeUndefined();
  });

  it('never counts a long plain first line that GitHub shows as a heading or a table', () => {
    const note = `ship it ${'x'.repeat(3_000)}`;
    // An underline further down makes the whole paragraph a heading; a delimiter row under it, a table.
    for (const body of [`/approve ${note}\nmore words\n===`, `/approve ${note}\nmore\nwords\n---`, `/approve ${note}\n:-:`, `/approve ${note}\n -: `]) {
      expect(parseCommand(body)).not.toMatchObject({ kind: 'approve' });
    }
    // A line that is neither leaves the paragraph, and its first line, what they are.
    expect(parseCommand(`/approve ${note}\n-:-\nmore`)).toEqual({ kind: 'approve', note });
  });

  it('reads an opening paragraph with Markdown syntax of exactly the longest length in full', () => {
    const note = `*${'x'.repeat(2_048 - '/approve *'.length)}`; // the longest opening paragraph read as Markdown
    expect(parseCommand(`/approve ${note}`)).toEqual({ kind: 'approve', note });
    expect(parseCommand(`/approve ${note}y`)).toMatchObject({ kind: 'invalid', choice: 'approve' });
  });

  it('ends the opening block at its first blank line only: code, quotes and HTML stay what they are', () => {
    expect(parseCommand('```\n\n/approve\n```')).toBeUndefined();
    expect(parseCommand('<!--\n\n-->/approve')).toBeUndefined();
    expect(parseCommand('    x\n\n    /approve')).toBeUndefined();
    expect(parseCommand('/reject no\r\n \t\r\n/approve')).toEqual({ kind: 'reject', reason: 'no' });
    expect(parseCommand('/reject no\r\nmore\r\n\r\n')).toEqual({ kind: 'reject', reason: 'no' });
    // A reference defined further down is not read: its brackets stay, as a name the command gives.
    expect(parseCommand('/approve [staging] ok\n\n[staging]: https://example.com')).toEqual({ kind: 'approve', note: '[staging] ok' });
  });
});

describe('targetAction', () => {
  it('picks the named pending action and leaves the rest as the note', () => {
    expect(targetAction('Deploy ship it', ['deploy', 'migrate'])).toEqual({ action: 'deploy', rest: 'ship it' });
    expect(targetAction('ship it', ['deploy', 'migrate'])).toBeUndefined();
  });
});

describe('the quick turn-away of bodies that open with no slash', () => {
  // Built from the pieces that decide what a body's first paragraph opens with: blank space of every kind,
  // the ways to write a slash (itself, escaped, as a character reference), and blocks that are not paragraphs.
  const opening = fc.array(
    fc.constantFrom('', ' ', '   ', '\t', '\n', '\r\n', '\r', '\uFEFF', '\u00a0', '\u2003', '\\', '/', '&#47;', '&#x2F;', '&#X2f;', '&sol;', '&#047;', '&amp;', '<!-- x -->', '> ', '- ', '# ', '`', 'a'),
    { maxLength: 6 },
  );
  const word = fc.constantFrom('approve', 'approve ship it', 'reject not yet', 'aprove', 'rejct x');

  it('never turns away a body whose first paragraph GitHub renders as a command', () => {
    fc.assert(
      fc.property(opening, word, (pieces, command) => {
        const body = `${pieces.join('')}${command}`;
        const first = fromMarkdown(body, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }).children[0];
        const opensWithCommand = first?.type === 'paragraph' && first.children[0]?.type === 'text' && /^\/(approve|reject|aprove|rejct)(\s|$)/.test(first.children[0].value);
        if (opensWithCommand) expect(parseCommand(body)).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['a character reference', '&#47;approve'],
    ['a named character reference', '&sol;approve'],
    ['an escaped slash', '\\/approve'],
    ['a byte order mark', '\uFEFF/approve'],
    ['blank lines', '\n \n/approve'],
    ['a byte order mark before blank lines', '\uFEFF\n\n/approve'],
    ['a byte order mark before blank lines and a character reference', '\uFEFF\r\n\r&#x2F;approve'],
  ])('still reads a command written with %s', (_, body) => {
    expect(parseCommand(body)).toEqual({ kind: 'approve', note: '' });
  });
});
