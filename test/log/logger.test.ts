import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { formatLine } from '../../src/log/pretty.js';
import { memoryLog } from '../helpers/memory-log.js';

describe('the structured logger', () => {
  it('writes one JSON object per line with level, time, message and fields', () => {
    const m = memoryLog();
    m.log.info('listening', { port: 7860 });
    expect(m.records).toHaveLength(1);
    expect(m.records[0]).toMatchObject({ level: 'info', msg: 'listening', port: 7860 });
    expect(Date.parse(String(m.records[0]!.time))).not.toBeNaN();
  });

  it('puts a child logger\'s bindings (the job or interaction id) on every line it writes', () => {
    const m = memoryLog();
    const job = m.log.child({ job: 'j_1' });
    job.info('queued');
    job.child({ step: 3 }).warn('slow');
    m.log.info('unrelated');
    expect(m.records.map((r) => r.job)).toEqual(['j_1', 'j_1', undefined]);
    expect(m.records[1]).toMatchObject({ job: 'j_1', step: 3, level: 'warn', msg: 'slow' });
  });

  it('drops lines below the configured level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', pretty: false, destination: { write: (l) => lines.push(l) } });
    log.debug('no');
    log.info('no');
    log.warn('yes');
    log.error('yes');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['yes', 'yes']);
  });

  it('cuts configured secrets and known secret shapes from messages, fields, errors and bindings', () => {
    const secret = 'configured-engine-token-123';
    const m = memoryLog([secret]);
    const discordToken = `${'M'.repeat(24)}.${'a'.repeat(6)}.${'b'.repeat(27)}`;
    m.log.error(`request with ${secret} failed`, { err: new Error(`auth ${secret} refused`), botToken: 'anything', nested: { signing_secret: 's' } });
    m.log.warn(`PATCH /webhooks/123/tok-abc/messages, Authorization: Bot ${discordToken}`);
    m.log.info('slack', { url: 'https://hooks.example/commands/T1/123/abc', t: 'xoxb-1-2-abc', a: 'xapp-1-A-2-def' });
    m.log.child({ who: `bearer of ${secret}` }).info('child');
    const text = m.records.map((r) => JSON.stringify(r)).join('\n');
    for (const leaked of [secret, 'tok-abc', discordToken, 'anything', '"s"', 'xoxb-1', 'xapp-1', '/commands/T1']) expect(text).not.toContain(leaked);
    expect(m.records[0]).toMatchObject({ msg: 'request with [redacted] failed', botToken: '[redacted]', nested: { signing_secret: '[redacted]' } });
    expect((m.records[0]!.err as { message: string }).message).toBe('auth [redacted] refused');
  });

  it('is human-readable on a terminal and JSON elsewhere', () => {
    const tty: string[] = [];
    const log = createLogger({ destination: { write: (l) => tty.push(l), isTTY: true }, bindings: { component: 'engine' } });
    log.child({ job: 'j_9' }).warn('job failed', { code: 'TIMEOUT' });
    expect(tty[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}engine job=j_9 job failed code=TIMEOUT\n$/);

    const pipe: string[] = [];
    createLogger({ destination: { write: (l) => pipe.push(l), isTTY: false } }).info('x');
    expect(JSON.parse(pipe[0]!)).toMatchObject({ level: 'info', msg: 'x' });
  });

  it('formats an error with its stack below the line, and passes a non-JSON line through', () => {
    const line = JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: 'boom', err: { message: 'bad', stack: 'Error: bad\n    at f' } });
    expect(formatLine(line)).toMatch(/ERROR boom\n {4}Error: bad\n {8}at f\n$/);
    expect(formatLine('plain text\n')).toBe('plain text\n');
  });
});
