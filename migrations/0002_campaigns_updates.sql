-- Campaigns (one crisis or appeal) and the updates staff write for them.

-- Where "send a test to me" sends the SMS preview.
ALTER TABLE staff ADD COLUMN phone text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$');

CREATE TABLE campaigns (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text        NOT NULL,
  slug        text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  hashtag     text,
  -- The first language is the campaign's default.
  languages   text[]      NOT NULL CHECK (cardinality(languages) >= 1 AND languages <@ ARRAY['en', 'fr']),
  goal        numeric CHECK (goal >= 0 AND scale(goal) <= 2),
  currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  donate_url  text,
  active      boolean     NOT NULL DEFAULT true,
  created_by  bigint      REFERENCES staff (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- SMS keywords, stored upper-case without accents; one keyword belongs to one campaign.
CREATE TABLE campaign_keywords (
  keyword     text   PRIMARY KEY CHECK (keyword ~ '^[A-Z0-9]{2,20}$'),
  campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE
);
CREATE INDEX campaign_keywords_campaign ON campaign_keywords (campaign_id);

-- Uploaded images, kept in the database so a backup of PostgreSQL is a backup of everything.
CREATE TABLE images (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  content_type text        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/gif', 'image/webp')),
  bytes        bytea       NOT NULL,
  size         integer     NOT NULL,
  width        integer,
  height       integer,
  sha256       text        NOT NULL,
  created_by   bigint      REFERENCES staff (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE updates (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  campaign_id        bigint      NOT NULL REFERENCES campaigns (id),
  status             text        NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'pending_approval', 'published', 'rejected')),
  corrects_id        bigint      REFERENCES updates (id),
  -- NULL: the update's own permalink.
  link               text,
  -- [{ item, quantity, unit, urgency: critical|high|normal, met }]
  needs              jsonb       NOT NULL DEFAULT '[]',
  raised             numeric CHECK (raised >= 0 AND scale(raised) <= 2),
  goal               numeric CHECK (goal >= 0 AND scale(goal) <= 2),
  currency           text        CHECK (currency ~ '^[A-Z]{3}$'),
  donors             integer     CHECK (donors >= 0),
  as_of              timestamptz,
  image_id           bigint      REFERENCES images (id),
  image_alt          text,
  source             text        NOT NULL DEFAULT 'staff' CHECK (source IN ('staff', 'api', 'rss')),
  author_id          bigint      REFERENCES staff (id) ON DELETE SET NULL,
  submitted_at       timestamptz,
  decided_by         bigint      REFERENCES staff (id) ON DELETE SET NULL,
  decided_at         timestamptz,
  decision_comment   text,
  break_glass_reason text,
  published_at       timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  -- Bumped by every change; forms send the version they showed, so nobody approves
  -- or overwrites a text they did not see.
  version            integer     NOT NULL DEFAULT 1,
  CHECK (image_id IS NULL OR length(trim(image_alt)) > 0)
);
CREATE INDEX updates_campaign_status ON updates (campaign_id, status, published_at DESC);
CREATE INDEX updates_published ON updates (published_at DESC) WHERE status = 'published';
CREATE INDEX updates_corrects ON updates (corrects_id) WHERE corrects_id IS NOT NULL;

-- The lead, once per campaign language.
CREATE TABLE update_texts (
  update_id bigint NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
  language  text   NOT NULL CHECK (language IN ('en', 'fr')),
  lead      text   NOT NULL CHECK (length(lead) > 0),
  -- The author accepted the GSM-7 rewrite for this language's SMS (’ → ', « » → "...):
  -- the SMS is rewritten at render time, other channels keep the typography.
  sms_gsm7  boolean NOT NULL DEFAULT false,
  PRIMARY KEY (update_id, language)
);

-- Who did what to an update, shown as its history.
CREATE TABLE update_events (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  update_id bigint      NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
  at        timestamptz NOT NULL DEFAULT now(),
  staff_id  bigint      REFERENCES staff (id) ON DELETE SET NULL,
  action    text        NOT NULL,
  comment   text
);
CREATE INDEX update_events_update ON update_events (update_id, id);
