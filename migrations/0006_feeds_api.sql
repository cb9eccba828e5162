-- Public pages and feeds (their cache version), RSS import sources and their items, API tokens.

-- One counter that moves whenever something shown publicly changes: a published update (or one that stops being
-- published) and any campaign. Public pages and feeds derive their ETag and Last-Modified from it, so a conditional
-- request costs one primary-key read, and every process sees the same version (it is bumped in the transaction
-- that makes the change, so it is visible exactly when the change is).
CREATE TABLE public_versions (
  scope      text        PRIMARY KEY,
  version    bigint      NOT NULL,
  changed_at timestamptz NOT NULL
);
INSERT INTO public_versions (scope, version, changed_at) VALUES ('all', 1, now());

CREATE FUNCTION bump_public_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'updates' THEN
    IF TG_OP = 'INSERT' THEN
      IF NEW.status <> 'published' THEN RETURN NULL; END IF;
    ELSIF TG_OP = 'DELETE' THEN
      IF OLD.status <> 'published' THEN RETURN NULL; END IF;
    ELSIF OLD.status <> 'published' AND NEW.status <> 'published' THEN
      RETURN NULL;
    END IF;
  END IF;
  -- greatest(): Last-Modified never goes backwards, whatever the order transactions started in.
  UPDATE public_versions SET version = version + 1, changed_at = greatest(changed_at, now()) WHERE scope = 'all';
  RETURN NULL;
END;
$$;
CREATE TRIGGER updates_public_version AFTER INSERT OR UPDATE OR DELETE ON updates
  FOR EACH ROW EXECUTE FUNCTION bump_public_version();
CREATE TRIGGER campaigns_public_version AFTER INSERT OR UPDATE OR DELETE ON campaigns
  FOR EACH STATEMENT EXECUTE FUNCTION bump_public_version();

-- Feeds (the foundation's own blog…) whose new items become draft updates of one campaign.
CREATE TABLE feed_sources (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url             text        NOT NULL UNIQUE CHECK (url ~ '^https?://' AND length(url) <= 2000),
  campaign_id     bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  added_by        bigint      REFERENCES staff (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- Validators of the last successful fetch, sent back as If-None-Match / If-Modified-Since.
  etag            text,
  last_modified   text,
  last_checked_at timestamptz,
  last_success_at timestamptz,
  -- Why the last fetch failed (unreachable, timeout, too large, not a feed); NULL when it worked.
  last_error      text,
  items_imported  integer     NOT NULL DEFAULT 0
);

-- Every item seen, by its guid (or its absolute link when it has none): an item is imported once, even when two
-- workers fetch the same feed at once, and a re-fetch creates nothing.
CREATE TABLE feed_items (
  feed_source_id bigint      NOT NULL REFERENCES feed_sources (id) ON DELETE CASCADE,
  item_key       text        NOT NULL,
  update_id      bigint      REFERENCES updates (id) ON DELETE SET NULL,
  imported_at    timestamptz NOT NULL,
  -- The item could not become a draft (e.g. neither title nor summary); kept so it is not retried forever.
  error          text,
  PRIMARY KEY (feed_source_id, item_key)
);

-- Tokens of the JSON API. Each acts as the staff member who created it, with that person's role at request time.
CREATE TABLE api_tokens (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  staff_id     bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- Only a hash is stored; the token is shown once, when created.
  token_hash   bytea       NOT NULL UNIQUE,
  -- The first characters, so people can tell their tokens apart.
  prefix       text        NOT NULL,
  created_at   timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_tokens_staff ON api_tokens (staff_id, id DESC);
