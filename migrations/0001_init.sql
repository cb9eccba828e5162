-- Staff accounts, sessions, invitations, first-run setup, login throttling and the audit log.

CREATE TABLE staff (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email         text        NOT NULL,
  name          text        NOT NULL,
  password_hash text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('admin', 'approver', 'author')),
  language      text        CHECK (language IN ('en', 'fr')),
  disabled_at   timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Addresses are compared without case: Ana@x.org and ana@x.org are one person.
CREATE UNIQUE INDEX staff_email_key ON staff (lower(email));

CREATE TABLE staff_sessions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Only a hash is stored, so a leaked database does not hand out live sessions.
  token_hash   bytea       NOT NULL UNIQUE,
  staff_id     bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  ip           text,
  user_agent   text
);
CREATE INDEX staff_sessions_staff_id ON staff_sessions (staff_id);

CREATE TABLE staff_invites (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_hash  bytea       NOT NULL UNIQUE,
  email       text        NOT NULL,
  role        text        NOT NULL CHECK (role IN ('admin', 'approver', 'author')),
  invited_by  bigint      REFERENCES staff (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at  timestamptz
);

-- The one-time link printed on first start; emptied once the first admin exists.
CREATE TABLE setup_tokens (
  token_hash bytea PRIMARY KEY,
  created_at timestamptz NOT NULL
);

CREATE TABLE login_attempts (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        timestamptz NOT NULL,
  ip        text        NOT NULL,
  email     text        NOT NULL,
  succeeded boolean     NOT NULL
);
CREATE INDEX login_attempts_ip_at ON login_attempts (ip, at);
CREATE INDEX login_attempts_email_at ON login_attempts (email, at);

CREATE TABLE audit_log (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  staff_id bigint      REFERENCES staff (id) ON DELETE SET NULL,
  -- Kept even when the account is gone, and for actions by no account (a failed login).
  actor    text        NOT NULL,
  action   text        NOT NULL,
  target   text,
  ip       text,
  detail   jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at DESC);

-- Secrets Tocsin generates for itself when the environment gives none (e.g. the key that signs links).
CREATE TABLE app_secrets (
  name       text PRIMARY KEY,
  value      text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
