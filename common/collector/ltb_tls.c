/*
 * ltb_tls.c: the HTTPS listener of a satellite port (--tls); see
 * ltb_group.h.
 *
 * TLS is mbedtls's and HTTP stays libmicrohttpd's: the port's daemon is
 * the HTTP listener's own (ltb_http_daemon), started without a listening
 * socket. This file accepts on the port's socket, and for each connection
 * a thread does the handshake, then makes a socketpair, hands one end to
 * the daemon (MHD_add_connection) and pumps bytes between the other end
 * and the TLS session until either side closes. So every protocol,
 * limit, mode and count works over TLS as it does over plain HTTP; the
 * connections counted are the TCP connections accepted here, and those
 * whose handshake fails are counted too (tls_handshake_failures: a
 * tracer speaking plain HTTP to a TLS port shows up there).
 *
 * The certificate is the group's: the files named (PEM), or a self-signed
 * ECDSA P-256 certificate made at start for localhost, 127.0.0.1, ::1 and
 * the bind address, valid from an hour ago for a year; either is written
 * in PEM where asked, so a client can verify it.
 *
 * Connections over the port's limit are admitted as plain HTTP ones are
 * (ltb_conns.c) once handed on; the TCP connections here, handshakes
 * included, have a limit of their own above that. When it is full, the
 * connection longest in its handshake is shut down to make room (counted
 * evicted_connections), or, when none is in a handshake, the new one is
 * closed (refused_connections); a handshake has until the header
 * deadline (or the idle one, if sooner). So a flood of TCP connections
 * that never say hello does not lock tracers out either.
 *
 * Down: the acceptor stops and closes the listening socket, every
 * connection thread is told to stop (one eventfd they all poll) and
 * waited for, then the daemon stops, which waits for requests in flight.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/x509_crt.h>
#include <microhttpd.h>

#include "collector/ltb_group.h"
#include "core/ltb_clock.h"

#define RECORD MBEDTLS_SSL_MAX_CONTENT_LEN	/* a TLS record's data, at most */
#define CERT_DAYS 365

struct ltb_tls {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;	/* locked inside (MBEDTLS_THREADING_C) */
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
	mbedtls_ssl_cache_context cache;	/* sessions resumed across connections */
	mbedtls_ssl_config conf;	/* read-only once made: shared by threads */
	char *cert_out;
};

/* One port's listener state (port->ls). */
struct tls_port {
	struct ltb_port *port;
	struct MHD_Daemon *daemon;
	int lfd, stopfd;
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned live;			/* connection threads, under lock */
	struct tls_conn *head;		/* them, under lock */
};

/* One TLS connection, on its own thread. */
struct tls_conn {
	struct tls_port *tp;
	struct tls_conn *prev, *next;	/* under tp->lock */
	int handshaking, doomed;	/* under tp->lock */
	uint64_t t0;			/* accepted, monotonic ns */
	int fd;				/* the TCP connection */
	int sp;				/* our end of the socketpair; -1 */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	mbedtls_ssl_context ssl;
	size_t in_off, in_len;		/* decrypted, for the daemon */
	size_t out_off, out_len;	/* the daemon's, to encrypt */
	int peer_done;			/* 1: the peer's end seen; 2: passed on */
	unsigned char in[4 * RECORD], out[RECORD];
};

/* "what: mbedtls's reason" into err. */
static void __attribute__((format(printf, 4, 5)))
tls_error(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	size_t n;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* A file that cannot be opened: errno says more than "read of file
	 * failed". */
	if ((rc == MBEDTLS_ERR_PK_FILE_IO_ERROR ||
	    rc == MBEDTLS_ERR_X509_FILE_IO_ERROR) && saved != 0)
		snprintf(why, sizeof why, "%s", strerror(saved));
	else
		mbedtls_strerror(rc, why, sizeof why);
	n = strlen(err);
	if (n < errlen)
		snprintf(err + n, errlen - n, ": %s", why);
}

/* ---- the certificate ---------------------------------------------------- */

/* subjectAltName: DNS:localhost, IP:127.0.0.1, IP:::1 and the bind
 * address, as DER written backwards from *p (mbedtls's asn1write way).
 * The length written, or an mbedtls error. */
static int
san_write(unsigned char **p, unsigned char *start, const struct ltb_addr *a)
{
	static const unsigned char lo4[4] = { 127, 0, 0, 1 };
	static const unsigned char lo6[16] = { [15] = 1 };
	static const unsigned char any6[16] = { 0 };
	const unsigned char *ip;
	size_t len = 0, iplen;
	int ret;

	if (a->v6) {
		ip = (const unsigned char *)
		    &((const struct sockaddr_in6 *)&a->sa)->sin6_addr;
		iplen = 16;
	} else {
		ip = (const unsigned char *)
		    &((const struct sockaddr_in *)&a->sa)->sin_addr;
		iplen = 4;
	}
	/* The bind address, unless a loopback one named below or "any". */
	if (memcmp(ip, iplen == 4 ? lo4 : lo6, iplen) != 0 &&
	    memcmp(ip, any6, iplen) != 0) {
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start,
		    ip, iplen));
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, iplen));
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start,
		    MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));	/* iPAddress */
	}
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, lo6,
	    sizeof lo6));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, sizeof lo6));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start,
	    MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, lo4,
	    sizeof lo4));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, sizeof lo4));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start,
	    MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start,
	    (const unsigned char *)"localhost", 9));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, 9));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start,
	    MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));	/* dNSName */
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

/* "YYYYMMDDhhmmss", UTC, s seconds from now. */
static void
x509_time(char *buf, size_t len, long long s)
{
	time_t t = (time_t)(ltb_real_ns() / 1000000000u) + (time_t)s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y%m%d%H%M%S", &tm);
}

/* A fresh key and a self-signed certificate for it, into t. */
static int
self_signed(struct ltb_tls *t, const struct ltb_addr *a, char *err,
    size_t errlen)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	unsigned char san[256], *p = san + sizeof san;
	unsigned char pem[4096];
	char from[16], until[16];
	int rc, n;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	if ((rc = mbedtls_pk_setup(&t->key,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
	    (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
	    mbedtls_pk_ec(t->key), mbedtls_ctr_drbg_random, &t->drbg)) != 0) {
		tls_error(err, errlen, rc, "cannot make a P-256 key");
		goto fail;
	}
	/* A clock a little behind ours must not see it "not yet valid". */
	x509_time(from, sizeof from, -3600);
	x509_time(until, sizeof until, CERT_DAYS * 86400LL);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, &t->key);
	mbedtls_x509write_crt_set_issuer_key(&w, &t->key);
	if ((n = san_write(&p, san, a)) < 0) {
		rc = n;
		goto bad;
	}
	if ((rc = mbedtls_mpi_fill_random(&serial, 16, mbedtls_ctr_drbg_random,
	    &t->drbg)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_serial(&w, &serial)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_subject_name(&w,
	    "CN=ltb-satellite,O=ltb")) != 0 ||
	    (rc = mbedtls_x509write_crt_set_issuer_name(&w,
	    "CN=ltb-satellite,O=ltb")) != 0 ||
	    (rc = mbedtls_x509write_crt_set_validity(&w, from, until)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_key_usage(&w,
	    MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_extension(&w,
	    MBEDTLS_OID_SUBJECT_ALT_NAME,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p,
	    (size_t)n)) != 0 ||
	    (rc = mbedtls_x509write_crt_pem(&w, pem, sizeof pem,
	    mbedtls_ctr_drbg_random, &t->drbg)) != 0 ||
	    (rc = mbedtls_x509_crt_parse(&t->cert, pem,
	    strlen((char *)pem) + 1)) != 0)
		goto bad;
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return 0;
bad:
	tls_error(err, errlen, rc, "cannot make a self-signed certificate");
fail:
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return -1;
}

static int
load_files(struct ltb_tls *t, const struct ltb_sat_config *c, char *err,
    size_t errlen)
{
	int rc;

	errno = 0;
	if ((rc = mbedtls_x509_crt_parse_file(&t->cert, c->cert_file)) != 0) {
		/* A positive rc: that many certificates in it did not parse. */
		if (rc > 0)
			snprintf(err, errlen, "cannot read certificate %s: %d "
			    "of its certificates are not valid PEM or DER",
			    c->cert_file, rc);
		else
			tls_error(err, errlen, rc, "cannot read certificate %s",
			    c->cert_file);
		return -1;
	}
	errno = 0;
	if ((rc = mbedtls_pk_parse_keyfile(&t->key, c->key_file, NULL)) != 0) {
		tls_error(err, errlen, rc, "cannot read key %s", c->key_file);
		return -1;
	}
	/* mbedtls's reason here ("bad input parameters") would mislead. */
	if (mbedtls_pk_check_pair(&t->cert.pk, &t->key) != 0) {
		snprintf(err, errlen, "key %s is not the key of certificate %s",
		    c->key_file, c->cert_file);
		return -1;
	}
	return 0;
}

/* The certificate chain in PEM, to path (replaced whole: a reader never
 * sees half of it). */
static int
cert_write(const struct ltb_tls *t, const char *path, char *err,
    size_t errlen)
{
	char tmp[4096];
	unsigned char pem[8192];
	const mbedtls_x509_crt *c;
	FILE *f;
	size_t n;
	int rc;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		snprintf(err, errlen, "cannot write certificate %s: name too "
		    "long", path);
		return -1;
	}
	if ((f = fopen(tmp, "w")) == NULL)
		goto fail;
	for (c = &t->cert; c != NULL && c->raw.len > 0; c = c->next) {
		rc = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
		    "-----END CERTIFICATE-----\n", c->raw.p, c->raw.len, pem,
		    sizeof pem, &n);
		if (rc != 0) {
			fclose(f);
			unlink(tmp);
			tls_error(err, errlen, rc, "cannot write certificate %s",
			    path);
			return -1;
		}
		/* n counts the terminating NUL. */
		if (fwrite(pem, 1, n - 1, f) != n - 1) {
			fclose(f);
			goto fail;
		}
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot write certificate %s: %s", path,
	    strerror(errno));
	unlink(tmp);
	return -1;
}

/*
 * Sign once before any connection does. mbedtls keeps the table of its
 * fastest ECDSA multiplication in the key's group, made by the first
 * signature and unlocked: two first handshakes at once would race to
 * store it, and one could free the table the other is reading.
 */
static int
key_warm(struct ltb_tls *t, char *err, size_t errlen)
{
	unsigned char hash[32] = { 0 }, sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t n;
	int rc;

	if ((rc = mbedtls_pk_sign(&t->key, MBEDTLS_MD_SHA256, hash,
	    sizeof hash, sig, &n, mbedtls_ctr_drbg_random, &t->drbg)) != 0) {
		tls_error(err, errlen, rc, "cannot sign with the key");
		return -1;
	}
	return 0;
}

static int
conf_make(struct ltb_tls *t, char *err, size_t errlen)
{
	/* HTTP/1.1 only: the daemon speaks nothing else. */
	static const char *alpn[] = { "http/1.1", NULL };
	/* mbedtls's own order starts at P-521, several times the cost of
	 * X25519 for each handshake. */
	static const mbedtls_ecp_group_id curves[] = {
		MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
		MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
		MBEDTLS_ECP_DP_NONE
	};
	int rc;

	if ((rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_SERVER,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)) != 0 ||
	    (rc = mbedtls_ssl_conf_own_cert(&t->conf, &t->cert, &t->key)) != 0 ||
	    (rc = mbedtls_ssl_conf_alpn_protocols(&t->conf, alpn)) != 0) {
		tls_error(err, errlen, rc, "cannot configure TLS");
		return -1;
	}
	mbedtls_ssl_conf_curves(&t->conf, curves);
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
	mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);	/* TLS 1.2 */
	mbedtls_ssl_conf_session_cache(&t->conf, &t->cache,
	    mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
	return 0;
}

struct ltb_tls *
ltb_tls_new(const struct ltb_sat_config *c, const struct ltb_addr *a,
    char *err, size_t errlen)
{
	static const unsigned char pers[] = "ltb-satellite";
	struct ltb_tls *t;
	int rc;

	if ((t = calloc(1, sizeof *t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mbedtls_entropy_init(&t->entropy);
	mbedtls_ctr_drbg_init(&t->drbg);
	mbedtls_x509_crt_init(&t->cert);
	mbedtls_pk_init(&t->key);
	mbedtls_ssl_cache_init(&t->cache);
	mbedtls_ssl_config_init(&t->conf);
	if ((rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func,
	    &t->entropy, pers, sizeof pers - 1)) != 0) {
		tls_error(err, errlen, rc, "cannot seed the random generator");
		goto fail;
	}
	if ((c->cert_file != NULL ? load_files(t, c, err, errlen) :
	    self_signed(t, a, err, errlen)) < 0)
		goto fail;
	if (key_warm(t, err, errlen) < 0 || conf_make(t, err, errlen) < 0)
		goto fail;
	if (c->cert_out != NULL) {
		if (cert_write(t, c->cert_out, err, errlen) < 0)
			goto fail;
		if ((t->cert_out = strdup(c->cert_out)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return t;
fail:
	ltb_tls_free(t);
	return NULL;
}

const char *
ltb_tls_cert_out(const struct ltb_tls *t)
{
	return t != NULL ? t->cert_out : NULL;
}

void
ltb_tls_free(struct ltb_tls *t)
{
	if (t == NULL)
		return;
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_ssl_cache_free(&t->cache);
	mbedtls_pk_free(&t->key);
	mbedtls_x509_crt_free(&t->cert);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_entropy_free(&t->entropy);
	free(t->cert_out);
	free(t);
}

/* ---- one connection ------------------------------------------------------ */

/* The TLS session's transport: the TCP socket, non-blocking, and never a
 * SIGPIPE for a peer that went away. */
static int
bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (errno == EPIPE || errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int
bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n = recv(*(int *)ctx, buf, len, 0);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Wait for the TCP socket (ev), our socketpair end (spev) or the stop
 * signal: 0 to go on, WAIT_STOP when told to stop, WAIT_GONE when the peer
 * reset the connection (else a pump waiting only on the daemon would
 * wake for it, again and again). */
enum { WAIT_STOP = 1, WAIT_GONE };

static int
conn_wait(struct tls_conn *c, short ev, short spev, int timeout_ms)
{
	struct pollfd pfd[3] = {
		{ .fd = c->tp->stopfd, .events = POLLIN },
		{ .fd = c->fd, .events = ev },
		{ .fd = spev ? c->sp : -1, .events = spev },
	};

	if (poll(pfd, 3, timeout_ms) < 0 && errno != EINTR)
		return WAIT_GONE;
	if (pfd[0].revents)
		return WAIT_STOP;
	return pfd[1].revents & (POLLERR | POLLHUP) ? WAIT_GONE : 0;
}

/* 0 once the handshake is done; -1 if it failed, timed out, or we were
 * told to stop (*stopped). */
static int
conn_handshake(struct tls_conn *c, int *stopped)
{
	const struct ltb_sat_config *cf = &c->tp->port->group->cfg;
	unsigned limit = cf->idle_timeout;
	uint64_t deadline;

	/* A handshake is the first part of getting a request in. */
	if (cf->header_timeout && (!limit || cf->header_timeout < limit))
		limit = cf->header_timeout;
	deadline = limit ? ltb_mono_ns() + limit * 1000000000ull : 0;
	int rc, ms, w;

	for (;;) {
		rc = mbedtls_ssl_handshake(&c->ssl);
		if (rc == 0)
			return 0;
		if (rc != MBEDTLS_ERR_SSL_WANT_READ &&
		    rc != MBEDTLS_ERR_SSL_WANT_WRITE)
			return -1;
		ms = -1;
		if (deadline) {
			uint64_t now = ltb_mono_ns();

			if (now >= deadline)
				return -1;
			ms = (int)((deadline - now) / 1000000u) + 1;
		}
		w = conn_wait(c, rc == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN :
		    POLLOUT, 0, ms);
		if (w != 0) {
			*stopped = w == WAIT_STOP;
			return -1;
		}
	}
}

/* Hand the daemon its end of a fresh socketpair; ours in c->sp. */
static int
conn_hand_on(struct tls_conn *c)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) < 0)
		return -1;
	c->sp = sv[1];
	/* The daemon closes sv[0] itself, whether it takes it or not. */
	if (MHD_add_connection(c->tp->daemon, sv[0],
	    (const struct sockaddr *)&c->peer, c->peerlen) != MHD_YES)
		return -1;
	return 0;
}

/*
 * Peer to daemon: decrypt what has arrived, as many records as fit, and
 * pass it on in one send, so the daemon wakes once for several records
 * rather than once for each. The peer's end (close_notify or EOF) goes on
 * as a half close once everything before it has. 1 if something moved, 0
 * if not (*ev, *spev: what to wait for), -1 when the connection is over.
 */
static int
from_peer(struct tls_conn *c, short *ev, short *spev)
{
	int moved = 0, rc;
	ssize_t n;

	while (!c->peer_done && c->in_len < sizeof c->in) {
		rc = mbedtls_ssl_read(&c->ssl, c->in + c->in_len,
		    sizeof c->in - c->in_len);
		if (rc > 0) {
			c->in_len += (size_t)rc;
			moved = 1;
		} else if (rc == MBEDTLS_ERR_SSL_WANT_READ) {
			*ev |= POLLIN;
			break;
		} else if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
			*ev |= POLLOUT;
			break;
		} else if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
			c->peer_done = 1;
			moved = 1;
		} else {
			return -1;
		}
	}
	if (c->in_off < c->in_len) {
		n = send(c->sp, c->in + c->in_off, c->in_len - c->in_off,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->in_off += (size_t)n;
			moved = 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			*spev |= POLLOUT;
		} else {
			return -1;	/* the daemon hung up */
		}
		if (c->in_off == c->in_len)
			c->in_off = c->in_len = 0;
	}
	if (c->peer_done == 1 && c->in_len == 0) {
		shutdown(c->sp, SHUT_WR);
		c->peer_done = 2;
		moved = 1;
	}
	return moved;
}

/* Daemon to peer: what it wrote goes out encrypted. Returns as
 * from_peer does; the daemon's close ends the connection. */
static int
to_peer(struct tls_conn *c, short *ev, short *spev)
{
	int moved = 0, rc;
	ssize_t n;

	if (c->out_off == c->out_len) {
		n = recv(c->sp, c->out, sizeof c->out, 0);
		if (n > 0) {
			c->out_off = 0;
			c->out_len = (size_t)n;
			moved = 1;
		} else if (n == 0) {
			/* Say so, once, and go. */
			mbedtls_ssl_close_notify(&c->ssl);
			return -1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			*spev |= POLLIN;
		} else {
			return -1;
		}
	}
	if (c->out_off < c->out_len) {
		rc = mbedtls_ssl_write(&c->ssl, c->out + c->out_off,
		    c->out_len - c->out_off);
		if (rc > 0) {
			c->out_off += (size_t)rc;
			moved = 1;
		} else if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
			*ev |= POLLOUT;
		} else if (rc == MBEDTLS_ERR_SSL_WANT_READ) {
			*ev |= POLLIN;
		} else {
			return -1;
		}
	}
	return moved;
}

/* Move bytes both ways until one side is done. Each pass does what it
 * can without blocking; when nothing moved, it waits for what would let
 * it move. */
static void
conn_pump(struct tls_conn *c)
{
	for (;;) {
		short ev = 0, spev = 0;
		int in, out;

		if ((in = from_peer(c, &ev, &spev)) < 0 ||
		    (out = to_peer(c, &ev, &spev)) < 0)
			return;
		if (!in && !out && conn_wait(c, ev, spev, -1) != 0)
			return;
	}
}

static void
conn_free(struct tls_conn *c)
{
	struct tls_port *tp = c->tp;

	mbedtls_ssl_free(&c->ssl);
	if (c->sp >= 0)
		close(c->sp);
	/* Unlisted before its descriptor closes: an eviction never shuts
	 * down a descriptor reused since. */
	pthread_mutex_lock(&tp->lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		tp->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&tp->lock);
	close(c->fd);
	free(c);
	/* Last: once live is 0 and unlocked, stop may free tp. */
	pthread_mutex_lock(&tp->lock);
	if (--tp->live == 0)
		pthread_cond_broadcast(&tp->idle);
	pthread_mutex_unlock(&tp->lock);
}

static void *
conn_main(void *arg)
{
	struct tls_conn *c = arg;
	struct ltb_port *port = c->tp->port;
	int stopped = 0;

	if (mbedtls_ssl_setup(&c->ssl, &port->group->tls->conf) != 0)
		goto out;
	mbedtls_ssl_set_bio(&c->ssl, &c->fd, bio_send, bio_recv, NULL);
	if (conn_handshake(c, &stopped) < 0) {
		pthread_mutex_lock(&c->tp->lock);
		/* Evicted: counted so, not as a failed handshake. */
		stopped |= c->doomed;
		pthread_mutex_unlock(&c->tp->lock);
		if (!stopped)
			ltb_port_handshake_failure(port);
		goto out;
	}
	pthread_mutex_lock(&c->tp->lock);
	c->handshaking = 0;
	pthread_mutex_unlock(&c->tp->lock);
	if (conn_hand_on(c) < 0)
		goto out;
	conn_pump(c);
out:
	conn_free(c);
	return NULL;
}

/* ---- the acceptor -------------------------------------------------------- */

/* Full: shut down the connection longest in its handshake, counted; 0,
 * or -1 (counted refused) when none is. Under tp->lock. */
static int
make_room(struct tls_port *tp)
{
	struct tls_conn *c, *v = NULL;

	for (c = tp->head; c != NULL; c = c->next)
		if (c->handshaking && !c->doomed && (v == NULL || c->t0 < v->t0))
			v = c;
	if (v == NULL) {
		atomic_fetch_add_explicit(&tp->port->refused_connections, 1,
		    memory_order_relaxed);
		return -1;
	}
	shutdown(v->fd, SHUT_RDWR);
	v->doomed = 1;
	atomic_fetch_add_explicit(&tp->port->evicted_connections, 1,
	    memory_order_relaxed);
	return 0;
}

/* Connections here, doomed ones not counted. Under tp->lock. */
static unsigned
live_now(const struct tls_port *tp)
{
	unsigned n = 0;

	for (const struct tls_conn *c = tp->head; c != NULL; c = c->next)
		n += !c->doomed;
	return n;
}

static void
conn_start(struct tls_port *tp, int fd, const struct sockaddr_storage *peer,
    socklen_t peerlen)
{
	struct ltb_sat *g = tp->port->group;
	unsigned lim = g->cfg.max_connections + LTB_CONN_SLACK;
	struct tls_conn *c;
	pthread_attr_t attr;
	pthread_t th;
	int one = 1, rc;

	pthread_mutex_lock(&tp->lock);
	/* The limit is on TCP connections, as the HTTP listener's daemon's
	 * is: above the port's own, which the daemon's accept policy
	 * applies fairly (ltb_conns.c) to the connections handed on. Doomed
	 * ones still hold a thread and a descriptor until they go: at twice
	 * the limit, refuse rather than make room. */
	if (tp->live >= 2 * lim) {
		atomic_fetch_add_explicit(&tp->port->refused_connections, 1,
		    memory_order_relaxed);
		goto refuse;
	}
	if (live_now(tp) >= lim && make_room(tp) < 0)
		goto refuse;
	if ((c = calloc(1, sizeof *c)) == NULL)
		goto refuse;
	tp->live++;
	c->handshaking = 1;
	c->t0 = ltb_mono_ns();
	c->fd = fd;
	c->tp = tp;
	c->next = tp->head;
	if (c->next != NULL)
		c->next->prev = c;
	tp->head = c;
	pthread_mutex_unlock(&tp->lock);
	ltb_port_connection(tp->port);
	/* TLS records go out as the daemon writes them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->sp = -1;
	c->peer = *peer;
	c->peerlen = peerlen;
	c->in_off = c->in_len = c->out_off = c->out_len = 0;
	c->peer_done = 0;
	mbedtls_ssl_init(&c->ssl);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		conn_free(c);
	return;
refuse:
	pthread_mutex_unlock(&tp->lock);
	close(fd);
}

static void *
acceptor_main(void *arg)
{
	struct tls_port *tp = arg;
	struct sockaddr_storage peer;
	socklen_t len;
	int fd;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = tp->stopfd, .events = POLLIN },
			{ .fd = tp->lfd, .events = POLLIN },
		};

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		len = sizeof peer;
		fd = accept4(tp->lfd, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of descriptors: do not spin on the backlog. */
			if (errno == EMFILE || errno == ENFILE)
				poll(pfd, 1, 100);
			continue;
		}
		conn_start(tp, fd, &peer, len);
	}
	return NULL;
}

/* ---- the listener -------------------------------------------------------- */

static void
tp_free(struct tls_port *tp)
{
	if (tp->daemon != NULL)
		MHD_stop_daemon(tp->daemon);
	if (tp->lfd >= 0)
		close(tp->lfd);
	if (tp->stopfd >= 0)
		close(tp->stopfd);
	pthread_cond_destroy(&tp->idle);
	pthread_mutex_destroy(&tp->lock);
	free(tp);
}

static int
tls_start(struct ltb_port *port, char *err, size_t errlen)
{
	struct ltb_sat *g = port->group;
	struct tls_port *tp;
	uint16_t bound;
	int rc;

	if ((tp = calloc(1, sizeof *tp)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	tp->port = port;
	tp->lfd = tp->stopfd = -1;
	pthread_mutex_init(&tp->lock, NULL);
	pthread_cond_init(&tp->idle, NULL);
	if ((tp->lfd = ltb_listen(&g->addr, port->port, &bound, err,
	    errlen)) < 0)
		goto fail;
	port->port = bound;
	if ((tp->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "cannot start TLS on port %u: %s",
		    bound, strerror(errno));
		goto fail;
	}
	if ((tp->daemon = ltb_http_daemon(port, -1, err, errlen)) == NULL)
		goto fail;
	if ((rc = pthread_create(&tp->acceptor, NULL, acceptor_main,
	    tp)) != 0) {
		snprintf(err, errlen, "cannot start TLS on port %u: %s",
		    bound, strerror(rc));
		goto fail;
	}
	port->ls = tp;
	return 0;
fail:
	tp_free(tp);
	return -1;
}

static void
tls_stop(struct ltb_port *port)
{
	struct tls_port *tp = port->ls;
	uint64_t one = 1;

	if (tp == NULL)
		return;
	/* Level-triggered: the acceptor and every connection see it. */
	if (write(tp->stopfd, &one, sizeof one) < 0) {
		/* Cannot fail: the counter is far from overflowing. */
	}
	pthread_join(tp->acceptor, NULL);
	close(tp->lfd);
	tp->lfd = -1;
	pthread_mutex_lock(&tp->lock);
	while (tp->live > 0)
		pthread_cond_wait(&tp->idle, &tp->lock);
	pthread_mutex_unlock(&tp->lock);
	/* Now only the daemon's side is left: stopping it waits for the
	 * requests in flight. */
	tp_free(tp);
	port->ls = NULL;
}

const struct ltb_listener ltb_listener_tls = {
	.name = "https",
	.transport = LTB_TRANSPORT_HTTP,
	.start = tls_start,
	.stop = tls_stop,
};
