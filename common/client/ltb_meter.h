/*
 * ltb_meter.h: ltb's reference metrics writer, in spectatord's line
 * protocol, what clients/c-spectator links.
 *
 * It does what a thin spectatord client (spectator-py, spectator-cpp)
 * does: a registry of meters, each a type letter, a name and tags, whose
 * every update writes one line
 *
 *     TYPE[,EXTRA]:NAME[,KEY=VALUE]*:VALUE
 *
 * to spectatord over a connected UDP socket or a connected unix datagram
 * socket. The "TYPE:NAME,K=V,...:" part is made once, when the meter is
 * made (characters outside [-._A-Za-z0-9~^] in the name, keys and values
 * replaced by '_', as spectatord's clients do), so an update formats only
 * its value, into a buffer the writer holds: no allocation per update.
 *
 * With line_buffer_bytes 0 each line is a datagram of its own (no
 * newline), spectator-py's default. Otherwise lines are gathered, joined
 * by '\n', into datagrams of at most line_buffer_bytes (a line longer
 * than that goes alone): sent when the next line would not fit, every
 * flush_period_ms by a flusher thread the writer starts (so lines do not
 * wait while the program is idle or asleep, as spectator-py's LineBuffer
 * thread does), and at close unless no_flush (then they are counted as
 * unsent). The buffer and its counts are under one mutex the flusher
 * shares; updates may come from one thread at a time (an unbuffered
 * writer takes no lock at all).
 *
 * Sends are blocking, with a 1 s send timeout: a unix datagram socket
 * whose reader lags holds the sender back (as the kernel means it to)
 * rather than dropping, and a reader stuck for good shows as EAGAIN.
 * Every failed send() is counted, with its lines, by errno: ECONNREFUSED
 * when nobody listens (on a connected UDP socket the kernel reports it on
 * the send after the one the ICMP answered: that one's line is lost
 * without an error, and only the receiver can count it), EAGAIN, ENOBUFS,
 * EMSGSIZE. A unix socket whose peer went away is connected again to the
 * same path on the next send.
 *
 * A NoOp writer (LTB_METER_NOOP: the control message's Trace false) makes
 * meters whose updates return at once, so an instrumented program runs
 * the same calls either way.
 *
 * common/: nothing here prints or exits; errors come back in err.
 */
#ifndef LTB_METER_H
#define LTB_METER_H

#include <stddef.h>
#include <stdint.h>

#define LTB_METER_VERSION "0.1"
#define LTB_METER_DATAGRAM_MAX 65536	/* spectatord reads no more */
#define LTB_METER_NERRNO 160		/* errnos counted by number; the
					 * rest in the last slot */

enum {
	LTB_METER_NOOP,			/* updates do nothing */
	LTB_METER_UDP,			/* host:port, connected */
	LTB_METER_UNIX			/* unix_path, SOCK_DGRAM, connected */
};

struct ltb_meter_config {
	int transport;			/* LTB_METER_* */
	const char *host;		/* UDP: address or name */
	uint16_t port;			/* UDP */
	const char *unix_path;		/* unix */
	unsigned line_buffer_bytes;	/* 0: a datagram a line; at most
					 * LTB_METER_DATAGRAM_MAX */
	unsigned flush_period_ms;	/* buffered: flush this often; 0 only
					 * when full and at close */
	int no_flush;			/* at close, leave what is buffered */
};

/* What a writer did. Lines count meter updates written (not NoOp). */
struct ltb_meter_stats {
	uint64_t lines;			/* lines written by updates */
	uint64_t datagrams;		/* datagrams send() took */
	uint64_t bytes;			/* their bytes */
	uint64_t datagrams_failed;	/* not sent: send() failed, or a
					 * unix socket could not be
					 * connected again (its errno) */
	uint64_t lines_failed;		/* lines in those */
	uint64_t lines_unsent;		/* left in the buffer at close */
	/* lines_failed by errno (index), the last slot for errno >=
	 * LTB_METER_NERRNO - 1 */
	uint64_t lines_failed_by_errno[LTB_METER_NERRNO];
};

struct ltb_meter_writer;
struct ltb_meter;

/* UDP to 127.0.0.1:1234 (spectatord's default), no buffer, flushed every
 * 5 s if buffered (spectator-py's period). */
void ltb_meter_config_default(struct ltb_meter_config *cfg);

/*
 * A writer as cfg says (borrowed: copied). Returns NULL with the reason
 * in err: "cannot connect to unix socket /run/x.sock: No such file or
 * directory", "LineBufferBytes 70000: more than a datagram's 65536 bytes".
 */
struct ltb_meter_writer *ltb_meter_writer_new(const struct ltb_meter_config *cfg,
    char *err, size_t errlen);

/*
 * A meter of w: type is a spectatord letter (c C U d D t T g m A X), name
 * and the ntags keys[i]=values[i] are copied (cleaned of characters
 * spectatord's clients replace). w owns the meter: it lives until
 * ltb_meter_writer_free. Returns NULL with a reason in err (unknown type,
 * empty name or tag, out of memory). Not while another thread updates.
 */
struct ltb_meter *ltb_meter_new(struct ltb_meter_writer *w, char type,
    const char *name, unsigned ntags, const char *const *keys,
    const char *const *values, char *err, size_t errlen);

/* One update: a line with value v (a counter's increment, a timer's
 * seconds, a gauge's value...). Integral values are written as integers,
 * others in the fewest digits that read back the same. */
void ltb_meter_update(struct ltb_meter *m, double v);
/* The same with an unsigned 64-bit value (type U). */
void ltb_meter_update_u64(struct ltb_meter *m, uint64_t v);
/* The same with a timestamp in ms, EXTRA of a monotonic sampled (X). */
void ltb_meter_update_at(struct ltb_meter *m, uint64_t ts_ms, double v);

/*
 * The line an update of m with v would write (ts_ms used by X only), in
 * buf with a NUL: its length, or what it would need if len is too small
 * (as snprintf). Writes nothing.
 */
size_t ltb_meter_format(const struct ltb_meter *m, uint64_t ts_ms, double v,
    char *buf, size_t len);

/* Send what is buffered now. */
void ltb_meter_writer_flush(struct ltb_meter_writer *w);
/* Stop the flusher and send what is buffered, unless no_flush: then it
 * is counted in lines_unsent. Updates after close do nothing. */
void ltb_meter_writer_close(struct ltb_meter_writer *w);
void ltb_meter_writer_stats(struct ltb_meter_writer *w,
    struct ltb_meter_stats *st);
/* "udp", "unix" or "noop". */
const char *ltb_meter_writer_transport(const struct ltb_meter_writer *w);
/* Close (if not yet) and free w and its meters. NULL is fine. */
void ltb_meter_writer_free(struct ltb_meter_writer *w);

/* The name of an errno slot of lines_failed_by_errno ("ECONNREFUSED",
 * "other" for the last, "E123" for one without a name). */
const char *ltb_meter_errno_name(int slot, char *buf, size_t len);

#endif
