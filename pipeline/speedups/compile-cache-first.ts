/**
 * Imported first by the entry points of a synth (bin/synth.ts and pipeline/synth-worker.ts): puts
 * the compile cache (compile-cache.ts) in place before the modules imported after it load. A
 * module of its own, as imports run before the statements of the module that imports them.
 */
import { useCompileCache } from './compile-cache';

useCompileCache();
