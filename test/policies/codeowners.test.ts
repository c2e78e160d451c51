import { describe, expect, test } from '@jest/globals';
import {
  CODEOWNERS_LOCATIONS,
  CODEOWNERS_MAX_BYTES,
  chooseCodeownersPath,
  parseCodeowners,
  type CodeownersError,
} from '../../policies/codeowners.js';

/** Owners of each path, for a CODEOWNERS text with no errors. */
function ownersOf(text: string, paths: string[]): Record<string, readonly string[]> {
  const codeowners = parseCodeowners(text);
  expect(codeowners.errors).toEqual([]);
  return Object.fromEntries(paths.map((path) => [path, codeowners.ownersOf(path).owners]));
}

/** The example file from GitHub's "About code owners", as published. */
const GITHUB_EXAMPLE = `# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
# @global-owner1 and @global-owner2 will be requested for
# review when someone opens a pull request.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most
# precedence. When someone opens a pull request that only
# modifies JS files, only @js-owner and not the global
# owner(s) will be requested for a review.
*.js    @js-owner #This is an inline comment.

# You can also use email addresses if you prefer. They'll be
# used to look up users just like we do for commit author
# emails.
*.go docs@example.com

# Teams can be specified as code owners as well. Teams should
# be identified in the format @org/team-name. Teams must have
# explicit write access to the repository. In this example,
# the octocats team in the octo-org organization owns all .txt files.
*.txt @octo-org/octocats

# In this example, @doctocat owns any files in the build/logs
# directory at the root of the repository and any of its
# subdirectories.
/build/logs/ @doctocat

# The \`docs/*\` pattern will match files like
# \`docs/getting-started.md\` but not further nested files like
# \`docs/build-app/troubleshooting.md\`.
docs/* docs@example.com

# In this example, @octocat owns any file in an apps directory
# anywhere in your repository.
apps/ @octocat

# In this example, @doctocat owns any file in the \`/docs\`
# directory in the root of your repository and any of its
# subdirectories.
/docs/ @doctocat

# In this example, any change inside the \`/scripts\` directory
# will require approval from @doctocat or @octocat.
/scripts/ @doctocat @octocat

# In this example, @octocat owns any file in a \`/logs\` directory such as
# \`/build/logs\`, \`/scripts/logs\`, and \`/deeply/nested/logs\`. Any changes
# in a \`/logs\` directory will require approval from @octocat.
**/logs @octocat

# In this example, @octocat owns any file in the \`/apps\`
# directory in the root of your repository except for the \`/apps/github\`
# subdirectory, as its owners are left empty.
/apps/ @octocat
/apps/github
`;

describe("GitHub's documented example file", () => {
  const codeowners = parseCodeowners(GITHUB_EXAMPLE, '.github/CODEOWNERS');

  test('parses without errors into its 12 rules', () => {
    expect(codeowners.errors).toEqual([]);
    expect(codeowners.rules.map((r) => r.pattern)).toEqual([
      '*', '*.js', '*.go', '*.txt', '/build/logs/', 'docs/*', 'apps/', '/docs/', '/scripts/', '**/logs', '/apps/', '/apps/github',
    ]);
    expect(codeowners.rules[1]).toEqual({ line: 14, pattern: '*.js', owners: ['@js-owner'] });
  });

  test.each([
    ['README.md', ['@global-owner1', '@global-owner2'], '*'],
    ['src/deep/index.js', ['@js-owner'], '*.js'],
    ['cmd/main.go', ['docs@example.com'], '*.go'],
    ['notes/todo.txt', ['@octo-org/octocats'], '*.txt'],
    // "/build/logs/" owns it, but the later "**/logs" matches too and wins.
    ['build/logs/today.log', ['@octocat'], '**/logs'],
    ['build/other/today.log', ['@global-owner1', '@global-owner2'], '*'],
    ['scripts/logs/run.log', ['@octocat'], '**/logs'],
    ['deeply/nested/logs/a/b.log', ['@octocat'], '**/logs'],
    // "docs/*" matches docs/getting-started.md, but the later "/docs/" owns everything under docs/.
    ['docs/getting-started.md', ['@doctocat'], '/docs/'],
    ['docs/build-app/troubleshooting.md', ['@doctocat'], '/docs/'],
    ['web/apps/index.html', ['@octocat'], 'apps/'],
    ['web/apps/ui/button.js', ['@octocat'], 'apps/'],
    ['scripts/deploy.js', ['@doctocat', '@octocat'], '/scripts/'],
    ['apps/website/index.html', ['@octocat'], '/apps/'],
    ['apps/github/app.rb', [], '/apps/github'],
    ['apps/github/deep/app.js', [], '/apps/github'],
    ['apps/githubber/app.rb', ['@octocat'], '/apps/'],
  ])('%s is owned by %j through "%s"', (path, owners, pattern) => {
    const match = codeowners.ownersOf(path);
    expect(match.owners).toEqual(owners);
    expect(match.rule?.pattern).toBe(pattern);
  });

  test('the variant where /apps/github has its own owner', () => {
    expect(ownersOf('/apps/ @octocat\n/apps/github @doctocat\n', ['apps/github/x.rb', 'apps/web/x.rb'])).toEqual({
      'apps/github/x.rb': ['@doctocat'],
      'apps/web/x.rb': ['@octocat'],
    });
  });
});

describe('pattern semantics', () => {
  // [pattern, path, matches]
  const cases: Array<[string, string, boolean]> = [
    // No slash: any depth, the file itself or a directory of that name.
    ['README.md', 'README.md', true],
    ['README.md', 'a/b/README.md', true],
    ['README.md', 'a/README.md/inside.txt', true],
    ['README.md', 'README.mdx', false],
    ['logs', 'logs', true],
    ['logs', 'a/logs/x', true],
    ['logs', 'a/mylogs/x', false],
    // Leading slash anchors at the root.
    ['/README.md', 'README.md', true],
    ['/README.md', 'a/README.md', false],
    ['/src', 'src/x/y.ts', true],
    ['/src', 'lib/src/y.ts', false],
    // A slash in the middle anchors too.
    ['src/lib', 'src/lib/a.ts', true],
    ['src/lib', 'x/src/lib/a.ts', false],
    ['src/lib', 'src/library/a.ts', false],
    // Trailing slash: everything inside the directory, at any depth, never a file of that name.
    ['build/', 'build/a', true],
    ['build/', 'x/build/a/b', true],
    ['build/', 'build', false],
    ['/build/', 'x/build/a', false],
    ['src/build/', 'src/build/out/a.js', true],
    // "*" stays within a segment; a final "/*" is one level only.
    ['*.js', 'a.js', true],
    ['*.js', 'src/a/b.js', true],
    ['*.js', 'a.jsx', false],
    ['*.js', '.js', true],
    ['docs/*', 'docs/a.md', true],
    ['docs/*', 'docs/sub/a.md', false],
    ['docs/*', 'x/docs/a.md', false],
    ['/docs/*.md', 'docs/a.md', true],
    ['/docs/*.md', 'docs/a/b.md', false],
    ['/src/*/test/', 'src/pkg/test/a.ts', true],
    ['/src/*/test/', 'src/a/b/test/a.ts', false],
    ['*', 'anything/at/all', true],
    // "?" is one character other than "/".
    ['/file?.txt', 'file1.txt', true],
    ['/file?.txt', 'file12.txt', false],
    ['/a?b', 'a/b', false],
    ['/caf?', 'café', true],
    // "**": any directories.
    ['**/logs', 'logs/x', true],
    ['**/logs', 'a/b/logs/x', true],
    ['/a/**/b', 'a/b', true],
    ['/a/**/b', 'a/x/y/b/c', true],
    ['/a/**/b', 'a/xb', false],
    ['/a/**', 'a/x/y', true],
    ['/a/**', 'a', false],
    ['**', 'x/y', true],
    ['foo**bar', 'fooXbar', true],
    ['foo**bar', 'foo/bar', false],
    // Case-sensitive.
    ['/Docs/', 'docs/a.md', false],
    ['*.MD', 'README.md', false],
    // Dotfiles are ordinary files.
    ['*', '.github/workflows/ci.yml', true],
    ['/.github/', '.github/workflows/ci.yml', true],
    // Characters that mean something in a regular expression are literal.
    ['/a+b(c)/', 'a+b(c)/x', true],
    ['/a+b(c)/', 'aab(c)/x', false],
    ['/{a,b}', '{a,b}', true],
    ['/{a,b}', 'a', false],
    ['/$x.^', '$x.^', true],
    // Backslash escapes.
    ['my\\ file.txt', 'dir/my file.txt', true],
    ['\\*.txt', '*.txt', true],
    ['\\*.txt', 'a.txt', false],
    ['/a\\?', 'a?', true],
    ['/a\\?', 'ab', false],
    ['\\[x\\]', '[x]', true],
  ];

  test.each(cases)('%s matches %s: %p', (pattern, path, matches) => {
    const codeowners = parseCodeowners(`${pattern} @owner\n`);
    expect(codeowners.errors).toEqual([]);
    expect(codeowners.ownersOf(path).owners).toEqual(matches ? ['@owner'] : []);
  });

  test('the last matching pattern wins, whatever its specificity', () => {
    const text = '/src/app/ @app-team\n*.ts @ts-team\n/src/ @src-team\n';
    expect(ownersOf(text, ['src/app/a.ts', 'src/app/a.css', 'lib/a.ts'])).toEqual({
      'src/app/a.ts': ['@src-team'],
      'src/app/a.css': ['@src-team'],
      'lib/a.ts': ['@ts-team'],
    });
  });

  test('a pattern with no owners un-owns, and an earlier rule does not come back', () => {
    const codeowners = parseCodeowners('* @all\n/vendor/\n/vendor/keep/ @keep\n');
    expect(codeowners.ownersOf('vendor/lib/a.js')).toEqual({ owners: [], rule: { line: 2, pattern: '/vendor/', owners: [] } });
    expect(codeowners.ownersOf('vendor/keep/a.js').owners).toEqual(['@keep']);
    expect(codeowners.ownersOf('src/a.js').owners).toEqual(['@all']);
  });

  test('a repeated pattern: its last occurrence decides, wherever other rules fall between', () => {
    const text = '*.js @first\n/src/ @src\n*.js @again\n/lib/ @lib\n';
    expect(ownersOf(text, ['src/a.js', 'lib/a.js', 'a.js', 'src/a.css'])).toEqual({
      'src/a.js': ['@again'],
      'lib/a.js': ['@lib'],
      'a.js': ['@again'],
      'src/a.css': ['@src'],
    });
    expect(parseCodeowners(text).ownersOf('a.js').rule).toEqual({ line: 3, pattern: '*.js', owners: ['@again'] });
  });

  test('a repeated un-owning pattern still un-owns', () => {
    expect(ownersOf('/gen/\n* @all\n/gen/\n', ['gen/a.ts', 'a.ts'])).toEqual({ 'gen/a.ts': [], 'a.ts': ['@all'] });
  });

  test.each([
    ['fleet.ts', true],
    ['a/my-fleet-x.ts', true],
    ['a/fleet/x.ts', false],
    ['fleet.ts/inner.js', true],
    ['a/fleet.tsx', false],
    ['x.ts', false],
  ])('every literal piece of "*fleet*.ts" must be in %s to match: %p', (path, matches) => {
    expect(parseCodeowners('*fleet*.ts @fleet\n').ownersOf(path).owners).toEqual(matches ? ['@fleet'] : []);
  });

  test('a lookup answers the same each time', () => {
    const codeowners = parseCodeowners('* @all\n/src/ @src\n');
    expect(codeowners.ownersOf('src/a.ts')).toEqual({ owners: ['@src'], rule: { line: 2, pattern: '/src/', owners: ['@src'] } });
    expect(codeowners.ownersOf('src/b.ts')).toEqual(codeowners.ownersOf('src/a.ts'));
    expect(codeowners.ownersOf('a.ts').owners).toEqual(['@all']);
  });

  test('nothing matches: no owners and no rule', () => {
    expect(parseCodeowners('/docs/ @d\n').ownersOf('src/a.ts')).toEqual({ owners: [], rule: null });
    expect(parseCodeowners('').ownersOf('a')).toEqual({ owners: [], rule: null });
  });
});

describe('line syntax', () => {
  test('comments, blank lines, inline comments, tabs, CRLF and a BOM', () => {
    const text = '\uFEFF# header\r\n\r\n   # indented comment\r\n*.js\t@a  @org/b\tme@example.com # trailing\r\n*.md @c #no space needed after the hash\r\n';
    const codeowners = parseCodeowners(text);
    expect(codeowners.errors).toEqual([]);
    expect(codeowners.rules).toEqual([
      { line: 4, pattern: '*.js', owners: ['@a', '@org/b', 'me@example.com'] },
      { line: 5, pattern: '*.md', owners: ['@c'] },
    ]);
  });

  test('a "#" inside a word is not a comment', () => {
    const codeowners = parseCodeowners('/c#/ @sharp\n');
    expect(codeowners.errors).toEqual([]);
    expect(codeowners.ownersOf('c#/Program.cs').owners).toEqual(['@sharp']);
  });

  test('owners are kept in the order written', () => {
    expect(parseCodeowners('* @z @a @m\n').ownersOf('x').owners).toEqual(['@z', '@a', '@m']);
  });

  test.each(['@octocat', '@octo-cat', '@user_emu', '@octo-org/octocats', '@org/team.name', '@org/team_name', 'docs@example.com', 'first.last+tag@sub.example.co.uk'])(
    'accepts the owner %s',
    (owner) => {
      const codeowners = parseCodeowners(`* ${owner}\n`);
      expect(codeowners.errors).toEqual([]);
      expect(codeowners.ownersOf('a').owners).toEqual([owner]);
    },
  );
});

describe('errors', () => {
  /** The one error of a one-line file, and proof that the line was skipped. */
  function onlyError(line: string): CodeownersError {
    const codeowners = parseCodeowners(`* @fallback\n${line}\n`, '.github/CODEOWNERS');
    expect(codeowners.rules).toEqual([{ line: 1, pattern: '*', owners: ['@fallback'] }]);
    expect(codeowners.errors).toHaveLength(1);
    return codeowners.errors[0];
  }

  // [line, kind, column]
  test.each([
    ['!/src/ @a', 'Invalid pattern', 1],
    ['/src/[ab]/ @a', 'Invalid pattern', 6],
    ['/src/x]/ @a', 'Invalid pattern', 7],
    ['  /a/***/b @a', 'Invalid pattern', 6],
    ['/ @a', 'Invalid pattern', 1],
    ['/a//b @a', 'Invalid pattern', 3],
    ['/a\\', 'Invalid pattern', 3],
    ['* user', 'Invalid owner', 3],
    ['*.js @ok @bad!name', 'Invalid owner', 10],
    ['*.js @org/ @ok', 'Invalid owner', 6],
    ['*.js @/team', 'Invalid owner', 6],
    ['*.js not-an-email@', 'Invalid owner', 6],
    ['*.js\t\t@a @-leading-hyphen', 'Invalid owner', 10],
  ] as const)('%j: %s at column %i', (line, kind, column) => {
    const error = onlyError(line);
    expect(error).toMatchObject({ line: 2, column, kind, source: line, path: '.github/CODEOWNERS' });
    // GitHub's message layout: what, where, then the line with a caret under the column.
    const [first, blank, quoted, caret] = error.message.split('\n');
    expect(first).toMatch(new RegExp(`^${kind} on line 2: .+`));
    expect(blank).toBe('');
    expect(quoted).toBe(`  ${line}`);
    expect(caret).toBe(`  ${' '.repeat(column - 1)}^`);
  });

  test('suggestions for the common mistakes', () => {
    expect(onlyError('* user').suggestion).toBe('Did you mean `@user`?');
    expect(onlyError('/ @a').suggestion).toBe('The pattern `/` will never match anything, did you mean `*` instead?');
    expect(onlyError('!x @a').suggestion).toMatch(/no owners/);
    expect(onlyError('*.js @bad!name').suggestion).toBeNull();
  });

  test('every bad owner on a line is reported, and the whole line is skipped', () => {
    const codeowners = parseCodeowners('* @all\n/src/ @good bad @also!bad\n');
    expect(codeowners.errors.map((e) => [e.line, e.column, e.kind])).toEqual([
      [2, 13, 'Invalid owner'],
      [2, 17, 'Invalid owner'],
    ]);
    // Not "owned by @good only": the line does not exist.
    expect(codeowners.ownersOf('src/a.ts').owners).toEqual(['@all']);
  });

  test('a bad line changes nothing about the lines around it', () => {
    const good = '* @all\n/src/ @src\n*.md @docs\n';
    const withBadLines = '* @all\n!/src/docs/ @nobody\n/src/ @src\n/src/[abc]/\n*.md @docs\n*.ts user\n';
    const paths = ['src/a.ts', 'src/docs/a.md', 'src/docs/x.ts', 'src/a/x.ts', 'README.md', 'lib/x.ts'];
    const reference = parseCodeowners(good);
    const parsed = parseCodeowners(withBadLines);
    expect(parsed.errors.map((e) => e.line)).toEqual([2, 4, 6]);
    for (const path of paths) expect(parsed.ownersOf(path).owners).toEqual(reference.ownersOf(path).owners);
  });

  test('a pattern escaping its leading "#" owns nothing: GitHub does not support that escape', () => {
    // GitHub's docs list "escaping a pattern starting with # using \" among the gitignore rules that do
    // not work in CODEOWNERS. Honouring it would let a file named "#deploy.sh" go to the owners of that
    // line rather than to the @security GitHub asks.
    const codeowners = parseCodeowners('* @acme/security\n\\#* @acme/docs\n');
    expect(codeowners.ownersOf('#deploy.sh').owners).toEqual(['@acme/security']);
    expect(codeowners.errors).toMatchObject([{ line: 2, column: 1, kind: 'Invalid pattern' }]);
    expect(codeowners.errors[0].suggestion).toMatch(/\/#/);
    // A "#" elsewhere in a pattern is an ordinary character, escaped or not.
    expect(parseCodeowners('/docs/\\#a @x\n/#b @y\nc#d @z\n').errors).toEqual([]);
    expect(parseCodeowners('/#b @y\n').ownersOf('#b').owners).toEqual(['@y']);
  });

  test('the path defaults to CODEOWNERS', () => {
    expect(parseCodeowners('* x\n').errors[0].path).toBe('CODEOWNERS');
  });
});

describe('3 MB limit', () => {
  const ruleLine = '/some/rather/long/directory/name/for/padding/ @owner\n';

  test('a file just under the limit is loaded', () => {
    const text = `* @all\n${ruleLine.repeat(Math.floor((CODEOWNERS_MAX_BYTES - 8) / ruleLine.length))}`;
    expect(text.length).toBeLessThan(CODEOWNERS_MAX_BYTES);
    const codeowners = parseCodeowners(text);
    expect(codeowners.errors).toEqual([]);
    expect(codeowners.ownersOf('some/rather/long/directory/name/for/padding/x').owners).toEqual(['@owner']);
  });

  test('a file of 3 MB or more is not loaded at all: nothing is owned, and one error says why', () => {
    const text = `* @all\n${ruleLine.repeat(Math.ceil(CODEOWNERS_MAX_BYTES / ruleLine.length))}`;
    const codeowners = parseCodeowners(text, '.github/CODEOWNERS');
    expect(codeowners.rules).toEqual([]);
    expect(codeowners.ownersOf('README.md')).toEqual({ owners: [], rule: null });
    expect(codeowners.errors).toEqual([
      expect.objectContaining({ line: 1, column: 1, kind: 'File too large', source: '* @all', path: '.github/CODEOWNERS' }),
    ]);
    expect(codeowners.errors[0].message).toContain(`${text.length} bytes`);
  });

  test.each([
    [CODEOWNERS_MAX_BYTES - 1, true],
    [CODEOWNERS_MAX_BYTES, false],
  ])('the boundary: "must be under 3 MB" (%i bytes loaded: %p)', (bytes, loaded) => {
    const head = '* @all\n#';
    const text = head + 'x'.repeat(bytes - head.length);
    expect(text.length).toBe(bytes);
    expect(parseCodeowners(text).ownersOf('a').owners).toEqual(loaded ? ['@all'] : []);
  });

  test('the size is counted in UTF-8 bytes, not characters', () => {
    // "é" is two bytes: this text has fewer characters than the limit but more bytes.
    const line = '/é/ @owner\n';
    const text = line.repeat(Math.ceil(CODEOWNERS_MAX_BYTES / (line.length + 1)));
    expect(text.length).toBeLessThan(CODEOWNERS_MAX_BYTES);
    expect(parseCodeowners(text).errors.map((e) => e.kind)).toEqual(['File too large']);
  });
});

describe('file locations', () => {
  test('GitHub looks in .github/, then the root, then docs/', () => {
    expect(CODEOWNERS_LOCATIONS).toEqual(['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS']);
  });

  test.each([
    [['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'], '.github/CODEOWNERS'],
    [['CODEOWNERS', 'docs/CODEOWNERS'], 'CODEOWNERS'],
    [['docs/CODEOWNERS', '.github/CODEOWNERS'], '.github/CODEOWNERS'],
    [['docs/CODEOWNERS'], 'docs/CODEOWNERS'],
    [['.github/codeowners', 'Codeowners', '.gitlab/CODEOWNERS'], undefined],
    [[], undefined],
  ])('with %j present, uses %s', (present, expected) => {
    const asked: string[] = [];
    const chosen = chooseCodeownersPath((path) => {
      asked.push(path);
      return present.includes(path);
    });
    expect(chosen).toBe(expected);
    // It stops at the first file it finds.
    const lookedAt = expected === undefined ? CODEOWNERS_LOCATIONS.length : CODEOWNERS_LOCATIONS.findIndex((l) => l === expected) + 1;
    expect(asked).toEqual(CODEOWNERS_LOCATIONS.slice(0, lookedAt));
  });
});
