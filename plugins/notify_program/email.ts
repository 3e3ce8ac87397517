import os from 'node:os';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger, NotificationChannel, OutgoingNotification } from '../../core/index';

/** Where email goes, from the environment: `SMTP_URL` (smtp:// or smtps://, auth and TLS in the URL) and `SMTP_FROM`. */
export interface EmailConfig {
  /** Null: email is logged, not sent. */
  url: URL | null;
  from: string;
  /** Why `url` is null although SMTP_URL is set (a bad value), for the operator. */
  problem: string | null;
}

export function emailConfigFrom(env: NodeJS.ProcessEnv): EmailConfig {
  const from = env.SMTP_FROM?.trim() || `Waymark <noreply@${os.hostname() || 'localhost'}>`;
  const raw = env.SMTP_URL?.trim();
  if (!raw) return { url: null, from, problem: null };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { url: null, from, problem: 'SMTP_URL is not a URL (expected smtp://user:pass@host:port or smtps://…)' };
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    return { url: null, from, problem: `SMTP_URL must start with smtp:// or smtps://, not ${url.protocol}//` };
  return { url, from, problem: null };
}

/** The URL without its password, for logs and the admin page. */
export function safeUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '****';
  return copy.href;
}

/**
 * The email channel: nodemailer over a pooled SMTP transport, opened on the first message of a
 * batch and closed when the sender flushes after the batch, so the messages of a batch share a few
 * connections and nothing stays open between batches or after the plugin is disabled. The
 * configuration is read from the environment when a transport opens (and by describe()). Without
 * SMTP_URL every message is logged instead of sent, and describe() says so on the admin page. The
 * Message-ID is derived from the delivery's dedupe key, so a message resent after a crash is
 * recognisably the same message.
 */
export class EmailChannel implements NotificationChannel {
  readonly label = 'Email';
  private transporter: Transporter | null = null;
  private config: EmailConfig | null = null;
  private inFlight = 0;

  constructor(
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  describe(): string {
    const config = emailConfigFrom(this.env);
    if (config.url) return `Sent through ${safeUrl(config.url)} from ${config.from}.`;
    if (config.problem) return `Logged, not sent: ${config.problem}.`;
    return 'Logged, not sent: SMTP_URL is not set. Set SMTP_URL (smtp://user:pass@host:port or smtps://…) and SMTP_FROM to send email.';
  }

  /** Whether email leaves the site (SMTP_URL is set and valid). */
  sending(): boolean {
    return emailConfigFrom(this.env).url !== null;
  }

  private open(): { transporter: Transporter | null; config: EmailConfig } {
    if (!this.config) {
      this.config = emailConfigFrom(this.env);
      if (this.config.problem) this.logger.error('email is logged, not sent: SMTP_URL is invalid', { problem: this.config.problem });
      if (this.config.url) {
        // nodemailer reads host, port, user, password and TLS (smtps://, or ?secure=…) from the URL.
        const url = new URL(this.config.url.href);
        url.searchParams.set('pool', 'true');
        this.transporter = nodemailer.createTransport(url.href);
      }
    }
    return { transporter: this.transporter, config: this.config };
  }

  async send(n: OutgoingNotification): Promise<void> {
    if (!n.recipient.email) return;
    const { transporter, config } = this.open();
    const messageId = `<${n.key}@${domainOf(config.from)}>`;
    if (!transporter) {
      this.logger.info('email not sent (SMTP_URL is not set)', { to: n.recipient.email, subject: n.subject, messageId, type: n.type });
      return;
    }
    this.inFlight++;
    try {
      await transporter.sendMail({
        from: config.from,
        to: { name: n.recipient.fullname, address: n.recipient.email },
        subject: n.subject,
        text: n.text,
        html: n.html,
        messageId,
        headers: { 'X-Waymark-Notification': n.type, 'X-Waymark-Program': String(n.programId) },
      });
    } finally {
      this.inFlight--;
    }
  }

  /** Closes the pool once nothing is in flight (a batch running alongside reopens it if it needs it). */
  async flush(): Promise<void> {
    if (this.inFlight > 0) return;
    this.transporter?.close();
    this.transporter = null;
    this.config = null;
  }
}

function domainOf(from: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'waymark.invalid';
}
