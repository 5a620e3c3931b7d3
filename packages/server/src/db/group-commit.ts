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
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema.js";

export type UnitOfWork<T> = (trx: Transaction<Database>) => Promise<T>;

interface Queued {
  work: UnitOfWork<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Enough to amortise a flush; small enough that one batch never holds the database for long. */
const DEFAULT_MAX_BATCH = 128;

export class GroupCommit {
  private queue: Queued[] = [];
  private flushing = false;

  constructor(
    private readonly kysely: Kysely<Database>,
    private readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  /** Runs `work` in a transaction shared with the other units queued meanwhile; settles after commit. */
  run<T>(work: UnitOfWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Wait for the I/O callbacks of this loop turn, so the requests that arrived together
        // are queued before the batch is taken.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      // Units queued while a batch commits form the next batch.
      while (this.queue.length > 0) await this.commitBatch(this.queue.splice(0, this.maxBatch));
    } finally {
      this.flushing = false;
    }
  }

  private async commitBatch(batch: Queued[]): Promise<void> {
    if (batch.length === 1) {
      await this.commitAlone(batch[0] as Queued);
      return;
    }
    let results: unknown[];
    try {
      results = await this.kysely.transaction().execute(async (trx) => {
        const outcomes: unknown[] = [];
        for (const unit of batch) outcomes.push(await unit.work(trx));
        return outcomes;
      });
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
