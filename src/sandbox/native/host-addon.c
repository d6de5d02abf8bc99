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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

NAPI_MODULE_INIT()
{
	napi_value fn;
	napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn);
	napi_set_named_property(env, exports, "peerCredentials", fn);
	napi_create_function(env, "makeDirectories", NAPI_AUTO_LENGTH, make_directories, NULL, &fn);
	napi_set_named_property(env, exports, "makeDirectories", fn);
	return exports;
}
