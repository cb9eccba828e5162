-- Reading back from the microblog accounts: where each poll stopped (mentions and replies, hashtags), what went
-- wrong last, and each post's public counts.

CREATE TABLE poll_cursors (
  network      text        NOT NULL CHECK (network IN ('mastodon', 'bluesky', 'x')),
  -- 'mentions'; 'tag:<hashtag>' (lower case, when MICROBLOG_COLLECT_HASHTAG is on); 'metrics' (no cursor: only its
  -- errors and pause).
  source       text        NOT NULL CHECK (source IN ('mentions', 'metrics') OR source ~ '^tag:.+'),
  -- Which account the cursor belongs to: another instance's or handle's cursor means nothing, so a change of
  -- account starts afresh.
  account      text        NOT NULL,
  -- Opaque, as the network's reader returned it (Mastodon: a notification or status id; Bluesky: the newest
  -- indexedAt seen; X: a tweet id). NULL until a poll found something.
  cursor       text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- The last failure, for staff; cleared by the next success. Only a new error is logged, not every minute's.
  last_error   text,
  last_error_at timestamptz,
  -- Not asked again before then: after a 403 (X's free tier has no mentions access) or a rate limit.
  paused_until timestamptz,
  PRIMARY KEY (network, source)
);

-- { boosts, likes, replies } over every part of the post's thread (the thread's own parts are not counted as
-- replies), refreshed for MICROBLOG_METRICS_DAYS after sending.
ALTER TABLE posts
  ADD COLUMN metrics    jsonb,
  ADD COLUMN metrics_at timestamptz;

-- A reply names the post it answers by the network's id: found among every part of every thread.
CREATE INDEX posts_parts ON posts USING gin (parts jsonb_path_ops);
CREATE INDEX posts_sent ON posts (network, sent_at) WHERE status = 'sent';
