/**
 * Interactions the fake has dispatched, with the rules Discord enforces on their tokens: the first
 * callback within 3 s, only one callback, webhook routes valid for 15 minutes (tests expire a token
 * on demand instead of waiting).
 */
export interface FakeInteraction {
  readonly id: string;
  readonly token: string;
  readonly type: number;
  readonly channelId: string;
  readonly createdAt: number;
  /** The message a component interaction was on. */
  readonly sourceMessageId?: string;
  callbackType?: number;
  callbackData?: Record<string, unknown>;
  ackedAt?: number;
  ephemeral?: boolean;
  originalMessageId?: string;
  /** Whether the deferred original was edited (the first follow-up edits it otherwise). */
  originalEdited?: boolean;
  expired?: boolean;
}

export class InteractionBook {
  private readonly byToken = new Map<string, FakeInteraction>();
  private readonly byId = new Map<string, FakeInteraction>();

  add(i: FakeInteraction): void {
    this.byToken.set(i.token, i);
    this.byId.set(i.id, i);
  }

  byIdAndToken(id: string, token: string): FakeInteraction | undefined {
    const i = this.byId.get(id);
    return i && i.token === token ? i : undefined;
  }

  get(token: string): FakeInteraction | undefined {
    return this.byToken.get(token);
  }

  /** Pretends 15 minutes passed: webhook routes for this token now answer 401 / 50027. */
  expire(token: string): void {
    const i = this.byToken.get(token);
    if (i) i.expired = true;
  }

  all(): FakeInteraction[] {
    return [...this.byId.values()];
  }
}
