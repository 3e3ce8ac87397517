import { expect } from 'chai';
import { hashPassword, verifyPassword } from '../../core/kernel/auth/passwords';

describe('passwords', () => {
  it('verifies the right password and rejects a wrong one', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery staple', hash)).to.equal(true);
    expect(await verifyPassword('correct horse battery stapler', hash)).to.equal(false);
    expect(await verifyPassword('', hash)).to.equal(false);
  });

  it('salts every hash and never contains the password', async () => {
    const [a, b] = await Promise.all([hashPassword('s3cret-pw'), hashPassword('s3cret-pw')]);
    expect(a).to.not.equal(b);
    expect(a).to.not.contain('s3cret-pw');
    expect(a).to.match(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
  });

  it('treats empty, malformed or tampered hashes as a mismatch rather than crashing', async () => {
    expect(await verifyPassword('pw', null)).to.equal(false);
    expect(await verifyPassword('pw', '')).to.equal(false);
    expect(await verifyPassword('pw', 'plaintext')).to.equal(false);
    expect(await verifyPassword('pw', 'scrypt$1073741824$8$1$c2FsdA$a2V5a2V5a2V5a2V5a2V5')).to.equal(false);
    const good = await hashPassword('pw');
    const parts = good.split('$');
    parts[5] = Buffer.alloc(64, 1).toString('base64url');
    expect(await verifyPassword('pw', parts.join('$'))).to.equal(false);
  });

  it('treats Unicode-equivalent spellings of a password as the same password', async () => {
    const hash = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', hash)).to.equal(true);
  });
});
