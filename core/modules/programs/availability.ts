/** A program's availability settings: the switch and the optional window (epoch ms). */
export interface AvailabilityWindow {
  available: boolean;
  availableFrom: number | null;
  availableUntil: number | null;
}

/** Whether learners may work on a program at `now`, and if not, why (for the reason they read). */
export type Availability = { open: true } | { open: false; reason: 'switched_off' } | { open: false; reason: 'not_yet' | 'ended'; at: number };

/**
 * The one availability rule (DOMAIN 3): the switch is on and `now` lies inside the window, both ends
 * inclusive. The launch guard, the learner pages and the home page all ask this, in code or as
 * {@link availableNowSql}.
 */
export function availabilityAt(window: AvailabilityWindow, now: number): Availability {
  if (!window.available) return { open: false, reason: 'switched_off' };
  if (window.availableFrom !== null && now < window.availableFrom) return { open: false, reason: 'not_yet', at: window.availableFrom };
  if (window.availableUntil !== null && now > window.availableUntil) return { open: false, reason: 'ended', at: window.availableUntil };
  return { open: true };
}

/** {@link availabilityAt} as a WHERE condition on `programs` under `alias`; bind `availableNowBindings(now)`. */
export function availableNowSql(alias: string): string {
  return `${alias}.available = ? AND (${alias}.available_from IS NULL OR ${alias}.available_from <= ?) AND (${alias}.available_until IS NULL OR ${alias}.available_until >= ?)`;
}

export function availableNowBindings(now: number): [boolean, number, number] {
  return [true, now, now];
}
