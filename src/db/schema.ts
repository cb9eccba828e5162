import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table types mirror migrations/*.sql; a migration that changes a table changes its type here. */
export type Role = 'admin' | 'approver' | 'author';
export type Language = 'en' | 'fr';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface StaffTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  language: Language | null;
  disabled_at: Date | null;
  created_at: CreatedAt;
}
export type Staff = Selectable<StaffTable>;
export type NewStaff = Insertable<StaffTable>;
export type StaffUpdate = Updateable<StaffTable>;

export interface StaffSessionTable {
  id: Generated<number>;
  token_hash: Buffer;
  staff_id: number;
  created_at: Date;
  last_seen_at: Date;
  ip: string | null;
  user_agent: string | null;
}

export interface StaffInviteTable {
  id: Generated<number>;
  token_hash: Buffer;
  email: string;
  role: Role;
  invited_by: number | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
}
export type StaffInvite = Selectable<StaffInviteTable>;

export interface SetupTokenTable {
  token_hash: Buffer;
  created_at: Date;
}

export interface LoginAttemptTable {
  id: Generated<number>;
  at: Date;
  ip: string;
  email: string;
  succeeded: boolean;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: CreatedAt;
  staff_id: number | null;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: ColumnType<Record<string, unknown>, string | undefined, never>;
}
export type AuditEntry = Selectable<AuditLogTable>;

export interface AppSecretTable {
  name: string;
  value: string;
  created_at: CreatedAt;
}

export interface Database {
  staff: StaffTable;
  staff_sessions: StaffSessionTable;
  staff_invites: StaffInviteTable;
  setup_tokens: SetupTokenTable;
  login_attempts: LoginAttemptTable;
  audit_log: AuditLogTable;
  app_secrets: AppSecretTable;
}
