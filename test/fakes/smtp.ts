/**
 * A local SMTP server (the `smtp-server` package) that records what the real
 * nodemailer client delivers, and can be told to answer like a struggling or
 * refusing mail server.
 */
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface SmtpFakeFailure {
  /** SMTP reply code, e.g. 450 (try later), 550 (mailbox unavailable). */
  code: number;
  message?: string;
  /** Reject the recipient (RCPT TO, the default) or the message after DATA. */
  at?: 'rcpt' | 'data';
}

export interface SmtpFakeMessage {
  envelope: { from: string; to: string[] };
  /** Header values as they appear in the message, unfolded, by lower-case name (first occurrence). */
  headers: Record<string, string>;
  size: number;
  /** The decoded parts and the raw message; left out with `recordBodies: false`. */
  subject?: string;
  text?: string;
  html?: string;
  raw?: string;
}

export interface SmtpFake {
  host: string;
  port: number;
  /** Every message accepted, in order. */
  received: SmtpFakeMessage[];
  /** Connections opened so far (a pooled client reuses them). */
  connections: number;
  /** Added before accepting each message, for benchmarks. */
  latencyMs: number;
  /** While true, new connections get no greeting and recipients no answer. */
  hang: boolean;
  /** The next `count` messages are refused with this reply. */
  failNext(count: number, failure: SmtpFakeFailure): void;
  close(): Promise<void>;
}

export interface SmtpFakeOptions {
  /** Require AUTH with these credentials; without them any client may send. */
  user?: string;
  password?: string;
  latencyMs?: number;
  /** False keeps only the envelope and headers: parsing and keeping 100k bodies is what benchmarks do not need. */
  recordBodies?: boolean;
}

export async function startSmtpFake(opts: SmtpFakeOptions = {}): Promise<SmtpFake> {
  const failures: SmtpFakeFailure[] = [];
  const recordBodies = opts.recordBodies ?? true;
  // The failure scripted for the transaction in progress, taken at its first recipient.
  const pending = new WeakMap<SMTPServerSession, SmtpFakeFailure>();

  const server = new SMTPServer({
    logger: false,
    // Plain connections only: the real client would otherwise try STARTTLS with the package's self-signed certificate.
    disabledCommands: opts.user ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !opts.user,
    allowInsecureAuth: true,
    closeTimeout: 50,
    onConnect(_session, callback) {
      fake.connections++;
      if (!fake.hang) callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === opts.user && auth.password === opts.password) return callback(null, { user: auth.username });
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onRcptTo(_address, session, callback) {
      if (fake.hang) return;
      const failure = failures.shift();
      if (failure?.at === 'data') pending.set(session, failure);
      else if (failure) return callback(smtpError(failure.code, failure.message ?? 'Scripted failure'));
      callback();
    },
    onData(stream, session, callback) {
      receive(stream, session)
        .then(() => callback())
        .catch((err: Error) => callback(err));
    },
  });

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const failure = pending.get(session);
    pending.delete(session);
    if (failure) throw smtpError(failure.code, failure.message ?? 'Scripted failure');
    if (fake.latencyMs > 0) await delay(fake.latencyMs);
    const raw = Buffer.concat(chunks);
    const message: SmtpFakeMessage = {
      envelope: {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
      },
      headers: parseHeaders(raw),
      size: raw.length,
    };
    if (recordBodies) {
      const parsed = await simpleParser(raw);
      Object.assign(message, { subject: parsed.subject, text: parsed.text, html: parsed.html === false ? undefined : parsed.html, raw: raw.toString('utf8') });
    }
    fake.received.push(message);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const fake: SmtpFake = {
    host: '127.0.0.1',
    port: (server.server.address() as AddressInfo).port,
    received: [],
    connections: 0,
    latencyMs: opts.latencyMs ?? 0,
    hang: false,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return fake;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The header block as written: names lower-cased, folded lines joined (RFC 5322 unfolding). */
function parseHeaders(raw: Buffer): Record<string, string> {
  const text = raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] ??= line.slice(colon + 1).trim();
  }
  return headers;
}
