/**
 * The message catalogues: every user-visible string of the pages, in English and
 * French. Each area keeps its messages in its own file; a French entry missing
 * from any of them fails the type check.
 */
import * as core from './core';
import * as inbox from './inbox';
import * as publicPages from './public';
import * as subscribers from './subscribers';
import * as updates from './updates';
import * as webhooks from './webhooks';

export const en = { ...core.en, ...inbox.en, ...updates.en, ...subscribers.en, ...publicPages.en, ...webhooks.en };
export const fr: Record<keyof typeof en, string> = { ...core.fr, ...inbox.fr, ...updates.fr, ...subscribers.fr, ...publicPages.fr, ...webhooks.fr };
export type MessageKey = keyof typeof en;
