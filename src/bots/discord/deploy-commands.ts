/**
 * Registers the commands over REST only (never on ready: Discord limits command creates per day).
 * Guild scope for development (instant), global scope for release (can take up to an hour).
 */
import { REST, Routes } from 'discord.js';
import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';

export interface DeployOptions {
  readonly token: string;
  readonly appId: string;
  readonly restApi: string | null;
  readonly guildId?: string | null;
  readonly commands: RESTPostAPIApplicationCommandsJSONBody[];
}

export async function deployCommands(o: DeployOptions): Promise<number> {
  const rest = new REST(o.restApi ? { api: o.restApi } : {}).setToken(o.token);
  const route = o.guildId ? Routes.applicationGuildCommands(o.appId, o.guildId) : Routes.applicationCommands(o.appId);
  const saved = (await rest.put(route, { body: o.commands })) as unknown[];
  return saved.length;
}
