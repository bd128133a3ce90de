/**
 * A JSON request body, scanned as it arrives and parsed once it is complete, at a cost that does not
 * grow with the image it carries. The scan refuses nesting deeper than a limit (a pathological body is
 * refused long before any parse) and skips string contents with Buffer.indexOf (native), so a 260 kB
 * base64 string costs two searches, not a JS step per byte. It also notes where the top-level
 * `imageBase64` value lies: the parse cuts that value out, JSON-parses the small rest, and puts the
 * value back as a Latin-1 string of its bytes, so the image is never UTF-8-decoded nor walked by
 * JSON.parse. That is exact because the value is cut out only when it holds no escape (a backslash), and
 * anything that is not base64 in it is refused by decodeBase64 just as an invalid JSON string is.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from './service-error.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Below this the value is parsed as usual: cutting it out would not pay. */
const CUT_MIN_BYTES = 4096;
const IMAGE_KEY = Buffer.from('imageBase64');

export class JsonBodyScan {
  private depth = 0;
  /** Bytes fed before the current chunk. */
  private offset = 0;
  private inString = false;
  /** Absolute offset of the current string's first content byte. */
  private stringStart = 0;
  /** Backslashes ending the string content seen so far (an odd run escapes the next quote). */
  private backslashRun = 0;
  private stringHasEscape = false;
  /** What the current string is in the top-level object: a key, a value, or neither. */
  private stringRole: 'key' | 'value' | null = null;
  /** The last structural byte outside strings (, : { [ ] }). */
  private lastSyntax = 0;
  /** The last top-level key was "imageBase64": its value may be cut out. */
  private imageKey = false;
  private keyBytes: Buffer[] = [];
  private keyLength = 0;
  private topIsObject = false;
  /** Content ranges [start, end) of plain top-level imageBase64 values. */
  readonly cuts: { start: number; end: number }[] = [];

  constructor(private readonly maxDepth: number) {}

  feed(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let nextBackslash = -1; // cached position of the next backslash at or after i (n: none)
    while (i < n) {
      if (this.inString) {
        const q = chunk.indexOf(QUOTE, i);
        const stop = q < 0 ? n : q;
        if (nextBackslash < i) {
          const b = chunk.indexOf(BACKSLASH, i);
          nextBackslash = b < 0 ? n : b;
        }
        if (nextBackslash < stop) this.stringHasEscape = true;
        // The run of backslashes right before `stop`, continuing the previous chunk's if it reaches back to i.
        let k = stop;
        while (k > i && chunk[k - 1] === BACKSLASH) k--;
        const run = stop - k + (k === i ? this.backslashRun : 0);
        if (q < 0) {
          this.backslashRun = run;
          this.keepKey(chunk.subarray(i, n));
          break;
        }
        if (run % 2 === 1) {
          // An escaped quote: still inside the string.
          this.backslashRun = 0;
          this.keepKey(chunk.subarray(i, q + 1));
          i = q + 1;
          continue;
        }
        this.keepKey(chunk.subarray(i, q));
        this.endString(this.offset + q);
        i = q + 1;
        continue;
      }
      const c = chunk[i]!;
      if (c === QUOTE) {
        this.inString = true;
        this.stringStart = this.offset + i + 1;
        this.backslashRun = 0;
        this.stringHasEscape = false;
        const top = this.depth === 1 && this.topIsObject;
        this.stringRole = top && (this.lastSyntax === 0x7b || this.lastSyntax === 0x2c) ? 'key' : top && this.lastSyntax === 0x3a ? 'value' : null;
        this.keyBytes = [];
        this.keyLength = 0;
      } else if (c === 0x5b || c === 0x7b) {
        // [ or {
        if (this.depth === 0) this.topIsObject = c === 0x7b;
        if (++this.depth > this.maxDepth) throw new ServiceError('BAD_REQUEST', `the request body nests deeper than ${this.maxDepth} levels`);
        this.lastSyntax = c;
      } else if (c === 0x5d || c === 0x7d || c === 0x2c || c === 0x3a) {
        // ] } , :
        if (c === 0x5d || c === 0x7d) this.depth--;
        this.lastSyntax = c;
      }
      i++;
    }
    this.offset += n;
  }

  /** Keeps the bytes of a top-level key while it could still be "imageBase64". */
  private keepKey(bytes: Buffer): void {
    if (this.stringRole !== 'key') return;
    this.keyLength += bytes.length;
    if (this.keyLength <= IMAGE_KEY.length) this.keyBytes.push(bytes);
  }

  private endString(end: number): void {
    this.inString = false;
    if (this.stringRole === 'key') {
      this.imageKey = !this.stringHasEscape && this.keyLength === IMAGE_KEY.length && Buffer.concat(this.keyBytes).equals(IMAGE_KEY);
    } else if (this.stringRole === 'value') {
      if (this.imageKey && !this.stringHasEscape && end - this.stringStart >= CUT_MIN_BYTES) this.cuts.push({ start: this.stringStart, end });
      this.imageKey = false;
    }
    // A value that is not a string (a number, an object) ends the key's claim at the next comma.
    this.lastSyntax = 0;
  }

  /** The complete body, parsed (BAD_REQUEST when it is not JSON). */
  parse(body: Buffer): unknown {
    if (!this.cuts.length) return parseText(body.toString('utf8'));
    // Each cut value becomes a marker no request can contain (a fresh nonce), then its bytes come back.
    const nonce = randomBytes(12).toString('hex');
    const parts: Buffer[] = [];
    let at = 0;
    this.cuts.forEach((cut, k) => {
      parts.push(body.subarray(at, cut.start), Buffer.from(`${nonce}:${k}`));
      at = cut.end;
    });
    parts.push(body.subarray(at));
    const value = parseText(Buffer.concat(parts).toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const obj = value as Record<string, unknown>;
      const v = obj.imageBase64;
      if (typeof v === 'string' && v.startsWith(`${nonce}:`)) {
        const cut = this.cuts[Number(v.slice(nonce.length + 1))]!;
        obj.imageBase64 = body.toString('latin1', cut.start, cut.end);
      }
    }
    return value;
  }
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceError('BAD_REQUEST', 'the request body is not valid JSON');
  }
}
