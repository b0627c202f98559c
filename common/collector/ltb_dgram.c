/*
 * ltb_dgram.c: the datagram listeners of a satellite group, UDP and unix
 * datagram sockets; see ltb_group.h.
 *
 * One datagram is one message of the first protocol of the table whose
 * transport is a datagram (spectatord's line protocol): begun, fed whole
 * and ended through ltb_msg_* like an HTTP body, so counting, modes,
 * scripts and limits are the same. There is nobody to answer: the reply
 * is dropped, a script's hang-up included. Every datagram counts as a
 * request, served or not, so that "nothing reached us" can still be told
 * from "something did".
 *
 * Each socket has its own thread reading batches with recvmmsg: BATCH
 * buffers of DGRAM_MAX bytes (a datagram may be 65,536 bytes), 2 MiB of
 * address space a socket, of which only the pages datagrams have written
 * become resident: small datagrams touch one page of each buffer. 32 at a
 * time is already one system call for 32 datagrams under load; more would
 * buy little and hold more. The thread drains the socket without waiting
 * and polls only once it is empty, on the socket and an eventfd that stop
 * writes to. After a batch that was not full it pauses COALESCE_NS before
 * reading again: a datagram at a time costs a wake-up and two or three
 * system calls each (most of a small datagram's cost, as the do-nothing
 * sink shows), while 200 us lets the queue gather a batch. It delays
 * nothing anyone waits for (there is no answer), and a receive buffer of
 * megabytes holds far more than 200 us of any load we can be sent.
 *
 * Loss at the socket: what the kernel dropped because the receive queue
 * was full (a burst we could not read in time). The kernel counts it per
 * socket (sk_drops, /proc/net/udp's drops column); SO_RXQ_OVFL hands the
 * count as it stood with every datagram read, and SO_MEMINFO gives it now,
 * read when the socket is idle (at most every DROPS_POLL_NS) so that a
 * burst followed by silence still shows. The count is cumulative per
 * socket: the last seen is kept and the growth added to the port's
 * socket_drops, which outlives the socket across down and up. The receive
 * buffer is asked for big (RCVBUF, SO_RCVBUFFORCE, then SO_RCVBUF capped
 * by net.core.rmem_max); what the kernel gave is in /stats.
 *
 * The mode's delay per unit (typical 0.05 us, slow_succeed 1 us) holds
 * the reader as it holds an HTTP answer, but summed and slept once: a
 * sleep is a wake-up whatever it asks for, so one a datagram would hold
 * the reader longer than the mode says, and one a full batch (typical
 * owes 32 us for 32 datagrams of 20 lines) was a sixth of the reader's
 * CPU under load, in the scheduler. So what full batches owe is carried
 * until it reaches OWED_MIN_NS, then slept: over any stretch of a
 * millisecond or more the reader is held as long as the mode says, and
 * it sleeps at most about a thousand times a second. slow_succeed so makes a
 * reader that a load can outrun. The bandwidth cap (--bandwidth, 50 MiB/s
 * a port by default) holds it the same way, a datagram at a time.
 *
 * Stopping closes the socket once the thread is joined: a sender on a
 * connected UDP socket then sees ECONNREFUSED (the kernel answers ICMP
 * port unreachable), and a unix socket's path is unlinked, so senders
 * there see ENOENT or ECONNREFUSED, as with a daemon gone.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/sock_diag.h>
#include <netinet/in.h>

#include "collector/ltb_group.h"
#include "core/ltb_clock.h"

#define BATCH 32			/* datagrams per recvmmsg */
#define DGRAM_MAX 65536			/* bytes of the largest datagram */
#define RCVBUF (4 << 20)		/* receive buffer asked for */
#define DROPS_POLL_NS 50000000u		/* SO_MEMINFO at most this often */
#define IDLE_POLL_MS 100		/* wake this often when idle */
#define THREAD_STACK (512 * 1024)	/* as ltb_http.c: room under ASan */
#define COALESCE_NS 200000u		/* pause after a batch not full */
#define OWED_MIN_NS 1000000u		/* a mode's delay carried to this */

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

struct dgram {
	int fd, stopfd;
	atomic_int stopping;		/* set before stopfd is written: full
					 * batches read on without a poll */
	pthread_t thread;
	int running;
	const struct ltb_collector_proto *proto;	/* NULL: none serves */
	uint32_t drops_seen;		/* the socket's own count, last read */
	uint64_t drops_polled_ns;
	uint8_t *buf;			/* BATCH x DGRAM_MAX */
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	/* SO_RXQ_OVFL's uint32_t, aligned as cmsg wants */
	union {
		char b[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl[BATCH];
};

/* The protocol datagrams are for. */
static const struct ltb_collector_proto *
dgram_proto(void)
{
	const struct ltb_collector_proto *p;

	for (size_t i = 0; (p = ltb_collector_protocols[i]) != NULL; i++)
		if (p->transport == LTB_TRANSPORT_UDP ||
		    p->transport == LTB_TRANSPORT_UNIX_DGRAM)
			return p;
	return NULL;
}

/* ---- loss at the socket ---------------------------------------------------- */

/* The socket's count is now cur: add its growth to the port's. The two
 * sources lag each other (a datagram carries the count as it was when
 * queued), so a count behind the last seen is ignored. */
static void
drops_note(struct ltb_port *port, struct dgram *d, uint32_t cur)
{
	uint32_t grew = cur - d->drops_seen;

	if (grew == 0 || grew > UINT32_MAX / 2)
		return;
	d->drops_seen = cur;
	atomic_fetch_add_explicit(&port->socket_drops, grew,
	    memory_order_relaxed);
}

/* The socket's count as it stands (SO_MEMINFO), when time. */
static void
drops_poll(struct ltb_port *port, struct dgram *d, int force)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof mi;
	uint64_t now = ltb_mono_ns();

	if (!force && now - d->drops_polled_ns < DROPS_POLL_NS)
		return;
	d->drops_polled_ns = now;
	memset(mi, 0, sizeof mi);
	if (getsockopt(d->fd, SOL_SOCKET, SO_MEMINFO, mi, &len) == 0 &&
	    len > SK_MEMINFO_DROPS * sizeof mi[0])
		drops_note(port, d, mi[SK_MEMINFO_DROPS]);
}

static void
drops_cmsg(struct ltb_port *port, struct dgram *d, struct msghdr *h)
{
	struct cmsghdr *c;
	uint32_t cur;

	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SO_RXQ_OVFL &&
		    c->cmsg_len >= CMSG_LEN(sizeof cur)) {
			memcpy(&cur, CMSG_DATA(c), sizeof cur);
			drops_note(port, d, cur);
		}
}

/* ---- reading ---------------------------------------------------------------- */

/* One datagram, one message; nothing is answered. Returns the ns of the
 * mode's delay it leaves to wait (ltb_msg_owed_ns). */
static uint64_t
dgram_message(struct ltb_port *port, const struct ltb_collector_proto *p,
    const uint8_t *buf, size_t len, int truncated)
{
	struct ltb_msg_head head = { .declared_len = len, .owe_delay = 1 };
	struct ltb_reply reply;
	struct ltb_msg *m;
	uint64_t owed;

	ltb_port_request(port);
	if (p == NULL)
		return 0;
	if (truncated) {
		ltb_port_reject(port, p, LTB_REJECT_TOO_LARGE);
		return 0;
	}
	if ((m = ltb_msg_begin(port, p, &head, &reply)) == NULL)
		return 0;
	(void)ltb_msg_feed(m, buf, len);
	ltb_msg_end(m, &reply);
	owed = ltb_msg_owed_ns(m);
	ltb_msg_free(m);
	return owed;
}

static void
batch_arm(struct dgram *d)
{
	for (int i = 0; i < BATCH; i++) {
		d->iov[i].iov_base = d->buf + (size_t)i * DGRAM_MAX;
		d->iov[i].iov_len = DGRAM_MAX;
		d->mm[i].msg_hdr = (struct msghdr){
			.msg_iov = &d->iov[i], .msg_iovlen = 1,
			.msg_control = d->ctl[i].b,
			.msg_controllen = sizeof d->ctl[i].b,
		};
		d->mm[i].msg_len = 0;
	}
}

/* Pause ns (a batch's delay, or to let a batch gather), or until told to
 * stop: 0, or -1 to stop. */
static int
pause_ns(struct dgram *d, uint64_t ns)
{
	struct pollfd pf = { .fd = d->stopfd, .events = POLLIN };
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
	    .tv_nsec = (long)(ns % 1000000000u) };

	return ppoll(&pf, 1, &ts, NULL) > 0 ? -1 : 0;
}

/* Wait for datagrams; 0 to read on, -1 to stop. */
static int
wait_readable(struct ltb_port *port, struct dgram *d)
{
	struct pollfd pf[2] = {
		{ .fd = d->fd, .events = POLLIN },
		{ .fd = d->stopfd, .events = POLLIN },
	};
	int n;

	drops_poll(port, d, 0);
	n = poll(pf, 2, IDLE_POLL_MS);
	if (n < 0 && errno != EINTR)
		return -1;
	return pf[1].revents ? -1 : 0;
}

static void *
dgram_run(void *arg)
{
	struct ltb_port *port = arg;
	struct dgram *d = port->ls;
	uint64_t owed = 0;
	int n;

	for (;;) {
		batch_arm(d);
		n = recvmmsg(d->fd, d->mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ENOMEM && errno != ENOBUFS)
				break;		/* the socket is gone */
			if (wait_readable(port, d) < 0)
				break;
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &d->mm[i].msg_hdr;

			drops_cmsg(port, d, h);
			owed += dgram_message(port, d->proto,
			    d->iov[i].iov_base, d->mm[i].msg_len,
			    (h->msg_flags & MSG_TRUNC) != 0);
		}
		/* The mode's delay owed by the messages so far (slow_succeed
		 * makes a reader slower than a burst), carried while batches
		 * come full and it is under OWED_MIN_NS, and the pause that
		 * lets the next batch gather. A stop must wait for neither,
		 * nor for a burst to end. */
		if (n == BATCH && owed < OWED_MIN_NS) {
			if (atomic_load_explicit(&d->stopping,
			    memory_order_relaxed))
				break;
			continue;
		}
		if (n < BATCH && owed < COALESCE_NS)
			owed = COALESCE_NS;
		if (pause_ns(d, owed) < 0)
			break;
		owed = 0;
	}
	drops_poll(port, d, 1);
	return NULL;
}

/* ---- start and stop --------------------------------------------------------- */

static void
dgram_free(struct dgram *d)
{
	if (d == NULL)
		return;
	if (d->fd >= 0)
		close(d->fd);
	if (d->stopfd >= 0)
		close(d->stopfd);
	free(d->buf);
	free(d);
}

/* A big receive buffer, and the drop count with every datagram. */
static void
socket_tune(struct ltb_port *port, int fd)
{
	int v = RCVBUF, one = 1;
	socklen_t len = sizeof v;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0)
		atomic_store(&port->rcvbuf, v);
}

/* The state and thread for a socket bound already (fd, taken). */
static int
dgram_serve(struct ltb_port *port, int fd, char *err, size_t errlen)
{
	struct dgram *d;
	pthread_attr_t attr;
	int rc;

	if ((d = calloc(1, sizeof *d)) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->fd = fd;
	d->stopfd = -1;
	d->proto = dgram_proto();
	socket_tune(port, fd);
	if ((d->buf = malloc((size_t)BATCH * DGRAM_MAX)) == NULL ||
	    (d->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "cannot start a datagram listener: %s",
		    d->buf == NULL ? "out of memory" : strerror(errno));
		goto fail;
	}
	port->ls = d;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	rc = pthread_create(&d->thread, &attr, dgram_run, port);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		port->ls = NULL;
		snprintf(err, errlen, "cannot start a datagram listener's "
		    "thread: %s", strerror(rc));
		goto fail;
	}
	d->running = 1;
	return 0;
fail:
	dgram_free(d);
	return -1;
}

static void
dgram_stop(struct ltb_port *port)
{
	struct dgram *d = port->ls;
	uint64_t one = 1;

	if (d == NULL)
		return;
	if (d->running) {
		atomic_store(&d->stopping, 1);
		(void)!write(d->stopfd, &one, sizeof one);
		pthread_join(d->thread, NULL);
	}
	port->ls = NULL;
	dgram_free(d);
}

static int
udp_start(struct ltb_port *port, char *err, size_t errlen)
{
	const struct ltb_addr *a = &port->group->addr;
	struct sockaddr_storage sa = a->sa;
	socklen_t len = a->len;
	int fd;

	if (a->v6)
		((struct sockaddr_in6 *)&sa)->sin6_port = htons(port->port);
	else
		((struct sockaddr_in *)&sa)->sin_port = htons(port->port);
	if ((fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		snprintf(err, errlen, "cannot bind udp %s%s%s:%u: %s",
		    a->v6 ? "[" : "", a->text, a->v6 ? "]" : "", port->port,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	port->port = ntohs(a->v6 ? ((struct sockaddr_in6 *)&sa)->sin6_port :
	    ((struct sockaddr_in *)&sa)->sin_port);
	return dgram_serve(port, fd, err, errlen);
}

/* Is a socket at path one nobody reads (a stale one, left by a process
 * killed)? 1 if so, 0 if someone does or it is not a socket. */
static int
unix_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, stale;

	if (lstat(sun->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	stale = connect(fd, (const struct sockaddr *)sun, sizeof *sun) < 0 &&
	    errno == ECONNREFUSED;
	close(fd);
	return stale;
}

static int
unix_start(struct ltb_port *port, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(port->path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "cannot bind unix socket %s: a path of "
		    "at most %zu bytes", port->path, sizeof sun.sun_path - 1);
		return -1;
	}
	memcpy(sun.sun_path, port->path, strlen(port->path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		if (errno != EADDRINUSE || !unix_stale(&sun) ||
		    unlink(sun.sun_path) < 0 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
			goto fail;
	}
	if (dgram_serve(port, fd, err, errlen) < 0) {
		unlink(sun.sun_path);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot bind unix socket %s: %s", port->path,
	    errno == EADDRINUSE ? "in use (a process reads it, or it is "
	    "not a socket)" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void
unix_stop(struct ltb_port *port)
{
	if (port->ls == NULL)
		return;
	dgram_stop(port);
	unlink(port->path);
}

const struct ltb_listener ltb_listener_udp = {
	.name = "udp",
	.transport = LTB_TRANSPORT_UDP,
	.start = udp_start,
	.stop = dgram_stop,
};

const struct ltb_listener ltb_listener_unix = {
	.name = "unix_dgram",
	.transport = LTB_TRANSPORT_UNIX_DGRAM,
	.start = unix_start,
	.stop = unix_stop,
};
