/*
 * netns-enter: join the network namespace of a sandbox, then exec a command there.
 *
 *   netns-enter PID -- CMD [ARG]...
 *
 * warden uses it, when it does not run as root, to open the egress proxy's listener inside a
 * sandbox it owns. nsenter cannot do this reliably: bubblewrap's --disable-userns moves the
 * sandbox's processes into a nested user namespace, while the network namespace stays owned by
 * the outer one. Entering the nested one (what `nsenter --user` does) gives no capability over
 * the network namespace, so setns fails with EPERM whenever bubblewrap got there first. This
 * helper asks the kernel which user namespace owns the network namespace (NS_GET_USERNS) and
 * enters that one.
 *
 * Security invariants:
 * - It gains nothing the caller does not already have: joining a user namespace needs the
 *   caller to own it (or be privileged over it), which the kernel checks in setns.
 * - Credentials are preserved: no setuid or setgid is done, so CMD keeps the caller's ids.
 * - As root, the user namespace is left alone; root already holds CAP_SYS_ADMIN over every
 *   network namespace.
 *
 * Exit status when CMD did not run: 125.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what) {
  fprintf(stderr, "netns-enter: %s: %s\n", what, strerror(errno));
  return 125;
}

/*
 * bubblewrap reports the sandbox's pid before its child has written the user namespace's uid map.
 * CMD is exec'd next, and exec keeps capabilities only for a uid that is 0 inside: with no map
 * yet, the listener would start with none and fail to bind a low port. So wait for the map (the
 * event itself), for at most 10 s.
 */
static int wait_for_uid_map(void) {
  for (int attempt = 0; attempt < 10000; attempt++) {
    char buffer[64];
    int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t length = read(fd, buffer, sizeof buffer);
    close(fd);
    if (length > 0) return 1;
    if (length < 0) return 0;
    struct timespec pause = { 0, 1000000 };
    nanosleep(&pause, NULL);
  }
  errno = ETIMEDOUT;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: netns-enter PID -- CMD [ARG]...\n");
    return 125;
  }
  char *end = NULL;
  long pid = strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || pid <= 0) {
    fprintf(stderr, "netns-enter: not a process id: %s\n", argv[1]);
    return 125;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
  int net = open(path, O_RDONLY | O_CLOEXEC);
  if (net < 0) return fail(path);
  if (geteuid() != 0) {
    int owner = ioctl(net, NS_GET_USERNS);
    if (owner < 0) return fail("finding the owner of the network namespace");
    if (setns(owner, CLONE_NEWUSER) != 0) return fail("entering the owning user namespace");
    close(owner);
    if (!wait_for_uid_map()) return fail("waiting for the sandbox's user namespace to get its uid map");
  }
  if (setns(net, CLONE_NEWNET) != 0) return fail("entering the network namespace");
  close(net);
  execv(argv[3], &argv[3]);
  return fail(argv[3]);
}
