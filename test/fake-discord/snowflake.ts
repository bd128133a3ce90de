/**
 * Realistic snowflakes. discord.js derives rate-limit buckets from /\d{17,19}/ in the route, so short
 * ids would collapse every route into one bucket and hide bugs.
 */
const DISCORD_EPOCH = 1_420_070_400_000n;
let counter = 0n;

export function snowflake(at: number = Date.now()): string {
  counter = (counter + 1n) % 4096n;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | counter).toString();
}
