import { expect } from 'chai';
import { checkManifest } from '../../core/kernel/plugins/manifest';
import { SDK_VERSION } from '../../core/kernel/plugins/sdk-version';

const good = { id: 'local_demo', name: 'Demo', version: '1.2.3', sdk: '^1.0.0' };
const codes = (raw: unknown, folder = 'local_demo') => checkManifest(raw, folder).problems.map((p) => p.code);

describe('plugin manifest checks', () => {
  it('accepts a minimal and a complete manifest', () => {
    expect(checkManifest(good, 'local_demo')).to.deep.equal({ manifest: good, problems: [] });
    const full = {
      ...good,
      requires: { enrol_program: '^1.0.0' },
      hooks: ['onCompletion', 'enrol_program.enrolled'],
      settingsSchema: { type: 'object', properties: { days: { type: 'integer', default: 3 } } },
      defaultEnabled: false,
      description: 'Everything',
    };
    expect(checkManifest(full, 'local_demo').problems).to.deep.equal([]);
  });

  it('gives each mistake its stable code', () => {
    expect(codes({ ...good, id: 'Local-Demo' })).to.deep.equal(['PM001-ID-PATTERN']);
    expect(codes({ ...good, id: 'demo' })).to.deep.equal(['PM001-ID-PATTERN']);
    expect(codes(good, 'local_other')).to.deep.equal(['PM002-ID-FOLDER-MISMATCH']);
    expect(codes({ ...good, version: '1.2' })).to.deep.equal(['PM003-VERSION-SEMVER']);
    expect(codes({ ...good, sdk: 'one point oh' })).to.deep.equal(['PM004-SDK-RANGE']);
    expect(codes({ ...good, sdk: '^2.0.0' })).to.deep.equal(['PM005-SDK-INCOMPATIBLE']);
    expect(codes({ ...good, colour: 'blue' })).to.deep.equal(['PM016-MANIFEST-SCHEMA']);
    expect(codes({ ...good, name: undefined })).to.deep.equal(['PM016-MANIFEST-SCHEMA']);
    expect(codes({ ...good, defaultEnabled: 'yes' })).to.deep.equal(['PM016-MANIFEST-SCHEMA']);
    expect(codes({ ...good, hooks: ['not a hook'] })).to.deep.equal(['PM016-MANIFEST-SCHEMA']);
    expect(codes({ ...good, requires: { NotAnId: '^1.0.0' } })).to.include('PM016-MANIFEST-SCHEMA');
    expect(codes({ ...good, requires: { local_other: 'latest please' } })).to.deep.equal(['PM023-REQUIRES-RANGE']);
    expect(codes({ ...good, settingsSchema: { type: 'objekt' } })).to.deep.equal(['PM022-SETTINGS-SCHEMA-INVALID']);
    expect(codes(['not', 'an', 'object'])).to.deep.equal(['PM016-MANIFEST-SCHEMA']);
  });

  it('reports every problem at once, and names the unknown field', () => {
    const check = checkManifest({ ...good, version: 'x', sdk: '^9.0.0' }, 'local_other');
    expect(check.manifest).to.equal(null);
    expect(check.problems.map((p) => p.code)).to.deep.equal(['PM002-ID-FOLDER-MISMATCH', 'PM003-VERSION-SEMVER', 'PM005-SDK-INCOMPATIBLE']);
    expect(checkManifest({ ...good, colour: 'blue' }, 'local_demo').problems[0]!.message).to.contain('"colour"');
  });

  it('checks the sdk range against the running SDK version', () => {
    expect(SDK_VERSION).to.equal('1.0.0');
    expect(codes({ ...good, sdk: '>=1.0.0 <1.1.0' })).to.deep.equal([]);
    expect(codes({ ...good, sdk: '~0.9.0' })).to.deep.equal(['PM005-SDK-INCOMPATIBLE']);
  });
});
