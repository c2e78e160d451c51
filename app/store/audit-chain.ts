/**
 * The audit trail's hash chain. Each event's hash is SHA-256 over the RFC 8785 canonical JSON of
 * (seq, previous hash, request id, type, actor, time, facts), so changing any of them, or the
 * order of the rows, breaks the chain from that row on. No I/O here.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  seq: number;
  prevHash: string;
  requestId: string | null;
  type: string;
  actor: string;
  at: Date;
  facts: unknown;
}

export function auditHash(event: ChainedFields): string {
  const { head, middle, tail } = auditHashParts(event);
  return createHash('sha256').update(`${head}${JSON.stringify(event.prevHash)}${middle}${JSON.stringify(event.seq)}${tail}`, 'utf8').digest('hex');
}

/** The canonical JSON of an event up to its previous hash, between that and its seq, and after its seq. */
export interface AuditHashParts {
  head: string;
  middle: string;
  tail: string;
}

/**
 * The canonical JSON of an event cut around its seq and previous hash, the two fields only known once
 * the chain's head is locked: the store sends these pieces and the database joins them to the head
 * and hashes, so the head stays locked for one statement. The keys are in RFC 8785 order (actor, at,
 * facts, prevHash, requestId, seq, type); the store's tests compare it with the canonical form.
 */
export function auditHashParts(event: Omit<ChainedFields, 'seq' | 'prevHash'>): AuditHashParts {
  const canonical = (value: unknown): string => {
    const text = canonicalize(value);
    if (text === undefined) throw new Error('audit event cannot be serialised');
    return text;
  };
  return {
    head: `{"actor":${canonical(event.actor)},"at":${canonical(event.at.toISOString())},"facts":${canonical(event.facts)},"prevHash":`,
    middle: `,"requestId":${canonical(event.requestId)},"seq":`,
    tail: `,"type":${canonical(event.type)}}`,
  };
}

export interface ChainProblem {
  seq: number;
  reason: string;
}

/**
 * Checks rows fed in seq order against the chain, then the last row against the head record.
 * Reports only the first problem: everything after it is untrustworthy anyway.
 */
export class ChainVerifier {
  #expectedSeq = 1;
  #prevHash = GENESIS_HASH;
  #problem: ChainProblem | undefined;

  /**
   * `anchor`: a head recorded earlier, kept where the database's writers cannot change it. The chain
   * lives in the database with its head, so whoever can write both can rewrite them together; only
   * a head kept elsewhere shows that.
   */
  constructor(private readonly anchor?: { seq: number; hash: string }) {}

  get checked(): number {
    return this.#expectedSeq - 1;
  }

  get problem(): ChainProblem | undefined {
    return this.#problem;
  }

  /** Returns false once a problem is found. */
  push(row: ChainedFields & { hash: string }): boolean {
    if (this.#problem) return false;
    const seq = this.#expectedSeq;
    if (row.seq === seq - 1) return this.#fail(row.seq, `a second row with seq ${row.seq}: added outside the App`);
    if (row.seq !== seq) {
      const missing = row.seq > seq ? `rows ${seq}..${row.seq - 1} are missing (deleted)` : `out of order`;
      return this.#fail(seq, `expected seq ${seq} but found ${row.seq}: ${missing}`);
    }
    if (row.prevHash !== this.#prevHash) {
      return this.#fail(seq, `prev_hash ${row.prevHash} does not match the hash of seq ${seq - 1} (${this.#prevHash}): the row before it was changed or replaced`);
    }
    // A row the App could not have written (a time out of range or missing, a number out of JSON's)
    // is named here, as any other edit is, rather than failing the whole check with no row named.
    const unwritten = neverWritten(row);
    if (unwritten) return this.#fail(seq, `${unwritten}: the row was edited (type ${row.type}, actor ${row.actor})`);
    const computed = auditHash(row);
    if (computed !== row.hash) {
      return this.#fail(seq, `hash mismatch: stored ${row.hash}, computed ${computed}: the row was edited (type ${row.type}, actor ${row.actor})`);
    }
    if (this.anchor?.seq === seq && this.anchor.hash !== row.hash) {
      return this.#fail(seq, `hash ${row.hash} is not the ${this.anchor.hash} expected of seq ${seq}: the trail up to it was rewritten since that head was recorded`);
    }
    this.#prevHash = row.hash;
    this.#expectedSeq++;
    return true;
  }

  /**
   * The head record says how long the chain is and how it ends: rows missing from the end show here.
   * `heads`: every head record the table holds; the App keeps exactly one.
   */
  finish(heads: ReadonlyArray<{ seq: number; hash: string }>): ChainProblem | undefined {
    if (this.#problem) return this.#problem;
    const last = this.#expectedSeq - 1;
    if (this.anchor && this.anchor.seq > last) {
      this.#fail(last + 1, `the chain ends at seq ${last}, before seq ${this.anchor.seq} of the head expected: rows were deleted from the end since that head was recorded`);
      return this.#problem;
    }
    const head = heads[0];
    if (!head) {
      this.#fail(last + 1, 'the audit head record is missing');
    } else if (heads.length > 1) {
      this.#fail(last + 1, `there are ${heads.length} audit head records where the App keeps one: one was added outside the App`);
    } else if (head.seq > last) {
      this.#fail(last + 1, `the head record says the chain ends at seq ${head.seq} but it ends at seq ${last}: rows ${last + 1}..${head.seq} are missing (deleted from the end)`);
    } else if (head.seq < last) {
      this.#fail(head.seq + 1, `rows after the head record's seq ${head.seq} were added outside the App`);
    } else if (head.hash !== this.#prevHash) {
      this.#fail(last, `the head record's hash ${head.hash} does not match the last row's hash ${this.#prevHash}`);
    }
    return this.#problem;
  }

  #fail(seq: number, reason: string): false {
    this.#problem = { seq, reason };
    return false;
  }
}

/**
 * What an audit row read from the store holds that the App never writes, said in words (a time
 * missing or out of range, facts that are not a JSON object or hold a number JSON cannot), or
 * undefined. Such a row was edited outside the App; its hash cannot even be computed.
 */
export function neverWritten(row: { at: unknown; facts: unknown }): string | undefined {
  if (!(row.at instanceof Date) || Number.isNaN(row.at.getTime())) return `its time (at) is ${describeValue(row.at)}, which the App never writes`;
  if (row.facts === null || typeof row.facts !== 'object' || Array.isArray(row.facts)) {
    return `its facts are ${row.facts === null || row.facts === undefined ? 'missing (NULL)' : Array.isArray(row.facts) ? 'a list' : `a ${typeof row.facts}`}, where the App always writes an object`;
  }
  try {
    canonicalize(row.facts);
  } catch (err) {
    return `its facts cannot be hashed (${(err as Error).message}), which the App never writes`;
  }
  return undefined;
}

/** A value read from a row, as a reason may quote it. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'missing (NULL)';
  if (value instanceof Date) return 'not a valid date';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object of another shape';
  return `"${String(value).slice(0, 40)}"`;
}
