/*
 * ltb_satclient.c: the satellite admin client, over libcurl; see
 * ltb_satclient.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/ltb_proc.h"
#include "run/ltb_satclient.h"

struct buf {
	char *p;
	size_t len;
};

static size_t
on_data(char *data, size_t size, size_t n, void *cls)
{
	struct buf *b = cls;
	char *p;

	if (b->len + size * n > 1u << 20)	/* admin answers are small */
		return 0;
	if ((p = realloc(b->p, b->len + size * n + 1)) == NULL)
		return 0;
	memcpy(p + b->len, data, size * n);
	b->p = p;
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

/* One admin request; the answer's body (NUL-terminated) in *body, owned
 * by the caller. */
static int
admin(struct ltb_satgroup *g, const char *method, const char *path,
    char **body, char *err, size_t errlen)
{
	struct buf b = { NULL, 0 };
	char url[256];
	long status = 0;
	CURLcode rc;
	CURL *c;

	snprintf(url, sizeof url, "%s%s", g->admin_url, path);
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || status != 200) {
		if (rc != CURLE_OK)
			snprintf(err, errlen, "cannot reach satellite admin "
			    "%s: %s", url, curl_easy_strerror(rc));
		else
			snprintf(err, errlen, "satellite admin %s answered %ld",
			    url, status);
		free(b.p);
		return -1;
	}
	*body = b.p ? b.p : strdup("");
	return *body ? 0 : -1;
}

int
ltb_satgroup_spans(struct ltb_satgroup *g, uint64_t *n, char *err,
    size_t errlen)
{
	char *body, *end;

	if (admin(g, "GET", "/spans_received", &body, err, errlen) < 0)
		return -1;
	*n = strtoull(body, &end, 10);
	if (end == body) {
		snprintf(err, errlen, "satellite admin %s: not a count: %.40s",
		    g->admin_url, body);
		free(body);
		return -1;
	}
	free(body);
	return 0;
}

int
ltb_satgroup_post(struct ltb_satgroup *g, const char *what, char *err,
    size_t errlen)
{
	char path[32], *body;

	snprintf(path, sizeof path, "/%s", what);
	if (admin(g, "POST", path, &body, err, errlen) < 0)
		return -1;
	free(body);
	return 0;
}

/* Fill ports and host from a ready or stats record. */
static int
take_ports(struct ltb_satgroup *g, const cJSON *rec)
{
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(rec, "ports");
	const cJSON *bind = cJSON_GetObjectItemCaseSensitive(rec, "bind");
	const cJSON *p, *num;

	g->nports = 0;
	cJSON_ArrayForEach(p, ports) {
		num = cJSON_IsObject(p) ?
		    cJSON_GetObjectItemCaseSensitive(p, "port") : p;
		if (!cJSON_IsNumber(num) || g->nports == LTB_CONTROL_MAX_PORTS)
			return -1;
		g->ports[g->nports++] = (uint16_t)num->valuedouble;
	}
	snprintf(g->host, sizeof g->host, "%s",
	    cJSON_IsString(bind) ? bind->valuestring : "127.0.0.1");
	return g->nports > 0 ? 0 : -1;
}

int
ltb_satgroup_attach(struct ltb_satgroup *g, const char *admin_url,
    char *err, size_t errlen)
{
	char *body;
	cJSON *rec;
	size_t n;

	memset(g, 0, sizeof *g);
	g->out_fd = -1;
	snprintf(g->admin_url, sizeof g->admin_url, "%s", admin_url);
	n = strlen(g->admin_url);
	if (n > 0 && g->admin_url[n - 1] == '/')
		g->admin_url[n - 1] = '\0';
	if (admin(g, "GET", "/stats", &body, err, errlen) < 0)
		return -1;
	rec = cJSON_Parse(body);
	free(body);
	if (rec == NULL || take_ports(g, rec) < 0) {
		snprintf(err, errlen, "satellite admin %s/stats: no ports "
		    "in its answer", g->admin_url);
		cJSON_Delete(rec);
		return -1;
	}
	/* The stats record has no bind address: tracers reach the group
	 * where its admin port is. */
	sscanf(g->admin_url, "http://%63[^:/]", g->host);
	cJSON_Delete(rec);
	return 0;
}

/* Read the first line from fd within timeout_ms. */
static int
read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	double end = ltb_now() + timeout_ms / 1e3;
	size_t n = 0;

	while (n < len - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)((end - ltb_now()) * 1e3);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		if ((r = read(fd, buf + n, 1)) <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

int
ltb_satgroup_spawn(struct ltb_satgroup *g, const char *satellite,
    size_t nports, char *const extra[], char *err, size_t errlen)
{
	char ports[LTB_CONTROL_MAX_PORTS * 2 + 1] = "", line[4096];
	char *argv[64];
	size_t argc = 0;
	int pfd[2];
	cJSON *rec = NULL;
	const cJSON *url;

	memset(g, 0, sizeof *g);
	g->out_fd = -1;
	for (size_t i = 0; i < nports && i < LTB_CONTROL_MAX_PORTS; i++)
		strcat(ports, i ? ",0" : "0");
	argv[argc++] = (char *)satellite;
	argv[argc++] = "--ports";
	argv[argc++] = ports;
	argv[argc++] = "--admin-port";
	argv[argc++] = "0";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && argc < 63; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	g->pid = ltb_proc_spawn(argv, NULL, pfd[1], err, errlen);
	close(pfd[1]);
	if (g->pid < 0) {
		g->pid = 0;
		close(pfd[0]);
		return -1;
	}
	g->out_fd = pfd[0];
	if (read_line(g->out_fd, line, sizeof line, 10000) < 0) {
		snprintf(err, errlen, "%s did not get ready (see its messages "
		    "above)", satellite);
		goto fail;
	}
	rec = cJSON_Parse(line);
	url = cJSON_GetObjectItemCaseSensitive(rec, "admin_url");
	if (!cJSON_IsString(url) || take_ports(g, rec) < 0) {
		snprintf(err, errlen, "%s: not a ready record: %.80s",
		    satellite, line);
		goto fail;
	}
	snprintf(g->admin_url, sizeof g->admin_url, "%s", url->valuestring);
	cJSON_Delete(rec);
	return 0;
fail:
	cJSON_Delete(rec);
	ltb_satgroup_stop(g);
	return -1;
}

void
ltb_satgroup_stop(struct ltb_satgroup *g)
{
	if (g->pid > 0) {
		double end = ltb_now() + 5;
		int status;

		kill(g->pid, SIGTERM);
		while (waitpid(g->pid, &status, WNOHANG) == 0) {
			if (ltb_now() > end) {
				kill(g->pid, SIGKILL);
				waitpid(g->pid, &status, 0);
				break;
			}
			usleep(10000);
		}
		g->pid = 0;
	}
	if (g->out_fd >= 0) {
		close(g->out_fd);
		g->out_fd = -1;
	}
}
