/*
 * supervisor: the long-lived process every named sandbox runs as bubblewrap's command. bubblewrap
 * cannot join a sandbox that is already running, so the gateway asks this process to start the
 * commands of `warden exec` and `warden connect` and relays their input and output.
 *
 *   fd 0   frames from the gateway: START, STDIN, STDIN_END, RESIZE, SIGNAL, OUTPUT_ACK
 *   fd 1   frames to the gateway: STARTED, START_FAILED, STDOUT, STDERR, EXIT, STDIN_ACK
 *   fd 2   one-line messages for the gateway's log
 *
 * The frame format, every payload layout and the flow-control windows are specified in
 * src/sandbox/frames.ts (authoritative; the constants below mirror it). In short: a frame is
 * [u8 type][u32be channel][u32be length][payload], one channel per command; the supervisor reads
 * no more of a command's output while OUTPUT_WINDOW bytes of it are unacknowledged (OUTPUT_ACK),
 * and acknowledges input (STDIN_ACK) as it is written to the command, so the gateway never has
 * more than STDIN_WINDOW bytes in flight. A slow gateway pauses commands; it never grows memory.
 *
 * Security invariants:
 * - Non-dumpable from the first statement of main (PR_SET_DUMPABLE 0). The commands run as the
 *   supervisor's uid, and a process of the same uid may open a dumpable process's /proc/<pid>/mem,
 *   /proc/<pid>/fd/ and environ, or ptrace it. The agent could then rewrite this process's memory
 *   or reopen its control channel and forge frames to the gateway. The kernel refuses all of that
 *   for a non-dumpable process to anyone without CAP_SYS_PTRACE, which sandboxed commands lack.
 *   (execve makes a command dumpable again; only the supervisor itself stays closed.)
 * - No interpreter in the process tree: commands descend from this binary, so a policy that
 *   allows some interpreter does not allow every command by way of the supervisor.
 * - It adds no privilege: commands inherit exactly its confinement (namespaces, seccomp, Landlock,
 *   no_new_privs, rlimits) and credentials.
 * - A command gets the supervisor's environment (what bubblewrap set, minus this program's own
 *   WARDEN_SUPERVISOR_SWEEP) with the START's variables on top, nothing else; and it holds no
 *   descriptor but its stdio: everything above fd 2 is closed before execve.
 * - Bounded memory: the outgoing queue, each channel's input buffer (STDIN_WINDOW, enforced: the
 *   gateway sending more is a protocol error) and each frame being received (MAX_FRAME_PAYLOAD)
 *   have fixed limits, and at most MAX_CHANNELS commands run at once.
 * - Fail closed: the end of fd 0, a read or write error on the control channel, any protocol
 *   error, or SIGTERM/SIGHUP/SIGINT kill every command and end the supervisor (exit status 0 for
 *   the end of fd 0, 1 for an error, 128+N for signal N). A malformed START is not a protocol
 *   error: it is answered with START_FAILED 125 and the supervisor keeps serving.
 *
 * Killing on the way out. With WARDEN_SUPERVISOR_SWEEP=1 in its environment (the gateway sets it
 * inside sandboxes, where the supervisor has a PID namespace of its own) the supervisor also runs
 * kill(-1, SIGKILL): that reaches every process it may signal in the namespace, i.e. everything
 * the agent started, however it hid. Without it, only its commands' process groups and their
 * descendants (found through /proc before the kill) are killed: on a host, kill(-1) would kill
 * every process of the caller's uid, or the whole machine as root. Never set it outside a sandbox.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range 436 /* the same on every architecture (unified table, Linux 5.9) */
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* ---- Protocol (src/sandbox/frames.ts) ---------------------------------------------------- */

enum {
	FRAME_START = 1,
	FRAME_STDIN = 2,
	FRAME_STDIN_END = 3,
	FRAME_RESIZE = 4,
	FRAME_SIGNAL = 5,
	FRAME_OUTPUT_ACK = 6,
	FRAME_STARTED = 16,
	FRAME_START_FAILED = 17,
	FRAME_STDOUT = 18,
	FRAME_STDERR = 19,
	FRAME_EXIT = 20,
	FRAME_STDIN_ACK = 21,
};

#define FRAME_HEADER_BYTES 9
#define MAX_FRAME_PAYLOAD (1024u * 1024u)
#define OUTPUT_WINDOW (256u * 1024u)
#define STDIN_WINDOW (256u * 1024u)
#define MAX_CHANNELS 256
#define MAX_START_STRINGS 65536u
#define START_HEAD_BYTES 13

#define EXIT_SETUP 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127

/* ---- Local limits ------------------------------------------------------------------------- */

/* The biggest STDOUT/STDERR frame payload. */
#define OUTPUT_CHUNK (64u * 1024u)
/* Above this many queued bytes on fd 1 nothing new is produced: no output is read, no control
 * frame is taken, no input is written (each would queue a frame). The queue then only grows by
 * the frame that crossed the line and one EXIT per channel, well below OUTBOX_CAPACITY. */
#define OUTBOX_PAUSE (256u * 1024u)
#define OUTBOX_CAPACITY (512u * 1024u)
/* Payloads up to this size are received into a static buffer, bigger ones into a malloc'ed one. */
#define SMALL_PAYLOAD (64u * 1024u)
/* Control frames handled per loop round, so that commands' output is not starved. */
#define FRAMES_PER_ROUND 64
/* A START_FAILED message quotes at most this many bytes of argv[0] or cwd. */
#define QUOTE_MAX 512
#define MESSAGE_MAX 2048
/* After a terminal's command exits, a background process may hold the terminal open forever;
 * stop waiting for it once the terminal has been silent this long (as pty-exec.c does). */
#define DRAIN_IDLE_MS 300
/* Rounds of "stop every descendant found, look again" before a SIGKILL (see kill_trees). */
#define FREEZE_ROUNDS 16

/* ---- State -------------------------------------------------------------------------------- */

struct channel {
	int in_use;
	uint32_t id;
	pid_t pid;         /* the command: leader of its own session and process group */
	int tty;
	int master;        /* tty: the terminal's master side (input and output), else -1 */
	int input_fd;      /* where input is written; -1 once input is closed */
	int output_fd[2];  /* stdout, stderr (tty: the master, -1); -1 at end of file */
	/* Input received but not yet written: a ring of STDIN_WINDOW bytes, allocated while used. */
	unsigned char *ring;
	uint32_t ring_start, ring_length;
	uint32_t stdin_unacked; /* received and not yet acknowledged */
	int stdin_end;          /* STDIN_END received: close input once the ring is written */
	uint32_t output_unacked;
	int exited;
	int status;
	long long quiet_since; /* tty, after exit: when the terminal last showed something */
};

static struct channel channels[MAX_CHANNELS];
static size_t channels_used;

/* Frames waiting for fd 1, written whole and in order. */
static unsigned char outbox[OUTBOX_CAPACITY];
static size_t outbox_head, outbox_tail;

/* The control frame being received. */
static struct {
	unsigned char header[FRAME_HEADER_BYTES];
	size_t header_have;
	uint8_t type;
	uint32_t channel, length;
	unsigned char *payload;
	size_t payload_have;
} incoming;
static unsigned char small_payload[SMALL_PAYLOAD];

static int signals_fd = -1;
static int sweep; /* WARDEN_SUPERVISOR_SWEEP=1: see the header */

/* ---- Small helpers ------------------------------------------------------------------------ */

static void log_line(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *format, ...)
{
	char line[1024];
	int length = snprintf(line, sizeof(line), "warden-supervisor: ");
	va_list args;
	va_start(args, format);
	vsnprintf(line + length, sizeof(line) - (size_t)length - 1, format, args);
	va_end(args);
	size_t total = strlen(line);
	line[total++] = '\n';
	for (size_t done = 0; done < total;) {
		ssize_t count = write(STDERR_FILENO, line + done, total - done);
		if (count < 0 && errno == EINTR) continue;
		if (count <= 0) return; /* the log is gone or full: nothing more to do */
		done += (size_t)count;
	}
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static unsigned get_u16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | (unsigned)p[1];
}

static void put_u32(unsigned char *p, uint32_t value)
{
	p[0] = (unsigned char)(value >> 24);
	p[1] = (unsigned char)(value >> 16);
	p[2] = (unsigned char)(value >> 8);
	p[3] = (unsigned char)value;
}

/* How many bytes of text to quote in a message: at most max, not cutting a UTF-8 sequence. */
static int quoted_length(const char *text, size_t max)
{
	size_t length = strlen(text);
	if (length <= max) return (int)length;
	while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80) max--;
	return (int)max;
}

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static size_t outbox_length(void)
{
	return outbox_tail - outbox_head;
}

static int outbox_paused(void)
{
	return outbox_length() >= OUTBOX_PAUSE;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) close(*fd);
	*fd = -1;
}

/* ---- Killing ------------------------------------------------------------------------------ */

struct pid_pair {
	pid_t pid, parent;
};

struct pid_set {
	pid_t *pids;
	size_t count, capacity;
};

static int compare_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

static int compare_parent(const void *a, const void *b)
{
	const struct pid_pair *x = a, *y = b;
	return (x->parent > y->parent) - (x->parent < y->parent);
}

static int pid_set_add(struct pid_set *set, pid_t pid)
{
	if (set->count == set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : 64;
		pid_t *grown = realloc(set->pids, capacity * sizeof(pid_t));
		if (grown == NULL) return -1;
		set->pids = grown;
		set->capacity = capacity;
	}
	set->pids[set->count++] = pid;
	return 0;
}

static int pid_set_has(const struct pid_set *set, size_t sorted, pid_t pid)
{
	return sorted > 0 && bsearch(&pid, set->pids, sorted, sizeof(pid_t), compare_pid) != NULL;
}

/* The parent of a process, from /proc/<pid>/stat; -1 when it is gone. */
static pid_t parent_of(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t count = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (count <= 0) return -1;
	stat[count] = '\0';
	/* The command name may hold spaces and parentheses: the fields resume after the last ')'. */
	char *end = strrchr(stat, ')');
	if (end == NULL || end[1] != ' ' || end[2] == '\0' || end[3] != ' ') return -1;
	return (pid_t)strtol(end + 4, NULL, 10);
}

/* Every process with its parent, sorted by parent; NULL (and *count 0) when /proc is unreadable. */
static struct pid_pair *process_table(size_t *count)
{
	*count = 0;
	DIR *proc = opendir("/proc");
	if (proc == NULL) return NULL;
	struct pid_pair *table = NULL;
	size_t capacity = 0;
	struct dirent *entry;
	while ((entry = readdir(proc)) != NULL) {
		char *end;
		long pid = strtol(entry->d_name, &end, 10);
		if (entry->d_name[0] < '1' || entry->d_name[0] > '9' || *end != '\0' || pid > INT_MAX) continue;
		pid_t parent = parent_of((pid_t)pid);
		if (parent < 0) continue;
		if (*count == capacity) {
			capacity = capacity ? capacity * 2 : 256;
			struct pid_pair *grown = realloc(table, capacity * sizeof(*table));
			if (grown == NULL) break;
			table = grown;
		}
		table[(*count)++] = (struct pid_pair){ (pid_t)pid, parent };
	}
	closedir(proc);
	if (table != NULL) qsort(table, *count, sizeof(*table), compare_parent);
	return table;
}

/* Appends to list every descendant of root in the table, breadth first. */
static void list_descendants(const struct pid_pair *table, size_t rows, pid_t root, struct pid_set *list)
{
	size_t next = list->count, limit = list->count + rows; /* a table read while pids are reused may loop */
	for (pid_t parent = root;; parent = list->pids[next++]) {
		struct pid_pair key = { 0, parent };
		const struct pid_pair *hit = bsearch(&key, table, rows, sizeof(*table), compare_parent);
		if (hit != NULL) {
			while (hit > table && hit[-1].parent == parent) hit--;
			for (; hit < table + rows && hit->parent == parent && list->count < limit; hit++)
				if (pid_set_add(list, hit->pid) != 0) return;
		}
		if (next >= list->count) return;
	}
}

/*
 * SIGKILLs every process group in groups, and every descendant of every pid in parents, also
 * those that moved to another process group or session. Descendants are found through their
 * parent links in /proc before anything is killed (an orphan is re-parented and lost), and
 * stopped as they are found, so that none can fork a child the search misses; the search is
 * repeated until it finds nothing new.
 */
static void kill_trees(const pid_t *groups, size_t group_count, const pid_t *parents, size_t parent_count)
{
	struct pid_set stopped = { NULL, 0, 0 }; /* sorted after each round */
	for (int round = 0; round < FREEZE_ROUNDS && parent_count > 0; round++) {
		for (size_t i = 0; i < group_count; i++) kill(-groups[i], SIGSTOP);
		size_t rows;
		struct pid_pair *table = process_table(&rows);
		struct pid_set found = { NULL, 0, 0 };
		for (size_t i = 0; i < parent_count && table != NULL; i++) list_descendants(table, rows, parents[i], &found);
		free(table);
		size_t known = stopped.count;
		for (size_t i = 0; i < found.count; i++) {
			if (pid_set_has(&stopped, known, found.pids[i])) continue;
			kill(found.pids[i], SIGSTOP);
			if (pid_set_add(&stopped, found.pids[i]) != 0) break;
		}
		free(found.pids);
		if (stopped.count == known) break;
		qsort(stopped.pids, stopped.count, sizeof(pid_t), compare_pid);
	}
	for (size_t i = 0; i < group_count; i++) kill(-groups[i], SIGKILL);
	for (size_t i = 0; i < stopped.count; i++) kill(stopped.pids[i], SIGKILL);
	free(stopped.pids);
}

static struct channel *find_running(pid_t pid);

/*
 * Whether a command's process group may still be signalled. Once the command was reaped its pid
 * may be reused; if another command now has it, the old group is certainly gone (a pid is not
 * reused while it names a process group) and signalling it would hit the wrong command.
 */
static int group_is_ours(const struct channel *channel)
{
	return !channel->exited || find_running(channel->pid) == NULL;
}

/* Ends the supervisor: kills every command (see the header), says why, exits. */
static void shut_down(int code, const char *reason) __attribute__((noreturn));
static void shut_down(int code, const char *reason)
{
	pid_t groups[MAX_CHANNELS], parents[MAX_CHANNELS];
	size_t group_count = 0, parent_count = 0;
	for (size_t i = 0; i < MAX_CHANNELS; i++) {
		const struct channel *channel = &channels[i];
		if (!channel->in_use) continue;
		if (group_is_ours(channel)) groups[group_count++] = channel->pid;
		/* A reaped command's children were re-parented: nothing to find below its pid. */
		if (!channel->exited) parents[parent_count++] = channel->pid;
	}
	kill_trees(groups, group_count, parents, parent_count);
	if (sweep) kill(-1, SIGKILL); /* every process of this PID namespace but this one */
	log_line("%s; killing every command and exiting", reason);
	/* Frames already queued (say, the answer to a START just before the end of input) go out if
	 * the gateway still reads; waiting for it to make room would let a stuck gateway hold us. */
	while (outbox_length() > 0) {
		ssize_t count = write(STDOUT_FILENO, outbox + outbox_head, outbox_length());
		if (count < 0 && errno == EINTR) continue;
		if (count <= 0) break;
		outbox_head += (size_t)count;
	}
	_exit(code);
}

static void protocol_error(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void protocol_error(const char *format, ...)
{
	char reason[512];
	int length = snprintf(reason, sizeof(reason), "protocol error: ");
	va_list args;
	va_start(args, format);
	vsnprintf(reason + length, sizeof(reason) - (size_t)length, format, args);
	va_end(args);
	shut_down(1, reason);
}

/* ---- Outgoing frames ---------------------------------------------------------------------- */

/* Room for size more bytes at outbox_tail. */
static unsigned char *outbox_reserve(size_t size)
{
	if (OUTBOX_CAPACITY - outbox_tail < size) {
		memmove(outbox, outbox + outbox_head, outbox_length());
		outbox_tail -= outbox_head;
		outbox_head = 0;
		/* Cannot happen (see OUTBOX_PAUSE); if it did, memory would no longer be bounded. */
		if (OUTBOX_CAPACITY - outbox_tail < size) shut_down(1, "internal error: the outgoing frame queue is full");
	}
	return outbox + outbox_tail;
}

static void put_header(unsigned char *frame, uint8_t type, uint32_t channel, uint32_t length)
{
	frame[0] = type;
	put_u32(frame + 1, channel);
	put_u32(frame + 5, length);
}

static void send_frame(uint8_t type, uint32_t channel, const void *payload, uint32_t length)
{
	unsigned char *frame = outbox_reserve(FRAME_HEADER_BYTES + (size_t)length);
	put_header(frame, type, channel, length);
	if (length > 0) memcpy(frame + FRAME_HEADER_BYTES, payload, length);
	outbox_tail += FRAME_HEADER_BYTES + (size_t)length;
}

static void send_u32(uint8_t type, uint32_t channel, uint32_t value)
{
	unsigned char payload[4];
	put_u32(payload, value);
	send_frame(type, channel, payload, sizeof(payload));
}

static void send_start_failed(uint32_t channel, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void send_start_failed(uint32_t channel, int code, const char *format, ...)
{
	char payload[1 + MESSAGE_MAX];
	payload[0] = (char)code;
	va_list args;
	va_start(args, format);
	int length = vsnprintf(payload + 1, sizeof(payload) - 1, format, args);
	va_end(args);
	if (length < 0) length = 0;
	if ((size_t)length > sizeof(payload) - 2) length = (int)sizeof(payload) - 2;
	send_frame(FRAME_START_FAILED, channel, payload, 1 + (uint32_t)length);
}

static void flush_outbox(void)
{
	while (outbox_length() > 0) {
		ssize_t count = write(STDOUT_FILENO, outbox + outbox_head, outbox_length());
		if (count < 0) {
			if (errno == EINTR) continue;
			if (errno == EAGAIN) return;
			char reason[128];
			snprintf(reason, sizeof(reason), "control channel write failed: %s", strerror(errno));
			shut_down(1, reason);
		}
		outbox_head += (size_t)count;
	}
	outbox_head = outbox_tail = 0;
}

/* ---- Channels ----------------------------------------------------------------------------- */

static struct channel *find_channel(uint32_t id)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (channels[i].in_use && channels[i].id == id) return &channels[i];
	return NULL;
}

static struct channel *find_running(pid_t pid)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (channels[i].in_use && !channels[i].exited && channels[i].pid == pid) return &channels[i];
	return NULL;
}

static void acknowledge_input(struct channel *channel, uint32_t bytes)
{
	if (bytes == 0) return;
	channel->stdin_unacked -= bytes;
	send_u32(FRAME_STDIN_ACK, channel->id, bytes);
}

static void release_ring(struct channel *channel)
{
	free(channel->ring);
	channel->ring = NULL;
	channel->ring_start = channel->ring_length = 0;
}

/* No more input reaches the command: what is pending is dropped but acknowledged, so that the
 * gateway's window is never held by bytes that will not be written. */
static void close_input(struct channel *channel)
{
	acknowledge_input(channel, channel->ring_length);
	release_ring(channel);
	if (!channel->tty) close_fd(&channel->input_fd);
	channel->input_fd = -1; /* tty: the master stays open for output */
}

static void close_output(struct channel *channel, int stream)
{
	if (!channel->tty) close_fd(&channel->output_fd[stream]);
	channel->output_fd[stream] = -1;
}

static void forget_channel(struct channel *channel)
{
	release_ring(channel);
	if (!channel->tty) {
		close_fd(&channel->input_fd);
		close_fd(&channel->output_fd[0]);
		close_fd(&channel->output_fd[1]);
	}
	close_fd(&channel->master);
	memset(channel, 0, sizeof(*channel));
	channels_used--;
}

/* A command's output is read only while its window and the outgoing queue have room. */
static int may_read_output(const struct channel *channel)
{
	return !outbox_paused() && channel->output_unacked < OUTPUT_WINDOW;
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status)) return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
	return EXIT_SETUP;
}

static int read_output(struct channel *channel, int stream);

/*
 * Without a terminal a command is done once it exited and both its pipes reached end of file.
 * On a terminal, once it exited and the terminal closed (no slave left) or stayed silent for
 * DRAIN_IDLE_MS. Then EXIT is its last frame, and the channel id is free again.
 */
static void finish_channels(long long now)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++) {
		struct channel *channel = &channels[i];
		if (!channel->in_use || !channel->exited) continue;
		if (channel->tty && channel->output_fd[0] >= 0) {
			if (!may_read_output(channel)) {
				/* Output paused by flow control: that time does not count as silence. */
				channel->quiet_since = now;
				continue;
			}
			if (now - channel->quiet_since < DRAIN_IDLE_MS) continue;
			/* A last look: a supervisor that was not scheduled for a while saw no silence. */
			if (read_output(channel, 0)) continue;
		} else if (!channel->tty && (channel->output_fd[0] >= 0 || channel->output_fd[1] >= 0)) {
			continue;
		}
		send_u32(FRAME_EXIT, channel->id, (uint32_t)exit_code_of(channel->status));
		forget_channel(channel);
	}
}

static void reap_children(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR) continue;
		if (pid <= 0) return;
		struct channel *channel = find_running(pid);
		if (channel == NULL) continue;
		channel->exited = 1;
		channel->status = status;
		channel->quiet_since = now_ms();
		/* Input for a command that has exited has nowhere to go. */
		if (channel->input_fd >= 0) close_input(channel);
	}
}

static void signal_channel(struct channel *channel, int signal_number)
{
	if (group_is_ours(channel)) {
		if (signal_number == SIGKILL) /* also the descendants that left the group */
			kill_trees(&channel->pid, 1, &channel->pid, channel->exited ? 0 : 1);
		else
			kill(-channel->pid, signal_number);
	}
	if (channel->tty) {
		/* A shell with job control runs its foreground job in a group of its own. */
		pid_t foreground = tcgetpgrp(channel->master);
		if (foreground > 0 && foreground != channel->pid) kill(-foreground, signal_number);
	}
}

/* ---- Relaying ----------------------------------------------------------------------------- */

/* Reads one chunk of output into a frame. Returns 1 when it got some. */
static int read_output(struct channel *channel, int stream)
{
	uint32_t room = OUTPUT_WINDOW - channel->output_unacked;
	if (room > OUTPUT_CHUNK) room = OUTPUT_CHUNK;
	/* Read straight into the queued frame; the header is written once the length is known. */
	unsigned char *frame = outbox_reserve(FRAME_HEADER_BYTES + room);
	ssize_t count = read(channel->output_fd[stream], frame + FRAME_HEADER_BYTES, room);
	if (count < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
	if (count <= 0) {
		/* End of file; on a terminal EIO: every slave descriptor is closed. */
		if (count < 0 && !(channel->tty && errno == EIO))
			log_line("channel %u: reading output failed: %s", channel->id, strerror(errno));
		close_output(channel, stream);
		return 0;
	}
	put_header(frame, stream ? FRAME_STDERR : FRAME_STDOUT, channel->id, (uint32_t)count);
	outbox_tail += FRAME_HEADER_BYTES + (size_t)count;
	channel->output_unacked += (uint32_t)count;
	channel->quiet_since = now_ms();
	return 1;
}

static void write_input(struct channel *channel)
{
	struct iovec parts[2];
	int part_count = 1;
	uint32_t first = STDIN_WINDOW - channel->ring_start;
	if (first >= channel->ring_length) {
		parts[0] = (struct iovec){ channel->ring + channel->ring_start, channel->ring_length };
	} else {
		parts[0] = (struct iovec){ channel->ring + channel->ring_start, first };
		parts[1] = (struct iovec){ channel->ring, channel->ring_length - first };
		part_count = 2;
	}
	ssize_t count = writev(channel->input_fd, parts, part_count);
	if (count < 0) {
		if (errno == EINTR || errno == EAGAIN) return;
		/* EPIPE: the command closed its input; EIO: the terminal is gone. Either way it is over. */
		close_input(channel);
		return;
	}
	channel->ring_start = (channel->ring_start + (uint32_t)count) % STDIN_WINDOW;
	channel->ring_length -= (uint32_t)count;
	acknowledge_input(channel, (uint32_t)count);
	if (channel->ring_length == 0) {
		release_ring(channel);
		if (channel->stdin_end) close_input(channel);
	}
}

/* ---- Starting commands -------------------------------------------------------------------- */

struct start_request {
	int tty;
	unsigned rows, cols;
	uint32_t argc, envc;
	const char *cwd;
	char **argv; /* argc entries and NULL, pointing into the payload */
	char **env;  /* envc entries, pointing into the payload */
};

static int is_env_name(const char *name, size_t length)
{
	if (length == 0) return 0;
	for (size_t i = 0; i < length; i++) {
		char c = name[i];
		int letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
		if (!letter && !(i > 0 && c >= '0' && c <= '9')) return 0;
	}
	return 1;
}

/*
 * Checks a START payload against its layout exactly as decodeStart and startProblem in frames.ts
 * do, and points request at its strings. Returns NULL, or why it is malformed (in problem).
 */
static const char *parse_start(char *payload, uint32_t length, struct start_request *request, char *problem, size_t size)
{
	const unsigned char *p = (const unsigned char *)payload;
	if (length < START_HEAD_BYTES) return "start frame is too short";
	if ((p[0] & ~1u) != 0) {
		snprintf(problem, size, "start frame has unknown flags %u", p[0]);
		return problem;
	}
	request->tty = p[0] & 1;
	request->rows = get_u16(p + 1);
	request->cols = get_u16(p + 3);
	request->argc = get_u32(p + 5);
	request->envc = get_u32(p + 9);
	uint64_t strings = (uint64_t)request->argc + request->envc + 1;
	if (strings > MAX_START_STRINGS) return "start frame has too many strings";
	/* Every string ends with a NUL, the last one included: nothing may follow it. */
	uint64_t terminators = 0;
	for (uint32_t i = START_HEAD_BYTES; i < length; i++) terminators += p[i] == 0;
	if (length == START_HEAD_BYTES || p[length - 1] != 0 || terminators != strings)
		return "start frame strings do not match argc and envc";

	request->argv = malloc(((size_t)request->argc + 1) * sizeof(char *));
	request->env = malloc(((size_t)request->envc + 1) * sizeof(char *));
	if (request->argv == NULL || request->env == NULL) return "out of memory";
	char *cursor = payload + START_HEAD_BYTES;
	request->cwd = cursor;
	cursor += strlen(cursor) + 1;
	for (uint32_t i = 0; i < request->argc; i++, cursor += strlen(cursor) + 1) request->argv[i] = cursor;
	request->argv[request->argc] = NULL;
	for (uint32_t i = 0; i < request->envc; i++, cursor += strlen(cursor) + 1) {
		request->env[i] = cursor;
		char *equals = strchr(cursor, '=');
		if (equals == NULL || equals == cursor) return "start frame environment entry without a name";
	}
	request->env[request->envc] = NULL;

	if (request->argc == 0) return "bad start request: argv must be a non-empty list";
	if (request->argv[0][0] == '\0') return "bad start request: argv[0] is empty";
	for (uint32_t i = 0; i < request->envc; i++) {
		const char *entry = request->env[i];
		size_t name_length = (size_t)(strchr(entry, '=') - entry);
		if (!is_env_name(entry, name_length)) {
			snprintf(problem, size, "bad start request: bad environment variable name \"%.*s\"",
				quoted_length(entry, name_length < QUOTE_MAX ? name_length : QUOTE_MAX), entry);
			return problem;
		}
	}
	if (request->cwd[0] != '/') return "bad start request: cwd must be an absolute path";
	if (request->tty && (request->rows == 0 || request->cols == 0))
		return "bad start request: tty must be null or {rows, cols} between 1 and 65535";
	struct stat status;
	if (stat(request->cwd, &status) != 0 || !S_ISDIR(status.st_mode)) {
		snprintf(problem, size, "bad start request: cwd %.*s is not a directory", quoted_length(request->cwd, QUOTE_MAX), request->cwd);
		return problem;
	}
	return NULL;
}

struct env_entry {
	const char *text;
	size_t name_length;
	size_t order;
};

static size_t env_name_length(const char *entry)
{
	const char *equals = strchr(entry, '=');
	return equals ? (size_t)(equals - entry) : strlen(entry);
}

static int compare_env(const void *a, const void *b)
{
	const struct env_entry *x = a, *y = b;
	size_t shorter = x->name_length < y->name_length ? x->name_length : y->name_length;
	int names = memcmp(x->text, y->text, shorter);
	if (names != 0) return names;
	if (x->name_length != y->name_length) return x->name_length < y->name_length ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/*
 * The command's environment: the supervisor's own, with the request's variables on top (a later
 * entry of a name replaces an earlier one). Sorting keeps this O(n log n) for 65536 entries.
 */
static char **merge_environment(char **base, char **overrides, uint32_t override_count)
{
	size_t base_count = 0;
	while (base[base_count] != NULL) base_count++;
	size_t total = base_count + override_count;
	struct env_entry *entries = malloc((total ? total : 1) * sizeof(*entries));
	unsigned char *keep = calloc(total ? total : 1, 1);
	char **merged = malloc((total + 1) * sizeof(char *));
	if (entries == NULL || keep == NULL || merged == NULL) {
		free(entries);
		free(keep);
		free(merged);
		return NULL;
	}
	for (size_t i = 0; i < total; i++) {
		const char *text = i < base_count ? base[i] : overrides[i - base_count];
		entries[i] = (struct env_entry){ text, env_name_length(text), i };
	}
	qsort(entries, total, sizeof(*entries), compare_env);
	for (size_t i = 0; i < total; i++) {
		int last_of_name = i + 1 == total || entries[i].name_length != entries[i + 1].name_length
			|| memcmp(entries[i].text, entries[i + 1].text, entries[i].name_length) != 0;
		if (last_of_name) keep[entries[i].order] = 1;
	}
	size_t count = 0;
	for (size_t i = 0; i < total; i++)
		if (keep[i]) merged[count++] = i < base_count ? base[i] : overrides[i - base_count];
	merged[count] = NULL;
	free(entries);
	free(keep);
	return merged;
}

static const char *env_value(char **env, const char *name)
{
	size_t length = strlen(name);
	for (; *env != NULL; env++)
		if (strncmp(*env, name, length) == 0 && (*env)[length] == '=') return *env + length + 1;
	return NULL;
}

/* dir (relative to cwd unless absolute; empty means cwd) / name, or -1 when it does not fit. */
static int join_path(char *out, size_t size, const char *cwd, const char *dir, size_t dir_length, const char *name)
{
	int length;
	if (dir_length > 0 && dir[0] == '/')
		length = snprintf(out, size, "%.*s/%s", (int)dir_length, dir, name);
	else if (dir_length > 0)
		length = snprintf(out, size, "%s/%.*s/%s", cwd, (int)dir_length, dir, name);
	else
		length = snprintf(out, size, "%s/%s", cwd, name);
	return length < 0 || (size_t)length >= size ? -1 : 0;
}

enum { FOUND, NOT_FOUND, NOT_EXECUTABLE };

/* 1: an executable regular file; 0: something else is there; -1: nothing is. */
static int probe(const char *path)
{
	struct stat status;
	if (stat(path, &status) != 0) return -1;
	return S_ISREG(status.st_mode) && access(path, X_OK) == 0;
}

/*
 * Finds the file argv[0] names as a shell would, in the command's own PATH and cwd, so that "not
 * found" (127) and "not executable" (126) are answered before anything starts.
 */
static int resolve_executable(const char *command, const char *search_path, const char *cwd, char *resolved, size_t size)
{
	if (strchr(command, '/') != NULL) {
		int fits = command[0] == '/' ? snprintf(resolved, size, "%s", command) < (int)size
			: join_path(resolved, size, cwd, "", 0, command) == 0;
		if (!fits) return NOT_FOUND;
		int found = probe(resolved);
		return found > 0 ? FOUND : found == 0 ? NOT_EXECUTABLE : NOT_FOUND;
	}
	if (search_path == NULL) return NOT_FOUND;
	int saw_other = 0;
	for (const char *dir = search_path;;) {
		const char *colon = strchr(dir, ':');
		size_t dir_length = colon ? (size_t)(colon - dir) : strlen(dir);
		if (join_path(resolved, size, cwd, dir, dir_length, command) == 0) {
			int found = probe(resolved);
			if (found > 0) return FOUND;
			if (found == 0) saw_other = 1;
		}
		if (colon == NULL) break;
		dir = colon + 1;
	}
	return saw_other ? NOT_EXECUTABLE : NOT_FOUND;
}

/* What the child reports through its close-on-exec pipe when it could not execute the command. */
struct child_failure {
	int stage;
	int error;
};
enum { STAGE_SETUP, STAGE_CHDIR, STAGE_EXEC };

struct child_plan {
	const struct start_request *request;
	const char *resolved;
	char **env;
	int stdio[3]; /* become fds 0, 1, 2 (for a terminal: the slave, three times) */
	int report;   /* close-on-exec: end of file tells the parent that execve succeeded */
};

static void close_descriptors_except(int keep)
{
	/* Three descriptors and the report pipe: close_range needs two calls around it. */
	if ((keep == 3 || syscall(__NR_close_range, 3U, (unsigned)keep - 1, 0U) == 0) &&
	    syscall(__NR_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
		return;
	struct rlimit limit;
	long highest = (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) ? (long)limit.rlim_cur : 65536;
	if (highest > 65536) highest = 65536;
	for (long fd = 3; fd < highest; fd++)
		if (fd != keep) close((int)fd);
}

static void child_fail(int report, int stage) __attribute__((noreturn));
static void child_fail(int report, int stage)
{
	struct child_failure failure = { stage, errno };
	ssize_t written = write(report, &failure, sizeof(failure));
	(void)written; /* nothing else can be done: the parent then sees a child that exited 127 */
	_exit(EXIT_NOT_FOUND);
}

/* In the child, between fork and execve. Never returns. */
static void child_exec(const struct child_plan *plan) __attribute__((noreturn));
static void child_exec(const struct child_plan *plan)
{
	/* The command starts as if from a fresh shell: default dispositions, nothing blocked. */
	struct sigaction default_action;
	memset(&default_action, 0, sizeof(default_action));
	default_action.sa_handler = SIG_DFL;
	for (int signal_number = 1; signal_number < NSIG; signal_number++) sigaction(signal_number, &default_action, NULL);
	sigset_t empty;
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);

	/* Its own session and process group: a SIGNAL frame reaches the whole group. */
	if (setsid() < 0) child_fail(plan->report, STAGE_SETUP);
	if (plan->request->tty && ioctl(plan->stdio[0], TIOCSCTTY, 0) != 0) child_fail(plan->report, STAGE_SETUP);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(plan->stdio[fd], fd) < 0) child_fail(plan->report, STAGE_SETUP);
	if (chdir(plan->request->cwd) != 0) child_fail(plan->report, STAGE_CHDIR);
	close_descriptors_except(plan->report);
	execve(plan->resolved, plan->request->argv, plan->env);
	child_fail(plan->report, STAGE_EXEC);
}

/* Opens a terminal of the requested size: the master (non-blocking) and its slave. */
static int open_terminal(const struct start_request *request, int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0) return -1;
	if (grantpt(*master) != 0 || unlockpt(*master) != 0) goto fail;
	/* TIOCGPTPEER opens the slave of this very master, without looking up a path. */
	*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		char name[128];
		if (ptsname_r(*master, name, sizeof(name)) != 0) goto fail;
		*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (*slave < 0) goto fail;
	}
	struct winsize size = { .ws_row = (unsigned short)request->rows, .ws_col = (unsigned short)request->cols };
	if (ioctl(*master, TIOCSWINSZ, &size) != 0 || set_nonblocking(*master) != 0) {
		close_fd(slave);
		goto fail;
	}
	return 0;
fail:
	close_fd(master);
	return -1;
}

/* Pipes for stdin, stdout and stderr; the supervisor's ends are non-blocking. */
static int open_pipes(int parent_ends[3], int child_ends[3])
{
	for (int i = 0; i < 3; i++) parent_ends[i] = child_ends[i] = -1;
	for (int i = 0; i < 3; i++) {
		int ends[2];
		if (pipe2(ends, O_CLOEXEC) != 0) goto fail;
		parent_ends[i] = i == 0 ? ends[1] : ends[0];
		child_ends[i] = i == 0 ? ends[0] : ends[1];
		if (set_nonblocking(parent_ends[i]) != 0) goto fail;
	}
	return 0;
fail:
	for (int i = 0; i < 3; i++) {
		close_fd(&parent_ends[i]);
		close_fd(&child_ends[i]);
	}
	return -1;
}

static int failure_code(const struct child_failure *failure)
{
	if (failure->stage != STAGE_EXEC) return EXIT_SETUP;
	if (failure->error == ENOENT || failure->error == ENOTDIR) return EXIT_NOT_FOUND;
	if (failure->error == EACCES || failure->error == ENOEXEC || failure->error == EPERM) return EXIT_NOT_EXECUTABLE;
	return EXIT_SETUP;
}

/*
 * Forks and executes the command. Returns its pid, or -1 after sending START_FAILED. The parent
 * waits for the child's report pipe to close: end of file means execve succeeded.
 */
static pid_t launch(uint32_t id, const struct start_request *request, const char *resolved, char **env, int parent_ends[3])
{
	const char *argv0 = request->argv[0];
	int shown = quoted_length(argv0, QUOTE_MAX);
	int child_ends[3], report[2], master = -1, slave = -1;
	if (request->tty) {
		if (open_terminal(request, &master, &slave) != 0) {
			send_start_failed(id, EXIT_SETUP, "%.*s: cannot open a terminal: %s", shown, argv0, strerror(errno));
			return -1;
		}
		parent_ends[0] = parent_ends[1] = master;
		parent_ends[2] = -1;
		child_ends[0] = child_ends[1] = child_ends[2] = slave;
	} else if (open_pipes(parent_ends, child_ends) != 0) {
		send_start_failed(id, EXIT_SETUP, "%.*s: cannot create pipes: %s", shown, argv0, strerror(errno));
		return -1;
	}
	int opened = pipe2(report, O_CLOEXEC);
	int fork_error = 0;
	pid_t pid = -1;
	if (opened == 0) {
		struct child_plan plan = { request, resolved, env, { child_ends[0], child_ends[1], child_ends[2] }, report[1] };
		pid = fork();
		if (pid == 0) child_exec(&plan);
		fork_error = errno;
		close(report[1]);
	} else {
		fork_error = errno;
	}
	/* The child has its copies (a terminal's slave must stay open until then, or the master
	 * reports a hang-up before the command ran). */
	if (request->tty) close_fd(&slave);
	else for (int i = 0; i < 3; i++) close_fd(&child_ends[i]);

	struct child_failure failure = { STAGE_SETUP, fork_error };
	ssize_t got = 0;
	if (pid > 0) {
		do got = read(report[0], &failure, sizeof(failure));
		while (got < 0 && errno == EINTR);
	}
	if (opened == 0) close(report[0]);
	if (pid > 0 && got == 0) return pid;

	/* The command did not start. */
	if (pid > 0) {
		if (got != (ssize_t)sizeof(failure)) {
			/* The report was lost: the child's state is unknown, so it must not run on. */
			kill(pid, SIGKILL);
			failure = (struct child_failure){ STAGE_SETUP, got < 0 ? errno : EIO };
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
	}
	if (request->tty) close_fd(&master);
	else for (int i = 0; i < 3; i++) close_fd(&parent_ends[i]);
	const char *what = pid < 0 ? (opened == 0 ? "cannot fork: " : "cannot create a pipe: ")
		: failure.stage == STAGE_SETUP ? "cannot set up the command: " : "";
	if (failure.stage == STAGE_CHDIR)
		send_start_failed(id, EXIT_SETUP, "%.*s: cannot change to %.*s: %s", shown, argv0,
			quoted_length(request->cwd, QUOTE_MAX), request->cwd, strerror(failure.error));
	else
		send_start_failed(id, failure_code(&failure), "%.*s: %s%s", shown, argv0, what, strerror(failure.error));
	return -1;
}

static void handle_start(uint32_t id, char *payload, uint32_t length)
{
	if (find_channel(id) != NULL) {
		send_start_failed(id, EXIT_SETUP, "channel %u is already in use", id);
		return;
	}
	if (channels_used >= MAX_CHANNELS) {
		send_start_failed(id, EXIT_SETUP, "too many commands at once (at most %d)", MAX_CHANNELS);
		return;
	}
	struct start_request request = { 0 };
	char problem[MESSAGE_MAX];
	char **env = NULL;
	const char *malformed = parse_start(payload, length, &request, problem, sizeof(problem));
	if (malformed != NULL) {
		send_start_failed(id, EXIT_SETUP, "%s", malformed);
		goto done;
	}
	env = merge_environment(environ, request.env, request.envc);
	if (env == NULL) {
		send_start_failed(id, EXIT_SETUP, "out of memory");
		goto done;
	}
	char resolved[PATH_MAX];
	const char *argv0 = request.argv[0];
	switch (resolve_executable(argv0, env_value(env, "PATH"), request.cwd, resolved, sizeof(resolved))) {
	case NOT_FOUND:
		send_start_failed(id, EXIT_NOT_FOUND, "%.*s: command not found", quoted_length(argv0, QUOTE_MAX), argv0);
		goto done;
	case NOT_EXECUTABLE:
		send_start_failed(id, EXIT_NOT_EXECUTABLE, "%.*s: permission denied (not an executable file)", quoted_length(argv0, QUOTE_MAX), argv0);
		goto done;
	}
	int fds[3];
	pid_t pid = launch(id, &request, resolved, env, fds);
	if (pid < 0) goto done;
	struct channel *channel = NULL;
	for (size_t i = 0; i < MAX_CHANNELS && channel == NULL; i++)
		if (!channels[i].in_use) channel = &channels[i];
	*channel = (struct channel){
		.in_use = 1, .id = id, .pid = pid, .tty = request.tty,
		.master = request.tty ? fds[0] : -1,
		.input_fd = fds[0], .output_fd = { fds[1], fds[2] },
	};
	channels_used++;
	send_u32(FRAME_STARTED, id, (uint32_t)pid);
done:
	free(env);
	free(request.argv);
	free(request.env);
}

/* ---- Control frames ----------------------------------------------------------------------- */

static void handle_stdin(uint32_t id, const unsigned char *data, uint32_t length)
{
	struct channel *channel = find_channel(id);
	if (channel == NULL) return; /* it ended; the gateway stops sending after EXIT */
	if (length > STDIN_WINDOW - channel->stdin_unacked)
		protocol_error("channel %u sent input beyond its %u-byte window", id, STDIN_WINDOW);
	if (length == 0) return;
	channel->stdin_unacked += length;
	if (channel->input_fd < 0 || channel->stdin_end) {
		acknowledge_input(channel, length); /* nowhere to go; credit the window all the same */
		return;
	}
	if (channel->ring == NULL) {
		channel->ring = malloc(STDIN_WINDOW);
		if (channel->ring == NULL) shut_down(1, "out of memory");
		channel->ring_start = 0;
	}
	/* Fits: ring_length <= stdin_unacked <= STDIN_WINDOW. */
	uint32_t end = (channel->ring_start + channel->ring_length) % STDIN_WINDOW;
	uint32_t first = STDIN_WINDOW - end < length ? STDIN_WINDOW - end : length;
	memcpy(channel->ring + end, data, first);
	memcpy(channel->ring, data + first, length - first);
	channel->ring_length += length;
}

static void handle_stdin_end(uint32_t id)
{
	struct channel *channel = find_channel(id);
	if (channel == NULL || channel->input_fd < 0) return;
	channel->stdin_end = 1;
	/* Without a terminal the pipe closes, and the command reads end of file. On a terminal, as in
	 * pty-exec.c, the end of input only means nothing more is typed: closing the master would
	 * hang the terminal up. A client that wants the command to see end of file types Ctrl-D. */
	if (channel->ring_length == 0) close_input(channel);
}

static void handle_resize(uint32_t id, const unsigned char *payload)
{
	struct winsize size = { .ws_row = (unsigned short)get_u16(payload), .ws_col = (unsigned short)get_u16(payload + 2) };
	if (size.ws_row == 0 || size.ws_col == 0) protocol_error("resize frame has a zero dimension");
	struct channel *channel = find_channel(id);
	if (channel == NULL || !channel->tty) return;
	/* The kernel sends SIGWINCH to the terminal's foreground process group. */
	if (ioctl(channel->master, TIOCSWINSZ, &size) != 0) log_line("channel %u: resize failed: %s", id, strerror(errno));
}

static void handle_signal(uint32_t id, const unsigned char *payload)
{
	static const unsigned char allowed[] = { 1, 2, 3, 9, 10, 12, 15, 18, 28 }; /* EXEC_SIGNALS */
	if (memchr(allowed, payload[0], sizeof(allowed)) == NULL) protocol_error("signal %u cannot be sent to an exec", payload[0]);
	struct channel *channel = find_channel(id);
	if (channel != NULL) signal_channel(channel, payload[0]);
}

static void handle_output_ack(uint32_t id, const unsigned char *payload)
{
	struct channel *channel = find_channel(id);
	if (channel == NULL) return;
	uint32_t bytes = get_u32(payload);
	/* Credit beyond what is outstanding is clamped: it cannot open the window wider than it is. */
	channel->output_unacked -= bytes < channel->output_unacked ? bytes : channel->output_unacked;
}

/* The header is checked before any of the payload is read: type, size and channel. */
static void check_header(void)
{
	static const char *const names[] = { [FRAME_STDIN_END] = "stdinEnd", [FRAME_RESIZE] = "resize", [FRAME_SIGNAL] = "signal", [FRAME_OUTPUT_ACK] = "outputAck" };
	static const uint32_t sizes[] = { [FRAME_STDIN_END] = 0, [FRAME_RESIZE] = 4, [FRAME_SIGNAL] = 1, [FRAME_OUTPUT_ACK] = 4 };
	uint8_t type = incoming.type;
	switch (type) {
	case FRAME_START:
	case FRAME_STDIN:
	case FRAME_STDIN_END:
	case FRAME_RESIZE:
	case FRAME_SIGNAL:
	case FRAME_OUTPUT_ACK:
		break;
	case FRAME_STARTED:
	case FRAME_START_FAILED:
	case FRAME_STDOUT:
	case FRAME_STDERR:
	case FRAME_EXIT:
	case FRAME_STDIN_ACK:
		protocol_error("frame type %u only travels from the supervisor to the gateway", type);
	default:
		protocol_error("unknown frame type %u", type);
	}
	if (incoming.length > MAX_FRAME_PAYLOAD)
		protocol_error("frame payload of %u bytes is over the %u-byte limit", incoming.length, MAX_FRAME_PAYLOAD);
	if (incoming.channel == 0) protocol_error("channel 0 is reserved");
	if (type == FRAME_STDIN && incoming.length > STDIN_WINDOW)
		protocol_error("channel %u sent input beyond its %u-byte window", incoming.channel, STDIN_WINDOW);
	if (type != FRAME_START && type != FRAME_STDIN && incoming.length != sizes[type])
		protocol_error("%s frame must carry %u bytes, not %u", names[type], sizes[type], incoming.length);
}

static void dispatch_frame(void)
{
	unsigned char *payload = incoming.payload;
	uint32_t id = incoming.channel;
	switch (incoming.type) {
	case FRAME_START: handle_start(id, (char *)payload, incoming.length); break;
	case FRAME_STDIN: handle_stdin(id, payload, incoming.length); break;
	case FRAME_STDIN_END: handle_stdin_end(id); break;
	case FRAME_RESIZE: handle_resize(id, payload); break;
	case FRAME_SIGNAL: handle_signal(id, payload); break;
	case FRAME_OUTPUT_ACK: handle_output_ack(id, payload); break;
	}
}

/* Reads exactly what the current frame still lacks. 1: got some; 0: nothing available now. */
static int read_control_bytes(unsigned char *into, size_t wanted)
{
	for (;;) {
		ssize_t count = read(STDIN_FILENO, into, wanted);
		if (count > 0) return (int)count;
		if (count < 0 && errno == EINTR) continue;
		if (count < 0 && errno == EAGAIN) return 0;
		if (count < 0) {
			char reason[128];
			snprintf(reason, sizeof(reason), "control channel read failed: %s", strerror(errno));
			shut_down(1, reason);
		}
		if (incoming.header_have == 0) shut_down(0, "the control channel ended");
		protocol_error("the control channel ended inside a frame");
	}
}

static void read_control(void)
{
	for (int frames = 0; frames < FRAMES_PER_ROUND && !outbox_paused();) {
		if (incoming.header_have < FRAME_HEADER_BYTES) {
			int count = read_control_bytes(incoming.header + incoming.header_have, FRAME_HEADER_BYTES - incoming.header_have);
			if (count == 0) return;
			incoming.header_have += (size_t)count;
			if (incoming.header_have < FRAME_HEADER_BYTES) continue;
			incoming.type = incoming.header[0];
			incoming.channel = get_u32(incoming.header + 1);
			incoming.length = get_u32(incoming.header + 5);
			check_header();
			incoming.payload = incoming.length <= SMALL_PAYLOAD ? small_payload : malloc(incoming.length);
			if (incoming.payload == NULL) shut_down(1, "out of memory");
			incoming.payload_have = 0;
		}
		if (incoming.payload_have < incoming.length) {
			int count = read_control_bytes(incoming.payload + incoming.payload_have, incoming.length - incoming.payload_have);
			if (count == 0) return;
			incoming.payload_have += (size_t)count;
			if (incoming.payload_have < incoming.length) continue;
		}
		dispatch_frame();
		if (incoming.payload != small_payload) free(incoming.payload);
		incoming.payload = NULL;
		incoming.header_have = 0;
		frames++;
	}
}

/* ---- Main loop ---------------------------------------------------------------------------- */

static void handle_signals(void)
{
	struct signalfd_siginfo info;
	for (;;) {
		ssize_t count = read(signals_fd, &info, sizeof(info));
		if (count < 0 && errno == EINTR) continue;
		if (count != (ssize_t)sizeof(info)) return;
		int signal_number = (int)info.ssi_signo;
		if (signal_number == SIGCHLD) {
			reap_children();
			continue;
		}
		char reason[64];
		snprintf(reason, sizeof(reason), "received SIG%s", sigabbrev_np(signal_number));
		shut_down(128 + signal_number, reason);
	}
}

enum { ROLE_OUTPUT_0, ROLE_OUTPUT_1, ROLE_INPUT, ROLE_TERMINAL };

struct watch {
	struct channel *channel;
	int role;
};

static void relay_loop(void)
{
	enum { P_SIGNALS, P_CONTROL_IN, P_CONTROL_OUT, P_FIRST_CHANNEL };
	static struct pollfd fds[P_FIRST_CHANNEL + 3 * MAX_CHANNELS];
	static struct watch watches[P_FIRST_CHANNEL + 3 * MAX_CHANNELS];
	for (;;) {
		long long now = now_ms();
		finish_channels(now);
		int timeout = -1;
		nfds_t count = P_FIRST_CHANNEL;
		for (size_t i = 0; i < MAX_CHANNELS; i++) {
			struct channel *channel = &channels[i];
			if (!channel->in_use) continue;
			int reading = may_read_output(channel);
			int writing = channel->input_fd >= 0 && channel->ring_length > 0 && !outbox_paused();
			if (channel->tty) {
				if (channel->exited && channel->output_fd[0] >= 0 && reading) {
					/* Draining: wake up when the silence is long enough. */
					int left = (int)(channel->quiet_since + DRAIN_IDLE_MS - now);
					if (left < 1) left = 1;
					if (timeout < 0 || left < timeout) timeout = left;
				}
				short events = (short)((reading && channel->output_fd[0] >= 0 ? POLLIN : 0) | (writing ? POLLOUT : 0));
				if (events == 0) continue;
				fds[count] = (struct pollfd){ channel->master, events, 0 };
				watches[count++] = (struct watch){ channel, ROLE_TERMINAL };
				continue;
			}
			for (int stream = 0; stream < 2; stream++) {
				if (!reading || channel->output_fd[stream] < 0) continue;
				fds[count] = (struct pollfd){ channel->output_fd[stream], POLLIN, 0 };
				watches[count++] = (struct watch){ channel, stream ? ROLE_OUTPUT_1 : ROLE_OUTPUT_0 };
			}
			if (writing) {
				fds[count] = (struct pollfd){ channel->input_fd, POLLOUT, 0 };
				watches[count++] = (struct watch){ channel, ROLE_INPUT };
			}
		}
		fds[P_SIGNALS] = (struct pollfd){ signals_fd, POLLIN, 0 };
		/* While the gateway does not read, no frame is taken; but its going away must still be
		 * seen (a hang-up on a pipe, a shut-down writing side on a socket). */
		fds[P_CONTROL_IN] = (struct pollfd){ STDIN_FILENO, (short)(outbox_paused() ? POLLRDHUP : POLLIN | POLLRDHUP), 0 };
		fds[P_CONTROL_OUT] = (struct pollfd){ outbox_length() > 0 ? STDOUT_FILENO : -1, POLLOUT, 0 };

		if (poll(fds, count, timeout) < 0) {
			if (errno == EINTR) continue;
			char reason[128];
			snprintf(reason, sizeof(reason), "internal error: poll: %s", strerror(errno));
			shut_down(1, reason);
		}
		if (fds[P_SIGNALS].revents) handle_signals();
		if (fds[P_CONTROL_OUT].revents) flush_outbox();
		/* Commands before control frames: a frame may close or reuse a channel slot polled here. */
		for (nfds_t i = P_FIRST_CHANNEL; i < count; i++) {
			short revents = fds[i].revents;
			struct channel *channel = watches[i].channel;
			if (revents == 0) continue;
			switch (watches[i].role) {
			case ROLE_OUTPUT_0:
			case ROLE_OUTPUT_1:
				if (may_read_output(channel)) read_output(channel, watches[i].role == ROLE_OUTPUT_1);
				break;
			case ROLE_INPUT:
				if (channel->input_fd >= 0 && channel->ring_length > 0) write_input(channel);
				break;
			case ROLE_TERMINAL:
				if ((revents & POLLOUT) && channel->input_fd >= 0 && channel->ring_length > 0) write_input(channel);
				if ((revents & (POLLIN | POLLHUP | POLLERR)) && channel->output_fd[0] >= 0 && may_read_output(channel))
					read_output(channel, 0);
				break;
			}
		}
		if (fds[P_CONTROL_IN].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) {
			if (!outbox_paused()) read_control();
			else if (fds[P_CONTROL_IN].revents & (POLLRDHUP | POLLHUP)) shut_down(0, "the control channel ended");
			else if (fds[P_CONTROL_IN].revents & POLLERR) shut_down(1, "control channel read failed");
		}
		if (outbox_length() > 0) flush_outbox();
	}
}

/* fds 0 and 1 are the control channel; fd 2 must be open too, or a pipe could land on it. */
static void check_standard_descriptors(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0) continue;
		if (fd < 2) {
			log_line("fd %d (the control channel) is not open", fd);
			_exit(1);
		}
		int null = open("/dev/null", O_WRONLY);
		if (null != 2) _exit(1);
	}
}

int main(void)
{
	/* First: see the header. Everything below runs as the agent's uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_line("cannot make this process non-dumpable: %s; refusing to run", strerror(errno));
		return 1;
	}
	check_standard_descriptors();
	/* Configuration of the supervisor, not part of the sandbox's environment. */
	const char *sweep_setting = getenv("WARDEN_SUPERVISOR_SWEEP");
	sweep = sweep_setting != NULL && strcmp(sweep_setting, "1") == 0;
	unsetenv("WARDEN_SUPERVISOR_SWEEP");
	/* Big buffers (input rings, large START payloads) are mapped and unmapped, so memory goes
	 * back to the kernel when a burst is over; fixing the threshold stops glibc from raising it. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	/* A gateway that went away must show up as EPIPE on write, not kill the supervisor silently. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t handled;
	sigemptyset(&handled);
	sigaddset(&handled, SIGCHLD);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGINT);
	if (sigprocmask(SIG_BLOCK, &handled, NULL) != 0) {
		log_line("sigprocmask: %s", strerror(errno));
		return 1;
	}
	signals_fd = signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signals_fd < 0 || set_nonblocking(STDIN_FILENO) != 0 || set_nonblocking(STDOUT_FILENO) != 0) {
		log_line("cannot set up the control channel: %s", strerror(errno));
		return 1;
	}
	relay_loop();
	return 1;
}
