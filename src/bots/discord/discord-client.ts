/**
 * Builds the discord.js client. Intents: guilds, guild messages (to find the latest image in a
 * channel), reactions; MESSAGE_CONTENT only when asked for, because it is privileged and Discord
 * refuses the login (close 4014) unless it is switched on in the developer portal.
 */
import { Client, GatewayIntentBits, Partials } from 'discord.js';

export interface DiscordClientOptions {
  /** REST base, e.g. http://127.0.0.1:PORT/api in tests; discord.js's default when null. */
  readonly restApi: string | null;
  readonly messageContent: boolean;
  /** Tests skip the 5 s identify spacing; production keeps Discord's limit. */
  readonly fastIdentify?: boolean;
}

export function createDiscordClient(o: DiscordClientOptions): Client {
  const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.GuildMessageReactions];
  if (o.messageContent) intents.push(GatewayIntentBits.MessageContent);
  return new Client({
    intents,
    // Reactions arrive for messages the client never cached; without partials discord.js drops them.
    partials: [Partials.Message, Partials.Channel, Partials.Reaction, Partials.User],
    // Preset names and recipes are user text: they must never ping @everyone, roles or people.
    allowedMentions: { parse: [], repliedUser: false },
    rest: {
      ...(o.restApi ? { api: o.restApi } : {}),
      // Uploads of results can be slow; a timeout would make discord.js post them twice.
      timeout: 60_000,
      ...(o.fastIdentify ? { offset: 0 } : {}),
    },
    ...(o.fastIdentify
      ? { waitGuildTimeout: 200, ws: { buildIdentifyThrottler: () => Promise.resolve({ waitForIdentify: async () => undefined }) } }
      : {}),
  });
}
