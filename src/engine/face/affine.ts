/**
 * 2-D affine maps in continuous pixel coordinates: pixel (i, j) covers [i, i+1) × [j, j+1), so its centre
 * is (i + 0.5, j + 0.5). Every module in src/engine/face uses this convention, which keeps the detector's
 * normalised outputs, the crop and the paste-back consistent to a fraction of a pixel.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** x' = a·x + b·y + c, y' = d·x + e·y + f. */
export interface Affine {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly e: number;
  readonly f: number;
}

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m.a * p.x + m.b * p.y + m.c, y: m.d * p.x + m.e * p.y + m.f };
}

export function invertAffine(m: Affine): Affine {
  const det = m.a * m.e - m.b * m.d;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError('the affine map is singular');
  const a = m.e / det;
  const b = -m.b / det;
  const d = -m.d / det;
  const e = m.a / det;
  return { a, b, c: -(a * m.c + b * m.f), d, e, f: -(d * m.c + e * m.f) };
}

/** first, then second: p ↦ second(first(p)). */
export function composeAffine(first: Affine, second: Affine): Affine {
  return {
    a: second.a * first.a + second.b * first.d,
    b: second.a * first.b + second.b * first.e,
    c: second.a * first.c + second.b * first.f + second.c,
    d: second.d * first.a + second.e * first.d,
    e: second.d * first.b + second.e * first.e,
    f: second.d * first.c + second.e * first.f + second.f,
  };
}

/** Rotation by `degrees` (counter-clockwise on screen, i.e. with y pointing down) and uniform scale about the origin, then a shift. */
export function similarity(scale: number, degrees: number, tx: number, ty: number): Affine {
  const r = (degrees * Math.PI) / 180;
  const cos = Math.cos(r) * scale;
  const sin = Math.sin(r) * scale;
  // y points down, so a visually counter-clockwise turn is x' = x·cos + y·sin, y' = −x·sin + y·cos.
  return { a: cos, b: sin, c: tx, d: -sin, e: cos, f: ty };
}

/** Source pixels per destination pixel along each axis (the square root of |det|): how much a warp shrinks. */
export function linearScale(m: Affine): number {
  return Math.sqrt(Math.abs(m.a * m.e - m.b * m.d));
}

export function distance(p: Point, q: Point): number {
  return Math.hypot(p.x - q.x, p.y - q.y);
}
