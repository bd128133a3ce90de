/**
 * Worst group, not only the mean: every judged face is counted under each of its render labels that could
 * matter for an edit (skin tone, eye state, glasses, hair colour, hair length), and the group that does worst
 * is reported beside the mean. An edit that fails on dark skin or on closed eyes does not hide in the total.
 */

/** The render labels (labels.jsonl) a row is broken down by. */
export const FACETS = ['skin_tone', 'eyes_open', 'glasses', 'hair_colour', 'hair_length'] as const;

/** Groups with fewer eligible faces than this are listed but not named the worst: one face is not a rate. */
export const MIN_GROUP = 5;

export interface FacetCounts {
  eligible: number;
  success: number;
  preserved: number;
}

export interface WorstGroup {
  readonly facet: string;
  readonly value: string;
  readonly eligible: number;
  readonly success: number;
  readonly preservation: number;
}

/** facet → value → counts. */
export type ByFacet = Record<string, Record<string, FacetCounts>>;

export class GroupStats {
  private readonly counts: ByFacet = {};

  /** Counts one eligible face under each facet its labels carry. */
  add(labels: Readonly<Record<string, unknown>>, success: boolean, preserved: boolean): void {
    for (const facet of FACETS) {
      const v = labels[facet];
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
      const g = ((this.counts[facet] ??= {})[String(v)] ??= { eligible: 0, success: 0, preserved: 0 });
      g.eligible++;
      if (success) g.success++;
      if (preserved) g.preserved++;
    }
  }

  byFacet(): ByFacet {
    return this.counts;
  }

  /** The group of at least MIN_GROUP faces with the lowest success (ties: lower preservation); none when no group is that large. */
  worst(by: 'success' | 'preservation' = 'success'): WorstGroup | undefined {
    let worst: WorstGroup | undefined;
    for (const [facet, values] of Object.entries(this.counts))
      for (const [value, g] of Object.entries(values)) {
        if (g.eligible < MIN_GROUP) continue;
        const row = { facet, value, eligible: g.eligible, success: g.success / g.eligible, preservation: g.preserved / g.eligible };
        const key = (r: WorstGroup) => (by === 'success' ? [r.success, r.preservation] : [r.preservation, r.success]);
        if (!worst) worst = row;
        else {
          const [a1, a2] = key(row);
          const [b1, b2] = key(worst);
          if (a1! < b1! || (a1 === b1 && a2! < b2!)) worst = row;
        }
      }
    return worst;
  }
}
