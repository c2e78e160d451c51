/**
 * Reads shared among concurrent callers, without ever handing a caller an answer older than its call:
 * a caller joins the read that starts next, never one already under way. When hundreds of requests of
 * one repository are evaluated at once, its default branch is read a few times, not once per request,
 * and each request still sees the policy as it was when it was evaluated.
 */
export class FreshReads<T> {
  readonly #reads = new Map<string, { current?: Promise<T>; next?: Promise<T> }>();

  /** `load`'s answer from a read that starts at or after this call; reads of one `key` are interchangeable. */
  read(key: string, load: () => Promise<T>): Promise<T> {
    let entry = this.#reads.get(key);
    if (!entry) {
      entry = {};
      this.#reads.set(key, entry);
    }
    if (!entry.current) return this.#start(key, entry, load);
    // The read under way may have begun before this call: wait for it, then share the one after it.
    const waiting = entry;
    waiting.next ??= waiting.current!.then(settled, settled).then(() => {
      waiting.next = undefined;
      return this.#start(key, waiting, load);
    });
    return waiting.next;
  }

  #start(key: string, entry: { current?: Promise<T>; next?: Promise<T> }, load: () => Promise<T>): Promise<T> {
    const current = load();
    entry.current = current;
    const done = () => {
      if (entry.current !== current) return;
      entry.current = undefined;
      if (!entry.next) this.#reads.delete(key);
    };
    current.then(done, done);
    return current;
  }
}

const settled = () => undefined;
