/**
 * Slack signs every request over "v0:timestamp:body" and says to refuse a timestamp more than five
 * minutes from now, so that a captured request cannot be replayed later. Bolt's check refuses only the
 * old side: a request stamped ten minutes in the future passes and runs, and stays replayable for fifteen.
 * This check runs in front of Bolt's, on the header alone (before the body is read), in both directions.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** Slack's documented window, in seconds, either way. */
export const MAX_CLOCK_SKEW_S = 5 * 60;

/**
 * False only for a timestamp header that is present, a number, and too far from now. A missing or
 * malformed header is left to Bolt's verification, which refuses it with the same 401 (and lets Slack's
 * unsigned ssl_check probe through).
 */
export function isWithinClockSkew(header: string | string[] | undefined, nowMs: number): boolean {
  if (typeof header !== 'string' || !/^\d+$/.test(header)) return true;
  return Math.abs(Number(header) - nowMs / 1000) <= MAX_CLOCK_SKEW_S;
}

/** Wraps a receiver's request listener: a request stamped too far from now gets 401 and nothing runs. */
export function refuseSkewedRequests(listener: RequestListener, now: () => number = Date.now): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!isWithinClockSkew(req.headers['x-slack-request-timestamp'], now())) {
      req.resume(); // drain the body so the connection can close cleanly
      res.writeHead(401).end();
      return;
    }
    listener(req, res);
  };
}
