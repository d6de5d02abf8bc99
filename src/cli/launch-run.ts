// `warden launch NAME`: provision the blueprint's layer (cached), create or start its sandbox through
// the gateway, then either wait until the agent's service answers (its dashboard forwarded to the
// host), or run one chat turn and print the answer.
import { readFileSync } from 'node:fs';
import { CliError, printJsonResult, printLine } from './output.js';
import { gatewayCall, loadPolicyArg } from './gateway-commands.js';
import { httpAnswers, newToken, portNumber, type LaunchOptions } from './launch.js';
import type { Blueprint, RenderValues } from '../blueprint/index.js';
import type { OpReply } from '../gateway/index.js';

type SandboxView = OpReply<'sandbox.get'>;
import { encodeFrame, encodeSignal, FRAME, parseEnvAssignments, type ExecSignal } from '../sandbox/index.js';
import { execFrames } from './exec.js';
import { isValidSandboxName, wardenHome } from '../store/index.js';

export async function launchCommand(blueprintName: string, opts: LaunchOptions): Promise<number> {
  const started = Date.now();
  const json = Boolean(opts.json);
  const say = (line: string) => printLine(2, `warden: ${line}`);
  const blueprints = await import('../blueprint/index.js');
  const gateway = await import('../gateway/index.js');
  const blueprint = blueprints.loadBlueprint(blueprintName);
  const name = opts.name ?? blueprint.name;
  if (!isValidSandboxName(name)) throw new CliError('usage', `--name ${JSON.stringify(name)}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`, 2);
  if (opts.chat !== undefined && opts.chat.trim() === '') throw new CliError('usage', '--chat needs a message', 2);
  let env: Record<string, string>;
  try {
    env = parseEnvAssignments(opts.env ?? []);
  } catch (error) {
    throw new CliError('usage', (error as Error).message, 2);
  }
  if (opts.approvalMode !== undefined && opts.approvalMode !== 'deny' && opts.approvalMode !== 'ask') {
    throw new CliError('usage', `--approval-mode is deny or ask, not ${JSON.stringify(opts.approvalMode)}`, 2);
  }
  const hostPort = opts.port === undefined ? undefined : portNumber(opts.port, '--port');
  const timeoutMs = opts.timeout === undefined ? 120_000 : Number(opts.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError('usage', `--timeout ${JSON.stringify(opts.timeout)}: a number of seconds`, 2);

  // The model: the inference route of the blueprint's API shape, set up before (`warden onboard`).
  const { routes } = await gatewayCall('inference.get', {});
  const route = routes[blueprint.api];
  if (route === undefined) {
    const shape = blueprint.api === 'openai' ? 'OpenAI' : 'Anthropic';
    throw new CliError('no_inference_route', `${blueprint.name} needs a model, and warden has no ${shape}-shaped inference route yet. Run \`warden onboard\`, ` +
      `or register a provider and route it:\n  warden provider create NAME --type ${blueprint.api === 'openai' ? 'openai|nvidia|ollama|vllm|openai-compatible' : 'anthropic'} --credential VAR\n` +
      '  warden inference set --provider NAME --model MODEL\n(see docs/inference.md)', 1);
  }

  let existing = await getSandbox(name);
  const home = wardenHome();
  const attachment = existing ? gateway.readBlueprintAttachment(home, name) : undefined;
  if (existing && existing.blueprint !== blueprint.name) {
    throw new CliError('exists', `a sandbox named ${name} exists already and was not launched from blueprint ${blueprint.name}` +
      (existing.blueprint ? ` (it is ${existing.blueprint}'s)` : '') + `: launch with --name OTHER, or delete it (\`warden sandbox delete ${name}\`)`, 1);
  }

  const provisionStart = Date.now();
  const layersDir = blueprints.layersDir(home);
  const { layer, cached } = await blueprints.provision(blueprint, { home, dir: layersDir, progress: say });
  const provisionMs = Date.now() - provisionStart;
  // One version per blueprint on disk: older layers no sandbox uses go.
  const inUse = new Set((await gatewayCall('sandbox.list', {})).map((s) => gateway.readBlueprintAttachment(home, s.name)?.layer).filter((l): l is string => l !== undefined));
  for (const removed of blueprints.pruneLayers(layersDir, blueprint.name, layer.path, inUse)) say(`removed the older layer ${removed}`);

  const values: RenderValues = { provider: route.provider, model: route.model, gateway_token: attachment?.values?.gateway_token ?? newToken() };
  const rendered = blueprints.renderBlueprint(blueprint, values);
  const chat = opts.chat !== undefined;
  const service = !chat && rendered.command !== undefined;
  const wantForwards = service && opts.forward !== false ? blueprint.ports.map((p, i) => ({ port: p.port, hostPort: i === 0 && hostPort !== undefined ? hostPort : p.port })) : [];
  let created = false;
  if (existing === undefined) {
    const base = opts.policy === undefined ? undefined : { policy: await loadPolicyArg(opts.policy), file: opts.policy };
    // The policy tier and presets chosen at `warden onboard` apply to the blueprint's own policy
    // (a --policy file is taken as it is); --preset adds more.
    const { profilePresets, readOnboardProfile } = await import('../onboard/index.js');
    const profile = base === undefined ? readOnboardProfile(home) : undefined;
    const presets = [...new Set([...(profile ? profilePresets(profile) : []), ...(opts.preset ?? [])])];
    const policy = await blueprints.blueprintPolicy(blueprint, { provider: route.provider, presets, ...(base ? { base } : {}) });
    existing = await gatewayCall('sandbox.create', {
      name, policy, presets, env: { ...rendered.env, ...env }, command: service ? rendered.command! : [],
      ...(opts.provider !== undefined ? { providers: opts.provider } : {}),
      ...(opts.approvalMode !== undefined ? { approvalMode: opts.approvalMode as 'deny' | 'ask' } : {}),
      ...(opts.workdir !== undefined ? { workdir: (await import('node:path')).resolve(opts.workdir) } : {}),
      blueprint: { name: blueprint.name, layer: layer.path, files: rendered.files, values: { gateway_token: values.gateway_token } },
      forwards: wantForwards, reason: `warden launch ${blueprint.name}`,
    });
    created = true;
  } else {
    const ignored = [opts.policy && '--policy', opts.workdir && '--workdir', opts.env && '--env', opts.preset && '--preset', opts.provider && '--provider', opts.approvalMode && '--approval-mode'].filter(Boolean);
    if (ignored.length > 0) {
      say(`sandbox ${name} exists: ${ignored.join(', ')} apply when it is created (change it with \`warden policy add-preset\`, \`warden sandbox update\`; or delete it and launch again)`);
    }
    if (attachment && attachment.layer !== layer.path) {
      say(`sandbox ${name} keeps the layer it was created with (${attachment.layer}); to use ${layer.manifest.id}: \`warden sandbox delete ${name}\` (its home and workdir stay) and launch again`);
    }
    if (existing.state !== 'running') existing = await gatewayCall('sandbox.start', { name });
    if (service && (existing.command.length === 0 || existing.mainExitCode !== undefined)) {
      // Launched for chat turns before (or its service ended): the service starts now.
      existing = await gatewayCall('sandbox.update', { name, command: existing.command.length > 0 ? existing.command : rendered.command! });
    }
    for (const spec of wantForwards) {
      const current = existing.forwards?.find((f) => f.port === spec.port);
      if (current && current.active && (hostPort === undefined || current.hostPort === spec.hostPort)) {
        spec.hostPort = current.hostPort;
        continue;
      }
      await gatewayCall('forward.add', { name, port: spec.port, hostPort: spec.hostPort });
    }
  }
  const summary = {
    sandbox: name, blueprint: blueprint.name, created,
    layer: { id: layer.manifest.id, path: layer.path, cached, provisionMs },
    provider: route.provider, model: route.model,
  };

  if (chat) {
    const turnStart = Date.now();
    const argv = blueprints.chatCommand(blueprint, values, opts.chat!);
    const result = await captureExec(name, argv, Boolean(opts.verbose) && !json);
    if (result.code !== 0) {
      throw new CliError('agent_failed', `${blueprint.name} ended with exit code ${result.code} in sandbox ${name}:\n${tail(result.stderr || result.stdout, 30)}`, 1,
        { sandbox: name, exitCode: result.code });
    }
    const { answer, json: agent } = blueprints.extractAnswer(blueprint, result.stdout);
    if (json) printJsonResult({ ...summary, answer, agent, turnMs: Date.now() - turnStart, totalMs: Date.now() - started });
    else printLine(1, answer);
    return 0;
  }

  if (!service) {
    const message = `sandbox ${name} runs ${blueprint.name} (${blueprint.packages.map((p) => `${p.name} ${p.version}`).join(', ')}); ` +
      `\`warden connect ${name}\` opens a shell there, \`warden launch ${blueprint.name}${name !== blueprint.name ? ` --name ${name}` : ''} --chat TEXT\` runs one turn`;
    if (json) printJsonResult({ ...summary, readyMs: Date.now() - started });
    else printLine(1, message);
    return 0;
  }

  // The service is ready when its first port answers HTTP through the forward.
  const port = blueprint.ports[0];
  const forwarded = await gatewayCall('forward.list', { name });
  const active = port ? forwarded.find((f) => f.port === port.port && f.active) : undefined;
  if (port && opts.forward !== false && !active) {
    const problem = forwarded.find((f) => f.port === port.port)?.problem;
    say(`port ${port.port} is not forwarded${problem ? `: ${problem}` : ''}`);
  }
  let readyMs: number | undefined;
  if (active) {
    if (!json) say(`waiting for ${blueprint.name} to answer on 127.0.0.1:${active.hostPort} ...`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await httpAnswers(active.hostPort)) break;
      const view = await gatewayCall('sandbox.get', { name });
      if (view.state !== 'running' || view.mainExitCode !== undefined) {
        throw new CliError('agent_failed', `${blueprint.name}'s service ended (${view.mainExitCode !== undefined ? `exit code ${view.mainExitCode}` : view.state}) before it answered; ` +
          `its output (\`warden logs ${name} --main\`):\n${tail(mainLog(home, name, gateway.sandboxDirectory), 30)}`, 1);
      }
      if (Date.now() > deadline) {
        throw new CliError('not_ready', `${blueprint.name} did not answer on 127.0.0.1:${active.hostPort} within ${Math.round(timeoutMs / 1000)} s; ` +
          `it still runs (\`warden logs ${name} --main -f\` shows its output)`, 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    readyMs = Date.now() - started;
  }
  const url = port && active ? (await import('../blueprint/index.js')).portUrl(blueprint, port, { ...values, host_port: String(active.hostPort) }) : undefined;
  if (json) {
    printJsonResult({ ...summary, ...(url ? { url } : {}), ...(active ? { hostPort: active.hostPort } : {}), ...(readyMs !== undefined ? { readyMs } : {}) });
    return 0;
  }
  const lines = [
    `${blueprint.name} is running in sandbox ${name}${readyMs !== undefined ? ` (ready in ${(readyMs / 1000).toFixed(1)} s)` : ''}${cached ? '' : `, provisioned in ${(provisionMs / 1000).toFixed(0)} s`}`,
    ...(url ? [`  dashboard:  ${url}`] : []),
    `  chat:       warden launch ${blueprint.name}${name !== blueprint.name ? ` --name ${name}` : ''} --chat TEXT`,
    `  shell:      warden connect ${name}`,
    `  its log:    warden logs ${name} --main -f      decisions: warden logs ${name} -f`,
    `  stop:       warden sandbox stop ${name}`,
  ];
  printLine(1, lines.join('\n'));
  return 0;
}

async function getSandbox(name: string): Promise<SandboxView | undefined> {
  try {
    return await gatewayCall('sandbox.get', { name });
  } catch (error) {
    if ((error as { code?: string }).code === 'no_such_sandbox') return undefined;
    throw error;
  }
}

function mainLog(home: string, name: string, dirOf: (home: string, name: string) => { mainLog: string }): string {
  try {
    return readFileSync(dirOf(home, name).mainLog, 'utf8');
  } catch {
    return '(no output)';
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Runs argv in the sandbox through the gateway and collects its output. warden's own notices (a
 * network denial while it runs) go to stderr as they come; the command's stderr too with `live`.
 * Ctrl-C and SIGTERM reach the command.
 */
async function captureExec(name: string, argv: string[], live: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  const { openExec } = await import('../gateway/index.js');
  const { socket, rest } = await openExec(wardenHome(), { name, argv, env: {}, tty: null }, { progress: (message) => printLine(2, message) });
  const stdout: Buffer[] = [];
  let stderr = '';
  let pending = '';
  const onSignal = (signal: NodeJS.Signals) => {
    if (!socket.destroyed) socket.write(encodeFrame(FRAME.signal, 0, encodeSignal(signal as ExecSignal)));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  socket.write(encodeFrame(FRAME.stdinEnd, 0, Buffer.alloc(0)));
  try {
    const onStderr = (text: string) => {
      pending += text;
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (live || line.startsWith('warden: ')) printLine(2, line);
        if (!line.startsWith('warden: ') && stderr.length < 256 * 1024) stderr += line + '\n';
      }
    };
    const code = await execFrames(socket, rest, {
      stdout: (data) => stdout.push(data),
      stderr: (data) => onStderr(data.toString('utf8')),
      startFailed: (message) => { stderr += `warden: ${message}\n`; },
      closed: () => { if (pending !== '') onStderr('\n'); },
    }, 'the agent');
    return { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr };
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

export type { Blueprint };
