/**
 * Group commit: the writes of requests that arrive together are committed together, in one
 * transaction, so one durable flush (fsync) serves many requests instead of one each. No
 * request is answered before the commit that holds its write has returned, so the durability
 * promise (an answered write survives a power loss) is unchanged.
 *
 * Contract for a unit of work:
 * - it touches the database only through the transaction it is given (never the pool: on
 *   SQLite's single connection that would wait for itself);
 * - it may run more than once: when any unit of a batch fails, the whole batch is rolled back
 *   and every unit is run again alone, in a transaction of its own, so each gets exactly the
 *   outcome it would have had without batching (a unique violation, a rule's error). Units
 *   must therefore have no effect outside the transaction.
 *
 * Why creates alone go through it (a session create, an idempotent create): they are the hot
 * writes, many of them concurrent, each a pure insert (or a recheck and an insert) that can
 * run again without harm. Every other write (linking an account, PATCH, delete, the OAuth
 * callback, the delivery worker, the sweeper) opens its own transaction: those are rarer,
 * read-then-write with rules in between, and some call out (a token endpoint, a webhook
 * receiver) around their transaction, which a unit that may run twice must never do. The
 * durability promise is the same on both paths, and test/durability.test.ts holds each one to
 * it. The units that use this path keep the contract: `connect-sessions/service.ts` builds the
 * row (token, timestamps) before queueing and counts the session only after the commit;
 * `idempotency/service.ts` seals its record inside the unit and replays only from the
 * database; store.test.ts proves a failed batch reruns each unit alone with its own outcome.
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema.js";

export type UnitOfWork<T> = (trx: Transaction<Database>) => Promise<T>;

/**
 * Work that is cheaper done for many inputs at once, such as a multi-row INSERT: the units of
 * one batch that share a kind are executed in one call. Same contract as a unit of work;
 * `executeMany` answers one output per input, in order.
 */
export interface BatchableWork<I, O> {
  readonly name: string;
  executeMany(trx: Transaction<Database>, inputs: readonly I[]): Promise<O[]>;
}

interface Queued {
  work: UnitOfWork<unknown>;
  /** Set for batchable work: the kind and this unit's input. */
  batchable?: { kind: BatchableWork<unknown, unknown>; input: unknown };
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Enough to amortise a flush; small enough that one batch never holds the database for long. */
const DEFAULT_MAX_BATCH = 128;

export interface GroupCommitOptions {
  /** Units per transaction at most. */
  maxBatch?: number;
  /**
   * Batches committing at once. SQLite has one connection: 1. On PostgreSQL a batch waits on
   * round trips and the WAL flush, so a few batches on separate pooled connections overlap
   * that waiting (PostgreSQL then combines their flushes itself).
   */
  concurrency?: number;
}

export class GroupCommit {
  private queue: Queued[] = [];
  private committing = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  constructor(
    private readonly kysely: Kysely<Database>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** Runs `work` in a transaction shared with the other units queued meanwhile; settles after commit. */
  run<T>(work: UnitOfWork<T>): Promise<T> {
    return this.enqueue(work, undefined);
  }

  /** Like `run`, and units of the same kind in a batch are executed together. */
  runBatchable<I, O>(kind: BatchableWork<I, O>, input: I): Promise<O> {
    const alone: UnitOfWork<O> = async (trx) => (await kind.executeMany(trx, [input]))[0] as O;
    return this.enqueue(alone, { kind: kind as BatchableWork<unknown, unknown>, input });
  }

  private enqueue<T>(work: UnitOfWork<T>, batchable: Queued["batchable"]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, batchable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled && this.committing < this.concurrency) {
        this.scheduled = true;
        // Wait for the I/O callbacks of this loop turn, so the requests that arrived together
        // are queued before the batch is taken.
        setImmediate(() => {
          this.scheduled = false;
          this.startBatches();
        });
      }
    });
  }

  private startBatches(): void {
    // Split what is queued over the free commit slots: a batch never waits behind another.
    while (this.queue.length > 0 && this.committing < this.concurrency) {
      const free = this.concurrency - this.committing;
      const size = Math.min(this.maxBatch, Math.ceil(this.queue.length / free));
      const batch = this.queue.splice(0, size);
      this.committing++;
      void this.commitBatch(batch).finally(() => {
        this.committing--;
        // Units queued while this batch committed form the next batch.
        if (this.queue.length > 0 && !this.scheduled) this.startBatches();
      });
    }
  }

  private async commitBatch(batch: Queued[]): Promise<void> {
    if (batch.length === 1) {
      await this.commitAlone(batch[0] as Queued);
      return;
    }
    let results: unknown[];
    try {
      results = await this.kysely.transaction().execute((trx) => runTogether(trx, batch));
    } catch {
      // Something in the batch failed and it was rolled back as a whole: give every unit its
      // own transaction so the failure stays with the unit that caused it.
      await Promise.all(batch.map((unit) => this.commitAlone(unit)));
      return;
    }
    batch.forEach((unit, index) => {
      unit.resolve(results[index]);
    });
  }

  private commitAlone(unit: Queued): Promise<void> {
    return this.kysely.transaction().execute(unit.work).then(unit.resolve, unit.reject);
  }
}

/** Runs a batch's units in one transaction: plain ones in order, batchable ones by kind. */
async function runTogether(trx: Transaction<Database>, batch: readonly Queued[]): Promise<unknown[]> {
  const outcomes: unknown[] = new Array(batch.length);
  const byKind = new Map<BatchableWork<unknown, unknown>, number[]>();
  for (const [index, unit] of batch.entries()) {
    if (unit.batchable) {
      const indexes = byKind.get(unit.batchable.kind) ?? [];
      indexes.push(index);
      byKind.set(unit.batchable.kind, indexes);
    } else {
      outcomes[index] = await unit.work(trx);
    }
  }
  for (const [kind, indexes] of byKind) {
    const inputs = indexes.map((index) => batch[index]?.batchable?.input);
    const outputs = await kind.executeMany(trx, inputs);
    if (outputs.length !== inputs.length)
      throw new Error(`${kind.name}: ${outputs.length} outputs for ${inputs.length} inputs`);
    indexes.forEach((index, i) => {
      outcomes[index] = outputs[i];
    });
  }
  return outcomes;
}
