import { describe, expect, it } from 'vitest';
import { errorMessage, redactText, redactUrl, urlSecrets } from '../../../src/checks/redact';

describe('redactUrl', () => {
  it('masks the password but keeps the user of a database URL', () => {
    expect(redactUrl('postgres://app:S3cretPass@db.internal:5432/chat')).toBe('postgres://app:***@db.internal:5432/chat');
    expect(redactUrl('redis://:S3cretPass@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(redactUrl('postgres://app@db/chat')).toBe('postgres://app@db/chat');
  });

  it('masks the whole userinfo and secret query parameters of an HTTP URL', () => {
    const out = redactUrl('https://tok3nUser:pw@api.example.com/v1/models?api_key=K1&model=gpt&X-Amz-Signature=abc&access_token=t#frag', {
      userinfo: 'all',
    });
    expect(out).toBe('https://***@api.example.com/v1/models?api_key=***&model=gpt&X-Amz-Signature=***&access_token=***');
    expect(redactUrl('https://tok3nUser@api.example.com/', { userinfo: 'all' })).toBe('https://***@api.example.com/');
  });

  it('falls back to text redaction for libpq key=value strings', () => {
    expect(redactUrl("host=db user=app password='S3cret Pass' dbname=chat")).toBe('host=db user=app password=*** dbname=chat');
  });
});

describe('redactText', () => {
  it('masks known literals, URL passwords, password= pairs, SQL passwords and bearer tokens', () => {
    const text = `failed for postgres://u:S3cretPass@h/db; sslpassword=abc123 token=xyz; ALTER ROLE u PASSWORD 'p''w'; Authorization: Bearer sk-abcdefghijkl; saw S3cretPass`;
    const out = redactText(text, ['S3cretPass']);
    expect(out).not.toMatch(/S3cretPass|abc123|xyz|p''w|sk-abcdefghijkl/);
    expect(out).toContain('postgres://u:***@h/db');
    expect(out).toContain("PASSWORD '***'");
    expect(out).toContain('Bearer ***');
  });

  it('masks URL-encoded forms of a secret', () => {
    expect(redactText('url: p%40ss%2Fword!', ['p@ss/word!'])).toBe('url: ***');
  });

  it('collects secrets from URLs', () => {
    expect(urlSecrets('postgres://u:p%40ss@h/db')).toEqual(['p%40ss', 'p@ss']);
    expect(urlSecrets('https://tok@h/?key=K&x=1', { userinfo: 'all' })).toEqual(['tok', 'tok', 'K']);
  });
});

describe('errorMessage', () => {
  it('folds in code and cause, and redacts', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = new TypeError('fetch failed', { cause });
    expect(errorMessage(err)).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:1');
    const agg = new AggregateError([cause, cause], '');
    expect(errorMessage(agg)).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(errorMessage(new Error('bad password=hunter22 for S3cretPass'), ['S3cretPass'])).toBe('bad password=*** for ***');
  });
});
