/*
 * ltb_plot_run.c: running gnuplot on ltb-plot's programs; see ltb_plot.h.
 *
 * The program goes to a temporary file that gnuplot is given by name (the
 * spawner gives children /dev/null for stdin); gnuplot's stdout, the
 * image, goes where the caller says, and its stderr to an unlinked
 * temporary file that is read back so the caller can show it under its
 * own name. A graph lands in its file only once gnuplot has succeeded:
 * it is drawn into a temporary file beside it and renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot/ltb_plot.h"
#include "core/ltb_proc.h"

/* An unlinked temporary file, open for reading and writing; -1 on error. */
static int
scratch(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	snprintf(path, sizeof path, "%s/ltb-plot.XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -1;
	unlink(path);
	return fd;
}

/* All of fd from its start, NUL-terminated, into *out (owned). */
static int
slurp(int fd, char **out, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf, *p;
	ssize_t got;

	*out = NULL;
	*len = 0;
	if (lseek(fd, 0, SEEK_SET) < 0 || (buf = malloc(cap)) == NULL)
		return -1;
	for (;;) {
		if (n + 1 >= cap) {
			if ((p = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return -1;
			}
			buf = p;
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int
write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ltb_plot_gnuplot(const char *program, size_t len, int out_fd, char **said,
    char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	char path[4096], why[512], *argv[3];
	int pfd = -1, efd = -1, saved = -1, status, e = 0, rc = -1;
	size_t saidlen;
	pid_t pid;

	*said = NULL;
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	snprintf(path, sizeof path, "%s/ltb-plot.XXXXXX.gp", dir);
	if ((pfd = mkostemps(path, 3, O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot make a temporary file in %s: "
		    "%s", dir, strerror(errno));
		return -1;
	}
	if (write_all(pfd, program, len) < 0 || (efd = scratch()) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot write a temporary file in %s: "
		    "%s", dir, strerror(e));
		goto out;
	}

	/* The spawner gives the child our stderr: lend it the scratch
	 * file for the time of the fork. */
	if ((saved = fcntl(2, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    dup2(efd, 2) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot redirect gnuplot's stderr: %s",
		    strerror(e));
		goto out;
	}
	argv[0] = "gnuplot";
	argv[1] = path;
	argv[2] = NULL;
	pid = ltb_proc_spawn(argv, NULL, out_fd, why, sizeof why);
	e = errno;
	dup2(saved, 2);
	if (pid < 0) {
		if (e == ENOENT)
			snprintf(err, errlen, "gnuplot not found: install "
			    "gnuplot-nox (apt-get install gnuplot-nox)");
		else
			snprintf(err, errlen, "cannot run gnuplot: %s", why);
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			e = errno;
			snprintf(err, errlen, "cannot wait for gnuplot: %s",
			    strerror(e));
			goto out;
		}
	}
	if (slurp(efd, said, &saidlen) == 0 && saidlen == 0) {
		free(*said);
		*said = NULL;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = 0;
		e = 0;
	} else if (WIFEXITED(status)) {
		snprintf(err, errlen, "gnuplot failed (exit status %d)",
		    WEXITSTATUS(status));
		e = EIO;
	} else {
		snprintf(err, errlen, "gnuplot killed by signal %d",
		    WTERMSIG(status));
		e = EIO;
	}
out:
	if (saved >= 0)
		close(saved);
	if (efd >= 0)
		close(efd);
	close(pfd);
	unlink(path);
	errno = e;
	return rc;
}

/* The program for g into a new string *prog (owned). */
static int
program(enum ltb_plot_graph g, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, char **prog, size_t *len, char *err,
    size_t errlen)
{
	FILE *f;
	int rc, e;

	*prog = NULL;
	if ((f = open_memstream(prog, len)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	rc = ltb_plot_script(f, g, d, o, err, errlen);
	e = errno;
	if (fclose(f) == EOF && rc == 0) {
		e = errno;
		snprintf(err, errlen, "%s", strerror(e));
		rc = -1;
	}
	if (rc < 0) {
		free(*prog);
		*prog = NULL;
	}
	errno = e;
	return rc;
}

/* Our options, without a "set output": gnuplot writes to its stdout. */
static struct ltb_plot_opts
to_stdout(const struct ltb_plot_opts *o)
{
	struct ltb_plot_opts p = *o;

	p.output = NULL;
	return p;
}

int
ltb_plot_render(enum ltb_plot_graph g, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, const char *path, char **said,
    char *err, size_t errlen)
{
	struct ltb_plot_opts p = to_stdout(o);
	char *prog = NULL, *copy = NULL, tmp[4096];
	int fd = -1, rc = -1, e = 0, direct;
	struct stat st;
	size_t len;
	mode_t mask;

	*said = NULL;
	tmp[0] = '\0';
	if (program(g, d, &p, &prog, &len, err, errlen) < 0)
		return -1;
	/* "-", or a device or pipe (-o /dev/stdout), is written as it is;
	 * a file through a temporary file beside it. */
	direct = strcmp(path, "-") == 0 || (stat(path, &st) == 0 &&
	    !S_ISREG(st.st_mode));
	if (strcmp(path, "-") == 0)
		fd = 1;
	else if (direct)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	else if ((copy = strdup(path)) != NULL) {
		snprintf(tmp, sizeof tmp, "%s/.ltb-plot.XXXXXX",
		    dirname(copy));
		if ((fd = mkostemp(tmp, O_CLOEXEC)) >= 0) {
			/* mkstemp's 0600 is for secrets; an image is
			 * made like any other file. */
			mask = umask(0);
			umask(mask);
			fchmod(fd, 0666 & ~mask);
		}
	} else
		errno = ENOMEM;
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot write '%s': %s", path,
		    strerror(e));
		tmp[0] = '\0';
		goto out;
	}
	if (ltb_plot_gnuplot(prog, len, fd, said, err, errlen) < 0) {
		e = errno;
		goto out;
	}
	if (!direct && fsync(fd) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot write '%s': %s", path,
		    strerror(e));
		goto out;
	}
	if (!direct && rename(tmp, path) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot write '%s': %s", path,
		    strerror(e));
		goto out;
	}
	tmp[0] = '\0';
	rc = 0;
out:
	if (fd > 1)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	free(copy);
	free(prog);
	errno = e;
	return rc;
}

int
ltb_plot_render_mem(enum ltb_plot_graph g, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, char **out, size_t *outlen, char **said,
    char *err, size_t errlen)
{
	struct ltb_plot_opts p = to_stdout(o);
	int fd = -1, rc = -1, e = 0;
	char *prog = NULL;
	size_t len;

	*out = NULL;
	*outlen = 0;
	*said = NULL;
	if (program(g, d, &p, &prog, &len, err, errlen) < 0)
		return -1;
	if ((fd = scratch()) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot make a temporary file: %s",
		    strerror(e));
		goto out;
	}
	if (ltb_plot_gnuplot(prog, len, fd, said, err, errlen) < 0) {
		e = errno;
		goto out;
	}
	if (slurp(fd, out, outlen) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot read gnuplot's output: %s",
		    strerror(e));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(prog);
	errno = e;
	return rc;
}
