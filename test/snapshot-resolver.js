// Tests run compiled from build/test; keep their snapshots next to the sources in test/ so they
// are committed and reviewed.
const path = require('path');

const root = process.cwd();
module.exports = {
  resolveSnapshotPath: (testPath, ext) => {
    const rel = path.relative(path.join(root, 'build', 'test'), testPath).replace(/\.js$/, '.ts');
    return path.join(root, 'test', '__snapshots__', rel + ext);
  },
  resolveTestPath: (snapshotPath, ext) => {
    const rel = path
      .relative(path.join(root, 'test', '__snapshots__'), snapshotPath)
      .slice(0, -ext.length)
      .replace(/\.ts$/, '.js');
    return path.join(root, 'build', 'test', rel);
  },
  testPathForConsistencyCheck: path.join(root, 'build', 'test', 'charts', 'example.test.js'),
};
