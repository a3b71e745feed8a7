import { describe, expect, it } from 'vitest';
import { parseMigrationFileName, splitStatements } from './sql-statements';

describe('splitStatements', () => {
  it('splits on a semicolon at the end of a line and drops it', () => {
    const sql = 'CREATE TABLE a\n(\n  x UInt8\n)\nENGINE = Memory;\n\nCREATE TABLE b (y UInt8) ENGINE = Memory;  \n';
    expect(splitStatements(sql)).toEqual(['CREATE TABLE a\n(\n  x UInt8\n)\nENGINE = Memory', 'CREATE TABLE b (y UInt8) ENGINE = Memory']);
  });

  it('keeps a semicolon that is not at the end of a line', () => {
    expect(splitStatements("SELECT ';' AS s, 1;\n")).toEqual(["SELECT ';' AS s, 1"]);
  });

  it('drops full-line comments, including ones ending in a semicolon', () => {
    const sql = '-- header;\nCREATE TABLE a (x UInt8)\n  -- why;\nENGINE = Memory;\n-- trailer\n';
    expect(splitStatements(sql)).toEqual(['CREATE TABLE a (x UInt8)\nENGINE = Memory']);
  });

  it('keeps a last statement without a semicolon and ignores blank input', () => {
    expect(splitStatements('SELECT 1;\nSELECT 2\n')).toEqual(['SELECT 1', 'SELECT 2']);
    expect(splitStatements('\n  \n-- only a comment\n')).toEqual([]);
  });

  it('handles CRLF line endings', () => {
    expect(splitStatements('SELECT 1;\r\nSELECT 2;\r\n')).toEqual(['SELECT 1', 'SELECT 2']);
  });
});

describe('parseMigrationFileName', () => {
  it('reads the version and name', () => {
    expect(parseMigrationFileName('0001_events_raw.sql')).toEqual({ version: 1, name: 'events_raw' });
    expect(parseMigrationFileName('0120_usage_per_hour_v2.sql')).toEqual({ version: 120, name: 'usage_per_hour_v2' });
  });

  it('rejects other shapes', () => {
    for (const bad of ['1_a.sql', '0001-events.sql', '0001_Events.sql', '0001_events.sql.bak', 'README.md']) {
      expect(parseMigrationFileName(bad)).toBeUndefined();
    }
  });
});
