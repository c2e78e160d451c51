import { describe, expect, it } from '@jest/globals';
import { ResponseCache } from '../../app/github/conditional-requests.js';

const response = (data: string) => ({ status: 200, url: 'u', headers: {}, data }) as unknown as Parameters<ResponseCache['set']>[2];

describe('ResponseCache', () => {
  it('evicts the least recently used entry beyond its capacity', () => {
    const cache = new ResponseCache(2);
    cache.set('a', 'W/"1"', response('A'));
    cache.set('b', 'W/"2"', response('B'));
    expect(cache.get('a')?.etag).toBe('W/"1"'); // now b is the least recently used
    cache.set('c', 'W/"3"', response('C'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.response.data).toBe('A');
    expect(cache.get('c')?.response.data).toBe('C');
  });

  it('replaces an entry when the resource changed', () => {
    const cache = new ResponseCache(2);
    cache.set('a', 'W/"1"', response('old'));
    cache.set('a', 'W/"2"', response('new'));
    expect(cache.get('a')).toMatchObject({ etag: 'W/"2"', response: { data: 'new' } });
  });
});
