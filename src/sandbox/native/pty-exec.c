/*
 * pty-exec: run a command on a new pseudo-terminal and relay it over plain file descriptors.
 *
 *   pty-exec --rows R --cols C [--argv0 NAME] -- CMD [ARG]...
 *
 * The supervisor inside a long-lived sandbox starts it for `warden connect` and `warden exec -t`:
 * Node cannot open a pseudo-terminal or make one a controlling terminal, hence this helper. It is
 * linked statically because it runs inside sandboxes that may not contain a C library.
 *
 *   fd 0       bytes typed on the terminal (EOF: stop reading, keep running)
 *   fd 1       everything the terminal shows
 *   fd 2       this helper's own messages
 *   fd 3       optional control pipe: lines "ROWS COLS\n" resize the terminal (the kernel then
 *              sends SIGWINCH to the foreground process group)
 *
 * CMD runs as the leader of a new session whose controlling terminal is the pseudo-terminal.
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGCONT sent to this helper are passed on
 * to CMD's process group and the terminal's foreground process group. The helper exits when CMD
 * has exited and the terminal has nothing more to show, with CMD's exit code (128+N when CMD was
 * killed by signal N). When CMD did not run: 125 setup failure, 126 not executable, 127 not found.
 *
 * Security invariants:
 * - It gains nothing: no privilege is asked for or kept; CMD inherits exactly this process's
 *   confinement (seccomp, no_new_privs, Landlock, rlimits), its environment and credentials.
 * - CMD gets no descriptor but the terminal: everything above fd 2 is closed before exec, so the
 *   master side and the control pipe never reach the sandboxed command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range 436 /* the same on every architecture (unified table, Linux 5.9) */
#endif

#define EXIT_SETUP 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127
#define CONTROL_FD 3
#define RELAY_CHUNK 4096 /* <= PIPE_BUF: one write after POLLOUT never blocks on a pipe */
#define CONTROL_LINE_MAX 64
/* After CMD exits, a background process may keep the terminal open forever; stop waiting for
 * it to close once the terminal has been silent this long. */
#define DRAIN_IDLE_MS 300

static const char USAGE[] = "usage: pty-exec --rows R --cols C [--argv0 NAME] -- CMD [ARG]...\n";

static const int FORWARDED_SIGNALS[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT };
#define FORWARDED_COUNT (sizeof(FORWARDED_SIGNALS) / sizeof(FORWARDED_SIGNALS[0]))

struct options {
	unsigned short rows, cols;
	const char *argv0;
	int command; /* index of CMD in argv */
};

struct buffer {
	char data[RELAY_CHUNK];
	size_t length, offset;
};

struct relay {
	int master;
	pid_t child;
	int signals;           /* signalfd */
	int stdin_open;        /* fd 0 still read */
	int control_open;      /* fd 3 still read */
	int stdout_open;       /* fd 1 still written; after EPIPE output is discarded */
	int master_open;       /* the terminal still has a writer */
	int child_status;      /* valid once child_exited */
	int child_exited;
	struct buffer to_terminal, from_terminal;
	char control[CONTROL_LINE_MAX];
	size_t control_length;
	int control_overlong;
};

static void setup_failure(const char *what)
{
	fprintf(stderr, "warden: pty-exec: %s: %s\n", what, strerror(errno));
	exit(EXIT_SETUP);
}

static void usage_error(const char *problem, const char *arg)
{
	fprintf(stderr, "warden: pty-exec: %s%s%s\n%s", problem, arg ? ": " : "", arg ? arg : "", USAGE);
	exit(EXIT_SETUP);
}

/* A terminal dimension: 1..65535, digits only. */
static int parse_dimension(const char *text, unsigned short *out)
{
	if (*text == '\0') return -1;
	unsigned long value = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9') return -1;
		value = value * 10 + (unsigned long)(*p - '0');
		if (value > USHRT_MAX) return -1;
	}
	if (value == 0) return -1;
	*out = (unsigned short)value;
	return 0;
}

static struct options parse(int argc, char **argv)
{
	struct options options = { 0, 0, NULL, 0 };
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			if (i + 1 >= argc) usage_error("no command after --", NULL);
			if (options.rows == 0 || options.cols == 0) usage_error("--rows and --cols are required", NULL);
			options.command = i + 1;
			return options;
		}
		if (i + 1 >= argc) usage_error("missing value after", arg);
		const char *value = argv[++i];
		if (strcmp(arg, "--rows") == 0) {
			if (parse_dimension(value, &options.rows) != 0) usage_error("not a terminal size (1-65535)", value);
		} else if (strcmp(arg, "--cols") == 0) {
			if (parse_dimension(value, &options.cols) != 0) usage_error("not a terminal size (1-65535)", value);
		} else if (strcmp(arg, "--argv0") == 0) {
			options.argv0 = value;
		} else {
			usage_error("unknown argument", arg);
		}
	}
	usage_error("missing -- before the command", NULL);
	return options;
}

static void close_descriptors_above_stderr(void)
{
	if (syscall(__NR_close_range, 3U, ~0U, 0U) == 0) return;
	struct rlimit limit;
	long highest = (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) ? (long)limit.rlim_cur : 65536;
	if (highest > 65536) highest = 65536;
	for (long fd = 3; fd < highest; fd++) close((int)fd);
}

/* In the child: become a session leader on the terminal, then exec CMD. Never returns. */
static void exec_on_terminal(int slave, const sigset_t *original_mask, char **argv, const struct options *options)
{
	if (setsid() < 0) setup_failure("setsid");
	if (ioctl(slave, TIOCSCTTY, 0) != 0) setup_failure("cannot make it the controlling terminal");
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(slave, fd) < 0) setup_failure("dup2");
	close_descriptors_above_stderr();
	/* The parent blocked signals for its signalfd; CMD must start with the mask it would have had. */
	sigprocmask(SIG_SETMASK, original_mask, NULL);
	char **command = &argv[options->command];
	const char *file = command[0];
	if (options->argv0) command[0] = (char *)options->argv0;
	execvp(file, command);
	int err = errno;
	fprintf(stderr, "warden: cannot execute %s: %s\r\n", file, strerror(err));
	_exit((err == ENOENT || err == ENOTDIR) ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE);
}

/*
 * Opens both sides. The slave is opened here, before the fork, and held until the child has its
 * own copy: a master whose slave was never opened reports a hang-up, which would end the relay
 * before CMD started.
 */
static int open_terminal(const struct options *options, int *slave)
{
	char slave_name[128];
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0) setup_failure("posix_openpt");
	if (grantpt(master) != 0) setup_failure("grantpt");
	if (unlockpt(master) != 0) setup_failure("unlockpt");
	if (ptsname_r(master, slave_name, sizeof(slave_name)) != 0) setup_failure("ptsname");
	*slave = open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) setup_failure("cannot open the terminal");
	struct winsize size_request = { .ws_row = options->rows, .ws_col = options->cols };
	if (ioctl(master, TIOCSWINSZ, &size_request) != 0) setup_failure("cannot set the terminal size");
	int flags = fcntl(master, F_GETFL);
	if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) != 0) setup_failure("fcntl");
	return master;
}

static void forward_signal(struct relay *relay, int signal_number)
{
	if (relay->child_exited) return;
	kill(-relay->child, signal_number);
	pid_t foreground = tcgetpgrp(relay->master);
	if (foreground > 0 && foreground != relay->child) kill(-foreground, signal_number);
}

static void handle_signals(struct relay *relay)
{
	struct signalfd_siginfo info;
	while (read(relay->signals, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
		if ((int)info.ssi_signo != SIGCHLD) {
			forward_signal(relay, (int)info.ssi_signo);
			continue;
		}
		int status;
		if (!relay->child_exited && waitpid(relay->child, &status, WNOHANG) == relay->child) {
			relay->child_exited = 1;
			relay->child_status = status;
		}
	}
}

static void apply_control_line(struct relay *relay)
{
	relay->control[relay->control_length] = '\0';
	char *space = strchr(relay->control, ' ');
	struct winsize size = { 0 };
	if (space == NULL) goto bad;
	*space = '\0';
	if (parse_dimension(relay->control, &size.ws_row) != 0 || parse_dimension(space + 1, &size.ws_col) != 0) goto bad;
	if (ioctl(relay->master, TIOCSWINSZ, &size) != 0) fprintf(stderr, "warden: pty-exec: resize failed: %s\n", strerror(errno));
	return;
bad:
	fprintf(stderr, "warden: pty-exec: ignoring a malformed resize request\n");
}

static void read_control(struct relay *relay)
{
	char chunk[256];
	ssize_t count = read(CONTROL_FD, chunk, sizeof(chunk));
	if (count < 0 && (errno == EINTR || errno == EAGAIN)) return;
	if (count <= 0) {
		relay->control_open = 0;
		return;
	}
	for (ssize_t i = 0; i < count; i++) {
		if (chunk[i] == '\n') {
			if (!relay->control_overlong) apply_control_line(relay);
			relay->control_length = 0;
			relay->control_overlong = 0;
		} else if (relay->control_length + 1 < CONTROL_LINE_MAX) {
			relay->control[relay->control_length++] = chunk[i];
		} else {
			relay->control_overlong = 1;
		}
	}
}

static void read_stdin(struct relay *relay)
{
	ssize_t count = read(STDIN_FILENO, relay->to_terminal.data, sizeof(relay->to_terminal.data));
	if (count < 0 && (errno == EINTR || errno == EAGAIN)) return;
	if (count <= 0) {
		relay->stdin_open = 0;
		return;
	}
	relay->to_terminal.length = (size_t)count;
	relay->to_terminal.offset = 0;
}

static void write_terminal(struct relay *relay)
{
	struct buffer *buffer = &relay->to_terminal;
	ssize_t count = write(relay->master, buffer->data + buffer->offset, buffer->length - buffer->offset);
	if (count < 0) {
		if (errno == EINTR || errno == EAGAIN) return;
		buffer->length = buffer->offset = 0; /* the terminal is gone: typed bytes have nowhere to go */
		return;
	}
	buffer->offset += (size_t)count;
	if (buffer->offset == buffer->length) buffer->length = buffer->offset = 0;
}

/* Returns 1 when something was read. EIO means every slave descriptor is closed. */
static int read_terminal(struct relay *relay)
{
	ssize_t count = read(relay->master, relay->from_terminal.data, sizeof(relay->from_terminal.data));
	if (count < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
	if (count <= 0) {
		relay->master_open = 0;
		return 0;
	}
	if (!relay->stdout_open) return 1;
	relay->from_terminal.length = (size_t)count;
	relay->from_terminal.offset = 0;
	return 1;
}

static void write_stdout(struct relay *relay)
{
	struct buffer *buffer = &relay->from_terminal;
	ssize_t count = write(STDOUT_FILENO, buffer->data + buffer->offset, buffer->length - buffer->offset);
	if (count < 0) {
		if (errno == EINTR || errno == EAGAIN) return;
		/* Nobody reads the terminal any more: hang it up, and discard output from now on. */
		relay->stdout_open = 0;
		buffer->length = buffer->offset = 0;
		forward_signal(relay, SIGHUP);
		return;
	}
	buffer->offset += (size_t)count;
	if (buffer->offset == buffer->length) buffer->length = buffer->offset = 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum { P_SIGNALS, P_STDIN, P_CONTROL, P_MASTER, P_STDOUT, P_COUNT };

/* Relays until CMD has exited and the terminal is closed (or silent, see DRAIN_IDLE_MS). */
static void relay_loop(struct relay *relay)
{
	long long last_output = now_ms();
	for (;;) {
		int output_pending = relay->from_terminal.length > 0;
		if (relay->child_exited && !output_pending) {
			if (!relay->master_open) return;
			if (now_ms() - last_output >= DRAIN_IDLE_MS) return;
		}
		struct pollfd fds[P_COUNT] = {
			[P_SIGNALS] = { relay->signals, POLLIN, 0 },
			[P_STDIN] = { relay->stdin_open && relay->to_terminal.length == 0 ? STDIN_FILENO : -1, POLLIN, 0 },
			[P_CONTROL] = { relay->control_open ? CONTROL_FD : -1, POLLIN, 0 },
			[P_MASTER] = { relay->master_open ? relay->master : -1,
				(short)((output_pending ? 0 : POLLIN) | (relay->to_terminal.length ? POLLOUT : 0)), 0 },
			[P_STDOUT] = { output_pending ? STDOUT_FILENO : -1, POLLOUT, 0 },
		};
		if (fds[P_MASTER].events == 0) fds[P_MASTER].fd = -1;
		int timeout = relay->child_exited ? DRAIN_IDLE_MS / 3 : -1;
		if (poll(fds, P_COUNT, timeout) < 0) {
			if (errno == EINTR) continue;
			setup_failure("poll");
		}
		if (fds[P_SIGNALS].revents) handle_signals(relay);
		if (fds[P_CONTROL].revents) read_control(relay);
		if (fds[P_STDIN].revents) read_stdin(relay);
		if (fds[P_MASTER].revents & POLLOUT) write_terminal(relay);
		if (fds[P_MASTER].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (read_terminal(relay)) last_output = now_ms();
		}
		if (fds[P_STDOUT].revents) write_stdout(relay);
		if (!relay->master_open) relay->to_terminal.length = relay->to_terminal.offset = 0;
	}
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status)) return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
	return EXIT_SETUP;
}

int main(int argc, char **argv)
{
	struct options options = parse(argc, argv);
	/* Asked before anything is opened: the terminal could otherwise land on a free fd 3. */
	int control_open = fcntl(CONTROL_FD, F_GETFD) >= 0;
	int slave;
	int master = open_terminal(&options, &slave);

	sigset_t handled, original;
	sigemptyset(&handled);
	sigaddset(&handled, SIGCHLD);
	for (size_t i = 0; i < FORWARDED_COUNT; i++) sigaddset(&handled, FORWARDED_SIGNALS[i]);
	if (sigprocmask(SIG_BLOCK, &handled, &original) != 0) setup_failure("sigprocmask");
	int signals = signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signals < 0) setup_failure("signalfd");

	pid_t child = fork();
	if (child < 0) setup_failure("fork");
	if (child == 0) exec_on_terminal(slave, &original, argv, &options);
	close(slave);

	/* A reader that went away must show up as EPIPE on write, not kill the relay. */
	signal(SIGPIPE, SIG_IGN);
	struct relay relay = {
		.master = master,
		.child = child,
		.signals = signals,
		.stdin_open = 1,
		.control_open = control_open,
		.stdout_open = 1,
		.master_open = 1,
	};
	relay_loop(&relay);
	if (!relay.child_exited) {
		/* Cannot happen: the loop ends only after the child exited. Fail closed anyway. */
		kill(-child, SIGKILL);
		waitpid(child, &relay.child_status, 0);
	}
	return exit_code_of(relay.child_status);
}
