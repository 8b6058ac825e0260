// Runs a real workerd (node_modules/.bin/workerd) on a config and reports where each socket
// listens: sockets bind port 0, and workerd announces the ports on --control-fd.
//
//   const wd = await startWorkerd('/tmp/x/config.capnp', { sockets: ['main'] });
//   await fetch(`${wd.urls.main}/v1/health`);
//   await wd.stop();   // SIGTERM, then SIGKILL after 3 s; resolves once the process is gone
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { REPO } from '../../deploy/build.mjs';

export const WORKERD = join(REPO, 'node_modules', '.bin', 'workerd');

export function startWorkerd(configPath, { sockets, timeoutMs = 15000 } = {}) {
  if (!existsSync(WORKERD)) throw new Error(`${WORKERD} not found: run npm ci (devDependency workerd)`);
  const child = spawn(WORKERD, ['serve', configPath, '--control-fd=3'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  };

  return new Promise((resolve, reject) => {
    const urls = {};
    let control = '';
    const fail = (why) => {
      clearTimeout(timer);
      stop().then(() => reject(new Error(`workerd: ${why}\n${log}`)));
    };
    const timer = setTimeout(() => fail(`no listen event within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (e) => fail(e.message));
    exited.then(({ code, signal }) => { if (Object.keys(urls).length < sockets.length) fail(`exited (${code ?? signal}) before listening`); });
    child.stdio[3].on('data', (d) => {
      control += d;
      let nl;
      while ((nl = control.indexOf('\n')) >= 0) {
        const line = control.slice(0, nl);
        control = control.slice(nl + 1);
        const msg = JSON.parse(line);
        if (msg.event === 'listen') urls[msg.socket] = `http://127.0.0.1:${msg.port}`;
      }
      if (sockets.every((s) => urls[s])) {
        clearTimeout(timer);
        resolve({ urls, stop, child, log: () => log });
      }
    });
  });
}
