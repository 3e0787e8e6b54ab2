import * as zlib from 'node:zlib';

/** The zlib internals the synchronous decode drives (the same ones zlib's own *Sync functions use). */
interface Engine {
  _handle: {
    writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  } | null;
  _writeState: Uint32Array;
  _chunkSize: number;
  on(event: 'error', fn: (err: Error) => void): unknown;
  close(): void;
}

/** Most concurrent decoders (~45 KB each): past it, a compressed stream is not inspected. */
export const MAX_DECODERS = 512;
let open = 0;

/**
 * Decompresses a response body as it is written, synchronously, so the stream parsers see what
 * the app wrote while the time of each event stays the time its compressed bytes left for the
 * client: a compressor that holds bytes back delays the first token, as the user feels it.
 *
 * Node has no public incremental synchronous inflate (`inflateSync` takes a whole body, and the
 * streams decode on the thread pool), so this drives the engine as `zlib.inflateSync` does, minus
 * its closing; `create` returns undefined when that is unavailable or the budget is used.
 */
export class BodyDecoder {
  private failed = false;
  private closed = false;
  private out: Buffer;
  private outOffset = 0;

  private constructor(
    private readonly engine: Engine,
    private readonly flush: number,
  ) {
    this.out = Buffer.allocUnsafe(engine._chunkSize);
    engine.on('error', () => {
      this.failed = true;
    });
  }

  /** A decoder for a Content-Encoding (gzip, deflate, br), or undefined for others. */
  static create(encoding: string): BodyDecoder | undefined {
    if (open >= MAX_DECODERS) return undefined;
    let engine: Engine;
    let flush: number;
    switch (encoding) {
      case 'gzip':
      case 'x-gzip':
        engine = zlib.createGunzip() as unknown as Engine;
        flush = zlib.constants.Z_SYNC_FLUSH;
        break;
      case 'deflate':
        // HTTP's deflate is zlib-wrapped; createUnzip would also take raw, but only after a guess.
        engine = zlib.createInflate() as unknown as Engine;
        flush = zlib.constants.Z_SYNC_FLUSH;
        break;
      case 'br':
        engine = zlib.createBrotliDecompress() as unknown as Engine;
        flush = zlib.constants.BROTLI_OPERATION_PROCESS;
        break;
      default:
        return undefined;
    }
    if (typeof engine._handle?.writeSync !== 'function' || !(engine._writeState instanceof Uint32Array)) {
      engine.close();
      return undefined;
    }
    open++;
    return new BodyDecoder(engine, flush);
  }

  /** The plain bytes a compressed chunk yields (possibly none yet); undefined once decoding failed. */
  decode(chunk: Uint8Array): Buffer | undefined {
    const handle = this.engine._handle;
    if (this.failed || handle === null) return this.close();
    const state = this.engine._writeState;
    const size = this.engine._chunkSize;
    let inOff = 0;
    let inLen = chunk.byteLength;
    let parts: Buffer[] | undefined;
    let single: Buffer | undefined;
    for (;;) {
      const outLen = size - this.outOffset;
      handle.writeSync(this.flush, chunk, inOff, inLen, this.out, this.outOffset, outLen);
      // A corrupt body destroys the engine at once (the 'error' event follows on a later tick).
      if (this.failed || this.engine._handle === null) return this.close();
      const outLeft = state[0]!;
      const inLeft = state[1]!;
      const have = outLen - outLeft;
      if (have > 0) {
        const piece = this.out.subarray(this.outOffset, this.outOffset + have);
        this.outOffset += have;
        if (single === undefined) single = piece;
        else (parts ??= [single]).push(piece);
      }
      if (outLeft === 0 || this.outOffset >= size) {
        // The output buffer is full: the pieces handed out keep the old one, decoding goes on in a new one.
        this.out = Buffer.allocUnsafe(size);
        this.outOffset = 0;
      }
      if (outLeft !== 0) break;
      inOff += inLen - inLeft;
      inLen = inLeft;
    }
    if (parts !== undefined) return Buffer.concat(parts);
    return single ?? EMPTY;
  }

  /** Frees the engine; idempotent. */
  close(): undefined {
    if (!this.closed) {
      this.closed = true;
      open--;
      this.engine.close();
    }
    return undefined;
  }
}

const EMPTY = Buffer.alloc(0);
