/** What GitHub makes of a Markdown text, parsed as GitHub does: CommonMark with GitHub's extensions. */
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';

interface Node {
  type: string;
  value?: string;
  url?: string;
  children?: Node[];
}

export interface Rendered {
  /** Text outside code, where GitHub finds @-mentions, issue references and emoji. */
  prose: string;
  /** Text inside code spans and code blocks, which GitHub shows literally. */
  code: string;
  /** The text of each heading. */
  headings: string[];
  images: string[];
  links: string[];
  /** Raw HTML: comments and tags. */
  html: string[];
}

export function rendered(markdown: string): Rendered {
  const nodes: Node[] = [];
  const walk = (node: Node) => {
    nodes.push(node);
    node.children?.forEach(walk);
  };
  walk(fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }) as Node);
  const text = (node: Node): string => node.value ?? node.children?.map(text).join('') ?? '';
  const values = (...types: string[]) => nodes.filter((node) => types.includes(node.type)).map((node) => node.value ?? '');
  return {
    prose: values('text').join('\n'),
    code: values('inlineCode', 'code').join('\n'),
    headings: nodes.filter((node) => node.type === 'heading').map(text),
    images: nodes.filter((node) => node.type === 'image' || node.type === 'imageReference').map((node) => node.url ?? ''),
    links: nodes.filter((node) => node.type === 'link' || node.type === 'linkReference').map((node) => node.url ?? ''),
    html: values('html'),
  };
}
