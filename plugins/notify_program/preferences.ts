import type { Database } from '../../core/index';
import { MESSAGE_TYPES } from './types';

export interface Preference {
  type: string;
  channel: string;
  enabled: boolean;
}

/**
 * Which channels a user wants per message type. Everything is on unless switched off, and only
 * what is off is stored (one row per user, type and channel), so a new channel or type reaches
 * everyone until they say otherwise.
 */
export class Preferences {
  constructor(private readonly db: Database) {}

  /** Every (type, channel) pair for the given channels, with the user's choice. */
  async list(userId: number, channels: readonly string[]): Promise<Preference[]> {
    const off = new Set(
      ((await this.db.knex('notify_program_preferences').where({ user_id: userId }).select('type', 'channel')) as Array<{ type: string; channel: string }>).map(
        (r) => `${r.type}:${r.channel}`,
      ),
    );
    return MESSAGE_TYPES.flatMap((type) => channels.map((channel) => ({ type, channel, enabled: !off.has(`${type}:${channel}`) })));
  }

  /** Applies the given choices (others unchanged), in one transaction. */
  async set(userId: number, choices: readonly Preference[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      for (const choice of choices) {
        const row = { user_id: userId, type: choice.type, channel: choice.channel };
        if (choice.enabled) await trx('notify_program_preferences').where(row).delete();
        else await trx('notify_program_preferences').insert(row).onConflict(['user_id', 'type', 'channel']).ignore();
      }
    });
  }
}
