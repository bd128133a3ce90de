/**
 * Accounts and the platform identities that belong to them, plus one-time link codes.
 * A Discord user id is global, a Slack user id is per workspace; the identity row is per server either
 * way (display names differ per server), and accounts tie them together.
 */
import type { Migration } from './migration.js';

export const migration001: Migration = {
  version: 1,
  name: 'accounts',
  up(db) {
    db.exec(`
      CREATE TABLE accounts (
        id         INTEGER PRIMARY KEY,
        handle     TEXT    NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE identities (
        id           INTEGER PRIMARY KEY,
        account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        platform     TEXT    NOT NULL CHECK (platform IN ('discord', 'slack')),
        server_id    TEXT    NOT NULL,
        user_id      TEXT    NOT NULL,
        display_name TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        UNIQUE (platform, server_id, user_id)
      );
      CREATE INDEX identities_account ON identities (account_id);
      CREATE INDEX identities_user ON identities (platform, user_id);
      -- Only a hash of each code is stored: a copy of the database is not a way to hijack accounts.
      CREATE TABLE link_codes (
        code_hash  TEXT    PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        platform   TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX link_codes_expiry ON link_codes (expires_at);
    `);
  },
};
