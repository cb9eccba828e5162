import type { Language } from '../../src/db/schema';

/**
 * Answers to SMS keywords. Each must fit one GSM-7 segment (160 characters) with the longest foundation name
 * (60) and campaign keyword (20) allowed, name the foundation and say how to stop: test/subscribers/sms-answers
 * checks it. Only GSM-7 characters: no ’, ê or « » (one of them would cut the segment to 70 characters).
 * `{f}` is the foundation, `{k}` the campaign keyword.
 */
export type KeywordAnswer = 'joined' | 'joinedCampaign' | 'left' | 'leftCampaign' | 'help' | 'replyAck';

export const keywordAnswers: Record<Language, Record<KeywordAnswer, string>> = {
  en: {
    joined: '{f}: you will receive our crisis updates by SMS. Reply STOP to stop, HELP for help.',
    joinedCampaign: '{f}: subscribed to {k}. Reply STOP {k} to leave it, STOP to stop all.',
    left: '{f}: you will get no more SMS from us. Reply START to subscribe again.',
    leftCampaign: '{f}: you will get no more {k} updates. Reply STOP to stop all.',
    help: '{f}: crisis updates by SMS. Reply STOP to stop, START to join. Other messages reach our team.',
    // Sent only with REPLY_AUTO_ACK=true.
    replyAck: '{f}: thank you, a person from our team will read your message. Reply STOP to stop our SMS.',
  },
  fr: {
    joined: "{f} : vous recevrez nos alertes de crise par SMS. STOP pour ne plus les recevoir, AIDE pour de l'aide.",
    joinedCampaign: '{f} : abonné à {k}. STOP {k} pour le quitter, STOP pour tout quitter.',
    left: '{f} : vous ne recevrez plus nos SMS. Répondez ABONNER pour vous réabonner.',
    leftCampaign: '{f} : vous ne recevrez plus les alertes {k}. STOP pour tout quitter.',
    help: '{f} : alertes de crise par SMS. STOP = désabonnement, ABONNER = abonnement. Nous lisons vos messages.',
    replyAck: '{f} : merci, une personne de notre équipe lira votre message. STOP pour ne plus recevoir nos SMS.',
  },
};

/** INFO: one message in both languages. */
export const bilingualHelpAnswer = '{f}: crisis updates by SMS / alertes de crise par SMS. STOP: unsubscribe / désabonnement. HELP / AIDE';
