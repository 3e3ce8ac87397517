import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../core/kernel/config';
import { PluginErrorCode } from '../../core/kernel/plugins/codes';

const guide = fs.readFileSync(path.join(projectRoot, 'docs', 'plugin-authors.md'), 'utf8');

/** Code blocks preceded by `<!-- file: path -->`, which must be that file byte for byte. */
function fileBlocks(markdown: string): Array<{ file: string; code: string }> {
  const pattern = /<!-- file: (\S+) -->\n```[a-z]*\n([\s\S]*?)\n```/g;
  return [...markdown.matchAll(pattern)].map((m) => ({ file: m[1]!, code: m[2]! }));
}

describe('plugin author guide', () => {
  it('shows the example plugins exactly as they are in test/fixtures (local_hello, and the restriction condition local_enrolledfor)', () => {
    const blocks = fileBlocks(guide);
    expect(blocks.map((b) => b.file)).to.deep.equal([
      'test/fixtures/plugins/local_hello/plugin.json',
      'test/fixtures/plugins/local_hello/index.ts',
      'test/fixtures/condition-plugins/local_enrolledfor/plugin.json',
      'test/fixtures/condition-plugins/local_enrolledfor/index.ts',
    ]);
    for (const { file, code } of blocks) {
      expect(code, `${file} differs from its copy in docs/plugin-authors.md`).to.equal(
        fs.readFileSync(path.join(projectRoot, file), 'utf8').replace(/\n$/, ''),
      );
    }
  });

  it('documents every plugin error code', () => {
    for (const code of Object.values(PluginErrorCode)) expect(guide, code).to.contain(`\`${code}\``);
  });
});
