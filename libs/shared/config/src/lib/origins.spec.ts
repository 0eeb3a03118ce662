import { ConfigValidationError } from './config-validation-error';
import { isOriginAllowed, resolveAllowedOrigins } from './origins';

describe('resolveAllowedOrigins', () => {
  it('is permissive only outside production', () => {
    expect(resolveAllowedOrigins('development', undefined)).toEqual(['*']);
    expect(resolveAllowedOrigins('production', undefined)).toEqual([]);
    expect(() => resolveAllowedOrigins('production', '*')).toThrow(ConfigValidationError);
  });

  it('reads a list and refuses entries that are not origins', () => {
    expect(resolveAllowedOrigins('production', 'https://app.example.com, http://localhost:5173')).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    expect(() => resolveAllowedOrigins('production', 'https://app.example.com/path')).toThrow(/scheme:\/\/host/);
  });
});

describe('isOriginAllowed', () => {
  const list = ['https://app.example.com'];
  it('lets requests without an Origin through and matches exactly otherwise', () => {
    expect(isOriginAllowed(undefined, list)).toBe(true);
    expect(isOriginAllowed('https://APP.example.com', list)).toBe(true);
    expect(isOriginAllowed('http://evil.example', list)).toBe(false);
    expect(isOriginAllowed('https://app.example.com.evil.example', list)).toBe(false);
    expect(isOriginAllowed('http://evil.example', ['*'])).toBe(true);
    expect(isOriginAllowed('http://evil.example', [])).toBe(false);
  });
});
