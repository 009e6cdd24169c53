// Prints README's options table from the one option table (daemon/config/options.ts), so the
// documentation cannot drift from the parser: `node scripts/options-table.mjs` after `npm run build`.
import { OPTIONS } from '../dist/daemon/config/options.js';

const rows = OPTIONS.filter((o) => o.implemented).map((o) => {
  const flag = `${o.short ? `\`-${o.short}\`, ` : ''}\`--${o.long}\`${o.arg ? ` ${o.arg}` : ''}`;
  return `| ${flag} | ${o.help.replace(/\|/g, '\\|')} |`;
});
console.log(['| option | meaning |', '|---|---|', ...rows].join('\n'));
console.log(`\nAlso accepted with a one-line warning (rtpengine options not implemented yet): ${OPTIONS.filter((o) => !o.implemented).map((o) => `\`--${o.long}\``).join(', ')}, and \`--log-level-SUBSYSTEM\`.`);
