import { insertAuditEntry } from '../db/audit';
import { findCampaignById, findKeywordOwners, replaceCampaignKeywords, type CampaignWithKeywords } from '../db/campaigns';
import type { Language, Staff } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { isLanguage } from '../i18n';
import { invalid, type FieldError } from '../staff/validate';
import { isCurrency, parseAmount } from '../updates/money';

export interface CampaignInput {
  name: string;
  slug: string;
  keywords: string;
  hashtag: string;
  languages: string[];
  goal: string;
  currency: string;
  donate_url: string;
  active?: boolean;
}

/** Keywords are matched without case or accents, so they are stored that way: "Haïti" → HAITI. */
export function normalizeKeyword(word: string): string {
  return word.normalize('NFD').replace(/\p{Diacritic}/gu, '').toUpperCase().trim();
}

// Words the SMS webhook answers itself; a campaign may not claim them.
const reservedKeywords = new Set(
  'JOIN START YES UNSTOP ABONNER OUI STOP STOPALL UNSUBSCRIBE CANCEL END QUIT REVOKE OPTOUT ARRET DESABONNER HELP INFO AIDE'.split(' '),
);

function validate(input: CampaignInput, errors: FieldError[]) {
  const name = input.name.trim();
  if (!name) errors.push({ field: 'name', key: 'form.required', vars: { field: 'name' } });
  else if (name.length > 120) errors.push({ field: 'name', key: 'form.tooLong', vars: { field: 'name', max: 120 } });
  const slug = input.slug.trim().toLowerCase();
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug) || slug.length > 60) errors.push({ field: 'slug', key: 'campaign.slugInvalid' });
  const keywords = [...new Set(input.keywords.split(/[\s,;]+/).map(normalizeKeyword).filter(Boolean))];
  for (const k of keywords) {
    if (!/^[A-Z0-9]{2,20}$/.test(k)) errors.push({ field: 'keywords', key: 'campaign.keywordInvalid', vars: { keyword: k } });
    else if (reservedKeywords.has(k)) errors.push({ field: 'keywords', key: 'campaign.keywordReserved', vars: { keyword: k } });
  }
  let hashtag: string | null = input.hashtag.trim().replace(/^#/, '');
  if (!hashtag) hashtag = null;
  else if (!/^[\p{L}\p{N}_]{1,50}$/u.test(hashtag)) errors.push({ field: 'hashtag', key: 'campaign.hashtagInvalid' });
  const languages = [...new Set(input.languages)];
  if (!languages.length) errors.push({ field: 'languages', key: 'campaign.languagesRequired' });
  else if (!languages.every(isLanguage)) errors.push({ field: 'languages', key: 'form.invalidChoice', vars: { field: 'languages' } });
  const currency = input.currency.trim().toUpperCase();
  if (!isCurrency(currency)) errors.push({ field: 'currency', key: 'update.currencyInvalid', vars: { currency } });
  let goal: string | null = null;
  if (input.goal.trim()) {
    const parsed = parseAmount(input.goal);
    if (parsed === null) errors.push({ field: 'goal', key: 'update.amountInvalid', vars: { field: 'goal' } });
    else goal = parsed;
  }
  let donateUrl: string | null = input.donate_url.trim() || null;
  if (donateUrl && !/^https?:\/\/[^\s]+$/.test(donateUrl)) {
    errors.push({ field: 'donate_url', key: 'form.urlInvalid' });
    donateUrl = null;
  }
  return { name, slug, keywords, hashtag, languages: languages as Language[], currency, goal, donate_url: donateUrl };
}

async function checkUnique(deps: Pick<Deps, 'db'>, id: number | null, slug: string, keywords: string[], errors: FieldError[]) {
  const sameSlug = await deps.db.selectFrom('campaigns').select('id').where('slug', '=', slug).executeTakeFirst();
  if (sameSlug && sameSlug.id !== id) errors.push({ field: 'slug', key: 'campaign.slugTaken' });
  for (const owner of await findKeywordOwners(deps.db, keywords)) {
    if (owner.campaign_id !== id) errors.push({ field: 'keywords', key: 'campaign.keywordTaken', vars: { keyword: owner.keyword } });
  }
}

export async function createCampaign(deps: Pick<Deps, 'db'>, admin: Staff, input: CampaignInput, ip: string): Promise<CampaignWithKeywords> {
  const errors: FieldError[] = [];
  const v = validate(input, errors);
  if (!errors.length) await checkUnique(deps, null, v.slug, v.keywords, errors);
  if (errors.length) throw invalid(errors);
  const id = await deps.db.transaction().execute(async (trx) => {
    const { keywords, ...row } = v;
    const created = await trx.insertInto('campaigns').values({ ...row, created_by: admin.id }).returning('id').executeTakeFirstOrThrow();
    await replaceCampaignKeywords(trx, created.id, keywords);
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'campaign.created', target: v.slug, ip });
    return created.id;
  });
  return (await findCampaignById(deps.db, id))!;
}

export async function updateCampaign(deps: Pick<Deps, 'db'>, admin: Staff, id: number, input: CampaignInput, ip: string): Promise<void> {
  const existing = await findCampaignById(deps.db, id);
  if (!existing) throw new AppError('NOT_FOUND', 'No campaign with this id.');
  const errors: FieldError[] = [];
  const v = validate(input, errors);
  if (!errors.length) await checkUnique(deps, id, v.slug, v.keywords, errors);
  if (errors.length) throw invalid(errors);
  await deps.db.transaction().execute(async (trx) => {
    const { keywords, ...row } = v;
    await trx.updateTable('campaigns').set({ ...row, active: input.active ?? existing.active }).where('id', '=', id).execute();
    await replaceCampaignKeywords(trx, id, keywords);
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'campaign.updated', target: v.slug, ip });
  });
}
