/*
 * ltb_client_dir.c: finding clients and sibling tools; see ltb_client_dir.h.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/ltb_client_dir.h"
#include "run/ltb_control_msg.h"
#include "core/ltb_proc.h"

int
ltb_self_dir(char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);

	if (n < 0)
		return -1;
	path[n] = '\0';
	snprintf(buf, len, "%s", dirname(path));
	return 0;
}

void
ltb_sibling_tool(const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX];

	if (ltb_self_dir(dir, sizeof dir) == 0) {
		snprintf(buf, len, "%s/%s", dir, name);
		if (access(buf, X_OK) == 0)
			return;
	}
	snprintf(buf, len, "%s", name);
}

static int
is_client(const char *dir)
{
	char run[PATH_MAX + 8];

	snprintf(run, sizeof run, "%.*s/run", PATH_MAX - 1, dir);
	return access(run, F_OK) == 0;
}

/* The names of the clients in places, sorted, ", "-joined, into buf. */
static void
list_clients(char places[][PATH_MAX + 64], size_t n, char *buf, size_t len)
{
	char names[64][64], dir[PATH_MAX], tmp[64];
	size_t k = 0, used = 0, i, j;
	struct dirent *e;
	DIR *d;

	for (i = 0; i < n; i++) {
		if ((d = opendir(places[i])) == NULL)
			continue;
		while ((e = readdir(d)) != NULL && k < 64) {
			int seen = 0;

			if (e->d_name[0] == '.' || strlen(e->d_name) >= 64)
				continue;
			snprintf(dir, sizeof dir, "%.*s/%.63s", PATH_MAX - 66,
			    places[i], e->d_name);
			for (j = 0; j < k && !seen; j++)
				seen = strcmp(names[j], e->d_name) == 0;
			if (!seen && is_client(dir))
				snprintf(names[k++], sizeof names[0], "%s",
				    e->d_name);
		}
		closedir(d);
	}
	/* A handful of names: insertion sort. */
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			memcpy(tmp, names[j], sizeof tmp);
			memcpy(names[j], names[j - 1], sizeof tmp);
			memcpy(names[j - 1], tmp, sizeof tmp);
		}
	snprintf(buf, len, "%s", k == 0 ? "none" : "");
	for (i = 0; i < k && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i ? ", " : "", names[i]);
}

int
ltb_client_dir(const char *name, char *dir, size_t len, char *err,
    size_t errlen)
{
	char self[PATH_MAX], places[3][PATH_MAX + 64], known[512];
	const char *env = getenv("LTB_CLIENTS_DIR");
	size_t n = 0;

	if (name[0] == '\0' || strchr(name, '/') != NULL || name[0] == '.') {
		snprintf(err, errlen, "bad client name '%s'", name);
		return -1;
	}
	if (env != NULL && env[0] != '\0')
		snprintf(places[n++], sizeof places[0], "%s", env);
	if (ltb_self_dir(self, sizeof self) == 0) {
		snprintf(places[n++], sizeof places[0], "%s/../share/ltb/clients",
		    self);
		snprintf(places[n++], sizeof places[0], "%s/../../clients", self);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(dir, len, "%s/%s", places[i], name);
		if (is_client(dir))
			return 0;
	}
	list_clients(places, n, known, sizeof known);
	snprintf(err, errlen, "no client '%s' (the clients are: %s): no "
	    "%s/run in %s%s%s%s%s", name, known, name,
	    n > 0 ? places[0] : "(nowhere)",
	    n > 1 ? " or " : "", n > 1 ? places[1] : "",
	    n > 2 ? " or " : "", n > 2 ? places[2] : "");
	return -1;
}

/* line without the spaces around it, in place. */
static char *
trim(char *line)
{
	char *end;

	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return line;
}

/*
 * The one name of a client's one-line file dir/file (blank lines and
 * lines starting with # aside) into name, and its line into *at. 1 when
 * found, 0 when there is no such file, -1 with a message in err naming
 * the file and line; what is the word for the thing named ("protocol").
 */
static int
one_name(const char *dir, const char *file, const char *what, char *name,
    size_t len, char *path, size_t pathlen, unsigned long *at, char *err,
    size_t errlen)
{
	char buf[256], *p;
	unsigned long n = 0;
	int rc = -1;
	FILE *f;

	*at = 0;
	snprintf(path, pathlen, "%.*s/%s", PATH_MAX - 1, dir, file);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof buf, f) != NULL) {
		n++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%lu: line too long: one "
			    "%s name a line", path, n, what);
			goto out;
		}
		p = trim(buf);
		if (p[0] == '\0' || p[0] == '#')
			continue;
		if (*at > 0) {
			snprintf(err, errlen, "%s:%lu: a second %s (line %lu "
			    "named one): the file names one", path, n, what,
			    *at);
			goto out;
		}
		snprintf(name, len, "%s", p);
		*at = n;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 1;
out:
	fclose(f);
	return rc;
}

int
ltb_client_protocol(const char *dir, int *protocol, char *err,
    size_t errlen)
{
	char path[PATH_MAX + 16], name[256], why[256], *known;
	unsigned long at;
	int rc, p;

	*protocol = LTB_CONTROL_LIGHTSTEP;
	rc = one_name(dir, "protocol", "protocol", name, sizeof name, path,
	    sizeof path, &at, err, errlen);
	if (rc <= 0)
		return rc;
	if (at == 0) {
		/* the list of known ones, as an unknown name gets it */
		ltb_control_protocol("", why, sizeof why);
		known = strstr(why, "(known:");
		snprintf(err, errlen, "%s: names no protocol %s", path,
		    known != NULL ? known : "");
		return -1;
	}
	if ((p = ltb_control_protocol(name, why, sizeof why)) < 0) {
		snprintf(err, errlen, "%s:%lu: %s", path, at, why);
		return -1;
	}
	*protocol = p;
	return 0;
}

static const char *const contract_names[] = { "http", "argv" };

const char *
ltb_contract_name(int contract)
{
	return contract == LTB_CONTRACT_ARGV ? contract_names[1] :
	    contract_names[0];
}

int
ltb_contract(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(name, contract_names[i]) == 0)
			return i;
	return -1;
}

int
ltb_client_contract(const char *dir, int *contract, char *err,
    size_t errlen)
{
	char path[PATH_MAX + 16], name[256];
	unsigned long at;
	int rc, c;

	*contract = LTB_CONTRACT_HTTP;
	rc = one_name(dir, "contract", "contract", name, sizeof name, path,
	    sizeof path, &at, err, errlen);
	if (rc <= 0)
		return rc;
	if (at == 0) {
		snprintf(err, errlen, "%s: names no contract (known: http, "
		    "argv)", path);
		return -1;
	}
	if ((c = ltb_contract(name)) < 0) {
		snprintf(err, errlen, "%s:%lu: unknown contract '%.64s' "
		    "(known: http, argv)", path, at, name);
		return -1;
	}
	*contract = c;
	return 0;
}

int
ltb_client_setup(const char *dir, char *err, size_t errlen)
{
	char setup[PATH_MAX], *argv[2];
	int status;
	pid_t pid;

	snprintf(setup, sizeof setup, "%s/setup", dir);
	if (access(setup, F_OK) != 0)
		return 0;
	argv[0] = setup;
	argv[1] = NULL;
	if ((pid = ltb_proc_spawn(argv, NULL, -1, err, errlen)) < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "cannot wait for %s: %s", setup,
			    strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "%s failed (status %d)", setup,
		    WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
		    WTERMSIG(status));
		return -1;
	}
	return 0;
}
