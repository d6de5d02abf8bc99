// Runs on `npm install` (the `prepare` script): installs what warden needs from the system.
// As root it installs bubblewrap with apt-get when missing and creates the unprivileged
// `warden-sandbox` account sandboxes run as; otherwise it says exactly what to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

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
  const missing = [['bwrap', 'bubblewrap'], ['prlimit', 'util-linux']].filter(([tool]) => !has(tool)).map(([, pkg]) => pkg);
  if (missing.length > 0) {
    if (isRoot && has('apt-get')) {
      if (!aptInstall(missing)) say(`could not install ${missing.join(' ')}: install it yourself, then run \`warden doctor\`.`);
    } else {
      say(`MISSING: ${missing.join(' ')}. warden cannot build sandboxes without it. Run: sudo apt-get install -y ${missing.join(' ')}`);
    }
  }
  if (isRoot) {
    const passwd = readFileSync('/etc/passwd', 'utf8');
    if (!passwd.split('\n').some((line) => line.startsWith('warden-sandbox:'))) {
      try {
        execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin',
          '--user-group', '--comment', 'warden sandboxes', 'warden-sandbox'], { stdio: 'inherit' });
        say('created the unprivileged system account warden-sandbox (sandboxes run as it when warden runs as root)');
      } catch {
        say('could not create the warden-sandbox account; sandboxes started by root will run as nobody instead');
      }
    }
  }
}
