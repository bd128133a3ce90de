/** The engine's address as a bot or the supervisor reaches it. */

/** `configured` (a platform's engineUrl setting) when set, else the local engine's host and port; an IPv6 host goes in brackets. */
export function engineUrl(engine: { readonly host: string; readonly port: number }, configured: string | null = null): string {
  if (configured) return configured;
  const host = engine.host.includes(':') ? `[${engine.host}]` : engine.host;
  return `http://${host}:${engine.port}`;
}
