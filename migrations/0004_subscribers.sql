-- Subscribers, what they follow on which channel, the consent log, inbound SMS deduplication, the replies inbox,
-- CSV import reports and the shared rate-limit counters of public forms.

CREATE TABLE subscribers (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- E.164, normalised by the application (libphonenumber-js).
  phone              text        UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  email              text        CHECK (length(email) <= 254),
  language           text        NOT NULL CHECK (language IN ('en', 'fr')),
  -- Global opt-outs per channel: set by STOP/STOPALL, a carrier opt-out or a one-click "all"; cleared only by the
  -- subscriber's own START/JOIN (or a confirmed web form). They win over every subscription row.
  sms_opted_out_at   timestamptz,
  email_opted_out_at timestamptz,
  -- Twilio error 21211: the number cannot receive SMS.
  phone_invalid_at   timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  -- Erased on request (GDPR): phone and email are gone; the row stays so anonymised history keeps its references.
  erased_at          timestamptz,
  CHECK (erased_at IS NOT NULL OR phone IS NOT NULL OR email IS NOT NULL),
  CHECK (erased_at IS NULL OR (phone IS NULL AND email IS NULL))
);
-- Addresses are compared without case: Ana@x.org and ana@x.org are one person.
CREATE UNIQUE INDEX subscribers_email_key ON subscribers (lower(email));

CREATE TABLE subscriptions (
  subscriber_id bigint      NOT NULL REFERENCES subscribers (id),
  campaign_id   bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  channel       text        NOT NULL CHECK (channel IN ('sms', 'email')),
  -- pending: asked by web form, waiting for the emailed confirmation.
  status        text        NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed')),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscriber_id, campaign_id, channel)
);
-- The fan-out's recipients of an update of campaign C on channel X are:
--   SELECT s.* FROM subscriptions sub JOIN subscribers s ON s.id = sub.subscriber_id
--   WHERE sub.campaign_id = C AND sub.channel = X AND sub.status = 'active' AND s.erased_at IS NULL
--     AND (X = 'sms'   AND s.sms_opted_out_at IS NULL AND s.phone_invalid_at IS NULL AND s.phone IS NOT NULL
--       OR X = 'email' AND s.email_opted_out_at IS NULL AND s.email IS NOT NULL)
-- This index serves the first three conditions; the opt-outs are checked on the subscriber row.
CREATE INDEX subscriptions_active_recipients ON subscriptions (campaign_id, channel, subscriber_id) WHERE status = 'active';

CREATE TABLE consent_log (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  -- The ids are recorded as they were, without foreign keys: evidence must not depend on, or cascade from, other
  -- rows (subscribers are never deleted, only erased in place), and an import writes 100 000s of these rows, where
  -- every foreign-key check costs.
  subscriber_id bigint      NOT NULL,
  -- NULL: every campaign (STOP, a one-click "all", a carrier opt-out).
  campaign_id   bigint,
  channel       text        NOT NULL CHECK (channel IN ('sms', 'email')),
  action        text        NOT NULL CHECK (action IN ('subscribe', 'confirm', 'unsubscribe', 'opt_out_all', 'resubscribe', 'invalid', 'erased')),
  source        text        NOT NULL CHECK (source IN ('sms_keyword', 'web_form', 'email_link', 'one_click', 'staff_import', 'carrier_opt_out', 'provider_error', 'staff')),
  -- What identifies the event at its source: a Twilio MessageSid, the form's IP address, an import id.
  source_ref    text,
  staff_id      bigint,
  -- The exact text the person saw or was sent (the SMS answer, the form's consent sentence).
  shown_text    text,
  -- What triggered it: the keyword as typed, the consent source an import gave.
  detail        text
);
CREATE INDEX consent_log_subscriber ON consent_log (subscriber_id, id);

-- Proof of consent is only worth something if it cannot be rewritten: rows are never updated or deleted, except
-- by an erasure request, which sets tocsin.erasure = 'on' for its own transaction only (SET LOCAL / set_config).
CREATE FUNCTION consent_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('tocsin.erasure', true), '') = 'on' AND TG_OP <> 'TRUNCATE' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION 'consent_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER consent_log_no_update BEFORE UPDATE OR DELETE ON consent_log
  FOR EACH ROW EXECUTE FUNCTION consent_log_append_only();
CREATE TRIGGER consent_log_no_truncate BEFORE TRUNCATE ON consent_log
  FOR EACH STATEMENT EXECUTE FUNCTION consent_log_append_only();

-- Twilio retries a webhook it did not see answered: the MessageSid is claimed once, and a retry gets the same
-- TwiML back. Holds no personal data, so erasure leaves it alone.
CREATE TABLE inbound_messages (
  message_sid text        PRIMARY KEY,
  received_at timestamptz NOT NULL,
  answer      text
);
CREATE INDEX inbound_messages_received ON inbound_messages (received_at);

-- Everything that comes back and is not a keyword: the inbox (its own issue extends this table).
CREATE TABLE replies (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel             text        NOT NULL CHECK (channel IN ('sms', 'email', 'mastodon', 'bluesky', 'x')),
  subscriber_id       bigint      REFERENCES subscribers (id),
  -- Phone, email address or handle; blanked by erasure.
  sender              text        NOT NULL,
  body                text        NOT NULL,
  -- Twilio MessageSid, email Message-ID, post id: a provider's retry is stored once.
  provider_message_id text        NOT NULL,
  -- A longer message with a stop word in it ("please stop texting me"): a person must look, and maybe unsubscribe.
  possible_opt_out    boolean     NOT NULL DEFAULT false,
  -- The update this answers; left NULL until the fan-out (deliveries) and the inbox can tell.
  update_id           bigint      REFERENCES updates (id),
  state               text        NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'assigned', 'handled')),
  received_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (channel, provider_message_id)
);
CREATE INDEX replies_inbox ON replies (state, received_at DESC);
CREATE INDEX replies_subscriber ON replies (subscriber_id) WHERE subscriber_id IS NOT NULL;

-- One row per CSV import: who, when, what came of it. The report keeps line numbers and reasons, never the rows'
-- personal data, so an erasure has nothing to find here.
CREATE TABLE subscriber_imports (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at                    timestamptz NOT NULL,
  staff_id              bigint      REFERENCES staff (id) ON DELETE SET NULL,
  file_name             text        NOT NULL,
  rows_total            integer     NOT NULL,
  rows_valid            integer     NOT NULL,
  rows_rejected         integer     NOT NULL,
  rows_duplicate        integer     NOT NULL,
  subscribers_created   integer     NOT NULL,
  subscriptions_created integer     NOT NULL,
  -- Rows naming someone who had opted out or unsubscribed: an import never undoes that.
  kept_unsubscribed     integer     NOT NULL,
  -- [{ line, reasons: [{ key, vars }] }]
  rejected              jsonb       NOT NULL DEFAULT '[]'
);

-- Fixed-window counters for public forms, shared by every process: one row per (bucket, key, window).
CREATE TABLE rate_limit_counters (
  bucket       text        NOT NULL,
  key          text        NOT NULL,
  window_start timestamptz NOT NULL,
  count        integer     NOT NULL,
  PRIMARY KEY (bucket, key, window_start)
);
CREATE INDEX rate_limit_counters_window ON rate_limit_counters (window_start);
