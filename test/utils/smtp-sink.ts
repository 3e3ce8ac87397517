import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/** One message as the SMTP server received it: the envelope and the parsed mail. */
export interface ReceivedMail {
  envelopeTo: string[];
  mail: ParsedMail;
}

/**
 * A real SMTP server on a loopback port (smtp-server), for tests and benchmarks: it requires the
 * credentials given, records every message it accepts (raw, before acknowledging it, so a
 * resolved sendMail means the message is recorded) and parses them with mailparser on demand.
 */
export class SmtpSink {
  private readonly raw: Array<{ envelopeTo: string[]; data: Buffer }> = [];
  private server: SMTPServer;
  /** Connections opened, to check that messages share pooled connections. */
  connections = 0;

  constructor(private readonly credentials = { user: 'mailer', pass: 's3cret' }) {
    this.server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      size: 10 * 1024 * 1024,
      onConnect: (_session, callback) => {
        this.connections++;
        callback();
      },
      onAuth: (auth, _session, callback) => {
        if (auth.username === this.credentials.user && auth.password === this.credentials.pass) callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          this.raw.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks) });
          callback();
        });
      },
    });
  }

  /** Listens on 127.0.0.1 and returns the SMTP_URL that reaches it. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://${this.credentials.user}:${this.credentials.pass}@127.0.0.1:${port}`;
  }

  get count(): number {
    return this.raw.length;
  }

  /** Every message received so far, parsed, in arrival order. */
  async messages(): Promise<ReceivedMail[]> {
    return Promise.all(this.raw.map(async (r) => ({ envelopeTo: r.envelopeTo, mail: await simpleParser(r.data) })));
  }

  /** Forgets what was received (between test cases). */
  clear(): void {
    this.raw.length = 0;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
