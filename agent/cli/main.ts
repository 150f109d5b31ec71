#!/usr/bin/env node
/** The `outpost` executable. */
import { runCli } from './index.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
