import * as assert from 'node:assert/strict';
import { toolEnv } from './helpers/tool-env';

describe('test helpers: the environment of system tools', () => {
  it('drops the sanitizer runtimes from LD_PRELOAD and keeps everything else', () => {
    const env = { PATH: '/bin', LD_PRELOAD: '/lib/x86_64-linux-gnu/libasan.so.8 /opt/libx.so:/usr/lib/libubsan.so.1' };
    const out = toolEnv(env);
    assert.equal(out.LD_PRELOAD, '/opt/libx.so');
    assert.equal(out.PATH, '/bin');
    assert.equal(env.LD_PRELOAD, '/lib/x86_64-linux-gnu/libasan.so.8 /opt/libx.so:/usr/lib/libubsan.so.1', 'input untouched');
    assert.ok(!('LD_PRELOAD' in toolEnv({ LD_PRELOAD: '/usr/lib/gcc/x86_64-linux-gnu/12/libasan.so' })));
    assert.ok(!('LD_PRELOAD' in toolEnv({})));
  });
});
