/** Jest's globalSetup (package.json): the run's own temporary folder (test/temp-folder.ts). */
import { setup } from './temp-folder';

export default setup;
