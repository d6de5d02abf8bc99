// Runs on `npm install` (the `prepare` script): installs what warden needs from the system.
// As root it installs bubblewrap (and a C toolchain for warden's native helpers) with apt-get when
// missing; otherwise it says exactly what to run. Sandboxes started by root run as uids of their
// own from a reserved range (src/sandbox/uids.ts), so no account is created.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const isRoot = process.getuid?.() === 0;
const say = (message) => process.stderr.write(`warden setup: ${message}\n`);

function has(tool) {
  return ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'].some((dir) => existsSync(`${dir}/${tool}`));
}

function aptInstall(packages) {
  say(`installing ${packages.join(' ')} with apt-get ...`);
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (install().status === 0) return true;
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  return install().status === 0;
}

if (process.platform !== 'linux') {
  say('warden sandboxes need Linux (bubblewrap, namespaces, seccomp); this machine is ' + process.platform + '.');
} else {
  const missing = [['bwrap', 'bubblewrap'], ['nsenter', 'util-linux'], ['cc', 'gcc']].filter(([tool]) => !has(tool)).map(([, pkg]) => pkg);
  if (missing.length > 0) {
    if (isRoot && has('apt-get')) {
      if (!aptInstall(missing)) say(`could not install ${missing.join(' ')}: install it yourself, then run \`warden doctor\`.`);
    } else {
      say(`MISSING: ${missing.join(' ')}. warden cannot build sandboxes without it. Run: sudo apt-get install -y ${missing.join(' ')}`);
    }
  }
}
