/**
 * Bench-only preload for a bot child (node --import): records, in the bot's own process, when each HTTP
 * request arrived and when its answer was finished, every GC pause, and a 5 ms tick that reads the main
 * thread's scheduler counters (/proc/thread-self/schedstat: CPU time, time runnable but waiting for a
 * core), and the outgoing HTTP calls it makes. A slow ack can then be told apart: the bot's loop busy (its CPU time grows), the bot's process
 * waiting for a core (its wait time grows), or the time outside the bot (sender, network). Written as
 * JSON to BOT_TRACE_FILE when the process exits.
 */
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const file = process.env.BOT_TRACE_FILE;
const now = () => performance.timeOrigin + performance.now();
const requests = [];
const gcs = [];
const ticks = [];
const calls = [];
const schedstat = () => {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return [run / 1e6, wait / 1e6];
  } catch {
    return [NaN, NaN];
  }
};

if (file) {
  const open = new WeakMap();
  const accepted = new Map();
  subscribe('net.server.socket', ({ socket }) => accepted.set(socket.remotePort, now()));
  subscribe('http.server.request.start', ({ request }) => open.set(request, now()));
  subscribe('http.server.response.finish', ({ request }) => {
    const start = open.get(request);
    if (start !== undefined) requests.push([start, now(), request.headers['x-bench-id'], accepted.get(request.socket?.remotePort)]);
  });
  // Calls the bot makes (Slack's Web API, file downloads, the engine): post-ack work, when it runs.
  subscribe('http.client.request.start', ({ request }) => calls.push([now(), `${request.method} ${String(request.path).split('?')[0]}`]));
  subscribe('undici:request:create', ({ request }) => calls.push([now(), `${request.method} ${String(request.path).split('?')[0]}`]));
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([performance.timeOrigin + e.startTime, e.duration, e.detail?.kind]);
  }).observe({ entryTypes: ['gc'] });
  const tick = () => {
    ticks.push([now(), ...schedstat()]);
    setTimeout(tick, 5).unref();
  };
  tick();
  // V8's CPU profile times are microseconds of the monotonic clock process.hrtime reads: this pair maps them.
  const clock = { hrtimeUs: Number(process.hrtime.bigint() / 1000n), at: now() };
  process.on('exit', () => writeFileSync(file, JSON.stringify({ pid: process.pid, clock, requests, gcs, ticks, calls })));
}
