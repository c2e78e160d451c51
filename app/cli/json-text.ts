/**
 * `JSON.stringify(value, null, 2)`, byte for byte, as UTF-8 chunks, for answers of many megabytes.
 *
 * A decision shares one owner-group array among all its requirements (policies/approvers.ts), so a
 * 500-rule policy's answer repeats the same 50 KB of JSON hundreds of times. Building that as one
 * string and then encoding it (process.stdout.write's Buffer.from) cost a one-shot `explain` about
 * 0.2 s and much of its garbage. Here an object or array met more than once is written once per
 * indentation and its bytes are reused; everything else is JSON.stringify's own output, re-indented.
 */

type Container = object;

export function jsonChunks(value: unknown): Uint8Array[] {
  const repeated = repeatedContainers(value);
  const chunks: Uint8Array[] = [];
  let pending: string[] = [];
  const flush = () => {
    if (pending.length > 0) chunks.push(Buffer.from(pending.join('')));
    pending = [];
  };
  const memo = new Map<Container, Map<string, Uint8Array>>();
  const holds = new Map<Container, boolean>();
  /** Whether a repeated container is inside (not counting `node` itself). */
  const holdsRepeated = (node: Container): boolean => {
    let known = holds.get(node);
    if (known === undefined) {
      known = childrenOf(node).some((child) => isContainer(child) && (repeated.has(child) || holdsRepeated(child)));
      holds.set(node, known);
    }
    return known;
  };

  // A value with a toJSON method (a Date) is left to JSON.stringify whole, with its key passed.
  const write = (node: unknown, key: string, indent: string): void => {
    if (!isContainer(node)) {
      pending.push(JSON.stringify(node));
      return;
    }
    if (hasToJson(node)) {
      pending.push(reindent(JSON.stringify({ [key]: node }, null, 2), key, indent));
      return;
    }
    if (repeated.has(node)) {
      let byIndent = memo.get(node);
      if (!byIndent) memo.set(node, (byIndent = new Map()));
      let bytes = byIndent.get(indent);
      if (!bytes) {
        // Written as if unshared; the first time, its own bytes are collected separately.
        const outer = pending;
        const outerChunks = chunks.length;
        pending = [];
        writeContainer(node, indent);
        flush();
        bytes = Buffer.concat(chunks.splice(outerChunks));
        pending = outer;
        byIndent.set(indent, bytes);
      }
      flush();
      chunks.push(bytes);
      return;
    }
    writeContainer(node, indent);
  };

  const writeContainer = (node: Container, indent: string): void => {
    if (!holdsRepeated(node)) {
      pending.push(indent === '' ? JSON.stringify(node, null, 2) : JSON.stringify(node, null, 2).replaceAll('\n', `\n${indent}`));
      return;
    }
    const inner = `${indent}  `;
    if (Array.isArray(node)) {
      pending.push('[');
      node.forEach((item, i) => {
        pending.push(i === 0 ? `\n${inner}` : `,\n${inner}`);
        if (isSkipped(item)) pending.push('null');
        else write(item, String(i), inner);
      });
      pending.push(`\n${indent}]`);
      return;
    }
    let first = true;
    for (const key of Object.keys(node)) {
      const item = (node as Record<string, unknown>)[key];
      if (isSkipped(item)) continue;
      pending.push(`${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `);
      first = false;
      write(item, key, inner);
    }
    pending.push(first ? '{}' : `\n${indent}}`);
  };

  if (isContainer(value) && !hasToJson(value)) write(value, '', '');
  else pending.push(JSON.stringify(value, null, 2) ?? '');
  pending.push('\n');
  flush();
  return chunks;
}

/** Objects and arrays reachable more than once (JSON has no cycles: JSON.stringify throws on them). */
function repeatedContainers(value: unknown): Set<Container> {
  const seen = new Set<Container>();
  const repeated = new Set<Container>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isContainer(node) || hasToJson(node)) continue;
    if (seen.has(node)) {
      repeated.add(node);
      continue;
    }
    seen.add(node);
    for (const child of childrenOf(node)) if (isContainer(child)) stack.push(child);
  }
  return repeated;
}

function childrenOf(node: Container): unknown[] {
  return Array.isArray(node) ? node : Object.values(node);
}

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function hasToJson(value: Container): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/** What JSON.stringify leaves out of an object, and writes as null in an array. */
function isSkipped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/** The value's text out of `{ "key": value }` (so toJSON gets its key), indented at `indent`. */
function reindent(wrapped: string, key: string, indent: string): string {
  const text = wrapped.slice(`{\n  ${JSON.stringify(key)}: `.length, -'\n}'.length);
  // Inside the wrapper the value sat at two spaces of indentation; move it to `indent`.
  return text.includes('\n') ? text.replaceAll('\n  ', `\n${indent}`) : text;
}
