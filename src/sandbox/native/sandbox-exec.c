/*
 * sandbox-exec: the last step on the host before bubblewrap. warden starts it as the sandbox's
 * unprivileged uid; it prepares the process and then execs bubblewrap (or any PROGRAM):
 *
 *   sandbox-exec [--user UID:GID] [--cgroup-fd FD]... [--rlimit NAME=VALUE]... [--pin FD PATH]...
 *                [--keep-fd FD]... -- PROGRAM [ARG]...
 *
 *   --user UID:GID      becomes UID and GID, with no supplementary groups, before anything else
 *                       (warden starts it as root only with this; UID and GID 0 are refused).
 *   --cgroup-fd FD      FD is an open, writable cgroup.procs file (opened by warden, which may be
 *                       root): this process moves itself into that cgroup, so the sandbox and
 *                       everything it starts are counted and limited there. FD is closed after.
 *   --rlimit NAME=N     sets the soft and hard limit NAME (core, nofile, nproc, fsize) to N.
 *   --pin FD PATH       opens PATH as an O_PATH descriptor without following a final symbolic
 *                       link, checks that the object opened is a directory or a regular file whose
 *                       canonical path is exactly PATH, and places it at FD for bubblewrap's
 *                       --bind-fd / --ro-bind-fd. PATH must be canonical (no links, no . or ..).
 *   --keep-fd FD        FD is handed on to PROGRAM (bubblewrap's --seccomp, --info-fd, ... pipes).
 *
 * Every other descriptor above 2 is closed before PROGRAM runs. Exit status 125 when anything
 * fails (PROGRAM then never runs), with one line on stderr saying what.
 *
 * Security invariants:
 * - Nothing from warden's caller reaches the sandbox: descriptors the caller left open (for example
 *   `exec 200</` in a shell) would give the sandbox a handle on host files; only 0-2 and the
 *   descriptors named here survive the exec.
 * - The mounted object is the checked object: warden plans mounts from paths, and a sandbox that
 *   can write below a path could swap a directory for a symbolic link between warden's check and
 *   bubblewrap's mount. The pinned descriptor is opened once, verified, and mounted by bubblewrap
 *   through the descriptor, so a later swap changes nothing. Opening happens here, as the sandbox
 *   uid, so a pin never reaches a file the sandbox uid could not reach itself.
 * - It gains nothing: no privilege is asked for or kept. Started as root (warden spawns it with
 *   posix_spawn, which cannot change ids), it drops to the sandbox uid first, with nothing of its
 *   own done before but parsing its arguments, and checks that it cannot get root back:
 *   everything after, and bubblewrap, runs unprivileged.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range 436 /* the same on every architecture (unified table, Linux 5.9) */
#endif

#define EXIT_SETUP 125
#define MAX_FDS 1024

static const char USAGE[] =
	"usage: sandbox-exec [--user UID:GID] [--cgroup-fd FD]... [--rlimit NAME=N]... [--pin FD PATH]... "
	"[--keep-fd FD]... -- PROGRAM [ARG]...\n";

struct pin {
	int fd;
	const char *path;
};

struct options {
	int has_user;
	uid_t uid;
	gid_t gid;
	int cgroup_fds[16];
	int cgroup_count;
	struct {
		int resource;
		rlim_t value;
	} limits[8];
	int limit_count;
	struct pin pins[MAX_FDS];
	int pin_count;
	int keep[MAX_FDS];
	int keep_count;
	int command;
};

static void die(const char *fmt, const char *arg, int err)
{
	fprintf(stderr, "warden: sandbox setup: ");
	fprintf(stderr, fmt, arg ? arg : "");
	if (err) fprintf(stderr, ": %s", strerror(err));
	fputs("; nothing was started\n", stderr);
	exit(EXIT_SETUP);
}

static void usage_error(const char *problem, const char *arg)
{
	fprintf(stderr, "warden: sandbox-exec: %s%s%s\n%s", problem, arg ? ": " : "", arg ? arg : "", USAGE);
	exit(EXIT_SETUP);
}

static int parse_fd(const char *text)
{
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || *end || end == text || value < 3 || value >= MAX_FDS) usage_error("not a descriptor number from 3 to 1023", text);
	return (int)value;
}

static int resource_of(const char *name, size_t length)
{
	static const struct {
		const char *name;
		int resource;
	} known[] = { { "core", RLIMIT_CORE }, { "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC }, { "fsize", RLIMIT_FSIZE } };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strlen(known[i].name) == length && strncmp(known[i].name, name, length) == 0) return known[i].resource;
	}
	return -1;
}

static void parse_rlimit(struct options *o, const char *spec)
{
	const char *eq = strchr(spec, '=');
	if (!eq) usage_error("expected NAME=N", spec);
	int resource = resource_of(spec, (size_t)(eq - spec));
	if (resource < 0) usage_error("unknown limit (core, nofile, nproc, fsize)", spec);
	char *end;
	errno = 0;
	unsigned long long value = strtoull(eq + 1, &end, 10);
	if (errno || *end || end == eq + 1) usage_error("not a number", spec);
	if (o->limit_count >= 8) usage_error("too many limits", spec);
	o->limits[o->limit_count].resource = resource;
	o->limits[o->limit_count].value = (rlim_t)value;
	o->limit_count++;
}

/* A uid or gid: decimal digits only (no sign, no spaces), below 2^32 - 1. */
static int parse_id(const char *text, size_t length, unsigned long *id)
{
	if (length == 0 || length > 10) return 0;
	unsigned long value = 0;
	for (size_t i = 0; i < length; i++) {
		if (text[i] < '0' || text[i] > '9') return 0;
		value = value * 10 + (unsigned long)(text[i] - '0');
	}
	if (value > 0xfffffffeUL) return 0;
	*id = value;
	return 1;
}

static void parse_user(struct options *o, const char *spec)
{
	const char *colon = strchr(spec, ':');
	unsigned long uid, gid;
	if (!colon || !parse_id(spec, (size_t)(colon - spec), &uid) || !parse_id(colon + 1, strlen(colon + 1), &gid)) usage_error("expected UID:GID", spec);
	if (uid == 0 || gid == 0) usage_error("refusing to run a sandbox as root", spec);
	o->has_user = 1;
	o->uid = (uid_t)uid;
	o->gid = (gid_t)gid;
}

/*
 * Every signal back to its default action, none blocked: what the sandbox starts with must not
 * depend on warden. posix_spawn leaves glibc's two internal signals (32 and 33) ignored, and an
 * ignored signal stays ignored across exec; glibc's sigaction refuses to touch them, so this asks
 * the kernel directly. SIG_DFL with no flags and an empty mask is all zeros in every architecture's
 * layout of the kernel's struct.
 */
static void reset_signals(void)
{
	unsigned long action[4] = { 0, 0, 0, 0 };
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP) continue;
		if (syscall(SYS_rt_sigaction, sig, action, NULL, 8) != 0 && sig < 32) die("cannot reset a signal's action%s", NULL, errno);
	}
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) die("cannot unblock signals%s", NULL, errno);
}

/*
 * stdin, stdout and stderr in blocking mode, as programs expect (libuv's spawn did the same):
 * warden's own descriptors may be non-blocking, and the mode belongs to the open file, shared.
 */
static void blocking_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int flags = fcntl(fd, F_GETFL);
		if (flags >= 0 && (flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) die("cannot make stdio blocking%s", NULL, errno);
	}
}

/* Drops to the sandbox's ids; nothing else may run before this (see the invariants above). */
static void become_user(const struct options *o)
{
	if (!o->has_user) return;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0) die("cannot read this process's ids%s", NULL, errno);
	int already = ruid == o->uid && euid == o->uid && suid == o->uid && rgid == o->gid && egid == o->gid && sgid == o->gid;
	if (!already) {
		if (setgroups(0, NULL) != 0) die("cannot drop supplementary groups%s", NULL, errno);
		if (setresgid(o->gid, o->gid, o->gid) != 0) die("cannot become the sandbox's group%s", NULL, errno);
		if (setresuid(o->uid, o->uid, o->uid) != 0) die("cannot become the sandbox's user%s", NULL, errno);
	}
	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0 ||
		ruid != o->uid || euid != o->uid || suid != o->uid || rgid != o->gid || egid != o->gid || sgid != o->gid) {
		die("the sandbox's ids did not take effect%s", NULL, 0);
	}
	if (setuid(0) == 0 || setgid(0) == 0) die("root could be regained after dropping it%s", NULL, 0);
}

static int is_canonical(const char *path)
{
	if (path[0] != '/') return 0;
	if (strcmp(path, "/") == 0) return 1;
	size_t length = strlen(path);
	if (path[length - 1] == '/' || strstr(path, "//")) return 0;
	for (const char *p = path; (p = strstr(p, "/.")) != NULL; p++) {
		if (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))) return 0;
	}
	return 1;
}

static void parse(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			if (i + 1 >= argc) usage_error("no program after --", NULL);
			o->command = i + 1;
			return;
		}
		if (i + 1 >= argc) usage_error("missing value after", arg);
		if (strcmp(arg, "--user") == 0) {
			parse_user(o, argv[++i]);
		} else if (strcmp(arg, "--cgroup-fd") == 0) {
			if (o->cgroup_count >= 16) usage_error("too many cgroups", NULL);
			o->cgroup_fds[o->cgroup_count++] = parse_fd(argv[++i]);
		} else if (strcmp(arg, "--rlimit") == 0) {
			parse_rlimit(o, argv[++i]);
		} else if (strcmp(arg, "--keep-fd") == 0) {
			if (o->keep_count >= MAX_FDS) usage_error("too many descriptors", NULL);
			o->keep[o->keep_count++] = parse_fd(argv[++i]);
		} else if (strcmp(arg, "--pin") == 0) {
			if (i + 2 >= argc) usage_error("expected --pin FD PATH", NULL);
			if (o->pin_count >= MAX_FDS) usage_error("too many pins", NULL);
			int fd = parse_fd(argv[++i]);
			const char *path = argv[++i];
			if (!is_canonical(path)) usage_error("pin path is not canonical", path);
			o->pins[o->pin_count].fd = fd;
			o->pins[o->pin_count].path = path;
			o->pin_count++;
		} else {
			usage_error("unknown argument", arg);
		}
	}
	usage_error("missing -- before the program", NULL);
}

static void join_cgroups(const struct options *o)
{
	for (int i = 0; i < o->cgroup_count; i++) {
		int fd = o->cgroup_fds[i];
		/* "0" names the writing process itself (cgroup v1 and v2). */
		if (write(fd, "0\n", 2) != 2) die("cannot join the sandbox's cgroup%s", NULL, errno);
		close(fd);
	}
}

static void apply_limits(const struct options *o)
{
	for (int i = 0; i < o->limit_count; i++) {
		struct rlimit limit = { .rlim_cur = o->limits[i].value, .rlim_max = o->limits[i].value };
		if (setrlimit(o->limits[i].resource, &limit) != 0) die("cannot set a resource limit%s", NULL, errno);
	}
}

/* Opens, verifies and places one pin. The descriptor it leaves at pin->fd is not close-on-exec. */
static void place_pin(const struct pin *pin)
{
	int fd = open(pin->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) die("cannot open %s for mounting", pin->path, errno);
	struct stat st;
	if (fstat(fd, &st) != 0) die("cannot inspect %s", pin->path, errno);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		die("%s is no longer a directory or a file (was it replaced by a link?): refusing to mount it", pin->path, 0);
	}
	char self[64];
	char actual[PATH_MAX + 1];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ssize_t length = readlink(self, actual, PATH_MAX);
	if (length < 0) die("cannot resolve %s", pin->path, errno);
	actual[length] = '\0';
	if (strcmp(actual, pin->path) != 0) {
		fprintf(stderr, "warden: sandbox setup: %s now resolves to %s (a link was planted or a directory moved while the "
				"sandbox was being set up): refusing to mount it; nothing was started\n",
			pin->path, actual);
		exit(EXIT_SETUP);
	}
	if (fd != pin->fd) {
		if (dup2(fd, pin->fd) < 0) die("cannot place the descriptor for %s", pin->path, errno);
		close(fd);
	} else if (fcntl(fd, F_SETFD, 0) != 0) {
		die("cannot keep the descriptor for %s", pin->path, errno);
	}
}

static int kept(const struct options *o, int fd)
{
	for (int i = 0; i < o->keep_count; i++) if (o->keep[i] == fd) return 1;
	for (int i = 0; i < o->pin_count; i++) if (o->pins[i].fd == fd) return 1;
	return 0;
}

/* Pins first take their slots: a slot may hold a stray descriptor, which dup2 replaces. */
static void close_everything_else(const struct options *o)
{
	int start = 3;
	for (int fd = 3; fd < MAX_FDS; fd++) {
		if (!kept(o, fd)) continue;
		if (fd > start && syscall(__NR_close_range, start, fd - 1, 0) != 0) {
			for (int stray = start; stray < fd; stray++) close(stray);
		}
		start = fd + 1;
	}
	if (syscall(__NR_close_range, start, ~0U, 0) != 0) {
		/* Before Linux 5.9: close what /proc lists. */
		DIR *dir = opendir("/proc/self/fd");
		if (!dir) die("cannot list open descriptors%s", NULL, errno);
		int fds[MAX_FDS];
		int count = 0;
		struct dirent *entry;
		while ((entry = readdir(dir)) != NULL && count < MAX_FDS) {
			int fd = atoi(entry->d_name);
			if (fd >= start && fd != dirfd(dir)) fds[count++] = fd;
		}
		closedir(dir);
		for (int i = 0; i < count; i++) close(fds[i]);
	}
}

int main(int argc, char **argv)
{
	struct options options;
	parse(argc, argv, &options);
	become_user(&options);
	reset_signals();
	blocking_stdio();
	join_cgroups(&options);
	apply_limits(&options);
	for (int i = 0; i < options.pin_count; i++) place_pin(&options.pins[i]);
	close_everything_else(&options);
	execv(argv[options.command], &argv[options.command]);
	die("cannot start %s", argv[options.command], errno);
	return EXIT_SETUP;
}
