-- The fan-out: one delivery per (update, subscriber, channel), one post per (update, network),
-- every provider status callback kept raw, and the shared rate limiter.

-- Forward-only status order: a late "sent" never overwrites "delivered".
CREATE FUNCTION delivery_status_rank(status text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status
    WHEN 'queued' THEN 0
    WHEN 'sending' THEN 1
    WHEN 'unknown' THEN 2
    WHEN 'sent' THEN 3
    ELSE 4 -- delivered, undelivered, failed, bounced, skipped: final
  END
$$;

CREATE TABLE deliveries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  update_id       bigint      NOT NULL REFERENCES updates (id),
  subscriber_id   bigint      NOT NULL REFERENCES subscribers (id),
  channel         text        NOT NULL CHECK (channel IN ('sms', 'email')),
  language        text        NOT NULL CHECK (language IN ('en', 'fr')),
  -- queued → sending → sent → delivered, or failed / undelivered / bounced / skipped (left before it was sent);
  -- unknown: in flight when a worker died, resolved by the provider's callback or by staff.
  status          text        NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'bounced', 'skipped', 'unknown')),
  attempts        integer     NOT NULL DEFAULT 0,
  provider_id     text,
  segments        integer,
  error_code      text,
  last_error      text,
  -- A retry waits until then.
  next_attempt_at timestamptz,
  -- A claimed delivery belongs to its worker until then; past it, the worker is presumed dead.
  lease_until     timestamptz,
  sent_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  -- Publishing twice (a double click, a retried request) adds nothing.
  UNIQUE (update_id, subscriber_id, channel)
);
CREATE INDEX deliveries_queued ON deliveries (update_id, channel, id) WHERE status = 'queued';
CREATE INDEX deliveries_sending ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_progress ON deliveries (update_id, channel, status);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id, id DESC);

-- Every status callback, raw, as the provider sent it: the evidence when a donor says "I never got it".
CREATE TABLE delivery_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id bigint      NOT NULL REFERENCES deliveries (id),
  at          timestamptz NOT NULL DEFAULT now(),
  provider    text        NOT NULL,
  status      text        NOT NULL,
  error_code  text,
  raw         jsonb       NOT NULL
);
CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id, id);

CREATE TABLE posts (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  update_id       bigint      NOT NULL REFERENCES updates (id),
  network         text        NOT NULL CHECK (network IN ('mastodon', 'bluesky', 'x')),
  account         text        NOT NULL,
  language        text        NOT NULL CHECK (language IN ('en', 'fr')),
  status          text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unknown')),
  attempts        integer     NOT NULL DEFAULT 0,
  remote_id       text,
  remote_url      text,
  -- Every part of a thread: [{ id, url, uri, cid }]
  parts           jsonb       NOT NULL DEFAULT '[]',
  error_code      text,
  last_error      text,
  next_attempt_at timestamptz,
  lease_until     timestamptz,
  sent_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (update_id, network)
);

-- Shared pacing per channel (GCRA): the next moment a message may start. One row per channel, used by every worker
-- process on every machine, so SMS_MAX_PER_SECOND holds for all of them together.
CREATE TABLE rate_limits (
  channel      text PRIMARY KEY,
  next_free_at timestamptz NOT NULL DEFAULT now()
);
