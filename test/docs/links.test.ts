/**
 * Every relative link in the README and the other Markdown documents leads somewhere: its file or
 * folder exists, and a `#anchor` names a heading (as GitHub makes its id) or an `<a id>` of the
 * target document. Links to other sites are not fetched.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';

const ROOT = resolve(import.meta.dirname, '../..');
const SKIP = new Set(['node_modules', 'build', 'dist', 'coverage', '.git', '.data', '.scratch']);

interface Node {
  type: string;
  url?: string;
  value?: string;
  depth?: number;
  children?: Node[];
  position?: { start: { line: number } };
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

const parse = (markdown: string) => fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }) as Node;

function text(node: Node): string {
  return node.value ?? (node.children ?? []).map(text).join('');
}

/** GitHub's heading ids: lower case, punctuation dropped, spaces as `-`, repeats numbered `-1`, `-2`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const walk = (node: Node) => {
    if (node.type === 'heading') {
      const slug = text(node).toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      anchors.add(n === 0 ? slug : `${slug}-${n}`);
    }
    if (node.type === 'html') for (const [, id] of (node.value ?? '').matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id!);
    node.children?.forEach(walk);
  };
  walk(parse(markdown));
  return anchors;
}

const anchorCache = new Map<string, Set<string>>();

/** The anchors of a document, each file parsed once (`markdown` stands in for the file's text). */
function anchorsIn(file: string, markdown?: string): Set<string> {
  const key = markdown === undefined ? file : `${file}\0${markdown}`;
  let anchors = anchorCache.get(key);
  if (!anchors) anchorCache.set(key, (anchors = anchorsOf(markdown ?? readFileSync(file, 'utf8'))));
  return anchors;
}

/** `FILE:LINE: URL: why` for each relative link of `file` (its text `markdown`) that leads nowhere. */
export function brokenLinks(file: string, markdown: string): string[] {
  const broken: string[] = [];
  const walk = (node: Node) => {
    if ((node.type === 'link' || node.type === 'image' || node.type === 'definition') && node.url && !/^[a-z][a-z0-9+.-]*:/i.test(node.url)) {
      const where = `${relative(ROOT, file)}:${node.position?.start.line ?? 0}: ${node.url}`;
      const [path = '', anchor] = node.url.split('#');
      const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(target)) broken.push(`${where}: no such file`);
      else if (anchor !== undefined) {
        if (statSync(target).isDirectory() || !target.endsWith('.md')) broken.push(`${where}: an anchor into a file that is not Markdown`);
        else if (!anchorsIn(target, target === file ? markdown : undefined).has(decodeURIComponent(anchor))) broken.push(`${where}: no heading with that id`);
      }
    }
    node.children?.forEach(walk);
  };
  walk(parse(markdown));
  return broken;
}

describe('links between the documents', () => {
  const files = markdownFiles(ROOT);

  it('cover the README and docs/', () => {
    const names = files.map((file) => relative(ROOT, file));
    expect(names).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/POLICY.md', 'docs/SECURITY.md']));
  });

  it.each(files.map((file) => [relative(ROOT, file), file]))('%s: every relative link and #anchor exists', (_, file) => {
    expect(brokenLinks(file, readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('a missing file, a missing anchor and a link into a folder with an anchor are reported, with their line', () => {
    const file = join(ROOT, 'README.md');
    const markdown = ['# Set up for real', '', 'See [policy](docs/POLICY.md), [gone](docs/NOPE.md),', '[here](#set-up-for-real), [there](#set-up), [cli](docs/SECURITY.md#no-such-heading)', '[dir](docs/examples/#x) and [site](https://example.com/x.md#y).', ''].join('\n');
    expect(brokenLinks(file, markdown)).toEqual([
      'README.md:3: docs/NOPE.md: no such file',
      'README.md:4: #set-up: no heading with that id',
      'README.md:4: docs/SECURITY.md#no-such-heading: no heading with that id',
      'README.md:5: docs/examples/#x: an anchor into a file that is not Markdown',
    ]);
  });

  it('heading ids are made as GitHub makes them', () => {
    expect([...anchorsOf('# `mercurial-jit validate [FILE]`\n## What the gate does not protect\n## Q&A: 1.x\n## Q&A: 1.x\n<a id="custom"></a>\n')]).toEqual([
      'mercurial-jit-validate-file',
      'what-the-gate-does-not-protect',
      'qa-1x',
      'qa-1x-1',
      'custom',
    ]);
  });
});
