/*
 * batch.c - one label per unit serial of a CSV file, resumable.
 *
 * Pass 1 reads every line and checks it (format, unit serial rules,
 * duplicates through a temporary on-disk SQLite table, so memory does not
 * grow with the file). Pass 2 reads the file again and issues in
 * transactions of CHUNK units: a unit already in the registry is not
 * issued again, its file is written if missing. Files are written after
 * their transaction commits, each through a temporary name and a rename.
 * docs/BATCH.md describes the CSV format.
 */
#define _GNU_SOURCE /* syncfs */
#include <ctype.h>
#include <fcntl.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "internal.h"

#define CHUNK 256
#define MAX_LINE 256
#define MAX_ERRORS 20

struct csv {
	FILE *f;
	unsigned long line;
	char buf[MAX_LINE + 4];
};

/* Reads the next line's single field into out (NUL-terminated). Returns
 * 1 a field, 0 end of file, -1 a bad line (message in why). */
static int
csv_next(struct csv *c, char *out, size_t outlen, char *why, size_t whylen)
{
	size_t n;
	char *p, *q;

	for (;;) {
		if (fgets(c->buf, sizeof(c->buf), c->f) == NULL)
			return ferror(c->f) ? (snprintf(why, whylen,
			    "read error: %s", strerror(errno)), -1) : 0;
		c->line++;
		n = strlen(c->buf);
		if (n == sizeof(c->buf) - 1 && c->buf[n - 1] != '\n') {
			int ch;

			/* skip the rest of the over-long line */
			while ((ch = fgetc(c->f)) != EOF && ch != '\n')
				;
			snprintf(why, whylen, "line is longer than %d bytes",
			    MAX_LINE);
			return -1;
		}
		if (n > 0 && c->buf[n - 1] == '\n')
			c->buf[--n] = '\0';
		if (n > 0 && c->buf[n - 1] == '\r')
			c->buf[--n] = '\0';
		if (n == 0 && feof(c->f))
			return 0;
		break;
	}
	if (memchr(c->buf, '\0', n) != NULL || strlen(c->buf) != n) {
		snprintf(why, whylen, "holds a NUL byte");
		return -1;
	}
	p = c->buf;
	if (*p == '"') {
		/* a quoted field: "..." with "" for a quote inside */
		q = out;
		for (p++;; p++) {
			if (*p == '\0') {
				snprintf(why, whylen, "unterminated quote");
				return -1;
			}
			if (*p == '"' && p[1] == '"') {
				if ((size_t)(q - out) + 1 >= outlen)
					goto toolong;
				*q++ = '"';
				p++;
				continue;
			}
			if (*p == '"')
				break;
			if ((size_t)(q - out) + 1 >= outlen)
				goto toolong;
			*q++ = *p;
		}
		*q = '\0';
		if (p[1] != '\0') {
			snprintf(why, whylen, "text after the closing quote "
			    "(one field per line)");
			return -1;
		}
		return 1;
	}
	if (strchr(p, '"') != NULL) {
		snprintf(why, whylen, "a quote inside an unquoted field");
		return -1;
	}
	if (strchr(p, ',') != NULL) {
		snprintf(why, whylen, "more than one field (one unit serial "
		    "per line)");
		return -1;
	}
	if (strlen(p) >= outlen)
		goto toolong;
	snprintf(out, outlen, "%s", p);
	return 1;
toolong:
	snprintf(why, whylen, "unit serial is longer than %d bytes",
	    JCS_MAX_UNIT_SERIAL);
	return -1;
}

static int
unit_ok(const char *u, char *why, size_t whylen)
{
	size_t n = strlen(u);

	if (n == 0) {
		snprintf(why, whylen, "empty unit serial");
		return 0;
	}
	if (n > JCS_MAX_UNIT_SERIAL) {
		snprintf(why, whylen, "unit serial is %zu bytes; at most %d",
		    n, JCS_MAX_UNIT_SERIAL);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)u[i]) &&
		    strchr("-._/:", u[i]) == NULL) {
			snprintf(why, whylen, "unit serial may hold only ASCII "
			    "letters, digits and - . _ / : (found 0x%02x at "
			    "byte %zu)", (unsigned char)u[i], i);
			return 0;
		}
	return 1;
}

static int
csv_open(jcs_ctx *ctx, struct csv *c, const char *path)
{
	char field[MAX_LINE + 4], why[128];
	int rc;

	memset(c, 0, sizeof(*c));
	if ((c->f = fopen(path, "r")) == NULL)
		return jcs_fail(ctx, JCS_ERR_IO, "cannot open %s: %s", path,
		    strerror(errno));
	rc = csv_next(c, field, sizeof(field), why, sizeof(why));
	if (rc != 1 || strcmp(field, "unit_serial") != 0) {
		fclose(c->f);
		c->f = NULL;
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "%s:1: expected the header line 'unit_serial'%s%s", path,
		    rc == -1 ? ": " : "", rc == -1 ? why : "");
	}
	return 0;
}

/* Pass 1: every line checked, duplicates found; *rows set. */
int
jcs_batch_check_rows(jcs_ctx *ctx, const char *path, unsigned long *rows)
{
	struct csv c;
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL, *find = NULL;
	char field[MAX_LINE + 4], why[400], msg[2048] = "";
	unsigned long errors = 0, n = 0;
	int rc;

	*rows = 0;
	if (csv_open(ctx, &c, path) == -1)
		return -1;
	/* "" opens a private temporary database on disk */
	if (sqlite3_open("", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA cache_size=-4096; PRAGMA journal_mode=OFF;"
	    "PRAGMA synchronous=OFF; CREATE TABLE u(unit TEXT PRIMARY KEY, "
	    "line INTEGER); BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO u VALUES (?, ?)", -1, &ins,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT line FROM u WHERE unit=?", -1,
	    &find, NULL) != SQLITE_OK) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot make a temporary table: %s",
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto done;
	}
	while ((rc = csv_next(&c, field, sizeof(field), why, sizeof(why))) !=
	    0) {
		int bad = rc == -1;

		if (!bad && !unit_ok(field, why, sizeof(why)))
			bad = 1;
		if (!bad) {
			sqlite3_bind_text(ins, 1, field, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 2, (sqlite3_int64)c.line);
			rc = sqlite3_step(ins);
			sqlite3_reset(ins);
			if (rc == SQLITE_CONSTRAINT) {
				long first = 0;

				sqlite3_bind_text(find, 1, field, -1,
				    SQLITE_STATIC);
				if (sqlite3_step(find) == SQLITE_ROW)
					first = sqlite3_column_int(find, 0);
				sqlite3_reset(find);
				snprintf(why, sizeof(why), "unit serial %.40s is "
				    "already on line %ld", field, first);
				bad = 1;
			} else if (rc != SQLITE_DONE) {
				jcs_fail(ctx, JCS_ERR_IO, "temporary table: %s",
				    sqlite3_errmsg(db));
				goto done;
			}
		}
		if (bad) {
			if (errors < MAX_ERRORS) {
				size_t l = strlen(msg);

				snprintf(msg + l, sizeof(msg) - l,
				    "\n  line %lu: %s", c.line, why);
			}
			errors++;
		}
		if (++n > JCS_BATCH_MAX_ROWS) {
			jcs_fail(ctx, JCS_ERR_TOO_LARGE, "%s has more than %lu "
			    "rows", path, JCS_BATCH_MAX_ROWS);
			goto done;
		}
	}
	if (errors > 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "%s: %lu bad line%s; nothing "
		    "was issued:%s%s", path, errors, errors == 1 ? "" : "s",
		    msg, errors > MAX_ERRORS ? "\n  ..." : "");
		goto done;
	}
	if (n == 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "%s has no unit serials after "
		    "its header", path);
		goto done;
	}
	*rows = n;
done:
	sqlite3_finalize(ins);
	sqlite3_finalize(find);
	sqlite3_close(db);
	fclose(c.f);
	return *rows > 0 ? 0 : -1;
}

struct item {
	char unit[JCS_MAX_UNIT_SERIAL + 1];
	uint8_t *der;
	size_t len;
};

/* out_dir/UNIT.ext, '/' written as %2F. */
static int
unit_path(char *out, size_t n, const char *dir, const char *unit,
    const char *ext)
{
	char name[3 * JCS_MAX_UNIT_SERIAL + 1];
	size_t o = 0;

	for (const char *p = unit; *p != '\0'; p++) {
		if (*p == '/') {
			memcpy(name + o, "%2F", 3);
			o += 3;
		} else {
			name[o++] = *p;
		}
	}
	name[o] = '\0';
	return jcs_pathf(out, n, "%s/%s.%s", dir, name, ext);
}

static int write_chunk_files(jcs_ctx *ctx, const jcs_batch_opts *o,
    struct item *it, size_t n, unsigned long *files);

/* Writes the files of one committed chunk, then makes them durable with one
 * syncfs(2) on the output directory's file system (instead of an fsync per
 * file, which would bound a batch to the disk's flush rate). */
static int
write_chunk(jcs_ctx *ctx, const jcs_batch_opts *o, struct item *it, size_t n,
    unsigned long *files)
{
	int rc, fd;

	ctx->defer_sync = 1;
	rc = write_chunk_files(ctx, o, it, n, files);
	ctx->defer_sync = 0;
	if (rc == -1)
		return -1;
	if ((fd = open(o->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    syncfs(fd) == -1) {
		int e = errno;

		if (fd != -1)
			close(fd);
		return jcs_fail(ctx, JCS_ERR_IO, "cannot flush %s: %s",
		    o->out_dir, strerror(e));
	}
	close(fd);
	return 0;
}

static int
write_chunk_files(jcs_ctx *ctx, const jcs_batch_opts *o, struct item *it,
    size_t n, unsigned long *files)
{
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		jcs_label *l = NULL;

		unit_path(path, sizeof(path), o->out_dir, it[i].unit,
		    o->pem ? "pem" : "der");
		/* an empty file (a crash before the data reached the disk)
		 * is written again */
		if (stat(path, &st) == -1 || st.st_size == 0) {
			if ((l = jcs_label_from_der(ctx, it[i].der,
			    it[i].len)) == NULL ||
			    jcs_label_write_file(ctx, l, path) == -1)
				goto err;
			(*files)++;
		}
		if (o->tmpl != NULL) {
			unit_path(path, sizeof(path), o->out_dir, it[i].unit,
			    "png");
			if (stat(path, &st) == -1 || st.st_size == 0) {
				char *payload;
				int rc;

				if (l == NULL && (l = jcs_label_from_der(ctx,
				    it[i].der, it[i].len)) == NULL)
					goto err;
				payload = jcs_payload_encode(ctx, it[i].der,
				    it[i].len, o->payload_base_url != NULL ?
				    JCS_FORM_URL : JCS_FORM_BARE,
				    o->payload_base_url);
				if (payload == NULL)
					goto err;
				rc = jcs_render_file(ctx, o->tmpl, l, payload,
				    o->dpi > 0 ? o->dpi : 300, path);
				free(payload);
				if (rc == -1)
					goto err;
				(*files)++;
			}
		}
		jcs_label_free(l);
		continue;
err:
		jcs_label_free(l);
		return -1;
	}
	return 0;
}

/* Removes UNIT.der/.pem/.png temporaries left by a killed run (the writer
 * names them NAME.tmp-XXXXXX and renames them when complete). */
static void
remove_stale_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4200];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *t = strstr(de->d_name, ".tmp-");

		if (t == NULL || strlen(t) != 11 || t - de->d_name < 4 ||
		    de->d_name[0] == '.' ||
		    (strncmp(t - 4, ".der", 4) != 0 &&
		    strncmp(t - 4, ".pem", 4) != 0 &&
		    strncmp(t - 4, ".png", 4) != 0))
			continue;
		if (jcs_pathf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) == 0)
			unlink(path);
	}
	closedir(d);
}

int
jcs_ca_issue_batch(jcs_ctx *ctx, jcs_ca *ca, const jcs_batch_opts *o,
    jcs_batch_result *res)
{
	struct csv c = { 0 };
	struct item *it = NULL;
	char field[MAX_LINE + 4], why[160];
	unsigned long total, done = 0, chunk_new = 0;
	struct stat st;
	int lockfd = -1;
	int rc = -1;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (ca == NULL || o == NULL || o->reg_id == NULL ||
	    o->csv_path == NULL || o->out_dir == NULL || res == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "batch needs a CA, a registration, a CSV file and an "
		    "output directory");
	if (strcmp(o->csv_path, "-") == 0)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "the batch file must "
		    "be a file (it is read twice), not standard input");
	if (stat(o->out_dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return jcs_fail(ctx, JCS_ERR_IO, "output directory %s does "
		    "not exist", o->out_dir);
	if (o->payload_base_url != NULL &&
	    jcs_base_url_check(ctx, o->payload_base_url) == -1)
		return -1;
	if (jcs_registry_check_issuable(ctx, ca, o->reg_id) == -1 ||
	    jcs_ca_current_key(ctx, ca) == NULL)
		return -1;
	if (jcs_batch_check_rows(ctx, o->csv_path, &total) == -1)
		return -1;
	/* one batch at a time per output directory: the temporaries it
	 * finds are then surely left by a dead run */
	{
		char lock[4200];

		jcs_pathf(lock, sizeof(lock), "%s/.jcstar-batch.lock",
		    o->out_dir);
		lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0644);
		if (lockfd == -1)
			return jcs_fail(ctx, JCS_ERR_IO, "cannot create %s: %s",
			    lock, strerror(errno));
		if (flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
			close(lockfd);
			return jcs_fail(ctx, JCS_ERR_IO, "another batch is "
			    "writing to %s: wait for it, or use another "
			    "--out-dir", o->out_dir);
		}
	}
	remove_stale_temporaries(o->out_dir);
	res->rows = total;
	if ((it = calloc(CHUNK, sizeof(*it))) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	if (csv_open(ctx, &c, o->csv_path) == -1)
		goto out;
	if (o->progress != NULL)
		o->progress(o->progress_arg, 0, total);
	for (;;) {
		size_t n = 0;
		int more = 1;

		chunk_new = 0;

		if (jcs_registry_begin(ctx, ca) == -1)
			goto out;
		while (n < CHUNK) {
			int r = csv_next(&c, field, sizeof(field), why,
			    sizeof(why));
			jcs_label *l;

			if (r == 0) {
				more = 0;
				break;
			}
			if (r == -1) {
				/* the file changed since it was checked */
				jcs_fail(ctx, JCS_ERR_MALFORMED, "%s:%lu: %s "
				    "(the file changed during the batch?)",
				    o->csv_path, c.line, why);
				goto abort;
			}
			if (strlen(field) >= sizeof(it[n].unit) ||
			    !unit_ok(field, why, sizeof(why))) {
				jcs_fail(ctx, JCS_ERR_MALFORMED, "%s:%lu: bad "
				    "unit serial (the file changed during the "
				    "batch?)", o->csv_path, c.line);
				goto abort;
			}
			memcpy(it[n].unit, field, strlen(field) + 1);
			r = jcs_registry_unit_label(ctx, ca, o->reg_id, field,
			    &it[n].der, &it[n].len);
			if (r == -1)
				goto abort;
			if (r == 1) {
				res->existing++;
				n++;
				continue;
			}
			if ((l = jcs_registry_issue_locked(ctx, ca, o->reg_id,
			    field, o->issue)) == NULL)
				goto abort;
			{
				const uint8_t *d = jcs_label_der(l, &it[n].len);

				if ((it[n].der = malloc(it[n].len)) == NULL) {
					jcs_label_free(l);
					jcs_fail(ctx, JCS_ERR_NOMEM,
					    "out of memory");
					goto abort;
				}
				memcpy(it[n].der, d, it[n].len);
			}
			jcs_label_free(l);
			res->issued++;
			chunk_new++;
			n++;
		}
		if (jcs_registry_commit(ctx, ca) == -1) {
			/* the chunk's labels were never handed out */
			res->issued -= chunk_new;
			goto out_items;
		}
		if (write_chunk(ctx, o, it, n, &res->files) == -1)
			goto out_items;
		done += n;
		for (size_t i = 0; i < n; i++) {
			free(it[i].der);
			it[i].der = NULL;
		}
		if (o->progress != NULL)
			o->progress(o->progress_arg, done, total);
		if (!more)
			break;
	}
	rc = 0;
	jcs_ok(ctx);
	goto out;
abort:
	jcs_registry_rollback(ca);
	/* labels of the rolled-back chunk were never recorded nor written */
	res->issued -= chunk_new;
out_items:
	for (size_t i = 0; i < CHUNK; i++)
		free(it[i].der);
	free(it);
	it = NULL;
out:
	if (it != NULL) {
		for (size_t i = 0; i < CHUNK; i++)
			free(it[i].der);
		free(it);
	}
	if (c.f != NULL)
		fclose(c.f);
	if (lockfd != -1)
		close(lockfd); /* releases the lock */
	return rc;
}
