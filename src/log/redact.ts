/**
 * What the log must never hold, in one place: secret field names, secret shapes in free text, and the
 * configured secret values themselves. Every line the logger writes passes through redactArgs(), so a
 * token that reaches a message (an error's text, a URL, a request body a library logs) is cut there.
 */

/** Fields whose value is a secret whatever it looks like (compared without case, - and _). */
const SECRET_KEYS = new Set(
  ['token', 'bottoken', 'apptoken', 'signingsecret', 'secret', 'password', 'authorization', 'cookie', 'apikey', 'responseurl', 'urlprivate', 'urlprivatedownload'],
);

const CENSOR = '[redacted]';

/** Secret shapes in free text, each replaced by what keeps the line readable. */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  // Discord interaction and webhook tokens live in URL paths.
  [/((?:interactions|webhooks)\/\d+\/)[^/?\s"']+/g, `$1${CENSOR}`],
  // Authorization headers.
  [/\b(Bot|Bearer)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${CENSOR}`],
  // Discord bot tokens: base64 user id, timestamp and HMAC joined by dots.
  [/\b[A-Za-z0-9_-]{23,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{27,}\b/g, CENSOR],
  // Slack bot, user and app tokens.
  [/\bxox[a-z]-[A-Za-z0-9-]+/g, `xox?-${CENSOR}`],
  [/\bxapp-[A-Za-z0-9-]+/g, `xapp-${CENSOR}`],
  // Slack response_url (a 30-minute bearer capability) and similar hook URLs.
  [/https?:\/\/[^\s"'<>]*\/(?:commands|actions|response)\/[^\s"'<>]*/g, `[response_url ${CENSOR}]`],
  // key=value or "key": "value" pairs whose key names a secret.
  [/("?)(token|secret|password|signing_secret|response_url|url_private(?:_download)?)\1(\s*[:=]\s*)"?[^\s",}&]+"?/gi, `$2$3${CENSOR}`],
];

export class Redactor {
  private readonly values: string[];

  /** `secrets` are the configured secret values (tokens, signing secrets); each is cut wherever it appears. */
  constructor(secrets: readonly (string | null | undefined)[] = []) {
    // Longest first, so a secret that contains another is cut whole. Very short values would cut ordinary words.
    this.values = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 8))].sort((a, b) => b.length - a.length);
  }

  text(s: string): string {
    let out = s;
    for (const v of this.values) out = out.split(v).join(CENSOR);
    for (const [re, to] of SECRET_PATTERNS) out = out.replace(re, to);
    return out;
  }

  /** A copy of `v` with secret fields censored and every string redacted; depth-limited, cycles cut. */
  value(v: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
    if (typeof v === 'string') return this.text(v);
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v) || depth > 6) return '[…]';
    seen.add(v);
    if (v instanceof Error) {
      const code = (v as { code?: unknown }).code;
      return { type: v.name, message: this.text(v.message), ...(code !== undefined ? { code: String(code) } : {}), stack: v.stack ? this.text(v.stack) : undefined };
    }
    if (Array.isArray(v)) return v.map((x) => this.value(x, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = isSecretKey(k) && x !== null && x !== undefined ? CENSOR : this.value(x, depth + 1, seen);
    return out;
  }
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
}
