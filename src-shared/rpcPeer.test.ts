import { describe, expect, it } from 'vitest';
import { createRpcPeer } from './rpcPeer.ts';

describe('createRpcPeer', () => {
  it('matches replies to requests by id, whatever their order, and dispatches events by name', async () => {
    const sent: { id: number; cmd: string; args: unknown }[] = [];
    const peer = createRpcPeer((t) => sent.push(JSON.parse(t)));
    const a = peer.invoke('trading/setThreshold', { threshold: 1 });
    const b = peer.invoke('trading/setThreshold', { threshold: 2 });
    expect(sent.map((m) => [m.id, m.args])).toEqual([
      [1, { threshold: 1 }],
      [2, { threshold: 2 }],
    ]);
    peer.receive(JSON.stringify({ id: 2, ok: false, code: 'bad_request', error: 'no' }));
    peer.receive(JSON.stringify({ id: 1, ok: true, result: 'first' }));
    await expect(a).resolves.toBe('first');
    await expect(b).rejects.toThrow('no');
    const got: unknown[] = [];
    const off = peer.on('app/status', (p) => got.push(p));
    peer.receive(JSON.stringify({ event: 'app/status', payload: { n: 1 } }));
    peer.receive(JSON.stringify({ event: 'other', payload: { n: 2 } }));
    off();
    peer.receive(JSON.stringify({ event: 'app/status', payload: { n: 3 } }));
    expect(got).toEqual([{ n: 1 }]);
    expect(peer.receive(JSON.stringify({ hello: { version: 7 } }))).toBe(7);
    expect(peer.receive(JSON.stringify({ id: 99, ok: true, result: 0 }))).toBeUndefined();
  });

  it('rejects what is still waiting when the socket goes away', async () => {
    const peer = createRpcPeer(() => {});
    const p = peer.invoke('trading/setThreshold', { threshold: 1 });
    peer.failPending('connection lost');
    await expect(p).rejects.toThrow('connection lost');
  });
});
