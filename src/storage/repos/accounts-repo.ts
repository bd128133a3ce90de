/**
 * Accounts, platform identities and link codes. A Discord user id is global, so every Discord identity
 * of one user (one per server) shares an account automatically; Slack user ids are per workspace, so a
 * Slack identity gets its own account until it is linked. Linking: one side issues a one-time code, the
 * other side redeems it, and the redeemer's account is folded into the issuer's.
 */
import { createHash, randomInt } from 'node:crypto';
import type { Db } from '../open-database.js';
import { StorageError } from '../storage-error.js';
import type { Clock } from '../transactions.js';
import { read, write } from '../transactions.js';
import type { Account, Identity, Platform } from '../types.js';
import { checkId, checkPlatform } from '../validation.js';
import { mergeAccounts } from './merge-accounts.js';
import { toIdentity } from './row-mappers.js';
import type { ReadModelSlot } from '../read-model.js';

export interface IdentityInput {
  readonly platform: Platform;
  readonly serverId: string;
  readonly userId: string;
  readonly displayName: string;
}

export const LINK_CODE_TTL_MS = 10 * 60_000;
// No 0/O, 1/I/L: codes are read off one screen and typed on another.
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;

const hashCode = (code: string) => createHash('sha256').update(code.trim().toUpperCase()).digest('hex');

/** A handle from a display name: lower-case, [a-z0-9_.-], at most 24 characters, never empty. */
function baseHandle(displayName: string): string {
  const cleaned = displayName
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '')
    .slice(0, 24);
  return cleaned || 'user';
}

export class AccountsRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** The bots' in-memory copy (../read-model.ts): told about every identity made or moved here. */
    private readonly model: ReadModelSlot = { current: null },
  ) {}

  /** Finds or creates the identity (and its account); refreshes the display name when it changed. */
  ensureIdentity(input: IdentityInput): Identity {
    checkPlatform(input.platform);
    checkId(input.serverId, 'serverId');
    checkId(input.userId, 'userId');
    checkId(input.displayName, 'displayName', 100);
    const identity = write(this.db, 'ensure identity', () => {
      const now = this.clock();
      const existing = this.db
        .prepare('SELECT * FROM identities WHERE platform = ? AND server_id = ? AND user_id = ?')
        .get(input.platform, input.serverId, input.userId) as Record<string, unknown> | undefined;
      if (existing) {
        if (existing.display_name !== input.displayName) {
          this.db.prepare('UPDATE identities SET display_name = ?, updated_at = ? WHERE id = ?').run(input.displayName, now, existing.id);
        }
        return toIdentity({ ...existing, display_name: input.displayName });
      }
      const sameUser =
        input.platform === 'discord'
          ? (this.db.prepare("SELECT account_id FROM identities WHERE platform = 'discord' AND user_id = ? LIMIT 1").pluck().get(input.userId) as
              | number
              | undefined)
          : undefined;
      const accountId = sameUser ?? this.createAccount(input.displayName, now);
      const info = this.db
        .prepare(
          'INSERT INTO identities (account_id, platform, server_id, user_id, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(accountId, input.platform, input.serverId, input.userId, input.displayName, now, now);
      return { id: Number(info.lastInsertRowid), accountId, ...input };
    });
    this.model.current?.identityChanged(identity);
    return identity;
  }

  private createAccount(displayName: string, now: number): number {
    const base = baseHandle(displayName);
    const taken = this.db.prepare('SELECT 1 FROM accounts WHERE handle = ?').pluck();
    let handle = base;
    for (let n = 2; taken.get(handle); n++) handle = `${base}-${n}`;
    return Number(this.db.prepare('INSERT INTO accounts (handle, created_at) VALUES (?, ?)').run(handle, now).lastInsertRowid);
  }

  /** The identity of a platform user, if they were seen before; reads only (ensureIdentity creates). */
  findIdentity(platform: Platform, serverId: string, userId: string): Identity | undefined {
    return read('find identity', () => {
      const row = this.db.prepare('SELECT * FROM identities WHERE platform = ? AND server_id = ? AND user_id = ?').get(platform, serverId, userId) as
        | Record<string, unknown>
        | undefined;
      return row ? toIdentity(row) : undefined;
    });
  }

  get(accountId: number): Account {
    return read('read account', () => {
      const row = this.db.prepare('SELECT id, handle, created_at FROM accounts WHERE id = ?').get(accountId) as Record<string, unknown> | undefined;
      if (!row) throw new StorageError('NOT_FOUND', `No account ${accountId}.`);
      const identities = (this.db.prepare('SELECT * FROM identities WHERE account_id = ? ORDER BY id').all(accountId) as Record<string, unknown>[]).map(
        toIdentity,
      );
      return { id: row.id as number, handle: row.handle as string, createdAt: row.created_at as number, identities };
    });
  }

  findByHandle(handle: string): Account | undefined {
    const id = read('find account', () => this.db.prepare('SELECT id FROM accounts WHERE handle = ?').pluck().get(handle) as number | undefined);
    return id === undefined ? undefined : this.get(id);
  }

  /**
   * Issues a one-time code for the account, to be redeemed from the other platform within ttlMs. Only
   * the code's hash is stored; any older code of the same account and platform stops working.
   */
  issueLinkCode(issuer: { accountId: number; platform: Platform }, ttlMs: number = LINK_CODE_TTL_MS): { code: string; expiresAt: number } {
    let code = '';
    for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    return write(this.db, 'issue link code', () => {
      const now = this.clock();
      this.db.prepare('DELETE FROM link_codes WHERE expires_at <= ? OR (account_id = ? AND platform = ?)').run(now, issuer.accountId, issuer.platform);
      const expiresAt = now + ttlMs;
      this.db
        .prepare('INSERT INTO link_codes (code_hash, account_id, platform, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(hashCode(code), issuer.accountId, issuer.platform, now, expiresAt);
      return { code, expiresAt };
    });
  }

  /**
   * Redeems a code from the other platform: the redeemer's account (identities, presets, stars,
   * history) joins the issuer's. Returns the surviving account. Wrong, used or expired codes all give
   * LINK_CODE_INVALID (no hint which, so codes cannot be probed).
   */
  redeemLinkCode(code: string, redeemer: { accountId: number; platform: Platform }): Account {
    const accountId = write(this.db, 'redeem link code', () => {
      const now = this.clock();
      const row = this.db.prepare('SELECT account_id, platform, expires_at FROM link_codes WHERE code_hash = ?').get(hashCode(code)) as
        | { account_id: number; platform: Platform; expires_at: number }
        | undefined;
      if (!row || row.expires_at <= now) throw new StorageError('LINK_CODE_INVALID', 'That link code is wrong or has expired; ask for a new one.');
      if (row.platform === redeemer.platform) {
        throw new StorageError('LINK_CODE_INVALID', `Redeem the code on the other platform, not on ${redeemer.platform}.`, { reason: 'same-platform' });
      }
      if (row.account_id === redeemer.accountId) throw new StorageError('ALREADY_LINKED', 'These identities are already linked.');
      const clash = this.db.prepare('SELECT 1 FROM identities WHERE account_id = ? AND platform = ?').get(row.account_id, redeemer.platform);
      if (clash) throw new StorageError('ALREADY_LINKED', `That account is already linked to a ${redeemer.platform} identity.`);
      this.db.prepare('DELETE FROM link_codes WHERE code_hash = ?').run(hashCode(code));
      mergeAccounts(this.db, redeemer.accountId, row.account_id);
      return row.account_id;
    });
    // A merge moves identities, presets and stars: rare, so the read model simply reads everything again.
    this.model.current?.reload();
    return this.get(accountId);
  }
}
