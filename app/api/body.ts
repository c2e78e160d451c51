/**
 * Request bodies, read with a limit. A body whose declared length is over the limit is refused
 * before a byte of it is read; a body without one (chunked) is read only until it passes the limit.
 * Either way the 413 closes the connection (see `sendError`), so the rest is never read.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';

/** GitHub does not deliver webhook payloads over 25 MB ("Webhook events and payloads", GitHub Docs). */
export const WEBHOOK_BODY_LIMIT_BYTES = 25 * 1024 * 1024;
/** The Action's bodies are well under a kilobyte; a summary is at most 4000 characters. */
export const API_BODY_LIMIT_BYTES = 64 * 1024;

function tooLarge(limitBytes: number): HttpError {
  return new HttpError(413, 'body_too_large', `the body is larger than ${limitBytes} bytes`);
}

/** Throws 413 when the request declares a body over the limit (nothing is read). */
export function refuseDeclaredOverLimit(req: IncomingMessage, limitBytes: number): void {
  const declared = req.headers['content-length'];
  // Node has already refused a malformed or repeated content-length with 400.
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
}

/** The whole body; 413 as soon as it passes `limitBytes`, leaving the stream paused so no more is read. */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  refuseDeclaredOverLimit(req, limitBytes);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (settle: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', incomplete).off('close', incomplete);
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) chunks.push(chunk);
      else {
        req.pause();
        stop(() => reject(tooLarge(limitBytes)));
      }
    };
    const onEnd = () => stop(() => resolve(Buffer.concat(chunks, size)));
    // The client went away mid-body (an 'error' or a 'close' before 'end').
    const incomplete = () => stop(() => reject(new HttpError(400, 'incomplete_body', 'the connection ended before the whole body arrived')));
    req.on('data', onData).on('end', onEnd).on('error', incomplete).on('close', incomplete);
  });
}

/** The body as JSON (an empty body is `{}`); only `application/json` is accepted. */
export async function readJson(req: IncomingMessage, limitBytes = API_BODY_LIMIT_BYTES): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  const text = (await readBody(req, limitBytes)).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(err as Error).message}`);
  }
}
