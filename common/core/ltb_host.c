/*
 * ltb_host.c: the machine the figures are measured on; see ltb_host.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/ltb_host.h"

int
ltb_host_cpu_model(const char *path, char *buf, size_t len)
{
	char *line = NULL, *v, *end;
	size_t cap = 0;
	FILE *f;
	int rc = -1;

	buf[0] = '\0';
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (rc < 0 && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "model name", 10) != 0 ||
		    (v = strchr(line + 10, ':')) == NULL)
			continue;
		/* "model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n" */
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		end = v + strlen(v);
		while (end > v && (end[-1] == '\n' || end[-1] == ' ' ||
		    end[-1] == '\t'))
			*--end = '\0';
		if (*v == '\0')
			continue;
		snprintf(buf, len, "%s", v);
		rc = 0;
	}
	free(line);
	fclose(f);
	return rc;
}

void
ltb_host_read(struct ltb_host *h)
{
	struct utsname u;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(h, 0, sizeof *h);
	ltb_host_cpu_model("/proc/cpuinfo", h->cpu_model,
	    sizeof h->cpu_model);
	h->cores = n > 0 ? n : 0;
	if (uname(&u) == 0)
		snprintf(h->kernel, sizeof h->kernel, "%s", u.release);
}
