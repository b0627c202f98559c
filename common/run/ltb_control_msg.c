/*
 * ltb_control_msg.c: the control message in JSON; see ltb_control_msg.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "run/ltb_control_msg.h"

const char *const ltb_control_protocol_names[LTB_CONTROL_NPROTOCOLS] = {
	[LTB_CONTROL_LIGHTSTEP] = "lightstep",
	[LTB_CONTROL_OTLP] = "otlp",
	[LTB_CONTROL_SPECTATORD] = "spectatord",
	[LTB_CONTROL_ATLAS] = "atlas",
	[LTB_CONTROL_OSPROFILER] = "osprofiler",
};

const char *
ltb_control_protocol_unit(int protocol)
{
	if (protocol == LTB_CONTROL_SPECTATORD || protocol == LTB_CONTROL_ATLAS)
		return "measurement";
	/* a start and its stop, two messages, make one */
	if (protocol == LTB_CONTROL_OSPROFILER)
		return "trace point";
	return "span";
}

/* spectatord's meter types, by letter and by name. */
static const struct {
	char letter;
	const char *name;
} meters[] = {
	{ 'c', "counter" },
	{ 'C', "monotonic_counter" },
	{ 'U', "monotonic_counter_uint" },
	{ 'd', "distribution_summary" },
	{ 'D', "percentile_distribution_summary" },
	{ 't', "timer" },
	{ 'T', "percentile_timer" },
	{ 'g', "gauge" },
	{ 'm', "max_gauge" },
	{ 'A', "age_gauge" },
	{ 'X', "monotonic_sampled" },
};

char
ltb_control_meter_letter(const char *name)
{
	for (size_t i = 0; i < sizeof meters / sizeof meters[0]; i++)
		if (strcmp(meters[i].name, name) == 0)
			return meters[i].letter;
	return 0;
}

const char *
ltb_control_meter_name(char letter)
{
	for (size_t i = 0; i < sizeof meters / sizeof meters[0]; i++)
		if (meters[i].letter == letter)
			return meters[i].name;
	return NULL;
}

int
ltb_control_protocol(const char *name, char *err, size_t errlen)
{
	size_t n = 0;
	int i;

	for (i = 0; i < LTB_CONTROL_NPROTOCOLS; i++)
		if (strcmp(name, ltb_control_protocol_names[i]) == 0)
			return i;
	n = (size_t)snprintf(err, errlen, "unknown protocol '%.64s' (known:",
	    name);
	for (i = 0; i < LTB_CONTROL_NPROTOCOLS && n < errlen; i++)
		n += (size_t)snprintf(err + n, errlen - n, "%s %s",
		    i ? "," : "", ltb_control_protocol_names[i]);
	if (n < errlen)
		snprintf(err + n, errlen - n, ")");
	return -1;
}

void
ltb_control_default(struct ltb_control *c)
{
	memset(c, 0, sizeof *c);
	c->sleep_interval_ns = 100000000;
	c->num_tags = 10;
	c->num_logs = 15;
	snprintf(c->satellite_host, sizeof c->satellite_host, "127.0.0.1");
	for (c->nports = 0; c->nports < 8; c->nports++)
		c->satellite_ports[c->nports] = (uint16_t)(8360 + c->nports);
	c->reporting_period_ms = 200;
	c->max_buffered_spans = 10000;
	snprintf(c->meters, sizeof c->meters, "%s", LTB_CONTROL_METERS_DEFAULT);
}

static int
get_uint(const cJSON *obj, const char *key, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > (double)max ||
	    v->valuedouble != floor(v->valuedouble)) {
		snprintf(err, errlen, "%s: not an integer from 0 to %llu", key,
		    (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static int
get_bool(const cJSON *obj, const char *key, int *out, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v)) {
		snprintf(err, errlen, "%s: not true or false", key);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

static int
get_ports(const cJSON *obj, struct ltb_control *c, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj,
	    "SatellitePorts"), *p;
	size_t n = 0;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 ||
	    cJSON_GetArraySize(v) > LTB_CONTROL_MAX_PORTS)
		goto bad;
	cJSON_ArrayForEach(p, v) {
		if (!cJSON_IsNumber(p) || p->valuedouble < 1 ||
		    p->valuedouble > 65535)
			goto bad;
		c->satellite_ports[n++] = (uint16_t)p->valuedouble;
	}
	c->nports = n;
	return 0;
bad:
	snprintf(err, errlen, "SatellitePorts: not a list of 1 to %d ports",
	    LTB_CONTROL_MAX_PORTS);
	return -1;
}

/* A list of up to LTB_CONTROL_MAX_PORTS ports under key, maybe empty:
 * SatelliteUdpPorts, SatelliteRespPorts. */
static int
get_port_list(const cJSON *obj, const char *key, uint16_t *ports,
    size_t *nports, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *p;
	size_t n = 0;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v) ||
	    cJSON_GetArraySize(v) > LTB_CONTROL_MAX_PORTS)
		goto bad;
	cJSON_ArrayForEach(p, v) {
		if (!cJSON_IsNumber(p) || p->valuedouble < 1 ||
		    p->valuedouble > 65535 ||
		    p->valuedouble != floor(p->valuedouble))
			goto bad;
		ports[n++] = (uint16_t)p->valuedouble;
	}
	*nports = n;
	return 0;
bad:
	snprintf(err, errlen, "%s: not a list of up to %d ports", key,
	    LTB_CONTROL_MAX_PORTS);
	return -1;
}

/* SatelliteUnixSocket: a path, or null for none. */
static int
get_unix(const cJSON *obj, struct ltb_control *c, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj,
	    "SatelliteUnixSocket");

	if (v == NULL)
		return 0;
	if (cJSON_IsNull(v)) {
		c->satellite_unix[0] = '\0';
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    strlen(v->valuestring) >= sizeof c->satellite_unix) {
		snprintf(err, errlen, "SatelliteUnixSocket: not a socket path "
		    "(shorter than %zu bytes) or null", sizeof c->satellite_unix);
		return -1;
	}
	snprintf(c->satellite_unix, sizeof c->satellite_unix, "%s",
	    v->valuestring);
	return 0;
}

/* Meters: a list of 1 to LTB_CONTROL_MAX_METERS meter type names. */
static int
get_meters(const cJSON *obj, struct ltb_control *c, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "Meters"), *m;
	char letters[sizeof c->meters];
	size_t n = 0;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 ||
	    cJSON_GetArraySize(v) > LTB_CONTROL_MAX_METERS)
		goto bad;
	cJSON_ArrayForEach(m, v) {
		if (!cJSON_IsString(m) ||
		    (letters[n] = ltb_control_meter_letter(m->valuestring)) == 0)
			goto bad;
		n++;
	}
	letters[n] = '\0';
	memcpy(c->meters, letters, n + 1);
	return 0;
bad:
	snprintf(err, errlen, "Meters: not a list of 1 to %d meter types "
	    "(counter, timer, gauge, distribution_summary, max_gauge, ...)",
	    LTB_CONTROL_MAX_METERS);
	return -1;
}

static int
get_protocol(const cJSON *obj, struct ltb_control *c, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "Protocol");
	char why[256];
	int p;

	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "Protocol: not a string");
		return -1;
	}
	if ((p = ltb_control_protocol(v->valuestring, why, sizeof why)) < 0) {
		snprintf(err, errlen, "Protocol: %s", why);
		return -1;
	}
	c->protocol = p;
	return 0;
}

/* TlsCaFile: a file name, or null for none. */
static int
get_ca_file(const cJSON *obj, struct ltb_control *c, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "TlsCaFile");

	if (v == NULL)
		return 0;
	if (cJSON_IsNull(v)) {
		c->tls_ca_file[0] = '\0';
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    strlen(v->valuestring) >= sizeof c->tls_ca_file) {
		snprintf(err, errlen, "TlsCaFile: not a file name (shorter "
		    "than %zu bytes) or null", sizeof c->tls_ca_file);
		return -1;
	}
	snprintf(c->tls_ca_file, sizeof c->tls_ca_file, "%s", v->valuestring);
	return 0;
}

int
ltb_control_from_json(struct ltb_control *c, const cJSON *obj, char *err,
    size_t errlen)
{
	const cJSON *host;
	uint64_t v;

	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	if (get_bool(obj, "Trace", &c->trace, err, errlen) < 0 ||
	    get_bool(obj, "NoFlush", &c->no_flush, err, errlen) < 0 ||
	    get_uint(obj, "Sleep", UINT64_MAX / 2, &c->sleep_ns, err,
	    errlen) < 0 ||
	    get_uint(obj, "SleepInterval", UINT64_MAX / 2,
	    &c->sleep_interval_ns, err, errlen) < 0 ||
	    get_uint(obj, "Work", UINT64_MAX / 2, &c->work, err, errlen) < 0 ||
	    get_uint(obj, "Repeat", UINT64_MAX / 2, &c->repeat, err,
	    errlen) < 0 || get_ports(obj, c, err, errlen) < 0 ||
	    get_protocol(obj, c, err, errlen) < 0 ||
	    get_bool(obj, "Tls", &c->tls, err, errlen) < 0 ||
	    get_ca_file(obj, c, err, errlen) < 0 ||
	    get_port_list(obj, "SatelliteUdpPorts", c->satellite_udp_ports,
	    &c->nudp, err, errlen) < 0 ||
	    get_port_list(obj, "SatelliteRespPorts", c->satellite_resp_ports,
	    &c->nresp, err, errlen) < 0 ||
	    get_unix(obj, c, err, errlen) < 0 ||
	    get_meters(obj, c, err, errlen) < 0)
		return -1;
	v = c->line_buffer_bytes;
	if (get_uint(obj, "LineBufferBytes", LTB_CONTROL_LINE_BUFFER_MAX, &v,
	    err, errlen) < 0)
		return -1;
	c->line_buffer_bytes = (unsigned)v;
	v = c->num_tags;
	if (get_uint(obj, "NumTags", 1000, &v, err, errlen) < 0)
		return -1;
	c->num_tags = (unsigned)v;
	v = c->num_logs;
	if (get_uint(obj, "NumLogs", 1000, &v, err, errlen) < 0)
		return -1;
	c->num_logs = (unsigned)v;
	v = c->reporting_period_ms;
	if (get_uint(obj, "ReportingPeriodMs", 3600000, &v, err, errlen) < 0)
		return -1;
	c->reporting_period_ms = (unsigned)v;
	v = c->max_buffered_spans;
	if (get_uint(obj, "MaxBufferedSpans", 100000000, &v, err, errlen) < 0)
		return -1;
	c->max_buffered_spans = (unsigned)v;
	/* a second a span is far past any cost worth planting */
	if (get_uint(obj, "PlantedNsPerSpan", 1000000000, &c->planted_ns, err,
	    errlen) < 0)
		return -1;
	host = cJSON_GetObjectItemCaseSensitive(obj, "SatelliteHost");
	if (host != NULL) {
		if (!cJSON_IsString(host) || host->valuestring[0] == '\0' ||
		    strlen(host->valuestring) >= sizeof c->satellite_host) {
			snprintf(err, errlen, "SatelliteHost: not a host name");
			return -1;
		}
		snprintf(c->satellite_host, sizeof c->satellite_host, "%s",
		    host->valuestring);
	}
	return 0;
}

int
ltb_control_parse(struct ltb_control *c, const char *json, size_t len,
    char *err, size_t errlen)
{
	cJSON *obj = cJSON_ParseWithLength(json, len);
	int rc;

	if (obj == NULL) {
		snprintf(err, errlen, "not JSON");
		return -1;
	}
	rc = ltb_control_from_json(c, obj, err, errlen);
	cJSON_Delete(obj);
	return rc;
}

/* ports under key, a list. 0, -1 on allocation failure. */
static int
port_list_to_json(cJSON *obj, const char *key, const uint16_t *ports,
    size_t n)
{
	cJSON *a, *p;

	if ((a = cJSON_AddArrayToObject(obj, key)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((p = cJSON_CreateNumber(ports[i])) == NULL)
			return -1;
		cJSON_AddItemToArray(a, p);
	}
	return 0;
}

/* The metrics clients' keys, and the OSProfiler clients' RESP ports. */
static int
metrics_to_json(const struct ltb_control *c, cJSON *obj)
{
	cJSON *a;

	if (port_list_to_json(obj, "SatelliteUdpPorts",
	    c->satellite_udp_ports, c->nudp) < 0 ||
	    port_list_to_json(obj, "SatelliteRespPorts",
	    c->satellite_resp_ports, c->nresp) < 0)
		return -1;
	if ((c->satellite_unix[0] != '\0' ?
	    cJSON_AddStringToObject(obj, "SatelliteUnixSocket",
	    c->satellite_unix) == NULL :
	    cJSON_AddNullToObject(obj, "SatelliteUnixSocket") == NULL) ||
	    cJSON_AddNumberToObject(obj, "LineBufferBytes",
	    c->line_buffer_bytes) == NULL ||
	    (a = cJSON_AddArrayToObject(obj, "Meters")) == NULL)
		return -1;
	for (const char *m = c->meters; *m != '\0'; m++)
		cJSON_AddItemToArray(a,
		    cJSON_CreateString(ltb_control_meter_name(*m)));
	return 0;
}

int
ltb_control_to_json(const struct ltb_control *c, cJSON *obj)
{
	cJSON *ports;

	if (cJSON_AddBoolToObject(obj, "Trace", c->trace) == NULL ||
	    cJSON_AddNumberToObject(obj, "Sleep", (double)c->sleep_ns) == NULL ||
	    cJSON_AddNumberToObject(obj, "SleepInterval",
	    (double)c->sleep_interval_ns) == NULL ||
	    cJSON_AddNumberToObject(obj, "Work", (double)c->work) == NULL ||
	    cJSON_AddNumberToObject(obj, "Repeat", (double)c->repeat) == NULL ||
	    cJSON_AddBoolToObject(obj, "NoFlush", c->no_flush) == NULL ||
	    cJSON_AddNumberToObject(obj, "NumTags", c->num_tags) == NULL ||
	    cJSON_AddNumberToObject(obj, "NumLogs", c->num_logs) == NULL ||
	    cJSON_AddStringToObject(obj, "SatelliteHost",
	    c->satellite_host) == NULL ||
	    (ports = cJSON_AddArrayToObject(obj, "SatellitePorts")) == NULL)
		return -1;
	for (size_t i = 0; i < c->nports; i++)
		cJSON_AddItemToArray(ports,
		    cJSON_CreateNumber(c->satellite_ports[i]));
	if (cJSON_AddNumberToObject(obj, "ReportingPeriodMs",
	    c->reporting_period_ms) == NULL ||
	    cJSON_AddNumberToObject(obj, "MaxBufferedSpans",
	    c->max_buffered_spans) == NULL ||
	    cJSON_AddStringToObject(obj, "Protocol",
	    ltb_control_protocol_names[c->protocol]) == NULL ||
	    cJSON_AddBoolToObject(obj, "Tls", c->tls) == NULL ||
	    cJSON_AddNumberToObject(obj, "PlantedNsPerSpan",
	    (double)c->planted_ns) == NULL)
		return -1;
	if (c->tls_ca_file[0] != '\0' ?
	    cJSON_AddStringToObject(obj, "TlsCaFile", c->tls_ca_file) == NULL :
	    cJSON_AddNullToObject(obj, "TlsCaFile") == NULL)
		return -1;
	return metrics_to_json(c, obj);
}
