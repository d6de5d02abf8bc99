import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import { durationMs } from '../../src/policy/sizes.js';
import { accept, assertAt, reject, rejectOnce, yaml } from './helpers.js';

function governance(...lines: string[]): string {
  return yaml('version: 1', 'governance:', ...lines.map((line) => `  ${line}`));
}

suite('governance section', () => {
  test('every field loads as written', () => {
    const policy = accept(governance(
      'scanner: { inspect: [http_responses, tool_results, bus_messages, model_prompts], on_detect: flag }',
      'breakers:',
      '  bus_pair: { max_messages: 5, window: 30m }',
      '  repeated_tool_call: { max_repeats: 4, window: 10m }',
      '  denials: { max: 20, window: 45s, action: alert }',
      'trust: { initial: 0, tiers: { auto: 1000, peer: 600, committee: 0 } }',
      'contract:',
      '  may_message: [reviewer]',
      '  tools: { allow: [a.read], require_approval: [a.write], deny: [a.delete] }',
    ));
    assert.deepEqual(policy.governance, {
      scanner: { inspect: ['http_responses', 'tool_results', 'bus_messages', 'model_prompts'], on_detect: 'flag' },
      breakers: {
        bus_pair: { max_messages: 5, window: '30m' },
        repeated_tool_call: { max_repeats: 4, window: '10m' },
        denials: { max: 20, window: '45s', action: 'alert' },
      },
      trust: { initial: 0, tiers: { auto: 1000, peer: 600, committee: 0 } },
      contract: { may_message: ['reviewer'], tools: { allow: ['a.read'], require_approval: ['a.write'], deny: ['a.delete'] } },
    });
  });

  test('an empty governance section is fine; an absent one stays absent', () => {
    assert.deepEqual(accept(yaml('version: 1', 'governance: {}')).governance, {});
    assert.equal(accept(yaml('version: 1')).governance, undefined);
  });

  test('durations: s, m, h and combinations; nothing else', () => {
    for (const good of ['45s', '10m', '1h', '1h30m', '2h0m5s']) {
      accept(governance(`breakers: { bus_pair: { max_messages: 1, window: ${good} } }`));
    }
    for (const bad of ['0s', '30', '30x', '1d', '1m1h', '"-5m"', '"1.5h"', '""', '30 m']) {
      assertAt(rejectOnce(governance(`breakers: { bus_pair: { max_messages: 1, window: ${bad} } }`)), 3, 52,
        'governance.breakers.bus_pair.window', 'expected a duration such as "45s", "10m", "1h" or "1h30m"');
    }
  });

  test('durationMs converts what the schema accepts', () => {
    assert.equal(durationMs('45s'), 45_000);
    assert.equal(durationMs('10m'), 600_000);
    assert.equal(durationMs('1h30m'), 5_400_000);
    assert.equal(durationMs('0m'), undefined);
    assert.equal(durationMs('soon'), undefined);
  });

  test('breaker counts are positive integers and windows are required', () => {
    const diagnostics = reject(governance('breakers:', '  bus_pair: { max_messages: 0 }', '  denials: { max: 2.5, window: 5m, action: explode }'));
    assert.deepEqual(diagnostics.map((d) => [d.line, d.column, d.path]), [
      [4, 15, 'governance.breakers.bus_pair'],
      [4, 31, 'governance.breakers.bus_pair.max_messages'],
      [5, 21, 'governance.breakers.denials.max'],
      [5, 46, 'governance.breakers.denials.action'],
    ]);
    assert.match(diagnostics[0]!.message, /missing required key "window"/);
    assert.match(diagnostics[3]!.message, /expected one of "pause", "stop", "alert", got "explode"/);
  });

  test('trust scores are 0..1000 and tiers go auto >= peer >= committee', () => {
    assertAt(rejectOnce(governance('trust: { initial: 1001 }')), 3, 21, 'governance.trust.initial', 'expected an integer 0..1000, got 1001');
    assertAt(rejectOnce(governance('trust: { tiers: { auto: 500, peer: 600 } }')), 3, 38, 'governance.trust.tiers.peer',
      'peer (600) must not be above auto (500)');
    assertAt(rejectOnce(governance('trust: { tiers: { auto: 900, committee: 950 } }')), 3, 43, 'governance.trust.tiers.committee',
      'committee (950) must not be above auto (900)');
  });

  test('a tool may be in only one contract list', () => {
    assertAt(rejectOnce(governance('contract: { tools: { allow: [x, y], deny: [y] } }')), 3, 46, 'governance.contract.tools.deny[0]',
      '"y" is also listed in allow');
  });

  test('scanner values are closed lists', () => {
    const diagnostics = reject(governance('scanner: { inspect: [emails], on_detect: quarantin }'));
    assert.equal(diagnostics.length, 2);
    assertAt(diagnostics[0]!, 3, 24, 'governance.scanner.inspect[0]', 'got "emails"');
    assertAt(diagnostics[1]!, 3, 44, 'governance.scanner.on_detect', 'did you mean "quarantine"?');
  });

  test('unknown governance keys get suggestions', () => {
    assertAt(rejectOnce(governance('breaker: {}')), 3, 3, 'governance.breaker', 'did you mean "breakers"?');
    assertAt(rejectOnce(governance('contract: { may_mesage: [a] }')), 3, 15, 'governance.contract.may_mesage', 'did you mean "may_message"?');
  });
});
