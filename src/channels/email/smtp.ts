import nodemailer from 'nodemailer';
import type { Channel, EmailMessage, SendResult } from '../types';

export interface SmtpChannelOptions {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  user?: string;
  password?: string;
  from: string | { name: string; address: string };
  /** Open connections in the pool. Default 5. */
  maxConnections?: number;
  /** Connecting, waiting for the greeting, and any silence on an open connection. Default 10 s. */
  timeoutMs?: number;
}

/** `"Foundation" <no-reply@alerts.example.org>` when EMAIL_FROM is not set. */
export function defaultEmailFrom(foundationName: string, publicUrl: string): { name: string; address: string } {
  return { name: foundationName, address: `no-reply@${new URL(publicUrl).hostname}` };
}

/** Email through any SMTP server, with a pooled `nodemailer` transport. */
export function createSmtpChannel(options: SmtpChannelOptions): Channel<'email'> {
  const timeout = options.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    pool: true,
    host: options.host,
    port: options.port,
    secure: options.secure,
    ...(options.user ? { auth: { user: options.user, pass: options.password ?? '' } } : {}),
    maxConnections: options.maxConnections ?? 5,
    // A message whose connection dies comes back as a retryable failure at once: retries belong to the
    // fan-out (with backoff), and a hanging server then costs one timeout instead of one per requeue.
    maxRequeues: 0,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    dnsTimeout: timeout,
  });

  return {
    id: 'email',
    kind: 'vendor',
    account: typeof options.from === 'string' ? options.from : options.from.address,
    // No idempotency in SMTP: a retry after a lost answer may deliver twice, but with the same
    // Message-ID (the delivery's), which mail clients thread with, and often fold into, the first.
    async send(message: EmailMessage): Promise<SendResult> {
      const headers = prepareHeaders(message.headers ?? {});
      if (typeof headers === 'string') return { ok: false, retryable: false, error: headers };
      try {
        await transport.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          messageId: `<${message.messageId}>`,
          ...(message.replyTo ? { replyTo: message.replyTo } : {}),
          ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
          ...(message.references?.length ? { references: message.references } : {}),
          headers,
        });
        return { ok: true, providerId: message.messageId };
      } catch (err) {
        return describeSmtpError(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/**
 * Extra headers go out exactly as given (List-Unsubscribe's `<https://…>, <mailto:…>`
 * must survive untouched for one-click unsubscribe). A line break would let a value
 * inject its own headers, so it is refused; non-ASCII is left to nodemailer to encode.
 */
function prepareHeaders(headers: Record<string, string>): Record<string, string | { prepared: true; value: string }> | string {
  const out: Record<string, string | { prepared: true; value: string }> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!-9;-~]+$/.test(name)) return `Invalid header name ${JSON.stringify(name)}`;
    if (/[\r\n]/.test(value)) return `Header ${name} contains a line break`;
    out[name] = /^[\x20-\x7e\t]*$/.test(value) ? { prepared: true, value } : value;
  }
  return out;
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  message?: string;
}

function describeSmtpError(err: unknown): SendResult {
  const e = (err ?? {}) as SmtpError;
  if (typeof e.responseCode === 'number') {
    // nodemailer sets `permanent` from the reply class: 5xx, except 503 (bad sequence), which a new connection can fix.
    const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
    return { ok: false, retryable: !permanent, code: String(e.responseCode), error: e.response ?? e.message ?? `SMTP ${e.responseCode}` };
  }
  if (e.code === 'ETIMEDOUT') return { ok: false, retryable: true, code: 'TIMEOUT', error: 'The SMTP server did not answer in time' };
  if (e.code && ['ECONNECTION', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL', 'EMAXLIMIT'].includes(e.code)) {
    return { ok: false, retryable: true, code: e.code, error: `SMTP server unreachable: ${e.message ?? e.code}` };
  }
  return { ok: false, retryable: false, ...(e.code ? { code: e.code } : {}), error: e.message ?? String(err) };
}
