/**
 * docs/POLICY.md shows what each rule does with a small policy and what `mercurial-jit explain`
 * prints for it. Each such example is run here through the real CLI, and what it prints must be
 * exactly what the document shows.
 *
 * The convention, in the Markdown:
 *
 *   <!-- explain -->          just before the example's policy
 *   ```yaml                   the whole policy, written to the file the commands name with --policy
 *   ```codeowners             (optional) written to the file the commands name with --codeowners
 *   ```console                one or more commands, each `$ mercurial-jit explain …` (a line ending
 *                             in ` \` goes on on the next), followed by exactly what it prints
 *
 * The three blocks follow one another with nothing between them. Blank lines before the next `$` are
 * not part of the output. Each command runs in an empty directory holding only the example's files;
 * it must ask for `--format text`, and give `--at` when the policy has freezes or deploy windows (the
 * output depends on the time then). A console block of `mercurial-jit explain` output without the
 * marker is an error, so that no example shown goes unchecked.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { main } from '../../app/cli/main.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MARKER = /^<!--\s*explain\s*-->$/;
const PROMPT = '$ ';

interface Node {
  type: string;
  lang?: string | null;
  value?: string;
  depth?: number;
  children?: Node[];
  position?: { start: { line: number } };
}

interface ExplainCommand {
  /** `docs/POLICY.md:215`: the line of the command's `$`. */
  where: string;
  /** The words after `$`, quotes removed. */
  argv: string[];
  /** What the document says it prints. */
  expected: string;
}

interface ExplainExample {
  where: string;
  /** The heading the example sits under. */
  heading: string;
  policy: string;
  codeowners: string | null;
  commands: ExplainCommand[];
}

const lineOf = (node: Node | undefined): number => node?.position?.start.line ?? 0;
const textOf = (node: Node): string => (node.value ?? '') + (node.children ?? []).map(textOf).join('');
const isExplainOutput = (node: Node): boolean => node.type === 'code' && (node.value ?? '').startsWith(`${PROMPT}mercurial-jit explain`);

/** The marked examples of one Markdown document, and what is wrong with the ones that are malformed. */
function explainExamples(file: string, markdown: string): { examples: ExplainExample[]; problems: string[] } {
  const examples: ExplainExample[] = [];
  const problems: string[] = [];
  const checked = new Set<Node>();
  let heading = '';
  const walk = (node: Node) => {
    const children = node.children ?? [];
    children.forEach((child, i) => {
      if (child.type === 'heading') heading = textOf(child);
      if (child.type === 'html' && MARKER.test((child.value ?? '').trim())) {
        const at = `${file}:${lineOf(child)}`;
        const [policy, second, third] = children.slice(i + 1, i + 4);
        const codeowners = second?.type === 'code' && second.lang === 'codeowners' ? second : undefined;
        const output = codeowners ? third : second;
        if (policy?.type !== 'code' || policy.lang !== 'yaml') {
          problems.push(`${at}: <!-- explain --> must be followed by a \`\`\`yaml block holding the policy`);
        } else if (output?.type !== 'code' || output.lang !== 'console') {
          problems.push(`${at}: the example's policy${codeowners ? ' and CODEOWNERS' : ''} must be followed by a \`\`\`console block of commands and their output`);
        } else {
          checked.add(output);
          const example = { where: at, heading, policy: policy.value ?? '', codeowners: codeowners?.value ?? null, commands: commandsOf(file, output, problems) };
          problems.push(...exampleProblems(example));
          examples.push(example);
        }
      }
      walk(child);
    });
  };
  const tree = fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }) as Node;
  walk(tree);
  const unchecked = (node: Node): Node[] => [...(isExplainOutput(node) && !checked.has(node) ? [node] : []), ...(node.children ?? []).flatMap(unchecked)];
  for (const node of unchecked(tree)) problems.push(`${file}:${lineOf(node)}: explain output without <!-- explain --> before its policy would go unchecked`);
  return { examples, problems };
}

/** The `$` commands of a console block, each with the lines up to the next `$` as its output. */
function commandsOf(file: string, block: Node, problems: string[]): ExplainCommand[] {
  // The block's text starts on the line after its fence.
  const first = lineOf(block) + 1;
  const lines = (block.value ?? '').split('\n');
  const commands: ExplainCommand[] = [];
  if (!lines[0]?.startsWith(PROMPT)) problems.push(`${file}:${first}: a console block of an example starts with a \`${PROMPT}\` command`);
  for (let i = 0; i < lines.length; ) {
    if (!lines[i].startsWith(PROMPT)) {
      i++;
      continue;
    }
    const where = `${file}:${first + i}`;
    let command = lines[i].slice(PROMPT.length);
    while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)} ${lines[++i].trim()}`;
    const output: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith(PROMPT); i++) output.push(lines[i]);
    while (output.length > 0 && output[output.length - 1] === '') output.pop();
    try {
      commands.push({ where, argv: shellWords(command), expected: output.map((line) => `${line}\n`).join('') });
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  return commands;
}

/** What would make an example's output wrong, or depend on where and when it is run. */
function exampleProblems(example: ExplainExample): string[] {
  const problems: string[] = [];
  const windows = /^(freezes|deploy_windows):/m.test(example.policy);
  for (const { where, argv } of example.commands) {
    const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
    if (argv[0] !== 'mercurial-jit' || argv[1] !== 'explain') problems.push(`${where}: an example runs \`mercurial-jit explain\`, not \`${argv.slice(0, 2).join(' ')}\``);
    if (option('--policy') === undefined) problems.push(`${where}: give --policy FILE, the file the example's policy is written to`);
    if (option('--format') !== 'text') problems.push(`${where}: give --format text: the example shows the text output`);
    if ((option('--codeowners') !== undefined) !== (example.codeowners !== null)) problems.push(`${where}: --codeowners FILE goes with a \`\`\`codeowners block, and only with one`);
    if (windows && option('--at') === undefined) problems.push(`${where}: the policy has freezes or deploy windows: give --at so the output does not depend on when it is run`);
  }
  return problems;
}

/** Words as a POSIX shell splits them, for the little the examples need: blanks, '…' and "…". */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '"' || c === "'") {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated ${c} in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\' || c === '$' || c === '`') {
      throw new Error(`${c} is not supported in an example's command: ${line}`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const workspaces: string[] = [];
afterAll(() => {
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
});

/** Runs one command of an example as a user would, in a directory holding only the example's files. */
async function run(example: ExplainExample, command: ExplainCommand): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'jit-explain-example-'));
  workspaces.push(dir);
  const argv = command.argv.slice(1);
  const option = (name: string) => argv[argv.indexOf(name) + 1];
  writeFileSync(join(dir, option('--policy')), example.policy);
  if (example.codeowners !== null) writeFileSync(join(dir, option('--codeowners')), example.codeowners);
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: dir });
  return { code, stdout, stderr };
}

const POLICY_DOC = 'docs/POLICY.md';
const found = explainExamples(POLICY_DOC, readFileSync(join(ROOT, POLICY_DOC), 'utf8'));
const commands = found.examples.flatMap((example) => example.commands.map((command): [string, ExplainExample, ExplainCommand] => [`${command.where} ${command.argv.slice(2).join(' ')}`, example, command]));

describe(`${POLICY_DOC}: each rule's example and its explain output`, () => {
  it('are well formed, and every explain output shown is one of them', () => {
    expect(found.problems).toEqual([]);
  });

  it('cover each rule', () => {
    const where = found.examples.map((e) => [e.heading, e.commands.length]);
    expect(where).toEqual([
      ['Conditions', 2], // paths (any) and only_paths (every)
      ['Conditions', 1], // a step that states no severity
      ['Conditions', 1], // environment names ignore case
      ['What "changed files" means', 1], // an unknown change set
      ['Approvers', 2], // codeowners per group, codeowners:any
      ['Approvers', 2], // allow_self_approval
      ['Escalations', 1], // a condition escalation adds a requirement
      ['Escalations', 1], // a time escalation widens only the base requirement
    ]);
  });

  it.each(commands)('%s', async (_name, example, command) => {
    const { code, stdout, stderr } = await run(example, command);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(command.expected);
  });
});

describe('the check itself', () => {
  const doc = [
    '# Policy', //                                                        1
    '',
    '## Paths',
    '',
    '<!-- explain -->', //                                                5
    '```yaml',
    'version: 1',
    'rules:',
    '  - name: infra',
    '    if: { paths: ["infra/**"] }', //                                10
    '    require: { approvers: [codeowners] }',
    '```',
    '',
    '```codeowners',
    '/infra/ @acme/sre', //                                              15
    '```',
    '',
    '```console',
    '$ mercurial-jit explain --policy p.yml --codeowners CODEOWNERS \\',
    '    --action deploy --unknown-changes "first deploy" --format text', // 20
    'Approval required: …',
    '',
    '$ mercurial-jit explain --policy p.yml --codeowners CODEOWNERS --action deploy --files docs/a.md --format text',
    'No approval needed: …',
    '', //                                                               25
    '```',
    '',
    '<!-- explain -->',
    'Some prose in between.',
    '', //                                                               30
    '```yaml',
    'version: 1',
    '```',
    '',
    '```console', //                                                     35
    '$ mercurial-jit explain --policy p.yml --action x --format text',
    'No approval needed',
    '```',
    '',
    '<!-- explain -->', //                                               40
    '```yaml',
    'version: 1',
    'freezes: []',
    '```',
    '', //                                                               45
    '```console',
    '$ mercurial-jit explain --policy p.yml --codeowners CODEOWNERS --action x',
    'No approval needed',
    '```',
  ].join('\n');
  const { examples, problems } = explainExamples('DOC.md', doc);

  it('reads the policy, CODEOWNERS, continued lines, quoted words and each output', () => {
    expect(examples).toHaveLength(2);
    expect(examples[0]).toMatchObject({ where: 'DOC.md:5', heading: 'Paths', codeowners: '/infra/ @acme/sre' });
    expect(examples[0].policy).toContain('- name: infra');
    expect(examples[0].commands).toEqual([
      {
        where: 'DOC.md:19',
        argv: ['mercurial-jit', 'explain', '--policy', 'p.yml', '--codeowners', 'CODEOWNERS', '--action', 'deploy', '--unknown-changes', 'first deploy', '--format', 'text'],
        expected: 'Approval required: …\n',
      },
      expect.objectContaining({ where: 'DOC.md:23', expected: 'No approval needed: …\n' }),
    ]);
  });

  it('names the place of a malformed example and of output nothing checks', () => {
    expect(problems).toEqual([
      'DOC.md:28: <!-- explain --> must be followed by a ```yaml block holding the policy',
      'DOC.md:47: give --format text: the example shows the text output',
      'DOC.md:47: --codeowners FILE goes with a ```codeowners block, and only with one',
      'DOC.md:47: the policy has freezes or deploy windows: give --at so the output does not depend on when it is run',
      'DOC.md:35: explain output without <!-- explain --> before its policy would go unchecked',
    ]);
  });

  it('splits words as a shell does, and refuses what it does not handle', () => {
    expect(shellWords(`a  "b c"'d' e`)).toEqual(['a', 'b cd', 'e']);
    expect(() => shellWords('a "b')).toThrow('unterminated "');
    expect(() => shellWords('a $HOME')).toThrow('$ is not supported');
  });

  it('fails an example whose output differs from what the CLI prints', async () => {
    const policy = 'version: 1\nrules:\n  - name: docs-only\n    if: { only_paths: ["docs/**"] }\n    auto_approve: true\n';
    const said = (output: string) => explainExamples('DOC.md', `<!-- explain -->\n\`\`\`yaml\n${policy}\`\`\`\n\n\`\`\`console\n$ mercurial-jit explain --policy p.yml --action deploy --files docs/a.md --format text\n${output}\`\`\`\n`);
    const right = said(
      'No approval needed: `docs-only` auto-approves\n\nRules:\n  ✓ docs-only — auto-approves (p.yml:3:5)\n      ✓ the 1 changed file matches `docs/**`\n\nTimeout: 1h\nApprovers need write permission; bots may not approve\n',
    ).examples[0];
    expect((await run(right, right.commands[0])).stdout).toBe(right.commands[0].expected);
    const wrong = said('No approval needed: `docs-only` auto-approves\n').examples[0];
    expect((await run(wrong, wrong.commands[0])).stdout).not.toBe(wrong.commands[0].expected);
  });
});
