/*
 * idmap-mount: mount a directory somewhere else with its owner's ids shown as a sandbox's.
 *
 *   idmap-mount --owner UID:GID --as UID:GID SOURCE TARGET
 *   idmap-mount --unmount TARGET
 *
 * The first form attaches at TARGET (an existing, empty directory) an idmapped bind mount of
 * SOURCE: files that SOURCE's owner (--owner) owns on disk appear owned by the sandbox's uid and
 * gid (--as) when reached through TARGET, and files the sandbox creates there are written to
 * disk as the owner's. Files of any other owner appear as the overflow id (nobody) and keep
 * their mode bits, so the sandbox cannot write them unless they are world-writable. The mount
 * is nosuid and nodev. The second form detaches such a mount (lazily: a sandbox that bound it
 * keeps its own copy).
 *
 * warden runs it as root (idmapped mounts need CAP_SYS_ADMIN) so that a project owned by a normal
 * user can be a sandbox's workdir while the sandbox keeps a uid of its own: nothing on disk changes
 * owner, and the sandbox never writes a root-owned file. Needs Linux 5.12+ and a filesystem that
 * supports idmapped mounts (ext4, xfs, btrfs, tmpfs 6.3+...); exit 125 with a message otherwise.
 *
 * Security invariants:
 * - SOURCE and TARGET are opened once without following a final symbolic link, and the mount is
 *   made from and onto those descriptors, so a link swapped in meanwhile changes nothing.
 * - The user namespace that carries the mapping maps exactly one uid and one gid; it is created by
 *   a child that does nothing else and is gone before this program exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

#define EXIT_SETUP 125

static void die(const char *what, const char *arg, int err)
{
	fprintf(stderr, "warden: idmap-mount: %s%s%s%s%s\n", what, arg ? " " : "", arg ? arg : "", err ? ": " : "", err ? strerror(err) : "");
	exit(EXIT_SETUP);
}

static void parse_ids(const char *text, unsigned long *uid, unsigned long *gid)
{
	char *end;
	errno = 0;
	*uid = strtoul(text, &end, 10);
	if (errno || *end != ':' || end == text) die("expected UID:GID, got", text, 0);
	const char *rest = end + 1;
	*gid = strtoul(rest, &end, 10);
	if (errno || *end || end == rest) die("expected UID:GID, got", text, 0);
	if (*uid > 0xfffffffeUL || *gid > 0xfffffffeUL) die("id out of range:", text, 0);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) die("cannot open", path, errno);
	ssize_t length = (ssize_t)strlen(text);
	if (write(fd, text, (size_t)length) != length) die("cannot write", path, errno);
	close(fd);
}

/* A user namespace mapping owner -> sandbox ids, held by a child until its descriptor is open. */
static int mapping_namespace(unsigned long owner_uid, unsigned long owner_gid, unsigned long as_uid, unsigned long as_gid)
{
	int ready[2], done[2];
	if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(done, O_CLOEXEC) != 0) die("pipe", NULL, errno);
	pid_t child = fork();
	if (child < 0) die("fork", NULL, errno);
	if (child == 0) {
		char byte = 0;
		close(ready[0]);
		close(done[1]);
		if (unshare(CLONE_NEWUSER) != 0) _exit(1);
		if (write(ready[1], &byte, 1) != 1) _exit(1);
		/* Wait until the parent has the namespace open (or is gone). */
		ssize_t ignored = read(done[0], &byte, 1);
		(void)ignored;
		_exit(0);
	}
	close(ready[1]);
	close(done[0]);
	char byte;
	if (read(ready[0], &byte, 1) != 1) die("the user namespace could not be created", NULL, 0);
	char path[64], map[128];
	/* "inside outside count": on disk (inside) the owner's id, seen through the mount (outside) as the sandbox's. */
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)child);
	snprintf(map, sizeof(map), "%lu %lu 1\n", owner_uid, as_uid);
	write_file(path, map);
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)child);
	write_file(path, "deny\n");
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)child);
	snprintf(map, sizeof(map), "%lu %lu 1\n", owner_gid, as_gid);
	write_file(path, map);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)child);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) die("cannot open", path, errno);
	close(done[1]);
	int status;
	waitpid(child, &status, 0);
	return ns;
}

static int open_directory(const char *path)
{
	int fd = open(path, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) die("cannot open the directory", path, errno);
	return fd;
}

static int attach(const char *owner, const char *as, const char *source, const char *target)
{
	unsigned long owner_uid, owner_gid, as_uid, as_gid;
	parse_ids(owner, &owner_uid, &owner_gid);
	parse_ids(as, &as_uid, &as_gid);
	if (as_uid == 0 || as_gid == 0) die("refusing to map onto root", NULL, 0);
	int source_fd = open_directory(source);
	int target_fd = open_directory(target);
	int ns = mapping_namespace(owner_uid, owner_gid, as_uid, as_gid);
	int tree = (int)syscall(SYS_open_tree, source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0) die("cannot clone the mount of", source, errno);
	struct mount_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	attr.userns_fd = (unsigned long long)ns;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
		int err = errno;
		die("the filesystem of this directory does not support idmapped mounts (needs Linux 5.12+ and ext4, xfs, btrfs...):", source, err);
	}
	if (syscall(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) die("cannot attach the mount at", target, errno);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--unmount") == 0) {
		if (umount2(argv[2], MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL) die("cannot detach", argv[2], errno);
		return 0;
	}
	if (argc == 7 && strcmp(argv[1], "--owner") == 0 && strcmp(argv[3], "--as") == 0) return attach(argv[2], argv[4], argv[5], argv[6]);
	fprintf(stderr, "usage: idmap-mount --owner UID:GID --as UID:GID SOURCE TARGET\n       idmap-mount --unmount TARGET\n");
	return EXIT_SETUP;
}
