import type { Deps } from '../deps';
import { safeEqual, sign } from '../staff/tokens';

/**
 * The Reply-To of a delivery's email: `reply+<delivery id>.<signature>@<host>`, so
 * an answer routed back to Tocsin names the delivery it answers and cannot be forged
 * to name another.
 */
export function replyAddress(deps: Pick<Deps, 'config' | 'secret'>, deliveryId: number): string {
  const host = new URL(deps.config.PUBLIC_URL).hostname;
  return `reply+${deliveryId}.${sign(deps.secret, `reply:${deliveryId}`).slice(0, 16)}@${host}`;
}

/** The delivery id in a reply address, or null when it is not one of ours or was tampered with. */
export function deliveryIdFromReplyAddress(deps: Pick<Deps, 'secret'>, address: string): number | null {
  const m = /reply\+(\d+)\.([A-Za-z0-9_-]{16})@/i.exec(address);
  if (!m) return null;
  const id = Number(m[1]);
  return safeEqual(m[2]!, sign(deps.secret, `reply:${id}`).slice(0, 16)) ? id : null;
}
