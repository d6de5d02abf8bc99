// A smart-HTTP git server for tests: `git http-backend` (a CGI program) behind a small node
// shim that turns each HTTP request into one CGI invocation.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

/** A bare repository with one commit, ready to be served and cloned. */
export function makeRepo(root: string): { projectRoot: string; name: string } {
  const projectRoot = path.join(root, 'srv');
  const work = path.join(root, 'work');
  fs.mkdirSync(projectRoot, { recursive: true });
  const git = (cwd: string, ...args: string[]): void => {
    const r = spawnSync('git', args, { cwd, env: gitEnv(root), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git(projectRoot, 'init', '-q', '--bare', '-b', 'main', 'repo.git');
  git(path.join(projectRoot, 'repo.git'), 'config', 'http.receivepack', 'true');
  git(root, 'init', '-q', '-b', 'main', 'work');
  fs.writeFileSync(path.join(work, 'README'), 'served through the warden egress proxy\n');
  git(work, 'add', 'README');
  git(work, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'first');
  git(work, 'push', '-q', path.join(projectRoot, 'repo.git'), 'main');
  return { projectRoot, name: 'repo.git' };
}

/** Environment for git commands that must not read the machine's own git configuration. */
export function gitEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...extra };
}

export function gitHttpBackend(projectRoot: string): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'tester', // lets receive-pack run (http.receivepack is on as well)
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headerDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf('\r\n\r\n');
      const lf = head.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
      if (end < 0) return;
      headerDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const c = line.indexOf(':');
        if (c <= 0) continue;
        const name = line.slice(0, c).trim();
        const value = line.slice(c + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else res.setHeader(name, value);
      }
      res.statusCode = status;
      res.write(head.subarray(end));
    });
    child.on('close', () => res.end());
    child.on('error', () => {
      res.statusCode = 500;
      res.end();
    });
  };
}
