-- What the dev adapters "sent": with no provider credentials, messages land here and on /dev/outbox.
CREATE TABLE dev_outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  channel    text        NOT NULL CHECK (channel IN ('sms', 'email', 'mastodon', 'bluesky', 'x')),
  recipient  text,
  subject    text,
  body       text        NOT NULL,
  -- Headers, media, thread parts, the idempotency key...
  meta       jsonb       NOT NULL DEFAULT '{}',
  idempotency_key text   NOT NULL,
  -- A retried send records nothing twice, as a real provider's idempotency would.
  UNIQUE (channel, idempotency_key)
);
CREATE INDEX dev_outbox_at ON dev_outbox (id DESC);
