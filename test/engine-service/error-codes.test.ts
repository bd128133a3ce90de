/**
 * The error table in docs/engine-api.md against the code list and the HTTP statuses the server sends, so
 * the two cannot drift; and storage or file-system failures mapped to their codes, never INTERNAL.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_ERROR_CODES } from '../../src/engine/client/api-types.js';
import { HTTP_STATUS, ServiceError, toApiError } from '../../src/engine/service/service-error.js';
import { StorageError, STORAGE_ERROR_CODES } from '../../src/storage/index.js';
import { repoRoot } from '../helpers/paths.js';

/** code -> the HTTP status written in the docs' error table. */
function documentedStatuses(): Map<string, number> {
  const text = readFileSync(join(repoRoot, 'docs', 'engine-api.md'), 'utf8');
  const section = text.slice(text.indexOf('## Errors'));
  const rows = section.split('\n').filter((l) => /^\| [A-Z_]/.test(l));
  const out = new Map<string, number>();
  for (const row of rows) {
    const [codes, status] = row.split('|').slice(1, 3).map((c) => c.trim());
    for (const code of codes!.split(',').map((c) => c.trim())) {
      expect(out.has(code), `${code} is listed twice`).toBe(false);
      out.set(code, Number(/^\d{3}/.exec(status!)?.[0]));
    }
  }
  return out;
}

describe('API error codes', () => {
  it('docs/engine-api.md lists every code once, with the status the server sends', () => {
    const documented = documentedStatuses();
    expect([...documented.keys()].sort()).toEqual([...API_ERROR_CODES].sort());
    for (const code of API_ERROR_CODES) expect(documented.get(code), code).toBe(HTTP_STATUS[code]);
  });

  it('maps every storage failure to a typed code (a full disk is 507 IO_FAILED), never INTERNAL', () => {
    for (const code of STORAGE_ERROR_CODES) {
      const api = toApiError(new StorageError(code, `storage said ${code}`));
      expect(api.code, code).not.toBe('INTERNAL');
      expect(HTTP_STATUS[api.code], code).not.toBe(500);
    }
    const full = toApiError(new StorageError('DISK_FULL', 'queue job: the disk is full.'));
    expect([full.code, HTTP_STATUS[full.code]]).toEqual(['IO_FAILED', 507]);
    expect(toApiError(new StorageError('INVALID_INPUT', 'recipe must be 1-1000 printable characters.')).code).toBe('BAD_REQUEST');
    // A raw file-system error (a write outside the atomic-file helper) is IO_FAILED too.
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    expect(toApiError(enospc)).toMatchObject({ code: 'IO_FAILED', message: 'the disk is full' });
    expect(toApiError(new TypeError('x is undefined')).code).toBe('INTERNAL');
  });
});

describe('ServiceError', () => {
  it('captures no stack (an answer, not a fault) and leaves stack capture on for other errors', () => {
    const limit = Error.stackTraceLimit;
    const e = new ServiceError('OWNER_LIMIT', 'full', { retryAfterMs: 1000 });
    expect([e.code, e.message, e.extra.retryAfterMs, e.name]).toEqual(['OWNER_LIMIT', 'full', 1000, 'ServiceError']);
    expect(e.stack?.split('\n')).toHaveLength(1);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('x').stack?.split('\n').length).toBeGreaterThan(1);
  });
});
