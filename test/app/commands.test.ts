import { describe, expect, it } from '@jest/globals';
import { parseCommand, targetAction } from '../../app/webhooks/commands.js';

describe('parseCommand', () => {
  it('reads /approve with and without a note', () => {
    expect(parseCommand('/approve')).toEqual({ kind: 'approve', note: '' });
    expect(parseCommand('  \n/approve  looks good to me \nmore text')).toEqual({ kind: 'approve', note: 'looks good to me' });
    expect(parseCommand('/APPROVE ok')).toEqual({ kind: 'approve', note: 'ok' });
  });

  it('requires a reason for /reject', () => {
    expect(parseCommand('/reject not during the freeze')).toEqual({ kind: 'reject', reason: 'not during the freeze' });
    expect(parseCommand('/reject')).toMatchObject({ kind: 'invalid', problem: expect.stringContaining('needs a reason') });
    expect(parseCommand('/reject   ')).toMatchObject({ kind: 'invalid' });
  });

  it('only reads the first non-empty line, so quoted commands never vote', () => {
    expect(parseCommand('I disagree\n> /approve')).toBeUndefined();
    expect(parseCommand('please /approve this')).toBeUndefined();
  });

  it('suggests the intended command for near misses', () => {
    expect(parseCommand('/aprove')).toEqual({ kind: 'invalid', problem: 'unknown command `/aprove`', suggestion: '/approve' });
    expect(parseCommand('/approved yes')).toMatchObject({ kind: 'invalid', suggestion: '/approve' });
    expect(parseCommand('/rejected')).toMatchObject({ kind: 'invalid', suggestion: '/reject' });
  });

  it('ignores other bots\' commands and plain text', () => {
    expect(parseCommand('/label bug')).toBeUndefined();
    expect(parseCommand('/cc @alice')).toBeUndefined();
    expect(parseCommand('LGTM')).toBeUndefined();
    expect(parseCommand('')).toBeUndefined();
  });
});

describe('targetAction', () => {
  it('picks the named pending action and leaves the rest as the note', () => {
    expect(targetAction('Deploy ship it', ['deploy', 'migrate'])).toEqual({ action: 'deploy', rest: 'ship it' });
    expect(targetAction('ship it', ['deploy', 'migrate'])).toBeUndefined();
  });
});
