/**
 * The message catalogues: every user-visible string of the pages, in English and
 * French. Each area keeps its messages in its own file; a French entry missing
 * from any of them fails the type check.
 */
import * as core from './core';

export const en = { ...core.en };
export const fr: Record<keyof typeof en, string> = { ...core.fr };
export type MessageKey = keyof typeof en;
