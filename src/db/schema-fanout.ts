/** Tables of deliveries, posts, delivery events and the dev outbox (migrations/0004_*.sql). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface FanoutTables {}
