import twilio from 'twilio';
import { findCampaignById, findKeywordOwners, listCampaigns } from '../db/campaigns';
import { claimInboundMessage, findInboundAnswer, setInboundAnswer } from '../db/inbound-messages';
import { findLatestSmsUpdateOf, insertReply } from '../db/replies';
import type { Language } from '../db/schema';
import type { NewConsentEntry, Subscriber } from '../db/schema-subscribers';
import {
  activateSubscriptions,
  clearChannelOptOut,
  countActiveSubscriptions,
  ensureSubscriberByPhone,
  findSubscriberByPhone,
  insertConsentEntries,
  setChannelOptOut,
  setPhoneInvalid,
  unsubscribeSubscriptions,
  updateSubscriberLanguage,
} from '../db/subscribers';
import type { Deps } from '../deps';
import { normalizeKeywordText, parseInboundSms, type InboundCommand } from './keywords';
import { normalizePhone } from './phone';
import { renderKeywordAnswer } from './sms-answers';

export interface InboundSms {
  messageSid: string;
  from: string;
  body: string;
  /** Twilio Advanced Opt-Out: STOP, START or HELP when the Messaging Service recognised a keyword. */
  optOutType?: string | undefined;
}

export interface InboundSmsResult {
  /** The TwiML to answer with (an empty <Response/> when there is nothing to say). */
  twiml: string;
  /** What was done, for logs and tests. */
  outcome: 'duplicate' | 'invalid_sender' | 'joined' | 'left' | 'help' | 'reply';
}

/**
 * One inbound SMS: a keyword changes subscriptions (with a consent-log entry) and is answered; anything else
 * is stored as a reply for the inbox. All of it, and the claim on the MessageSid, is one transaction: a retry
 * of the same message changes nothing and gets the same answer; a failure leaves nothing half done.
 *
 * When Twilio's Advanced Opt-Out recognised the keyword (OptOutType), Twilio has answered already and blocks
 * or unblocks the number itself: we record the change and answer nothing, so the person gets one answer.
 */
export async function handleInboundSms(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'log'>, sms: InboundSms): Promise<InboundSmsResult> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    if (!(await claimInboundMessage(trx, sms.messageSid, now))) {
      return { twiml: (await findInboundAnswer(trx, sms.messageSid)) ?? emptyTwiml(), outcome: 'duplicate' as const };
    }
    const finish = async (outcome: InboundSmsResult['outcome'], answer: string | null) => {
      const response = new twilio.twiml.MessagingResponse();
      if (answer) response.message(answer);
      const twiml = response.toString();
      await setInboundAnswer(trx, sms.messageSid, twiml);
      return { twiml, outcome };
    };

    const phone = normalizePhone(sms.from, deps.config.DEFAULT_COUNTRY);
    if (!phone) {
      // Short codes and alphanumeric senders cannot subscribe; not an error Twilio should retry.
      deps.log.warn('inbound sms from an invalid number', { messageSid: sms.messageSid, from: sms.from });
      return finish('invalid_sender', null);
    }

    const words = normalizeKeywordText(sms.body).split(' ');
    const candidates = words.length <= 2 ? words.filter((w) => /^[A-Z0-9]{2,20}$/.test(w)) : [];
    const owners = new Map((await findKeywordOwners(trx, candidates)).map((o) => [o.keyword, o.campaign_id]));
    let command = parseInboundSms(sms.body, (w) => owners.has(w));
    const handledByTwilio = isOptOutType(sms.optOutType);
    command = applyOptOutType(command, sms.optOutType);

    const existing = await findSubscriberByPhone(trx, phone);
    const consent: Omit<NewConsentEntry, 'shown_text'>[] = [];
    const entry = (subscriberId: number, action: NewConsentEntry['action'], campaignId: number | null) =>
      consent.push({ at: now, subscriber_id: subscriberId, campaign_id: campaignId, channel: 'sms', action, source: 'sms_keyword', source_ref: sms.messageSid, staff_id: null, detail: sms.body.trim().slice(0, 160) });
    const answerIn = (lang: Language | null, subscriber: Subscriber | undefined): Language => lang ?? subscriber?.language ?? deps.config.DEFAULT_LANGUAGE;
    const vars = { foundation: deps.config.FOUNDATION_NAME };
    const settle = async (outcome: InboundSmsResult['outcome'], answer: string | null) => {
      const sent = handledByTwilio ? null : answer;
      await insertConsentEntries(trx, consent.map((c) => ({ ...c, shown_text: sent ?? (handledByTwilio ? `(answered by Twilio Advanced Opt-Out: ${sms.optOutType})` : null) })));
      return finish(outcome, sent);
    };

    switch (command.kind) {
      case 'join': {
        const campaignId = command.campaignKeyword ? owners.get(command.campaignKeyword)! : null;
        const campaign = campaignId ? await findCampaignById(trx, campaignId) : undefined;
        const language = command.lang ?? existing?.language ?? campaign?.languages[0] ?? deps.config.DEFAULT_LANGUAGE;
        const { subscriber } = existing ? { subscriber: existing } : await ensureSubscriberByPhone(trx, phone, language, now);
        if (existing && command.lang && command.lang !== existing.language) await updateSubscriberLanguage(trx, existing.id, command.lang);
        if (await clearChannelOptOut(trx, subscriber.id, 'sms')) entry(subscriber.id, 'resubscribe', null);
        // Texting us proves the number works, whatever a provider said before.
        await setPhoneInvalid(trx, subscriber.id, null);
        // JOIN with no campaign resumes what the person followed; someone who follows nothing joins every
        // active campaign (the number is the foundation's, so that is what they asked for).
        let wanted: number[];
        if (campaignId) wanted = [campaignId];
        else if ((await countActiveSubscriptions(trx, subscriber.id, 'sms')) > 0) wanted = [];
        else wanted = (await listCampaigns(trx, { activeOnly: true })).map((c) => c.id);
        for (const id of await activateSubscriptions(trx, subscriber.id, 'sms', wanted, now)) entry(subscriber.id, 'subscribe', id);
        const lang = answerIn(command.lang, existing ?? subscriber);
        const answer = command.campaignKeyword
          ? renderKeywordAnswer('joinedCampaign', lang, { ...vars, keyword: command.campaignKeyword })
          : renderKeywordAnswer('joined', lang, vars);
        return settle('joined', answer);
      }
      case 'leave': {
        const lang = answerIn(command.lang, existing);
        if (command.campaignKeyword) {
          const campaignId = owners.get(command.campaignKeyword)!;
          if (existing) for (const id of await unsubscribeSubscriptions(trx, existing.id, 'sms', [campaignId], now)) entry(existing.id, 'unsubscribe', id);
          return settle('left', renderKeywordAnswer('leftCampaign', lang, { ...vars, keyword: command.campaignKeyword }));
        }
        // A STOP from a number we do not know is kept too: a later import must not add it.
        const { subscriber } = existing ? { subscriber: existing } : await ensureSubscriberByPhone(trx, phone, lang, now);
        if (await setChannelOptOut(trx, subscriber.id, 'sms', now)) entry(subscriber.id, 'opt_out_all', null);
        return settle('left', renderKeywordAnswer('left', lang, vars));
      }
      case 'help': {
        const answer = command.lang === 'both'
          ? renderKeywordAnswer('bilingualHelp', 'en', vars)
          : renderKeywordAnswer('help', answerIn(command.lang, existing), vars);
        return settle('help', answer);
      }
      case 'message': {
        // An SMS reply answers the last update this number was sent.
        const answered = existing ? await findLatestSmsUpdateOf(trx, existing.id) : null;
        await insertReply(trx, {
          channel: 'sms',
          subscriber_id: existing?.id ?? null,
          sender: phone,
          body: sms.body,
          provider_message_id: sms.messageSid,
          possible_opt_out: command.possibleOptOut,
          update_id: answered,
          received_at: now,
        });
        const ack = deps.config.REPLY_AUTO_ACK ? renderKeywordAnswer('replyAck', existing?.language ?? deps.config.DEFAULT_LANGUAGE, vars) : null;
        return settle('reply', ack);
      }
    }
  });
}

function isOptOutType(v: string | undefined): v is 'STOP' | 'START' | 'HELP' {
  return v === 'STOP' || v === 'START' || v === 'HELP';
}

/** Twilio's reading of the message wins: it has already blocked (STOP) or unblocked (START) the number. */
function applyOptOutType(command: InboundCommand, optOutType: string | undefined): InboundCommand {
  const lang = command.kind === 'join' || command.kind === 'leave' ? command.lang : null;
  switch (optOutType) {
    case 'STOP':
      return { kind: 'leave', lang, campaignKeyword: null };
    case 'START':
      return command.kind === 'join' ? command : { kind: 'join', lang, campaignKeyword: null };
    case 'HELP':
      return command.kind === 'help' ? command : { kind: 'help', lang: lang ?? 'en' };
    default:
      return command;
  }
}

export function emptyTwiml(): string {
  return new twilio.twiml.MessagingResponse().toString();
}
