import { createCampaign } from '../../src/campaigns/campaigns';
import type { Db } from '../../src/db/connection';
import type { Staff } from '../../src/db/schema';

let n = 0;
/** A campaign straight through the domain function, as an admin would create it. */
export async function createTestCampaign(db: Db, admin: Staff, over: Partial<Parameters<typeof createCampaign>[2]> = {}) {
  n += 1;
  return createCampaign({ db }, admin, {
    name: `Séisme en Haïti ${n}`,
    slug: `seisme-haiti-${n}-${Math.random().toString(36).slice(2, 6)}`,
    keywords: `HAITI${n}${Math.random().toString(36).slice(2, 5).toUpperCase().replace(/[^A-Z]/g, 'X')}`,
    hashtag: 'HaitiQuake',
    languages: ['fr', 'en'],
    goal: '100000',
    currency: 'EUR',
    donate_url: 'https://don.example.org/haiti',
    ...over,
  }, '127.0.0.1');
}
