-- The inbox: who handles a reply, the answers staff send (tracked like deliveries), and staff digests.

ALTER TABLE replies
  ADD COLUMN assigned_to bigint      REFERENCES staff (id) ON DELETE SET NULL,
  ADD COLUMN handled_by  bigint      REFERENCES staff (id) ON DELETE SET NULL,
  ADD COLUMN handled_at  timestamptz,
  -- What answering needs and the body alone does not carry: an email's Message-ID and subject,
  -- a Bluesky post's cid…
  ADD COLUMN meta        jsonb       NOT NULL DEFAULT '{}';
CREATE INDEX replies_update ON replies (update_id, channel) WHERE update_id IS NOT NULL;
CREATE INDEX replies_received ON replies (received_at DESC);

-- An answer from the inbox, sent like any message and tracked like a delivery.
CREATE TABLE reply_answers (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reply_id    bigint      NOT NULL REFERENCES replies (id) ON DELETE CASCADE,
  staff_id    bigint      REFERENCES staff (id) ON DELETE SET NULL,
  channel     text        NOT NULL CHECK (channel IN ('sms', 'email', 'mastodon', 'bluesky', 'x')),
  body        text        NOT NULL,
  status      text        NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent', 'delivered', 'failed')),
  provider_id text,
  error_code  text,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
CREATE INDEX reply_answers_reply ON reply_answers (reply_id, id);

-- Email digest of new replies, every N minutes (NULL: none).
ALTER TABLE staff
  ADD COLUMN digest_minutes integer CHECK (digest_minutes IN (15, 60, 240, 1440)),
  ADD COLUMN digest_sent_at timestamptz;
