/**
 * One stream into many: every chunk written goes to every branch, and the next chunk is
 * accepted only when all branches took the last one (backpressure from the slowest
 * consumer, so memory stays at a few buffers whatever the blob size). A branch that
 * closes early (its upload failed) is dropped and no longer holds the others back; when
 * every branch is gone the fan-out destroys itself so the source download stops.
 *
 * Hand-written because node:stream has no multi-consumer tee with backpressure
 * (Readable.pipe to several destinations drops nothing but lets a closed one stall the rest).
 */
import { PassThrough, Writable } from 'node:stream';

const BRANCH_HIGH_WATER_MARK = 1 << 20;

/** Destroys a fan-out whose consumers are all gone; not a failure of the source. */
export class AbandonedError extends Error {
  override readonly name = 'AbandonedError';
  constructor() {
    super('every consumer of the stream went away');
  }
}

export class Fanout extends Writable {
  private readonly branches = new Set<PassThrough>();

  constructor() {
    super({ highWaterMark: BRANCH_HIGH_WATER_MARK });
  }

  /** A new consumer; create every branch before the first write. */
  branch(): PassThrough {
    const b = new PassThrough({ highWaterMark: BRANCH_HIGH_WATER_MARK });
    // The consumer reports its own failure; an error with nobody listening must not crash the process.
    b.on('error', () => {});
    b.once('close', () => this.drop(b));
    this.branches.add(b);
    return b;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const slow = [...this.branches].filter((b) => !b.destroyed && !b.write(chunk));
    if (slow.length === 0) return done();
    let waiting = slow.length;
    for (const b of slow) {
      const ready = () => {
        b.off('drain', ready);
        b.off('close', ready);
        if (--waiting === 0) done();
      };
      b.on('drain', ready);
      b.on('close', ready);
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    for (const b of this.branches) b.end();
    done();
  }

  /** On failure the branches fail too; after a normal finish (autoDestroy) they drain what they hold. */
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (err) for (const b of this.branches) b.destroy(err);
    done(err);
  }

  private drop(b: PassThrough): void {
    this.branches.delete(b);
    if (this.branches.size === 0 && !this.writableEnded && !this.destroyed) this.destroy(new AbandonedError());
  }
}
