-- Outgoing webhooks for integrators: the endpoints admins register, the events Tocsin derives from its own tables
-- (by cursor, so no other module has to call anything), one delivery per (event, endpoint) and every attempt.

CREATE TABLE webhook_endpoints (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url                  text        NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
  description          text        NOT NULL DEFAULT '' CHECK (length(description) <= 200),
  events               text[]      NOT NULL CHECK (cardinality(events) >= 1 AND events <@ ARRAY[
                         'update.published', 'delivery.status_changed', 'reply.received', 'subscriber.changed']),
  -- Kept as is, not hashed: every request is signed with it (HMAC), so Tocsin must be able to read it back.
  -- Shown to the admin once, when the endpoint is created.
  secret               text        NOT NULL,
  enabled              boolean     NOT NULL DEFAULT true,
  -- Failures in a row: past a few, the endpoint's other deliveries wait (paused_until) instead of each spending
  -- a worker on a request that will likely time out too.
  consecutive_failures integer     NOT NULL DEFAULT 0,
  paused_until         timestamptz,
  created_by           bigint      REFERENCES staff (id) ON DELETE SET NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_events (
  -- The stable id integrators deduplicate on (it is sent again with every retry).
  id          uuid        PRIMARY KEY,
  type        text        NOT NULL CHECK (type IN (
                'update.published', 'delivery.status_changed', 'reply.received', 'subscriber.changed', 'ping')),
  occurred_at timestamptz NOT NULL,
  -- What was true when the event was made. Holds no phone, email or message text: a reply's text is read from
  -- `replies` when each request is sent, so an erasure reaches requests still waiting to be retried.
  data        jsonb       NOT NULL,
  -- For events about one row (an update's publication, a reply): that row, so a rescan never makes a second event.
  source_key  text        UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_created ON webhook_events (created_at);

CREATE TABLE webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id         uuid        NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  endpoint_id      bigint      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer     NOT NULL DEFAULT 0,
  -- A pending delivery's job runs then.
  next_attempt_at  timestamptz,
  -- A request in flight belongs to its worker until then; past it, the worker is presumed dead and the sweep
  -- gives the delivery a new job.
  lease_until      timestamptz,
  last_status_code integer,
  last_error       text,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id   bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  at            timestamptz NOT NULL,
  -- NULL: no HTTP answer (refused, reset, timed out) or no request made (the endpoint was paused).
  status_code   integer,
  duration_ms   integer     NOT NULL,
  error         text,
  response_body text        CHECK (length(response_body) <= 500)
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- Where the scan of each source table stopped: (last_at, last_id) is the last row turned into an event, in the
-- scan's order. It moves in the transaction that inserts the events, so a crash neither loses nor repeats one.
--   updates      published_at, id   (rescanned an hour back; events are unique per update)
--   deliveries   updated_at, id
--   replies      id
--   consent_log  id
CREATE TABLE webhook_cursors (
  source     text        PRIMARY KEY CHECK (source IN ('updates', 'deliveries', 'replies', 'consent_log')),
  last_at    timestamptz,
  last_id    bigint      NOT NULL DEFAULT 0,
  -- Nothing from before webhooks existed is announced.
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO webhook_cursors (source, last_at, last_id) VALUES
  ('updates', now(), 0),
  ('deliveries', now(), 0),
  ('replies', NULL, (SELECT coalesce(max(id), 0) FROM replies)),
  ('consent_log', NULL, (SELECT coalesce(max(id), 0) FROM consent_log));

-- The delivery-status scan reads changes in (updated_at, id) order. Queued and sending rows are internal steps
-- nobody is told about, and most rows of a broadcast are queued at some point: leaving them out keeps this index
-- small and the fan-out's writes cheap.
CREATE INDEX deliveries_status_changes ON deliveries (updated_at, id) WHERE status NOT IN ('queued', 'sending');
