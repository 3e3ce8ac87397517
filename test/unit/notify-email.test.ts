import { expect } from 'chai';
import { emailConfigFrom, EmailChannel, safeUrl } from '../../plugins/notify_program/email';
import { silentLogger } from '../utils/site';

describe('notify_program email configuration (SMTP_URL, SMTP_FROM)', () => {
  it('logs instead of sending without SMTP_URL, and says so', () => {
    const config = emailConfigFrom({});
    expect(config.url).to.equal(null);
    expect(config.problem).to.equal(null);
    const channel = new EmailChannel(silentLogger(), {});
    expect(channel.sending()).to.equal(false);
    expect(channel.describe()).to.match(/^Logged, not sent: SMTP_URL is not set/);
  });

  it('accepts smtp:// and smtps:// URLs with credentials, and never shows the password', () => {
    const env = { SMTP_URL: 'smtps://mailer:p%40ss@mail.example.com:465', SMTP_FROM: 'Learning <learning@example.com>' };
    const config = emailConfigFrom(env);
    expect(config.url?.protocol).to.equal('smtps:');
    expect(config.from).to.equal('Learning <learning@example.com>');
    expect(safeUrl(config.url!)).to.equal('smtps://mailer:****@mail.example.com:465');
    const channel = new EmailChannel(silentLogger(), env);
    expect(channel.sending()).to.equal(true);
    expect(channel.describe()).to.equal('Sent through smtps://mailer:****@mail.example.com:465 from Learning <learning@example.com>.');
  });

  it('refuses other schemes and non-URLs, naming the problem, and then only logs', () => {
    expect(emailConfigFrom({ SMTP_URL: 'http://mail.example.com' }).problem).to.contain('must start with smtp:// or smtps://');
    expect(emailConfigFrom({ SMTP_URL: 'not a url' }).problem).to.contain('is not a URL');
    const channel = new EmailChannel(silentLogger(), { SMTP_URL: 'http://mail.example.com' });
    expect(channel.sending()).to.equal(false);
    expect(channel.describe()).to.match(/^Logged, not sent: SMTP_URL must start with/);
  });
});
