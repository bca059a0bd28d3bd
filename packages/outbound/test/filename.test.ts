import { describe, expect, it } from 'vitest';

import { parseContentDisposition, pickFilename } from '../src/filename';

describe(parseContentDisposition.name, () => {
  it.each([
    [`attachment; filename*=UTF-8''K%C3%A4tze%20%E7%8C%AB.jpg`, 'Kätze 猫.jpg'],
    [`attachment; filename="fallback.jpg"; filename*=UTF-8''K%C3%A4tze.jpg`, 'Kätze.jpg'],
    [`attachment; filename*=utf-8'de'na%C3%AFve.txt; filename=naive.txt`, 'naïve.txt'],
    [`attachment; filename*=ISO-8859-1''caf%E9.txt`, 'café.txt'],
    [`attachment; filename="report 2024.pdf"`, 'report 2024.pdf'],
    [`attachment; filename="quo\\"te.txt"`, 'quo"te.txt'],
    [`attachment; filename="a;b.txt"`, 'a;b.txt'],
    ['inline; filename=plain.csv', 'plain.csv'],
    [`attachment; FILENAME="upper.txt"`, 'upper.txt'],
    [`attachment; filename="${Buffer.from('Kätze.jpg').toString('latin1')}"`, 'Kätze.jpg'],
    ['attachment; filename="../../etc/passwd"', 'passwd'],
    ['attachment; filename="C:\\\\temp\\\\evil.exe"', 'evil.exe'],
    ['attachment; filename="bad\u0001name.txt"', 'badname.txt'],
    ['attachment; filename=".."', undefined],
    ['attachment; filename=""', undefined],
    ['attachment', undefined],
    [`attachment; filename*=UTF-8''%E0%A4%A; filename="ok.txt"`, '%E0%A4%A'],
    [`attachment; filename*=koi8-r''x.txt; filename="ok.txt"`, 'ok.txt'],
  ])('reads %s', (header, expected) => {
    expect(parseContentDisposition(header)).toBe(expected);
  });
});

describe(pickFilename.name, () => {
  it('prefers Content-Disposition over the URL', () => {
    expect(pickFilename('attachment; filename="a.pdf"', new URL('http://x.test/b.pdf'))).toBe(
      'a.pdf',
    );
  });

  it('falls back to the percent-decoded last path segment', () => {
    expect(
      pickFilename(undefined, new URL('http://x.test/dir/K%C3%A4tze%20%E7%8C%AB.jpg?x=1')),
    ).toBe('Kätze 猫.jpg');
  });

  it('returns undefined when the URL ends in a slash', () => {
    expect(pickFilename(undefined, new URL('http://x.test/dir/'))).toBeUndefined();
  });

  it('never returns a path from an encoded slash', () => {
    expect(pickFilename(undefined, new URL('http://x.test/a%2F..%2F..%2Fpasswd'))).toBe('passwd');
  });
});
