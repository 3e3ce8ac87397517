import { expect } from 'chai';
import { chooseLogFormat } from '../../core/kernel/logging';

describe('log format', () => {
  it('is readable on a terminal and JSON lines otherwise', () => {
    expect(chooseLogFormat({}, true)).to.equal('console');
    expect(chooseLogFormat({}, false)).to.equal('json');
  });

  it('LOG_FORMAT decides regardless of the terminal', () => {
    expect(chooseLogFormat({ LOG_FORMAT: 'json' }, true)).to.equal('json');
    expect(chooseLogFormat({ LOG_FORMAT: 'console' }, false)).to.equal('console');
    expect(chooseLogFormat({ LOG_FORMAT: 'xml' }, true)).to.equal('console');
  });
});
