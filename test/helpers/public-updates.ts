import type { Staff } from '../../src/db/schema';
import type { Deps } from '../../src/deps';
import { approveUpdate, createDraft, submitForApproval, type DraftInput } from '../../src/updates/lifecycle';
import type { TestClock } from './app';

/** Figures and needs as the compose form would send them. */
export function draftInput(campaignId: number, over: Partial<DraftInput> = {}): DraftInput {
  return {
    campaignId,
    leads: { fr: 'Séisme : nos équipes distribuent de l’eau à Jérémie.', en: 'Earthquake: our teams are distributing water in Jérémie.' },
    needs: [
      { item: 'bâches', quantity: '4000', unit: 'unités', urgency: 'critical' },
      { item: 'eau potable', quantity: '12000', unit: 'litres', urgency: 'high' },
    ],
    raised: '45200',
    goal: '100000',
    currency: 'EUR',
    donors: '812',
    asOf: '2026-11-20T18:00:00Z',
    link: '',
    imageAlt: '',
    ...over,
  };
}

/**
 * Writes, submits and approves an update through the real lifecycle (author → second person), one minute after
 * the previous one so the order of publication is the order of calls.
 */
export async function publishUpdate(deps: Deps, clock: TestClock, people: { author: Staff; approver: Staff }, input: DraftInput): Promise<number> {
  clock.advance(60_000);
  const id = await createDraft(deps, people.author, input);
  await submitForApproval(deps, people.author, id);
  await approveUpdate(deps, people.approver, id, undefined, '', '127.0.0.1');
  return id;
}
