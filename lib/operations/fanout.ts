/**
 * One stream into many: every chunk written goes to every branch, and the next chunk is
 * accepted only when all branches took the last one (backpressure from the slowest
 * consumer, so memory stays at a few buffers whatever the blob size). A branch that
 * closes early (its upload failed) is dropped and no longer holds the others back; when
 * every branch is gone the fan-out destroys itself so the source download stops.
 *
 * With a BlobCheck the fan-out also verifies what passes: a chunk reaches the branches
 * only once the next one has been hashed, and the last one only once the whole blob
 * matched its digest; on a mismatch every branch fails instead.
 *
 * Hand-written because node:stream has no multi-consumer tee with backpressure
 * (Readable.pipe to several destinations drops nothing but lets a closed one stall the rest).
 * The check and the fan-out are one stage, and a branch is a bare Readable rather than a
 * PassThrough, because a blob crosses every stage in thousands of 64 KiB chunks: each
 * stream hop per chunk is event-loop time on the path of every byte.
 */
import { Readable, Writable } from 'node:stream';
import type { BlobCheck } from '../image/image';

const BRANCH_HIGH_WATER_MARK = 1 << 20;

/** Destroys a fan-out whose consumers are all gone; not a failure of the source. */
export class AbandonedError extends Error {
  override readonly name = 'AbandonedError';
  constructor() {
    super('every consumer of the stream went away');
  }
}

/** One consumer's stream: the fan-out pushes into it; reading it below its high-water mark wakes the fan-out. */
export class Branch extends Readable {
  private wake?: () => void;

  constructor() {
    super({ highWaterMark: BRANCH_HIGH_WATER_MARK });
  }

  /** Hands `chunk` on; true when the branch can take more now, otherwise `ready` runs once it can (or has closed). */
  offer(chunk: Buffer, ready: () => void): boolean {
    if (this.destroyed || this.push(chunk)) return true;
    this.wake = ready;
    return false;
  }

  override _read(): void {
    this.release();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    done(err);
    this.release();
  }

  private release(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

export class Fanout extends Writable {
  private readonly branches = new Set<Branch>();

  /** `check`: verify the bytes on their way through (see above). */
  constructor(private readonly check?: BlobCheck) {
    super({ highWaterMark: BRANCH_HIGH_WATER_MARK });
  }

  /** A new consumer; create every branch before the first write. */
  branch(): Branch {
    const b = new Branch();
    // The consumer reports its own failure; an error with nobody listening must not crash the process.
    b.on('error', () => {});
    b.once('close', () => this.drop(b));
    this.branches.add(b);
    return b;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    let ready: Buffer | undefined = chunk;
    try {
      if (this.check) ready = this.check.next(chunk);
    } catch (err) {
      return done(err as Error);
    }
    if (!ready) return done();
    let waiting = 1;
    const one = () => {
      if (--waiting === 0) done();
    };
    for (const b of this.branches) if (!b.offer(ready, one)) waiting++;
    one();
  }

  /** The last chunk goes out only after the check passed; then every branch ends. */
  override _final(done: (err?: Error | null) => void): void {
    let last: Buffer | undefined;
    try {
      last = this.check?.finish();
    } catch (err) {
      return done(err as Error);
    }
    for (const b of this.branches) {
      if (b.destroyed) continue;
      if (last) b.push(last);
      b.push(null);
    }
    done();
  }

  /** On failure the branches fail too; after a normal finish (autoDestroy) they drain what they hold. */
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (err) for (const b of this.branches) b.destroy(err);
    done(err);
  }

  private drop(b: Branch): void {
    this.branches.delete(b);
    if (this.branches.size === 0 && !this.writableEnded && !this.destroyed) this.destroy(new AbandonedError());
  }
}
