/**
 * The request body scan and parse (json-body.ts) against JSON.parse, fed in every kind of chunking, and
 * the base64 check without a regular expression against the one it replaces.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { JsonBodyScan } from '../../src/engine/service/json-body.js';
import { decodeBase64 } from '../../src/engine/service/request-validation.js';

/** Feeds `text` in chunks cut at the given sizes (cycled), then parses it. */
function scanParse(text: string, sizes: number[], maxDepth = 32): { value: unknown; cuts: number } {
  const body = Buffer.from(text, 'utf8');
  const scan = new JsonBodyScan(maxDepth);
  for (let at = 0, k = 0; at < body.length; k++) {
    const size = sizes[k % sizes.length]!;
    scan.feed(body.subarray(at, at + size));
    at += size;
  }
  return { value: scan.parse(body), cuts: scan.cuts.length };
}

const image = randomBytes(9000).toString('base64');
const chunkings = [[1], [2, 3], [7], [1000], [4096], [1 << 20], [5, 1, 13, 2]];

describe('JsonBodyScan', () => {
  const bodies: [string, unknown, number][] = [
    ['a submit, image first', { imageBase64: image, recipe: 'smile:0.8', owner: 'a' }, 1],
    ['image last, keys with escapes around it', { 'o\\"wn"er': 'x\\', recipe: '"\\\\"', imageBase64: image }, 1],
    ['backslash runs before quotes', { a: '\\\\\\', b: '\\"\\"\\\\"', imageBase64: image, c: '\\' }, 1],
    ['a nested imageBase64 is not cut', { labels: { imageBase64: image }, imageBase64: 'QUJD' }, 0],
    ['brackets and colons in strings', { recipe: '[[{{:,}}]]', imageBase64: image, z: ['{', ':', '"'] }, 1],
    ['unicode around the image', { owner: 'Ünïcødé 🎨', imageBase64: image, note: 'ß' }, 1],
    ['an image with an escape is parsed as usual', { imageBase64: image.slice(0, 5000) + '\\/' + image.slice(5000) }, 0],
    ['a non-string image', { imageBase64: 12, recipe: image }, 0],
    ['a top-level array', [image, { imageBase64: image }], 0],
  ];
  for (const [name, value, cuts] of bodies) {
    it(`${name}: the same value as JSON.parse in any chunking`, () => {
      const text = JSON.stringify(value).replace('"imageBase64":12', '"imageBase64" : 12');
      for (const sizes of chunkings) {
        const got = scanParse(text, sizes);
        expect(got.value, JSON.stringify(sizes)).toEqual(JSON.parse(text));
        expect(got.cuts, JSON.stringify(sizes)).toBe(cuts);
      }
    });
  }

  it('a repeated imageBase64 key: the last one counts, as for JSON.parse', () => {
    const other = randomBytes(6000).toString('base64');
    const text = `{"imageBase64":"${image}", "imageBase64" : "${other}"}`;
    expect(scanParse(text, [333]).value).toEqual({ imageBase64: other });
  });

  it('refuses nesting past the limit as it is fed, and ignores brackets inside strings', () => {
    const scan = new JsonBodyScan(32);
    expect(() => scan.feed(Buffer.from('['.repeat(33)))).toThrow(/nests deeper than 32/);
    expect(scanParse(`{"a":"${'[{'.repeat(100)}"}`, [3]).value).toEqual({ a: '[{'.repeat(100) });
  });

  it('refuses a body that is not JSON, with or without a cut', () => {
    expect(() => scanParse('{"a":', [2])).toThrow(/not valid JSON/);
    expect(() => scanParse(`{"imageBase64":"${image}",}`, [100])).toThrow(/not valid JSON/);
  });
});

describe('decodeBase64', () => {
  const regex = (s: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(s);
  it('accepts what the regular expression accepted (lengths 4k, 4k+2, 4k+3) and decodes it', () => {
    for (let n = 1; n < 40; n++) {
      const bytes = randomBytes(n);
      for (const s of [bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, '')]) {
        expect(regex(s)).toBe(true);
        expect(decodeBase64(s, 1000).equals(bytes)).toBe(true);
      }
    }
  });

  it('refuses anything with a character outside the alphabet, an inner "=" or a dangling character', () => {
    const good = randomBytes(30).toString('base64');
    const bad = ['QUJ$', 'QU JD', 'QUJD\nQUJD', 'QQ==QUJD', 'QUJDQQ===', 'QUJé', 'QUJ-', 'QU_D', `${good}\u0000AAA`, 'QUJD.', '====', `${good.slice(0, 20)}*${good.slice(21)}`];
    for (const s of bad) {
      expect(regex(s), s).toBe(false);
      expect(() => decodeBase64(s, 1000), s).toThrow(/not base64/);
    }
    // A dangling sixth bit-group encodes no byte: the expression let it through, the check does not.
    expect(() => decodeBase64('QUJDQ', 1000)).toThrow(/not base64/);
    // Every single character outside the alphabet, at every position of a valid string.
    const outside = [...Array(256).keys()].map((c) => String.fromCharCode(c)).filter((c) => !regex(c) && c !== '=');
    for (const c of outside) for (const at of [0, 5, 39]) expect(() => decodeBase64(good.slice(0, at) + c + good.slice(at + 1), 1000), JSON.stringify(c)).toThrow(/not base64/);
  });
});
