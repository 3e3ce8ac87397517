// Spec output for people, plus the totals written to a file so scripts/test.ts can add up
// every suite into the one "N passed, N failed" line CI reads.
const fs = require('node:fs');
const Mocha = require('mocha');

class CountingReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const file = process.env.WAYMARK_STATS_FILE;
      if (!file) return;
      const { passes, failures, pending, tests } = this.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending, tests }));
    });
  }
}
module.exports = CountingReporter;
