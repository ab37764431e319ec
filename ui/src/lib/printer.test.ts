import { describe, expect, it } from 'vitest';
import { printerChoices, printerToSave } from './printer';

describe('terminal printer', () => {
  it('offers the CUPS queues', () => {
    expect(printerChoices({ printers: ['Counter_1', 'PDF'], selected: 'PDF' })).toEqual([
      { name: 'Counter_1', listed: true },
      { name: 'PDF', listed: true },
    ]);
  });

  it('keeps a chosen printer CUPS no longer lists, marked as such', () => {
    expect(printerChoices({ printers: ['PDF'], selected: 'Old_Queue' })).toEqual([
      { name: 'Old_Queue', listed: false },
      { name: 'PDF', listed: true },
    ]);
    expect(printerChoices({ printers: [], selected: null })).toEqual([]);
  });

  it('saves "no printer" as null', () => {
    expect(printerToSave('')).toBeNull();
    expect(printerToSave('PDF')).toBe('PDF');
  });
});
