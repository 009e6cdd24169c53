/** README's options table is generated from the option table; this keeps the two in step. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../../daemon/config/options.js';

describe('README options table', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  it.each(OPTIONS.filter((o) => o.implemented).map((o) => o.long))('documents --%s', (long) => {
    expect(readme).toContain(`\`--${long}\``);
  });
});
