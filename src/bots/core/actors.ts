/** The storage Actor for a Requester: finds or creates their account on first contact. */
import type { Actor, ReadModel, Storage } from '../../storage/index.js';
import type { Requester } from './types.js';

export function actorFor(storage: Storage, who: Requester): Actor {
  const identity = storage.accounts.ensureIdentity({
    platform: who.platform,
    serverId: who.serverId,
    userId: who.userId,
    displayName: who.displayName.slice(0, 100) || 'user',
  });
  return { accountId: identity.accountId, platform: who.platform, serverId: who.serverId, isServerAdmin: who.isServerAdmin };
}

/**
 * The Actor for checks made before the platform's acknowledgement: the same account when the person was
 * seen before, else a stand-in with no account (it owns no presets, so it sees only shared ones, which is
 * all a first-time user could use anyway). From storage's read model, in memory: the account is created
 * by actorFor after the ack.
 */
export function knownActor(model: ReadModel, who: Requester): Actor {
  const accountId = model.accountIdOf(who.platform, who.serverId, who.userId);
  return { accountId: accountId ?? 0, platform: who.platform, serverId: who.serverId, isServerAdmin: who.isServerAdmin };
}

/** The engine's fairness key: one owner per person per server. */
export const engineOwner = (who: Requester) => `${who.platform}:${who.serverId}:${who.userId}`;
