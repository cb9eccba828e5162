import type { Campaign, Language, Need, UpdateStatus } from '../db/schema';

/** An update with its texts, as rendering and pages use it. */
export interface UpdateView {
  id: number;
  campaignId: number;
  status: UpdateStatus;
  leads: Partial<Record<Language, string>>;
  /** Languages whose SMS uses the accepted GSM-7 rewrite. */
  smsGsm7: Language[];
  needs: Need[];
  raised: string | null;
  goal: string | null;
  currency: string | null;
  donors: number | null;
  asOf: Date | null;
  link: string | null;
  imageId: number | null;
  imageAlt: string | null;
  correctsId: number | null;
  authorId: number | null;
  publishedAt: Date | null;
  updatedAt: Date;
  /** Bumped by every change (see the migration). */
  version: number;
}

/** Everything a message template needs to render one update in one language. */
export interface RenderContext {
  update: UpdateView;
  campaign: Campaign;
  lang: Language;
  foundation: string;
  /** The update's own page: where links lead when the update has none. */
  permalink: string;
  /** The update this one corrects, when it is a correction. */
  corrects: { id: number; permalink: string; publishedAt: Date | null } | null;
  timeZone: string;
}
