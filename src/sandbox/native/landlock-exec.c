/*
 * landlock-exec: confine this process with a Landlock filesystem ruleset, then exec a command.
 *
 *   landlock-exec [--best-effort] [--ro PATH]... [--rw PATH]... [--rofile FILE]... [--rwfile FILE]...
 *                 -- CMD [ARG]...
 *   landlock-exec --abi        print the kernel's Landlock ABI version (exit 1 when unavailable)
 *
 * warden starts it inside a sandbox, after bubblewrap has built the mount namespace, as the last
 * step before the sandboxed command: the paths are therefore the ones the sandbox sees. Every
 * filesystem access right the kernel knows is denied except beneath the listed paths:
 *   --ro      read files, list directories, execute
 *   --rw      every handled right (create, remove, rename, truncate, device ioctls...)
 *   --rwnoexec  every handled right but executing (/dev: writable device nodes and /dev/shm)
 *   --rofile / --rwfile   the same for a single file, which must not be a directory
 * Node cannot make these system calls, hence this helper. It is linked statically because it runs
 * inside sandboxes that may not contain a C library at the path it was built against.
 *
 * Exit status when CMD did not run: 125 setup failure (usage, Landlock required but unavailable,
 * any error while building or applying the ruleset), 126 CMD not executable, 127 CMD not found.
 *
 * Security invariants:
 * - Fail closed: once Landlock is available, any failure to build or apply the ruleset stops here
 *   without running CMD, with or without --best-effort. --best-effort only covers a kernel that
 *   has no Landlock at all (ENOSYS) or has it disabled at boot (EOPNOTSUPP).
 * - A path is never resolved through a symbolic link. Writable trees inside a sandbox may hold
 *   links planted by an earlier run; following one would move a rule (possibly a writable one)
 *   onto whatever the link points at. Such paths, like missing ones, get no rule: skipping a rule
 *   can only take access away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Debian 12's <linux/landlock.h> (Linux 6.1 headers) stops at ABI 2, so later constants are
 * defined here. Values from the kernel's include/uapi/linux/landlock.h. The system call numbers
 * are the same on every architecture that has them (the unified table, since Linux 5.1).
 */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif

/*
 * The ruleset attribute as of ABI 6. The installed header's struct may be shorter, so warden
 * uses its own; the kernel takes the size we pass and treats missing trailing fields as zero.
 * Network rights (ABI 4) are deliberately left unhandled: the sandbox's network namespace has
 * no route, its only way out is the egress proxy, and handling TCP bind/connect here would
 * break that bridge and local servers without adding anything the proxy does not decide.
 */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define EXIT_SETUP 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127

/* The ABI 1 rights: bits 0 (EXECUTE) to 12 (MAKE_SYM). */
#define ACCESS_FS_ABI1 ((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)

/* Rights that apply to a file itself; the kernel refuses a file rule with any other. */
#define ACCESS_FILE                                                                          \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	 LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define ACCESS_READ_ONLY \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

enum rule_kind { RULE_RO, RULE_RW, RULE_RW_NOEXEC, RULE_RO_FILE, RULE_RW_FILE, NOT_A_RULE };

static const char USAGE[] =
	"usage: landlock-exec [--best-effort] [--ro PATH]... [--rw PATH]... [--rwnoexec PATH]... [--rofile FILE]... "
	"[--rwfile FILE]... -- CMD [ARG]...\n"
	"       landlock-exec --abi\n";

static void fail(const char *what, int err)
{
	fprintf(stderr, "warden: landlock: %s: %s; refusing to run the command\n", what, strerror(err));
	exit(EXIT_SETUP);
}

static void usage_error(const char *problem, const char *arg)
{
	fprintf(stderr, "warden: landlock-exec: %s%s%s\n%s", problem, arg ? ": " : "", arg ? arg : "", USAGE);
	exit(EXIT_SETUP);
}

static enum rule_kind rule_kind_of(const char *option)
{
	if (strcmp(option, "--ro") == 0) return RULE_RO;
	if (strcmp(option, "--rw") == 0) return RULE_RW;
	if (strcmp(option, "--rwnoexec") == 0) return RULE_RW_NOEXEC;
	if (strcmp(option, "--rofile") == 0) return RULE_RO_FILE;
	if (strcmp(option, "--rwfile") == 0) return RULE_RW_FILE;
	return NOT_A_RULE;
}

/* Every filesystem right the running kernel's ABI can enforce (reviewed up to ABI 7). */
static uint64_t handled_fs_rights(int abi)
{
	uint64_t rights = ACCESS_FS_ABI1;
	if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return rights;
}

/* Why Landlock cannot be used, or NULL when errno means something else went wrong. */
static const char *unavailable_reason(int err)
{
	if (err == ENOSYS) return "ENOSYS: the kernel was built without Landlock";
	if (err == EOPNOTSUPP) return "EOPNOTSUPP: Landlock is disabled; it must be listed in the lsm= boot parameter";
	return NULL;
}

static int landlock_abi(void)
{
	return (int)syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

static int create_ruleset(int abi, uint64_t handled)
{
	struct ruleset_attr attr = { .handled_access_fs = handled };
	/* Processes in the sandbox may not signal, or reach the abstract Unix sockets of, processes
	 * outside their Landlock domain (bubblewrap's init, anything warden starts beside CMD). */
	if (abi >= 6) attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
	size_t size = attr.scoped ? sizeof(attr) : sizeof(attr.handled_access_fs);
	int fd = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0 && errno == EINVAL && attr.scoped) {
		/* Some distribution kernels report ABI 6 without every scope. Scoping is an extra on
		 * top of the filesystem rules, which stay complete, so retry without it. */
		attr.scoped = 0;
		fd = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr.handled_access_fs), 0);
	}
	return fd;
}

/*
 * An O_PATH descriptor for `path`, resolved one component at a time without following any
 * symbolic link (ELOOP when one is met). Not openat2(RESOLVE_NO_SYMLINKS): warden's seccomp filter
 * refuses openat2, whose arguments it cannot inspect.
 */
static int open_rule_path(const char *path)
{
	char copy[4096];
	if (strlen(path) >= sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(copy, path);
	int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) return -1;
	char *save = NULL;
	for (char *name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		if (strcmp(name, ".") == 0) continue;
		int next = strcmp(name, "..") == 0 ? -1 : openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		int err = strcmp(name, "..") == 0 ? ELOOP : errno;
		struct stat st;
		if (next >= 0 && fstat(next, &st) != 0) err = errno;
		else if (next >= 0 && S_ISLNK(st.st_mode)) err = ELOOP;
		else if (next >= 0) err = 0;
		close(dir);
		if (err != 0) {
			if (next >= 0) close(next);
			errno = err;
			return -1;
		}
		dir = next;
	}
	return dir;
}

static void add_rule(int ruleset, enum rule_kind kind, const char *path, uint64_t handled)
{
	char what[4200];
	int fd = open_rule_path(path);
	if (fd < 0) {
		/* Policies list paths that exist on some hosts only (/lib64...); ELOOP is a link. */
		int err = errno;
		if (err == ENOENT || err == ENOTDIR || err == ELOOP) return;
		snprintf(what, sizeof(what), "cannot open %s", path);
		fail(what, err);
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		snprintf(what, sizeof(what), "cannot stat %s", path);
		fail(what, err);
	}
	int is_dir = S_ISDIR(st.st_mode);
	if (is_dir && (kind == RULE_RO_FILE || kind == RULE_RW_FILE)) {
		/* The caller meant one file; a directory rule would grant a whole tree. */
		fprintf(stderr, "warden: landlock: %s is a directory, but was given as a single file; refusing to run the command\n",
			path);
		exit(EXIT_SETUP);
	}
	uint64_t access = (kind == RULE_RW || kind == RULE_RW_FILE) ? handled
		: kind == RULE_RW_NOEXEC ? (handled & ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE)
		: ACCESS_READ_ONLY;
	if (!is_dir) access &= ACCESS_FILE;
	access &= handled;
	struct landlock_path_beneath_attr rule = { .allowed_access = access, .parent_fd = fd };
	if (syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
		int err = errno;
		snprintf(what, sizeof(what), "cannot add a rule for %s", path);
		fail(what, err);
	}
	close(fd);
}

/* Applies the rules in argv[1..end), already validated by parse(). */
static void restrict_self(char **argv, int end, int abi)
{
	uint64_t handled = handled_fs_rights(abi);
	int ruleset = create_ruleset(abi, handled);
	if (ruleset < 0) fail("cannot create a ruleset", errno);
	for (int i = 1; i < end; i++) {
		enum rule_kind kind = rule_kind_of(argv[i]);
		if (kind != NOT_A_RULE) add_rule(ruleset, kind, argv[++i], handled);
	}
	/* Required by the kernel for an unprivileged process; bubblewrap normally set it already. */
	int no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (no_new_privs < 0) fail("cannot read no_new_privs", errno);
	if (no_new_privs == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("cannot set no_new_privs", errno);
	if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) fail("cannot enforce the ruleset", errno);
	close(ruleset);
}

/* Validates the whole command line before anything is applied; returns the index of CMD. */
static int parse(int argc, char **argv, int *best_effort)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			if (i + 1 >= argc) usage_error("no command after --", NULL);
			return i + 1;
		}
		if (strcmp(arg, "--best-effort") == 0) {
			*best_effort = 1;
			continue;
		}
		if (rule_kind_of(arg) == NOT_A_RULE) usage_error("unknown argument", arg);
		if (i + 1 >= argc) usage_error("missing path after", arg);
		/* Relative paths would depend on the working directory: a caller bug, never a rule. */
		if (argv[i + 1][0] != '/') usage_error("not an absolute path", argv[i + 1]);
		i++;
	}
	usage_error("missing -- before the command", NULL);
	return -1;
}

static int print_abi(void)
{
	int abi = landlock_abi();
	if (abi < 0) {
		int err = errno;
		const char *reason = unavailable_reason(err);
		fprintf(stderr, "warden: landlock: not available on this kernel (%s)\n", reason ? reason : strerror(err));
		return 1;
	}
	printf("%d\n", abi);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--abi") == 0) return print_abi();
	int best_effort = 0;
	int command = parse(argc, argv, &best_effort);

	int abi = landlock_abi();
	if (abi < 0) {
		int err = errno;
		const char *reason = unavailable_reason(err);
		if (reason == NULL) fail("cannot query the Landlock ABI version", err);
		if (!best_effort) {
			fprintf(stderr,
				"warden: landlock: not available on this kernel (%s); landlock.compatibility is "
				"hard_requirement: refusing to run the command\n",
				reason);
			return EXIT_SETUP;
		}
		fprintf(stderr, "warden: landlock: not available on this kernel (%s); filesystem confined by the mount namespace only\n",
			reason);
	} else {
		restrict_self(argv, command - 1, abi);
	}

	execvp(argv[command], &argv[command]);
	int err = errno;
	fprintf(stderr, "warden: cannot execute %s: %s\n", argv[command], strerror(err));
	return (err == ENOENT || err == ENOTDIR) ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
}
