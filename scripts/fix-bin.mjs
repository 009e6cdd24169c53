// tsc does not set the executable bit; the package's bin entry must be runnable after `npm install`.
import { chmodSync, existsSync } from 'node:fs';
const entry = new URL('../dist/daemon/main.js', import.meta.url);
if (existsSync(entry)) chmodSync(entry, 0o755);
