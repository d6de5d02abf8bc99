/*
 * warden's in-process native addon (Node-API), for the few host operations Node has no call for.
 * Built by scripts/build-native.mjs into dist/native/host.node; loaded by src/sandbox/host-native.ts.
 *
 *   peerCredentials(fd)        -> { pid, uid, gid } of the process at the other end of a connected
 *                                 Unix socket (SO_PEERCRED): who is really calling the gateway.
 *   makeDirectories(path, mode) -> string[] of the directories it created, outermost first.
 *                                 Creates every missing component of an absolute path, one at a
 *                                 time relative to its parent's descriptor, never following a
 *                                 symbolic link that is not owned by root or by the caller.
 *   spawnDetached(file, argv, env, fds) -> pid. Starts `file` in a new session with default signal
 *                                 dispositions, an empty signal mask, environment `env` (exactly),
 *                                 and descriptor i = fds[i] (-1: closed; 0-2 then /dev/null);
 *                                 every other descriptor is closed (glibc 2.34 and later).
 *                                 posix_spawn (vfork and exec) instead of libuv's fork: forking a
 *                                 Node process copies its page tables and then tears them down,
 *                                 about 10 ms here; warden starts a sandbox's launcher this way.
 *   socketPair()               -> [fd, fd], a close-on-exec Unix stream socket pair (a child's stdio).
 *   watchExit(pid, callback)   calls callback(code, signal) once when child `pid` has ended (a
 *                                 thread of its own waits for it), then reaps it. Keeps the event
 *                                 loop alive until then. (null, null): it could not be waited for.
 *
 * Security invariants (makeDirectories): warden may run as root while a sandbox can write below
 * some host paths. A sandbox can plant a symbolic link there; a root `mkdir -p` would follow it and
 * create directories (later handed to a sandbox uid) anywhere on the host. Each component is opened
 * with O_NOFOLLOW relative to the previous one, so the path walked is the path checked; a link is
 * followed only when root or the caller made it (a sandbox uid cannot create a file owned by
 * either), by reading that very link through its descriptor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <node_api.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LINKS 32

static napi_value throw_errno(napi_env env, const char *what, const char *path, int err)
{
	char message[PATH_MAX + 256];
	snprintf(message, sizeof(message), "%s%s%s: %s", what, path ? " " : "", path ? path : "", strerror(err));
	napi_value text, error, code;
	napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
	napi_create_error(env, NULL, text, &error);
	const char *name = err == ELOOP ? "ELOOP" : err == ENOTDIR ? "ENOTDIR" : err == EACCES ? "EACCES" : err == ENOENT ? "ENOENT" : "EIO";
	napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
	napi_set_named_property(env, error, "code", code);
	napi_throw(env, error);
	return NULL;
}

static napi_value throw_message(napi_env env, const char *message)
{
	napi_throw_error(env, NULL, message);
	return NULL;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	int32_t fd;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
		return throw_message(env, "peerCredentials(fd) needs a descriptor number");
	}
	struct ucred cred;
	socklen_t length = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) return throw_errno(env, "SO_PEERCRED", NULL, errno);
	napi_value result, pid, uid, gid;
	napi_create_object(env, &result);
	napi_create_int32(env, cred.pid, &pid);
	napi_create_uint32(env, cred.uid, &uid);
	napi_create_uint32(env, cred.gid, &gid);
	napi_set_named_property(env, result, "pid", pid);
	napi_set_named_property(env, result, "uid", uid);
	napi_set_named_property(env, result, "gid", gid);
	return result;
}

struct walk {
	char created[64][PATH_MAX];
	int created_count;
	int links;
};

static int trusted_owner(uid_t owner)
{
	return owner == 0 || owner == geteuid();
}

/* Opens `name` below `dir` without following it, creating it as a directory when missing. */
static int open_or_create(int dir, const char *name, mode_t mode, int *created)
{
	*created = 0;
	int next = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (next >= 0 || errno != ENOENT) return next;
	if (mkdirat(dir, name, mode) == 0) *created = 1;
	else if (errno != EEXIST) return -1;
	return openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * Walks `rest` (a relative path) from directory descriptor `dir`, which it takes over (closes),
 * creating missing directories. `so_far` is the canonical path of `dir` and is kept up to date.
 * Returns the final directory's descriptor, or -1 with errno set and `failed` naming the component.
 */
static int walk_components(int dir, char *so_far, const char *rest, mode_t mode, struct walk *walk, char *failed)
{
	char buffer[PATH_MAX];
	if (strlen(rest) >= sizeof(buffer)) {
		close(dir);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buffer, rest);
	char *save = NULL;
	for (char *name = strtok_r(buffer, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		if (strcmp(name, ".") == 0) continue;
		size_t base = strlen(so_far);
		snprintf(failed, PATH_MAX, "%s%s%s", so_far, base > 1 ? "/" : "", name);
		int err = EINVAL; /* callers pass normalised paths; ".." would make the walk ambiguous */
		int created = 0;
		int next = strcmp(name, "..") == 0 ? -1 : open_or_create(dir, name, mode, &created);
		if (next >= 0 && created && walk->created_count < 64) strcpy(walk->created[walk->created_count++], failed);
		struct stat st;
		if (next >= 0 && fstat(next, &st) != 0) {
			err = errno;
			close(next);
			next = -1;
		} else if (next < 0 && strcmp(name, "..") != 0) {
			err = errno;
		}
		if (next < 0) {
			close(dir);
			errno = err;
			return -1;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t length = -1;
			err = ELOOP;
			if (trusted_owner(st.st_uid) && ++walk->links <= MAX_LINKS) {
				length = readlinkat(next, "", target, sizeof(target) - 1);
				if (length < 0) err = errno;
			}
			close(next);
			if (length < 0) {
				close(dir);
				errno = err;
				return -1;
			}
			target[length] = '\0';
			if (target[0] == '/') {
				close(dir);
				dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (dir < 0) return -1;
				strcpy(so_far, "/");
			}
			dir = walk_components(dir, so_far, target, mode, walk, failed);
			if (dir < 0) return -1;
			continue;
		}
		close(dir);
		if (!S_ISDIR(st.st_mode)) {
			close(next);
			errno = ENOTDIR;
			return -1;
		}
		dir = next;
		snprintf(so_far + base, PATH_MAX - base, "%s%s", base > 1 ? "/" : "", name);
	}
	return dir;
}

static napi_value make_directories(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	char path[PATH_MAX];
	size_t length;
	uint32_t mode;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
	    napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &length) != napi_ok || length >= sizeof(path) - 1 ||
	    napi_get_value_uint32(env, argv[1], &mode) != napi_ok) {
		return throw_message(env, "makeDirectories(path, mode) needs an absolute path and a mode");
	}
	if (path[0] != '/') return throw_message(env, "makeDirectories needs an absolute path");
	struct walk *walk = calloc(1, sizeof(*walk));
	if (!walk) return throw_errno(env, "out of memory", NULL, ENOMEM);
	char so_far[PATH_MAX] = "/";
	char failed[PATH_MAX] = "/";
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int dir = root < 0 ? -1 : walk_components(root, so_far, path + 1, (mode_t)mode, walk, failed);
	if (dir < 0) {
		int err = errno;
		free(walk);
		if (err == ELOOP) return throw_errno(env, "refusing to follow a symbolic link that neither root nor this user made at", failed, err);
		return throw_errno(env, "cannot create", failed, err);
	}
	close(dir);
	napi_value result;
	napi_create_array_with_length(env, (size_t)walk->created_count, &result);
	for (int i = 0; i < walk->created_count; i++) {
		napi_value item;
		napi_create_string_utf8(env, walk->created[i], NAPI_AUTO_LENGTH, &item);
		napi_set_element(env, result, (uint32_t)i, item);
	}
	free(walk);
	return result;
}

/* A NULL-terminated copy of a JavaScript array of strings, or NULL (with an exception pending). */
static char **string_array(napi_env env, napi_value array, const char *what)
{
	uint32_t length;
	bool is_array = false;
	if (napi_is_array(env, array, &is_array) != napi_ok || !is_array || napi_get_array_length(env, array, &length) != napi_ok) {
		throw_message(env, what);
		return NULL;
	}
	char **strings = calloc((size_t)length + 1, sizeof(char *));
	if (!strings) {
		throw_errno(env, what, NULL, ENOMEM);
		return NULL;
	}
	for (uint32_t i = 0; i < length; i++) {
		napi_value item;
		size_t size;
		if (napi_get_element(env, array, i, &item) != napi_ok || napi_get_value_string_utf8(env, item, NULL, 0, &size) != napi_ok) {
			throw_message(env, what);
			goto fail;
		}
		strings[i] = malloc(size + 1);
		if (!strings[i] || napi_get_value_string_utf8(env, item, strings[i], size + 1, &size) != napi_ok) {
			throw_errno(env, what, NULL, ENOMEM);
			goto fail;
		}
		if (strlen(strings[i]) != size) {
			throw_message(env, "a string with a NUL byte cannot be an argument");
			goto fail;
		}
	}
	return strings;
fail:
	for (uint32_t i = 0; i < length; i++) free(strings[i]);
	free(strings);
	return NULL;
}

static void free_strings(char **strings)
{
	if (!strings) return;
	for (char **s = strings; *s; s++) free(*s);
	free(strings);
}

#define MAX_CHILD_FDS 256

static napi_value spawn_detached(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	char file[PATH_MAX];
	size_t size;
	uint32_t fd_count;
	bool is_array = false;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 ||
		napi_get_value_string_utf8(env, argv[0], file, sizeof(file), &size) != napi_ok || size >= sizeof(file) - 1 ||
		napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[3], &fd_count) != napi_ok ||
		fd_count > MAX_CHILD_FDS) {
		return throw_message(env, "spawnDetached(file, argv, env, fds) needs a path, two string arrays and at most 256 descriptors");
	}
	int sources[MAX_CHILD_FDS];
	for (uint32_t i = 0; i < fd_count; i++) {
		napi_value item;
		if (napi_get_element(env, argv[3], i, &item) != napi_ok || napi_get_value_int32(env, item, &sources[i]) != napi_ok) {
			return throw_message(env, "spawnDetached: fds must be descriptor numbers (-1 for none)");
		}
	}
	char **args = string_array(env, argv[1], "spawnDetached: argv must be an array of strings");
	if (!args) return NULL;
	char **envp = string_array(env, argv[2], "spawnDetached: env must be an array of strings");
	if (!envp) {
		free_strings(args);
		return NULL;
	}

	posix_spawnattr_t attr;
	posix_spawn_file_actions_t actions;
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_init(&actions);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	/* Node ignores SIGPIPE, and an ignored signal stays ignored across exec: reset them all. */
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

	/*
	 * Each source is first copied above every target number, so that placing one descriptor never
	 * overwrites a source still to be placed. dup2 onto the target clears close-on-exec there; the
	 * copies themselves are close-on-exec and closed here after the spawn.
	 */
	int copies[MAX_CHILD_FDS];
	int err = 0;
	for (uint32_t i = 0; i < fd_count; i++) {
		copies[i] = -1;
		if (err) continue;
		if (sources[i] >= 0) {
			copies[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, (int)fd_count);
			if (copies[i] < 0) err = errno;
			else err = posix_spawn_file_actions_adddup2(&actions, copies[i], (int)i);
		} else if (i <= 2) {
			err = posix_spawn_file_actions_addopen(&actions, (int)i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
		} else {
			err = posix_spawn_file_actions_addclose(&actions, (int)i);
		}
	}
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* Nothing else of warden's (or of its caller's) reaches the child; sandbox-exec checks again. */
	if (!err) err = posix_spawn_file_actions_addclosefrom_np(&actions, (int)fd_count);
#endif
	pid_t pid = -1;
	if (!err) err = posix_spawn(&pid, file, &actions, &attr, args, envp);
	for (uint32_t i = 0; i < fd_count; i++) if (copies[i] >= 0) close(copies[i]);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	free_strings(args);
	free_strings(envp);
	if (err) return throw_errno(env, "cannot start", file, err);
	napi_value result;
	napi_create_int32(env, pid, &result);
	return result;
}

static napi_value socket_pair(napi_env env, napi_callback_info info)
{
	(void)info;
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return throw_errno(env, "socketpair", NULL, errno);
	napi_value result, a, b;
	napi_create_array_with_length(env, 2, &result);
	napi_create_int32(env, fds[0], &a);
	napi_create_int32(env, fds[1], &b);
	napi_set_element(env, result, 0, a);
	napi_set_element(env, result, 1, b);
	return result;
}

struct exit_watch {
	pid_t pid;
	siginfo_t info; /* si_pid 0: the child could not be waited for */
	napi_threadsafe_function callback;
};

/*
 * On the main thread. Security invariant: the child is reaped only here, after JavaScript has
 * been told it ended: until then it stays a zombie, so its pid cannot be reused by another
 * process that warden (perhaps root) would then signal.
 */
static void deliver_exit(napi_env env, napi_value callback, void *context, void *data)
{
	(void)context;
	struct exit_watch *watch = data;
	if (env != NULL) {
		napi_value args[2], undefined;
		napi_get_null(env, &args[0]);
		napi_get_null(env, &args[1]);
		if (watch->info.si_pid != 0 && watch->info.si_code == CLD_EXITED) napi_create_int32(env, watch->info.si_status, &args[0]);
		else if (watch->info.si_pid != 0) napi_create_int32(env, watch->info.si_status, &args[1]);
		napi_get_undefined(env, &undefined);
		napi_call_function(env, undefined, callback, 2, args, NULL);
	}
	if (watch->info.si_pid != 0) {
		int status;
		while (waitpid(watch->pid, &status, 0) < 0 && errno == EINTR) continue;
	}
	free(watch);
}

static void *wait_for_exit(void *data)
{
	struct exit_watch *watch = data;
	int waited;
	memset(&watch->info, 0, sizeof(watch->info));
	/* WNOWAIT: seen, not reaped (deliver_exit reaps). */
	do waited = waitid(P_PID, (id_t)watch->pid, &watch->info, WEXITED | WNOWAIT);
	while (waited < 0 && errno == EINTR);
	if (waited < 0) watch->info.si_pid = 0;
	napi_threadsafe_function callback = watch->callback;
	napi_call_threadsafe_function(callback, watch, napi_tsfn_blocking);
	napi_release_threadsafe_function(callback, napi_tsfn_release);
	return NULL;
}

static napi_value watch_exit(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], name;
	int32_t pid;
	napi_valuetype type;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || napi_get_value_int32(env, argv[0], &pid) != napi_ok ||
		pid <= 0 || napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
		return throw_message(env, "watchExit(pid, callback) needs a child's pid and a function");
	}
	struct exit_watch *watch = calloc(1, sizeof(*watch));
	if (!watch) return throw_errno(env, "watchExit", NULL, ENOMEM);
	watch->pid = pid;
	napi_create_string_utf8(env, "warden child exit", NAPI_AUTO_LENGTH, &name);
	if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, deliver_exit, &watch->callback) != napi_ok) {
		free(watch);
		return throw_message(env, "watchExit: cannot create the callback");
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_t thread;
	int err = pthread_create(&thread, &attr, wait_for_exit, watch);
	pthread_attr_destroy(&attr);
	if (err) {
		napi_release_threadsafe_function(watch->callback, napi_tsfn_abort);
		free(watch);
		return throw_errno(env, "watchExit: cannot start a thread", NULL, err);
	}
	return NULL;
}

NAPI_MODULE_INIT()
{
	napi_value fn;
	napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn);
	napi_set_named_property(env, exports, "peerCredentials", fn);
	napi_create_function(env, "makeDirectories", NAPI_AUTO_LENGTH, make_directories, NULL, &fn);
	napi_set_named_property(env, exports, "makeDirectories", fn);
	napi_create_function(env, "spawnDetached", NAPI_AUTO_LENGTH, spawn_detached, NULL, &fn);
	napi_set_named_property(env, exports, "spawnDetached", fn);
	napi_create_function(env, "socketPair", NAPI_AUTO_LENGTH, socket_pair, NULL, &fn);
	napi_set_named_property(env, exports, "socketPair", fn);
	napi_create_function(env, "watchExit", NAPI_AUTO_LENGTH, watch_exit, NULL, &fn);
	napi_set_named_property(env, exports, "watchExit", fn);
	return exports;
}
