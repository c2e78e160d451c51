import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { ProbotOctokit } from 'probot';
import { ResponseCache, useConditionalRequests } from '../../app/github/conditional-requests.js';

const response = (data: string) => ({ status: 200, url: 'u', headers: {}, data }) as unknown as Parameters<ResponseCache['set']>[2];

describe('ResponseCache', () => {
  it('evicts the least recently used entries beyond its size in bytes', () => {
    const one = new ResponseCache();
    one.set('a', 'W/"1"', response('A'));
    // Room for two entries of this size, not three.
    const cache = new ResponseCache(2 * one.bytes + 1);
    cache.set('a', 'W/"1"', response('A'));
    cache.set('b', 'W/"2"', response('B'));
    expect(cache.get('a')?.etag).toBe('W/"1"'); // now b is the least recently used
    cache.set('c', 'W/"3"', response('C'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.response.data).toBe('A');
    expect(cache.get('c')?.response.data).toBe('C');
    expect(cache.size).toBe(2);
  });

  it('keeps no answer larger than itself, and hands every caller a copy of its own', () => {
    const cache = new ResponseCache(1000);
    cache.set('big', 'W/"1"', response('x'.repeat(1000)));
    expect(cache.get('big')).toBeUndefined();
    expect(cache.bytes).toBe(0);
    cache.set('list', 'W/"2"', { status: 200, url: 'u', headers: {}, data: { items: [1] } } as unknown as Parameters<ResponseCache['set']>[2]);
    (cache.get('list')!.response.data as { items: number[] }).items.push(2);
    expect(cache.get('list')!.response.data).toEqual({ items: [1] });
  });

  it('replaces an entry when the resource changed', () => {
    const cache = new ResponseCache();
    cache.set('a', 'W/"1"', response('old'));
    cache.set('a', 'W/"2"', response('new'));
    expect(cache.get('a')).toMatchObject({ etag: 'W/"2"', response: { data: 'new' } });
  });
});

describe('useConditionalRequests', () => {
  it('answers a 304 with the list GitHub sent, though paginate reshaped the first answer in place', async () => {
    const body = JSON.stringify({ total_count: 2, repository_selection: 'all', repositories: [{ id: 1, name: 'web' }, { id: 2, name: 'gated' }] });
    let notModified = 0;
    const server = createServer((req, res) => {
      if (req.headers['if-none-match'] === 'W/"1"') {
        notModified += 1;
        res.writeHead(304, { etag: 'W/"1"' }).end();
      } else res.writeHead(200, { etag: 'W/"1"', 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const octokit = new ProbotOctokit({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, throttle: { enabled: false }, retry: { enabled: false } });
      useConditionalRequests(octokit, new ResponseCache(), 1);
      const names = async () => (await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 })).map((r) => r.name);
      expect(await names()).toEqual(['web', 'gated']);
      expect(await names()).toEqual(['web', 'gated']);
      expect(await names()).toEqual(['web', 'gated']);
      expect(notModified).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
