import { describe, expect, it } from '@jest/globals';
import { FreshReads } from '../../app/github/fresh-reads.js';

/** A read whose answer the test gives when it likes. */
function controlledLoads() {
  const loads: Array<{ resolve: (value: string) => void; reject: (err: Error) => void }> = [];
  const load = () => new Promise<string>((resolve, reject) => loads.push({ resolve, reject }));
  return { loads, load };
}

describe('FreshReads', () => {
  it('shares one read among the callers that came while another was under way, and starts it only after that one', async () => {
    const reads = new FreshReads<string>();
    const { loads, load } = controlledLoads();
    const first = reads.read('acme/web', load);
    const late = [reads.read('acme/web', load), reads.read('acme/web', load), reads.read('acme/web', load)];
    expect(loads).toHaveLength(1);
    loads[0].resolve('head before the push');
    expect(await first).toBe('head before the push');
    // The callers that came during the first read never get its answer: it may predate them.
    await Promise.resolve();
    expect(loads).toHaveLength(2);
    loads[1].resolve('head after the push');
    expect(await Promise.all(late)).toEqual(['head after the push', 'head after the push', 'head after the push']);
  });

  it('reads each key on its own', async () => {
    const reads = new FreshReads<string>();
    const { loads, load } = controlledLoads();
    const web = reads.read('acme/web', load);
    const api = reads.read('acme/api', load);
    expect(loads).toHaveLength(2);
    loads[1].resolve('api head');
    loads[0].resolve('web head');
    expect([await web, await api]).toEqual(['web head', 'api head']);
  });

  it('a failed read fails the callers sharing it, and the next caller reads again', async () => {
    const reads = new FreshReads<string>();
    const { loads, load } = controlledLoads();
    const first = reads.read('acme/web', load);
    const sharing = [reads.read('acme/web', load), reads.read('acme/web', load)];
    loads[0].resolve('old head');
    await first;
    await Promise.resolve();
    loads[1].reject(new Error('GitHub answered 502'));
    for (const caller of sharing) await expect(caller).rejects.toThrow('502');
    const again = reads.read('acme/web', load);
    expect(loads).toHaveLength(3);
    loads[2].resolve('new head');
    expect(await again).toBe('new head');
  });
});
