import type { Context } from 'hono';
import type { Language, Staff } from '../db/schema';
import type { Translate } from '../i18n';

/** What middleware puts on every request's context for the routes and pages. */
export interface AppEnv {
  Variables: {
    requestId: string;
    lang: Language;
    t: Translate;
    csrf: string;
    staff: Staff | null;
    sessionId: number | null;
    sessionExpired: boolean;
  };
}

export type AppContext = Context<AppEnv>;

/** What a page template needs to know about the request rendering it. */
export interface Ui {
  lang: Language;
  t: Translate;
  csrf: string;
  staff: Staff | null;
  path: string;
  foundation: string;
  /** Some channel has no provider: the dev outbox is worth a link. */
  devOutbox: boolean;
}
