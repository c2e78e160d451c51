/**
 * Request bodies have limits on every route that reads one: webhook deliveries at GitHub's 25 MB
 * payload cap, the request API at 64 KiB. Oversized bodies are refused from their declared length
 * before they are read, and a body without one is read only until it passes the limit.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { API_BODY_LIMIT_BYTES, WEBHOOK_BODY_LIMIT_BYTES } from '../../app/api/body.js';
import { job, World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start();
}, 120_000);
afterAll(async () => world?.stop());

/** Headers of a delivery that looks like GitHub's, with a signature that cannot verify. */
const deliveryHeaders = (): OutgoingHttpHeaders => ({
  'content-type': 'application/json',
  'x-github-event': 'issue_comment',
  'x-github-delivery': randomUUID(),
  'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends only the headers, declaring `contentLength`, and waits for the answer without sending a byte of body. */
function declareOnly(path: string, headers: OutgoingHttpHeaders, contentLength: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${world.app.url}${path}`, { method: 'POST', agent: false, headers: { ...headers, 'content-length': contentLength } });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

interface Streamed {
  /** The App's answer, when one arrived before the connection closed. */
  status?: number;
  /** Bytes handed to the connection before the App answered or closed it. */
  written: number;
}

/** Streams `totalBytes` of body without a content-length (chunked), for as long as the App keeps reading. */
function streamBody(path: string, headers: OutgoingHttpHeaders, totalBytes: number): Promise<Streamed> {
  return new Promise((resolve) => {
    const req = httpRequest(`${world.app.url}${path}`, { method: 'POST', agent: false, headers });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    let status: number | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ status, written });
    };
    req.on('response', (res) => {
      status = res.statusCode;
      res.resume().on('end', finish).on('error', finish);
    });
    req.on('error', finish).on('close', finish);
    const pump = () => {
      while (!done && status === undefined && written < totalBytes) {
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!done && written >= totalBytes) req.end();
    };
    pump();
  });
}

describe('webhook deliveries', () => {
  it.each(['/api/github/webhooks', '/api/github/webhooks/'])('declaring more than 25 MB are refused with 413 before the body is sent (%s)', async (path) => {
    const answer = await declareOnly(path, deliveryHeaders(), WEBHOOK_BODY_LIMIT_BYTES + 1);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'body_too_large' } });
  });

  it('without a declared length are read only up to 25 MB, then the connection is closed', async () => {
    const total = 64 * 1024 * 1024;
    const streamed = await streamBody('/api/github/webhooks', deliveryHeaders(), total);
    // Either the 413 arrived, or the close overtook it; never a verdict on a body read to its end.
    if (streamed.status !== undefined) expect(streamed.status).toBe(413);
    expect(streamed.written).toBeLessThan(total);
    expect((await fetch(`${world.app.url}/healthz`)).status).toBe(200);
  });
});

describe('the request API', () => {
  it('refuses a body declared over 64 KiB before it verifies any token', async () => {
    const answer = await declareOnly('/api/v1/requests', { 'content-type': 'application/json' }, API_BODY_LIMIT_BYTES + 1);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
  });

  it('stops reading a body without a declared length once it passes 64 KiB', async () => {
    const total = 16 * 1024 * 1024;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${await world.token(job())}` };
    const streamed = await streamBody('/api/v1/requests', headers, total);
    if (streamed.status !== undefined) expect(streamed.status).toBe(413);
    expect(streamed.written).toBeLessThan(total);
  });
});
