import { runSynth } from '../helpers';

jest.setTimeout(120_000);

/**
 * The staleness check of the change-test loop (npm test): dist/ is committed, so a change that
 * alters it must come with the regenerated files. One `synth --check`, as CI and the README run it;
 * the rest of the synth command's end-to-end tests are in synth-cli.test.ts (npm run test:slow).
 */
describe('the committed dist/', () => {
  it('is what synth produces from environments/ (run npm run synth and commit dist/)', () => {
    const result = runSynth(['--check']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
