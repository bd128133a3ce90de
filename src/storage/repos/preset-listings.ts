/**
 * Read-only preset queries: search, the community listings (top, new, trending) and a person's own list.
 * Community listings show public presets plus the server presets of the asker's server; never private
 * ones, not even the asker's own (those are in listOwn).
 */
import type { Db } from '../open-database.js';
import { read } from '../transactions.js';
import type { Actor, Page, Preset } from '../types.js';
import { checkId, pageOf } from '../validation.js';
import { actorParams, VISIBLE_SQL } from './preset-permissions.js';
import { utcDay } from './preset-activity.js';
import type { Row } from './row-mappers.js';
import { PRESET_COLUMNS, toPreset } from './row-mappers.js';

export type Listing = 'top' | 'new' | 'trending';
export const TRENDING_WINDOW_MS = 7 * 86_400_000;

// The same order twice: inside each half (table alias p) and over the merged rows (plain column names).
const ORDER: Record<'top' | 'new', { inner: string; outer: string }> = {
  top: { inner: 'p.star_count DESC, p.use_count DESC, p.id', outer: 'star_count DESC, use_count DESC, id' },
  new: { inner: 'p.created_at DESC, p.id DESC', outer: 'created_at DESC, id DESC' },
};

/** LIKE treats % and _ as wildcards; a search for "a_b" means the text "a_b". */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Substring search over name and description, case-insensitive. Three characters or more go through the
 * trigram index (migration 6); shorter queries cannot use trigrams and fall back to a LIKE scan.
 */
export function searchPresets(db: Db, actor: Actor, query: string, page?: Page): Preset[] {
  checkId(query, 'query', 100);
  const { limit, offset } = pageOf(page);
  const useIndex = [...query].length >= 3;
  // With the index, the matches drive the query (CROSS JOIN pins that order); otherwise SQLite prefers
  // to walk every visible preset and test each against the match list.
  const matches = useIndex
    ? 'SELECT rowid AS id FROM presets_fts WHERE presets_fts MATCH @phrase'
    : "SELECT id FROM presets WHERE name LIKE @q ESCAPE '\\' OR description LIKE @q ESCAPE '\\'";
  return read('search presets', () =>
    (
      db
        .prepare(
          `SELECT ${PRESET_COLUMNS} FROM (${matches}) m CROSS JOIN presets p ON p.id = m.id JOIN accounts a ON a.id = p.owner_id
           WHERE ${VISIBLE_SQL}
           ORDER BY (p.name = @exact) DESC, p.star_count DESC, p.id LIMIT @limit OFFSET @offset`,
        )
        // As an FTS5 phrase, the whole query is one literal string: quotes doubled, no operators.
        .all({ ...actorParams(actor), ...(useIndex ? { phrase: `"${query.replace(/"/g, '""')}"` } : { q: likePattern(query) }), exact: query, limit, offset }) as Row[]
    ).map(toPreset),
  );
}

/**
 * Top and new: each half (public, this server) walks its own index in listing order and stops after
 * limit + offset rows, and the two short lists are merged. One OR-ed WHERE would make SQLite read and
 * sort every visible preset on each request.
 */
export function listPresets(db: Db, actor: Actor, listing: Listing, options: Page & { now: number }): Preset[] {
  const { limit, offset } = pageOf(options);
  if (listing === 'trending') return listTrending(db, actor, { limit, offset, now: options.now });
  const order = ORDER[listing];
  return read(`list ${listing} presets`, () =>
    (
      db
        .prepare(
          `SELECT * FROM (
             SELECT * FROM (SELECT ${PRESET_COLUMNS} FROM presets p JOIN accounts a ON a.id = p.owner_id
                            WHERE p.scope = 'public' ORDER BY ${order.inner} LIMIT @n)
             UNION ALL
             SELECT * FROM (SELECT ${PRESET_COLUMNS} FROM presets p JOIN accounts a ON a.id = p.owner_id
                            WHERE p.scope = 'server' AND p.platform = @platform AND p.server_id = @serverId
                            ORDER BY ${order.inner} LIMIT @n)
           ) ORDER BY ${order.outer} LIMIT @limit OFFSET @offset`,
        )
        .all({ platform: actor.platform, serverId: actor.serverId, n: limit + offset, limit, offset }) as Row[]
    ).map(toPreset),
  );
}

/** Trending: stars given plus uses made in the last 7 days, one point each; only active presets are read. */
function listTrending(db: Db, actor: Actor, o: { limit: number; offset: number; now: number }): Preset[] {
  const since = o.now - TRENDING_WINDOW_MS;
  return read('list trending presets', () =>
    (
      db
        .prepare(
          // The plan is pinned: the few presets active this week drive the query (MATERIALIZED + CROSS
          // JOIN keep SQLite from walking all public presets and probing the scores instead), and the
          // event tables are read through their time indexes, not scanned in preset order.
          `WITH recent (preset_id, points) AS (
             SELECT preset_id, COUNT(*) FROM preset_stars INDEXED BY preset_stars_recent WHERE created_at > @since GROUP BY preset_id
             UNION ALL
             SELECT preset_id, SUM(uses) FROM preset_use_days INDEXED BY preset_use_days_day WHERE day > @sinceDay GROUP BY preset_id
           ), score AS MATERIALIZED (SELECT preset_id, SUM(points) AS points FROM recent GROUP BY preset_id)
           SELECT ${PRESET_COLUMNS} FROM score s CROSS JOIN presets p ON p.id = s.preset_id JOIN accounts a ON a.id = p.owner_id
           WHERE p.scope = 'public' OR (p.scope = 'server' AND p.platform = @platform AND p.server_id = @serverId)
           ORDER BY s.points DESC, p.star_count DESC, p.id LIMIT @limit OFFSET @offset`,
        )
        .all({ platform: actor.platform, serverId: actor.serverId, since, sinceDay: utcDay(since), limit: o.limit, offset: o.offset }) as Row[]
    ).map(toPreset),
  );
}

/** The asker's own presets, all scopes, by name. */
export function listOwnPresets(db: Db, actor: Actor, page?: Page): Preset[] {
  const { limit, offset } = pageOf(page, 100);
  return read('list own presets', () =>
    (
      db
        .prepare(`SELECT ${PRESET_COLUMNS} FROM presets p JOIN accounts a ON a.id = p.owner_id WHERE p.owner_id = ? ORDER BY p.name LIMIT ? OFFSET ?`)
        .all(actor.accountId, limit, offset) as Row[]
    ).map(toPreset),
  );
}
