/**
 * The application commands as plain data (what deploy-commands PUTs). One `/asyrp <direction>`
 * subcommand per direction of the default model, so `/asyrp smile strength:0.8` works as typed;
 * `/asyrp edit recipe:` for mixes and presets; groups for presets and admin settings; the message
 * context-menu command. Built from the engine's model list, never from a hard-coded one.
 */
import { ApplicationCommandOptionType as O, ApplicationCommandType, ApplicationIntegrationType, InteractionContextType } from 'discord.js';
import type { RESTPostAPIApplicationCommandsJSONBody, APIApplicationCommandOption } from 'discord.js';
import type { ModelInfo } from '../../engine/client/api-types.js';

export const COMMAND_NAME = 'asyrp';
export const CONTEXT_MENU_NAME = 'Edit with Asyrp';
/** Subcommand names the bot uses itself; a direction with one of these names is reachable via `edit`. */
const RESERVED = new Set(['edit', 'history', 'help', 'link', 'preset', 'admin']);
/** Discord allows 25 subcommands and groups per command; 6 are ours. */
const MAX_DIRECTION_SUBCOMMANDS = 19;

const imageOption = { type: O.Attachment, name: 'image', description: 'The image to edit (default: the latest image here)' } as const;
const presetName = (description = 'Preset name, or @user/name') =>
  ({ type: O.String, name: 'name', description, required: true, autocomplete: true, max_length: 100 }) as const;

function presetGroup(): APIApplicationCommandOption {
  const scope = {
    type: O.String,
    name: 'scope',
    description: 'Who can use it',
    choices: ['private', 'server', 'public'].map((s) => ({ name: s, value: s })),
  } as const;
  return {
    type: O.SubcommandGroup,
    name: 'preset',
    description: 'Save, share and use recipes',
    options: [
      { type: O.Subcommand, name: 'save', description: 'Save a recipe under a name', options: [
        { type: O.String, name: 'name', description: 'a-z, 0-9, - and _', required: true, max_length: 32 },
        { type: O.String, name: 'recipe', description: 'e.g. smile:0.8 glasses:0.5', required: true, autocomplete: true, max_length: 500 },
        scope,
        { type: O.String, name: 'description', description: 'What it does', max_length: 200 },
      ] },
      { type: O.Subcommand, name: 'use', description: 'Edit an image with a preset', options: [presetName(), { type: O.Number, name: 'strength', description: 'Multiplier (default 1)', min_value: -3, max_value: 3 }, imageOption] },
      { type: O.Subcommand, name: 'list', description: 'Your presets, or the top / new / trending ones here', options: [
        { type: O.String, name: 'which', description: 'Which list', choices: ['mine', 'top', 'new', 'trending'].map((s) => ({ name: s, value: s })) },
      ] },
      { type: O.Subcommand, name: 'info', description: 'What a preset does', options: [presetName()] },
      { type: O.Subcommand, name: 'share', description: 'Change who can use your preset', options: [presetName('Your preset'), { ...scope, required: true }] },
      { type: O.Subcommand, name: 'star', description: 'Star a preset', options: [presetName()] },
      { type: O.Subcommand, name: 'delete', description: 'Delete your preset (admins: a server preset)', options: [presetName()] },
      { type: O.Subcommand, name: 'fork', description: 'Copy a preset into your own', options: [presetName(), { type: O.String, name: 'new_name', description: 'Name of your copy', max_length: 32 }] },
    ],
  };
}

function adminGroup(): APIApplicationCommandOption {
  return {
    type: O.SubcommandGroup,
    name: 'admin',
    description: 'Server settings (Manage Server)',
    options: [
      { type: O.Subcommand, name: 'emoji', description: 'Map an emoji to a recipe (empty recipe removes it)', options: [
        { type: O.String, name: 'emoji', description: 'The emoji', required: true, max_length: 64 },
        { type: O.String, name: 'recipe', description: 'Recipe or preset; leave out to remove', autocomplete: true, max_length: 500 },
      ] },
      { type: O.Subcommand, name: 'limits', description: 'Edits per hour (0 = none, leave out = no limit)', options: [
        { type: O.Integer, name: 'per_user', description: 'Per person per hour', min_value: 0, max_value: 100000 },
        { type: O.Integer, name: 'per_server', description: 'For the whole server per hour', min_value: 0, max_value: 100000 },
      ] },
      { type: O.Subcommand, name: 'channels', description: 'Where edits are allowed', options: [
        { type: O.String, name: 'channels', description: 'Channel mentions or ids, or "all"', required: true, max_length: 1000 },
      ] },
      { type: O.Subcommand, name: 'reactions', description: 'Turn emoji reactions on or off', options: [
        { type: O.Boolean, name: 'enabled', description: 'On or off', required: true },
      ] },
    ],
  };
}

export function directionSubcommands(model: ModelInfo): { name: string; description: string; defaultStrength: number }[] {
  return model.directions
    .filter((d) => /^[a-z0-9_-]{1,32}$/.test(d.name) && !RESERVED.has(d.name))
    .slice(0, MAX_DIRECTION_SUBCOMMANDS)
    .map((d) => ({ name: d.name, description: (d.description || `Edit: ${d.name}`).slice(0, 100), defaultStrength: d.defaultStrength }));
}

/**
 * Server channels only, installed to a server: limits, emoji maps, channel lists and shared presets are
 * all per server, and direct messages are not supported (yet).
 */
const WHERE = { contexts: [InteractionContextType.Guild], integration_types: [ApplicationIntegrationType.GuildInstall] };

export function buildCommands(model: ModelInfo): RESTPostAPIApplicationCommandsJSONBody[] {
  const directions: APIApplicationCommandOption[] = directionSubcommands(model).map((d) => ({
    type: O.Subcommand,
    name: d.name,
    description: d.description,
    options: [{ type: O.Number, name: 'strength', description: `How much (default ${d.defaultStrength}; -3 to 3)`, min_value: -3, max_value: 3 }, imageOption],
  }));
  return [
    {
      name: COMMAND_NAME,
      description: 'Edit faces in images with Asyrp',
      type: ApplicationCommandType.ChatInput,
      ...WHERE,
      options: [
        ...directions,
        { type: O.Subcommand, name: 'edit', description: 'Edit with a recipe: directions, strengths, presets', options: [
          { type: O.String, name: 'recipe', description: 'e.g. smile:0.8 glasses:0.5 or @alice/vintage', required: true, autocomplete: true, max_length: 500 },
          imageOption,
        ] },
        { type: O.Subcommand, name: 'history', description: 'Your last 10 edits' },
        { type: O.Subcommand, name: 'help', description: 'How to use the bot' },
        { type: O.Subcommand, name: 'link', description: 'Join your Discord and Slack accounts (no code: get one; with a code from Slack: redeem it)', options: [
          { type: O.String, name: 'code', description: 'A link code issued on Slack', max_length: 64 },
        ] },
        presetGroup(),
        adminGroup(),
      ],
    },
    { name: CONTEXT_MENU_NAME, type: ApplicationCommandType.Message, ...WHERE },
  ];
}
