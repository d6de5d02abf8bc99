// `warden completion bash|zsh`: a shell completion script generated from warden's own command
// tree, so it always names the commands and options this warden has. Completes command and
// subcommand names, and options of the command typed so far; files are left to the shell.
import type { Command } from 'commander';

interface Node {
  path: string;
  subcommands: string[];
  options: string[];
}

function walk(command: Command, names: string[], out: Node[]): void {
  out.push({
    path: names.join(' '),
    subcommands: command.commands.map((sub) => sub.name()).filter((name) => name !== 'help'),
    options: command.options.flatMap((option) => [option.short, option.long]).filter((flag): flag is string => typeof flag === 'string'),
  });
  for (const sub of command.commands) walk(sub, [...names, sub.name()], out);
}

/** The completion script for `shell`. */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const nodes: Node[] = [];
  walk(program, [], nodes);
  const cases = nodes.map((node) => {
    const words = [...node.subcommands, ...node.options, '--help'].join(' ');
    return `    ${JSON.stringify(node.path)}) words=${JSON.stringify(words)} ;;`;
  }).join('\n');
  const body = `_warden_complete() {
  local cur path word words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  # The command path typed so far: the words that name subcommands (options and values are skipped).
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == "--" ]] && return 0
    [[ "$word" == -* ]] && continue
    case "$(_warden_words "$path")" in
      *" $word "*) path="\${path:+$path }$word" ;;
    esac
  done
  words="$(_warden_words "$path")"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_warden_words() {
  local words
  case "$1" in
${cases}
    *) words="" ;;
  esac
  echo " $words "
}
`;
  if (shell === 'bash') return `# warden completion for bash: eval "$(warden completion bash)" (e.g. in ~/.bashrc)\n${body}complete -o default -F _warden_complete warden\n`;
  return `# warden completion for zsh: eval "$(warden completion zsh)" (e.g. in ~/.zshrc)\nautoload -U +X bashcompinit && bashcompinit\n${body}complete -o default -F _warden_complete warden\n`;
}
