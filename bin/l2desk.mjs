#!/usr/bin/env node
// Entry point of the headless CLI: runs the TypeScript sources through tsx so that no build step is needed.
import { register } from 'tsx/esm/api';
import { pathToFileURL, fileURLToPath } from 'node:url';
import path from 'node:path';

register();
const here = path.dirname(fileURLToPath(import.meta.url));
const { main } = await import(pathToFileURL(path.join(here, '..', 'src-main', 'cli.ts')).href);
process.exitCode = await main(process.argv.slice(2));
