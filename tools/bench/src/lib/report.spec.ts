import { formatCell, formatTable } from './report';

describe('report formatting', () => {
  it('formats cells for reading', () => {
    expect(formatCell(1234567)).toBe('1,234,567');
    expect(formatCell(3.14159)).toBe('3.14');
    expect(formatCell(42.56)).toBe('42.6');
    expect(formatCell(512.7)).toBe('513');
    expect(formatCell(NaN)).toBe('–');
    expect(formatCell(undefined)).toBe('–');
    expect(formatCell(true)).toBe('yes');
    expect(formatCell('a|b')).toBe('a|b');
  });

  it('renders an aligned Markdown table and escapes pipes', () => {
    const table = formatTable(['system', 'p99 ms'], [['seqcast', 12.345], ['a|b', 1000]]);
    expect(table.split('\n')).toEqual([
      '| system  | p99 ms |',
      '|---------|--------|',
      '| seqcast | 12.3   |',
      '| a\\|b    | 1,000  |',
    ]);
  });
});
