/** Tables of subscribers, subscriptions and the consent log (migrations/0003_*.sql). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SubscriberTables {}
