/** Jest's globalTeardown (package.json): removes the run's temporary folder (test/temp-folder.ts). */
import { teardown } from './temp-folder';

export default teardown;
