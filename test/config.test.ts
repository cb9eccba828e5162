import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, parseConfig } from '../src/config';

describe('parseConfig', () => {
  it('gives a sensible default for every setting', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', PUBLIC_URL: 'http://localhost:3000', TOCSIN_DATA_DIR: '.tocsin', LOG_LEVEL: 'info' });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash', () => {
    expect(parseConfig({ PORT: '8080' }).PUBLIC_URL).toBe('http://localhost:8080');
    expect(parseConfig({ PUBLIC_URL: 'https://alerts.example.org/' }).PUBLIC_URL).toBe('https://alerts.example.org');
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });

  const bad: [string, string, RegExp][] = [
    ['PORT', 'eighty', /^Invalid PORT="eighty": expected a number\.$/],
    ['PORT', '70000', /^Invalid PORT="70000": expected a value of at most 65535\.$/],
    ['PUBLIC_URL', 'alerts.example.org', /^Invalid PUBLIC_URL="alerts.example.org": expected a URL\.$/],
    ['PUBLIC_URL', 'ftp://x.org', /^Invalid PUBLIC_URL="ftp:\/\/x.org": expected an http:\/\/ or https:\/\/ URL\.$/],
    ['DATABASE_URL', 'mysql://x', /^Invalid DATABASE_URL=\(hidden\): expected a postgres:\/\/ or postgresql:\/\/ URL\.$/],
    ['LOG_LEVEL', 'loud', /^Invalid LOG_LEVEL="loud": expected one of debug, info, warn, error\.$/],
    ['SECRET_KEY', 'short', /^Invalid SECRET_KEY=\(hidden\): expected at least 32 characters\.$/],
    ['TRUST_PROXY', 'maybe', /^Invalid TRUST_PROXY="maybe": expected true or false\.$/],
    ['PASSWORD_MIN_LENGTH', '4', /^Invalid PASSWORD_MIN_LENGTH="4": expected a value of at least 8\.$/],
  ];
  it.each(bad)('rejects %s=%s with one line naming the variable', (name, value, message) => {
    let error: unknown;
    try {
      parseConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('never prints a secret value in its error', () => {
    expect(() => parseConfig({ SECRET_KEY: 'tooshortsecret' })).toThrow(/^(?!.*tooshortsecret)/);
  });
});

describe('documentation of the configuration', () => {
  const names = Object.keys(configSchema.shape);
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

  it.each(names)('%s is in the README table and in .env.example', (name) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
    expect(example).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });

  it('documents no variable that does not exist', () => {
    const documented = [...readme.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((n) => !names.includes(n!))).toEqual([]);
  });
});
