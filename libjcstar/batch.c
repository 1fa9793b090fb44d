/*
 * batch.c - one label per unit serial of a CSV file, resumable.
 *
 * Pass 1 reads every line and checks it (format, unit serial rules,
 * duplicates: struct seen, in memory up to SEEN_MEM units, then in a
 * temporary on-disk SQLite table, so memory does not grow with the file).
 * Pass 2 reads the file again and issues in
 * transactions of CHUNK units (chunk_size()): a unit already in the
 * registry is not issued again, its file is written if missing. Files
 * are written after their transaction commits, each through a temporary
 * name and a rename.
 * docs/BATCH.md describes the CSV format.
 */
#define _GNU_SOURCE /* syncfs, sync_file_range */
#include <ctype.h>
#include <fcntl.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "internal.h"
#include "template.h"

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

/* Pass 1's duplicate check: the units seen so far, with their lines. They
 * are kept in memory, in a hash table, while there are at most SEEN_MEM
 * of them (about 7 MB at most); past that, or when a probe runs long
 * (units made to collide), they move to a temporary SQLite table on disk,
 * so that memory does not grow with the file. In memory, pass 1 of a
 * 20,000-unit file runs about five times faster: SQLite's insert was 85 %
 * of its instructions, and pass 1 is serial, before any label is signed. */
#define SEEN_SLOTS JCS_SEEN_SLOTS /* a power of two */
#define SEEN_MEM (SEEN_SLOTS / 2)
#define SEEN_PROBE 64

struct seen_unit {
	unsigned long line;
	char unit[JCS_MAX_UNIT_SERIAL + 1];
};

struct seen {
	uint32_t *slot;         /* SEEN_SLOTS: 1 + index into u, 0 free */
	struct seen_unit *u;
	size_t n, cap;
	sqlite3 *db;            /* once moved to disk */
	sqlite3_stmt *ins, *find;
};

uint64_t
jcs_batch_unit_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
seen_free(struct seen *s)
{
	free(s->slot);
	free(s->u);
	s->slot = NULL;
	s->u = NULL;
	sqlite3_finalize(s->ins);
	sqlite3_finalize(s->find);
	sqlite3_close(s->db);
}

/* Moves the units seen to a temporary table on disk; 0 or -1. */
static int
seen_to_disk(jcs_ctx *ctx, struct seen *s)
{
	/* "" opens a private temporary database on disk */
	if (sqlite3_open("", &s->db) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA cache_size=-4096; "
	    "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
	    "CREATE TABLE u(unit TEXT PRIMARY KEY, line INTEGER) "
	    "WITHOUT ROWID; BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO u VALUES (?, ?)", -1,
	    &s->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "SELECT line FROM u WHERE unit=?", -1,
	    &s->find, NULL) != SQLITE_OK)
		return jcs_fail(ctx, JCS_ERR_IO, "cannot make a temporary "
		    "table: %s", s->db != NULL ? sqlite3_errmsg(s->db) :
		    "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		int rc;

		sqlite3_bind_text(s->ins, 1, s->u[i].unit, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ins, 2, (sqlite3_int64)s->u[i].line);
		rc = sqlite3_step(s->ins);
		sqlite3_reset(s->ins);
		if (rc != SQLITE_DONE)
			return jcs_fail(ctx, JCS_ERR_IO, "temporary table: %s",
			    sqlite3_errmsg(s->db));
	}
	free(s->slot);
	free(s->u);
	s->slot = NULL;
	s->u = NULL;
	s->n = s->cap = 0;
	return 0;
}

/* Records unit (at most JCS_MAX_UNIT_SERIAL bytes), read on line. Returns
 * 0 if it is new, 1 if it was seen before (*first: that line), -1 on an
 * error. */
static int
seen_add(jcs_ctx *ctx, struct seen *s, const char *unit, unsigned long line,
    unsigned long *first)
{
	int rc;

	if (s->db == NULL) {
		uint64_t h = jcs_batch_unit_hash(unit);

		for (uint64_t k = 0; k < SEEN_PROBE; k++) {
			size_t i = (size_t)((h + k) & (SEEN_SLOTS - 1));
			uint32_t e = s->slot[i];

			/* a slot is used only once u holds its unit */
			if (e != 0 && s->u != NULL) {
				if (strcmp(s->u[e - 1].unit, unit) != 0)
					continue;
				*first = s->u[e - 1].line;
				return 1;
			}
			if (s->n == SEEN_MEM)
				break; /* full: to disk */
			if (s->n == s->cap) {
				size_t cap = s->cap != 0 ? 2 * s->cap : 1024;
				struct seen_unit *u = realloc(s->u,
				    cap * sizeof(*u));

				if (u == NULL)
					return jcs_fail(ctx, JCS_ERR_NOMEM,
					    "out of memory");
				s->u = u;
				s->cap = cap;
			}
			if (strlen(unit) >= sizeof(s->u[s->n].unit))
				return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
				    "unit serial too long"); /* unit_ok's */
			s->u[s->n].line = line;
			memcpy(s->u[s->n].unit, unit, strlen(unit) + 1);
			s->slot[i] = (uint32_t)++s->n;
			return 0;
		}
		if (seen_to_disk(ctx, s) == -1)
			return -1;
	}
	sqlite3_bind_text(s->ins, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->ins, 2, (sqlite3_int64)line);
	rc = sqlite3_step(s->ins);
	sqlite3_reset(s->ins);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_CONSTRAINT)
		return jcs_fail(ctx, JCS_ERR_IO, "temporary table: %s",
		    sqlite3_errmsg(s->db));
	*first = 0;
	sqlite3_bind_text(s->find, 1, unit, -1, SQLITE_STATIC);
	if (sqlite3_step(s->find) == SQLITE_ROW)
		*first = (unsigned long)sqlite3_column_int64(s->find, 0);
	sqlite3_reset(s->find);
	return 1;
}

/* Pass 1: every line checked, duplicates found; *rows set. */
int
jcs_batch_check_rows(jcs_ctx *ctx, const char *path, unsigned long *rows,
    const jcs_batch_opts *o)
{
	struct csv c;
	struct seen seen;
	char field[MAX_LINE + 4], why[400], msg[2048] = "";
	unsigned long errors = 0, n = 0;
	int rc;

	*rows = 0;
	memset(&seen, 0, sizeof(seen));
	if (csv_open(ctx, &c, path) == -1)
		return -1;
	if ((seen.slot = calloc(SEEN_SLOTS, sizeof(*seen.slot))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto done;
	}
	while ((rc = csv_next(&c, field, sizeof(field), why, sizeof(why))) !=
	    0) {
		int bad = rc == -1;

		if (!bad && !unit_ok(field, why, sizeof(why)))
			bad = 1;
		if (!bad) {
			unsigned long first = 0;

			rc = seen_add(ctx, &seen, field, c.line, &first);
			if (rc == -1)
				goto done;
			if (rc == 1) {
				snprintf(why, sizeof(why), "unit serial %.40s "
				    "is already on line %lu", field, first);
				bad = 1;
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
		if (n > 0 && (n & 4095) == 0 && o != NULL && o->stop != NULL &&
		    o->stop(o->stop_arg)) {
			jcs_fail(ctx, JCS_ERR_INTERRUPTED, "interrupted while "
			    "checking %s; nothing was issued", path);
			goto done;
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
	seen_free(&seen);
	fclose(c.f);
	return *rows > 0 ? 0 : -1;
}

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

/* ---- pass 2: issuing, a pipeline of chunks ----
 *
 * A chunk of CHUNK units goes through four stages: read (main thread: the
 * CSV lines, and which units the registry already has), signed (the jobs:
 * one label per new unit, each thread with its own contexts), committed
 * (main thread: one transaction records the chunk's labels and their audit
 * entries, in file order), written (the jobs: the files). While the jobs
 * sign chunk k and write chunk k-2, the main thread commits chunk k-1 and
 * reads chunk k+1, so the one registry writer does not hold up the
 * signing. A label is written only after its chunk commits. With one job
 * the same steps run one after the other on the calling thread.
 */

#define CHUNK 1024
#define CHUNK_EDGE 128            /* the first and the last chunk */
#define SLOTS 4
/* files written between two syncfs(2) calls (and one at the end) */
#define SYNC_EVERY 16384

enum { ITEM_NEW, ITEM_OLD };
enum { SLOT_FREE, SLOT_READ, SLOT_SIGNED, SLOT_COMMITTED };

struct item {
	char unit[JCS_MAX_UNIT_SERIAL + 1];
	int kind;                 /* ITEM_NEW: to sign; ITEM_OLD: issued */
	uint8_t *der;
	size_t len;
	char serial[41];
	time_t not_after;         /* ITEM_OLD: as recorded */
	char *line;               /* its line of the list (kept for reuse) */
	size_t line_len, line_cap;
	unsigned files;           /* files written for it by this run */
	jcs_err err;              /* of its job, JCS_OK if none */
	char msg[512];
};

struct slot {
	int stage;
	unsigned long seq;        /* chunk number, in file order */
	struct item it[CHUNK];
	size_t n;
	jcs_label_fields f;       /* of this chunk's labels (validity) */
	int serial_first;         /* first byte of its serials (random) */
};

struct worker {
	jcs_ctx *ctx;
	struct jcs_label_signer *signer;
	jcs_template *own_tmpl;   /* a helper's copy of the template */
};

/* The list (--out-list): written to a temporary file of a fixed name
 * beside it, renamed over it once complete. */
struct list {
	const char *path;
	char tmp[4200];
	int fd;                   /* the temporary, locked; -1 if none */
	uint8_t *buf;             /* one chunk's lines */
	size_t cap;
	off_t end;                /* bytes written so far */
};

/* The registry's commits made durable off the critical path: after a
 * chunk commits, a thread syncs the WAL while the next chunk is signed;
 * the chunk's labels are written out only once that sync returned 0. */
struct syncer {
	int fd;                   /* the WAL, or -1: commits sync themselves */
	pthread_t t;
	int running;
	int rc, err;
};

static void *
sync_main(void *arg)
{
	struct syncer *y = arg;

	y->rc = fdatasync(y->fd);
	y->err = errno;
	return NULL;
}

/* Waits for the sync under way, if any. Returns 0, or -1 if it failed. */
static int
sync_wait(jcs_ctx *ctx, struct syncer *y)
{
	if (!y->running)
		return 0;
	pthread_join(y->t, NULL);
	y->running = 0;
	if (y->rc == -1)
		return jcs_fail(ctx, JCS_ERR_REGISTRY, "cannot flush the "
		    "registry to disk: %s", strerror(y->err));
	return 0;
}

/* Starts syncing what the last commit wrote (or, if no thread can be
 * started, syncs now). Returns 0 or -1. */
static int
sync_start(jcs_ctx *ctx, struct syncer *y)
{
	if (y->fd == -1)
		return 0;
	if (sync_wait(ctx, y) == -1)
		return -1;
	y->rc = 0;
	if (pthread_create(&y->t, NULL, sync_main, y) == 0) {
		y->running = 1;
		return 0;
	}
	sync_main(y);
	return y->rc == -1 ? jcs_fail(ctx, JCS_ERR_REGISTRY, "cannot flush "
	    "the registry to disk: %s", strerror(y->err)) : 0;
}

struct run {
	const jcs_batch_opts *o;
	struct list list;
	struct syncer sync;
	jcs_ca *ca;
	const jcs_key *key;
	struct worker *w;
	int hsm;                  /* the key is in an HSM: one at a time */
	pthread_mutex_t hsm_lock;
	struct slot *sign, *write; /* the current job's chunks, or NULL */
	unsigned long rows, read; /* rows in the file (pass 1), read so far */
};

/* How many units the next chunk takes: CHUNK, except that the first and
 * the last are small, so that the jobs start signing sooner and the last
 * commit, which nothing runs beside, is short. */
static size_t
chunk_size(const struct run *r)
{
	unsigned long left = r->rows > r->read ? r->rows - r->read : 0;

	if (r->read == 0)
		return CHUNK_EDGE;
	if (left > CHUNK_EDGE && left <= CHUNK)
		return left - CHUNK_EDGE; /* and CHUNK_EDGE are left */
	return CHUNK;
}

static void
item_fail(struct item *it, const jcs_ctx *wctx)
{
	it->err = jcs_ctx_error(wctx);
	if (it->err == JCS_OK)
		it->err = JCS_ERR_NOMEM;
	snprintf(it->msg, sizeof(it->msg), "%s", jcs_ctx_message(wctx));
}

static void
item_clear(struct item *it)
{
	free(it->der);
	it->der = NULL;
	it->len = 0;
	it->line_len = 0;
	it->not_after = 0;
	it->files = 0;
	it->err = JCS_OK;
	it->msg[0] = '\0';
}

/* Signs one new unit's label with the worker's signer. */
static int
sign_item(struct run *r, struct worker *w, jcs_ctx *ctx,
    const struct slot *s, struct item *it)
{
	jcs_label_fields f = s->f;
	int rc;

	if (w->signer == NULL &&
	    (w->signer = jcs_label_signer_new(ctx, &s->f, r->key)) == NULL)
		return -1;
	f.product.unit_serial = it->unit;
	free(it->der);
	it->der = NULL;
	jcs_label_signer_set_serial_first(w->signer, s->serial_first);
	if (r->hsm)
		pthread_mutex_lock(&r->hsm_lock);
	rc = jcs_label_signer_sign(ctx, w->signer, &f, &it->der, &it->len,
	    it->serial);
	if (r->hsm)
		pthread_mutex_unlock(&r->hsm_lock);
	return rc;
}

static int
write_all_fd(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* 1 if path holds exactly data, else 0. */
static int
same_content(const char *path, const uint8_t *data, size_t len)
{
	uint8_t buf[8192];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t k;
	size_t got = 0;

	if (fd == -1)
		return 0;
	if (len + 1 > sizeof(buf)) {
		close(fd);
		return 0;
	}
	while ((k = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)k;
	close(fd);
	return k == 0 && got == len && memcmp(buf, data, len) == 0;
}

/* Writes UNIT.der or UNIT.pem. A new unit's file is created in place with
 * O_EXCL (no other name, no rename: half the directory operations); a
 * unit issued before keeps its file if it holds the label, else the file
 * is replaced through a temporary name and a rename. A file left empty or
 * short by a killed run is thus rewritten by the next one. */
static int
write_label_file(jcs_ctx *ctx, const jcs_batch_opts *o, struct item *it)
{
	char path[4096];
	char *pem = NULL;
	const uint8_t *data = it->der;
	size_t len = it->len;
	int fd, rc = -1;

	if (unit_path(path, sizeof(path), o->out_dir, it->unit,
	    o->pem ? "pem" : "der") == -1)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "output path is "
		    "too long");
	if (o->pem) {
		jcs_label *l = jcs_label_from_der(ctx, it->der, it->len);

		pem = l != NULL ? jcs_label_to_pem(ctx, l) : NULL;
		jcs_label_free(l);
		if (pem == NULL)
			return -1;
		data = (const uint8_t *)pem;
		len = strlen(pem);
	}
	if (it->kind == ITEM_OLD && same_content(path, data, len)) {
		rc = 0;
		goto done;
	}
	if (it->kind == ITEM_NEW) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		if (fd != -1) {
			if (write_all_fd(fd, data, len) == -1) {
				int e = errno;

				close(fd);
				unlink(path);
				jcs_fail(ctx, JCS_ERR_IO, "cannot write %s: %s",
				    path, strerror(e));
				goto done;
			}
			if (close(fd) == -1) {
				int e = errno;

				unlink(path);
				jcs_fail(ctx, JCS_ERR_IO, "cannot write %s: %s",
				    path, strerror(e));
				goto done;
			}
			it->files++;
			rc = 0;
			goto done;
		}
		if (errno != EEXIST) {
			jcs_fail(ctx, JCS_ERR_IO, "cannot create %s: %s", path,
			    strerror(errno));
			goto done;
		}
		/* a file of that name from something else: replaced */
	}
	if (jcs_write_file_atomic(ctx, path, data, len, 0644) == -1)
		goto done;
	it->files++;
	rc = 0;
done:
	free(pem);
	return rc;
}

/* The artwork UNIT.png, if missing or empty. */
static int
write_art_file(jcs_ctx *ctx, const jcs_batch_opts *o,
    const jcs_template *tmpl, struct item *it)
{
	char path[4096];
	struct stat st;
	jcs_label *l;
	char *payload;
	int rc;

	if (unit_path(path, sizeof(path), o->out_dir, it->unit, "png") == -1)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "output path is "
		    "too long");
	if (stat(path, &st) == 0 && st.st_size > 0)
		return 0;
	if ((l = jcs_label_from_der(ctx, it->der, it->len)) == NULL)
		return -1;
	payload = jcs_payload_encode(ctx, it->der, it->len,
	    o->payload_base_url != NULL ? JCS_FORM_URL : JCS_FORM_BARE,
	    o->payload_base_url);
	rc = payload == NULL ? -1 : jcs_render_file(ctx, tmpl, l, payload,
	    o->dpi > 0 ? o->dpi : 300, path);
	free(payload);
	jcs_label_free(l);
	if (rc == 0)
		it->files++;
	return rc;
}

/* Formats the item's line of the list: unit_serial,serial,not_after,
 * payload (none of them holds a comma or a quote: no quoting needed). */
static int
format_line(jcs_ctx *ctx, const jcs_batch_opts *o, const struct slot *s,
    struct item *it)
{
	const char *base = o->payload_base_url;
	size_t ul = strlen(it->unit), sl = strlen(it->serial), bl, pl, need;
	char date[16], *p;

	if (it->der == NULL || it->len == 0 || it->len > JCS_LABEL_MAX_DER)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "unit %s: no label "
		    "to list", it->unit);
	jcs_date_format(it->kind == ITEM_NEW ? s->f.not_after : it->not_after,
	    date, sizeof(date));
	bl = base != NULL ? strlen(base) : strlen(JCS_BARE_PREFIX);
	pl = base != NULL ? jcs_digits_encoded_len(it->len) :
	    jcs_base45_encoded_len(it->len);
	need = ul + 1 + sl + 1 + strlen(date) + 1 + bl + pl + 1;
	if (need > it->line_cap) {
		char *n = realloc(it->line, need);

		if (n == NULL)
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		it->line = n;
		it->line_cap = need;
	}
	p = it->line;
	memcpy(p, it->unit, ul);
	p += ul;
	*p++ = ',';
	memcpy(p, it->serial, sl);
	p += sl;
	*p++ = ',';
	memcpy(p, date, strlen(date));
	p += strlen(date);
	*p++ = ',';
	memcpy(p, base != NULL ? base : JCS_BARE_PREFIX, bl);
	p += bl;
	if (base != NULL)
		jcs_digits_encode(it->der, it->len, p);
	else
		jcs_base45_encode(it->der, it->len, p);
	p += pl;
	*p++ = '\n';
	it->line_len = (size_t)(p - it->line);
	return 0;
}

/* One item of a job: i < sign->n signs, the rest write files and lines. */
static void
job_item(void *arg, size_t i, int worker)
{
	struct run *r = arg;
	struct worker *w = &r->w[worker];
	jcs_ctx *ctx = w->ctx;
	size_t n_sign = r->sign != NULL ? r->sign->n : 0;
	struct item *it;

	if (i < n_sign) {
		it = &r->sign->it[i];
		if (it->kind == ITEM_NEW && sign_item(r, w, ctx, r->sign,
		    it) == -1)
			item_fail(it, ctx);
		return;
	}
	it = &r->write->it[i - n_sign];
	if (r->o->out_list != NULL && format_line(ctx, r->o, r->write,
	    it) == -1) {
		item_fail(it, ctx);
		return;
	}
	if (r->o->out_dir == NULL)
		return;
	if (write_label_file(ctx, r->o, it) == -1) {
		item_fail(it, ctx);
		return;
	}
	if (r->o->tmpl != NULL) {
		const jcs_template *t = w->own_tmpl != NULL ? w->own_tmpl :
		    r->o->tmpl;

		if (write_art_file(ctx, r->o, t, it) == -1)
			item_fail(it, ctx);
	}
}

/* Reads the next chunk of units into s and looks each up in the registry.
 * Returns 1 a chunk, 0 end of file, -1 error. */
static int read_units(jcs_ctx *ctx, struct run *r, struct csv *c,
    struct jcs_regbatch *rb, struct slot *s);

static int
read_chunk(jcs_ctx *ctx, struct run *r, struct csv *c,
    struct jcs_regbatch *rb, const jcs_issue_opts *io, struct slot *s)
{
	int rc;

	for (size_t i = 0; i < s->n; i++)
		item_clear(&s->it[i]);
	s->n = 0;
	jcs_regbatch_read(rb, 1);
	rc = read_units(ctx, r, c, rb, s);
	jcs_regbatch_read(rb, 0);
	if (rc != 1)
		return rc;
	/* the validity of this chunk's labels: from now, by the rules */
	if (jcs_ca_label_fields(ctx, r->ca, io, &s->f) == -1)
		return -1;
	{
		uint8_t b;

		if (RAND_bytes(&b, 1) != 1)
			return jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot draw "
			    "a random byte");
		s->serial_first = 1 + b % 0x7f;
	}
	s->stage = SLOT_READ;
	return 1;
}

/* read_chunk's lines into s: 1 some, 0 none left, -1 error. */
static int
read_units(jcs_ctx *ctx, struct run *r, struct csv *c,
    struct jcs_regbatch *rb, struct slot *s)
{
	const jcs_batch_opts *o = r->o;
	char field[MAX_LINE + 4], why[160];
	size_t want = chunk_size(r);

	while (s->n < want) {
		struct item *it = &s->it[s->n];
		int rc = csv_next(c, field, sizeof(field), why, sizeof(why));

		if (rc == 0)
			break;
		if (rc == -1)
			/* the file changed since it was checked */
			return jcs_fail(ctx, JCS_ERR_MALFORMED, "%s:%lu: %s "
			    "(the file changed during the batch?)",
			    o->csv_path, c->line, why);
		if (strlen(field) >= sizeof(it->unit) ||
		    !unit_ok(field, why, sizeof(why)))
			return jcs_fail(ctx, JCS_ERR_MALFORMED, "%s:%lu: bad "
			    "unit serial (the file changed during the "
			    "batch?)", o->csv_path, c->line);
		item_clear(it);
		memcpy(it->unit, field, strlen(field) + 1);
		if ((rc = jcs_regbatch_find(ctx, rb, it->unit, &it->der,
		    &it->len, it->serial, &it->not_after)) == -1)
			return -1;
		it->kind = rc == 1 ? ITEM_OLD : ITEM_NEW;
		s->n++;
		r->read++;
	}
	return s->n > 0 ? 1 : 0;
}

/* Records a signed chunk in one transaction. */
static int
commit_chunk(jcs_ctx *ctx, struct run *r, struct jcs_regbatch *rb,
    struct slot *s, jcs_batch_result *res)
{
	unsigned long issued = 0, existing = 0;

	if (jcs_regbatch_begin(ctx, rb) == -1)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		struct item *it = &s->it[i];
		int rc = 2;

		if (it->kind == ITEM_OLD) {
			existing++;
			continue;
		}
		for (int attempt = 0; rc == 2 && attempt < 3; attempt++) {
			if (attempt > 0 && sign_item(r, &r->w[0], ctx, s,
			    it) == -1)
				goto err;
			/* a serial seen before (never with 72 random bits,
			 * but the database is the judge): sign again */
			rc = jcs_regbatch_add(ctx, rb, it->serial, it->unit,
			    r->key->id_hex, s->f.not_before, s->f.not_after,
			    it->der, it->len);
		}
		if (rc == -1)
			goto err;
		if (rc == 2) {
			jcs_fail(ctx, JCS_ERR_REGISTRY, "could not draw a "
			    "fresh serial");
			goto err;
		}
		if (rc == 1) {
			/* another writer labelled this unit since the chunk
			 * was read: its label is the one; ours is dropped,
			 * never handed out */
			free(it->der);
			it->der = NULL;
			if (jcs_regbatch_find(ctx, rb, it->unit, &it->der,
			    &it->len, it->serial, &it->not_after) != 1) {
				if (jcs_ctx_error(ctx) == JCS_OK)
					jcs_fail(ctx, JCS_ERR_REGISTRY, "unit "
					    "%s: label vanished", it->unit);
				goto err;
			}
			it->kind = ITEM_OLD;
			existing++;
			continue;
		}
		issued++;
	}
	if (jcs_regbatch_commit(ctx, rb) == -1)
		return -1;
	res->issued += issued;
	res->existing += existing;
	s->stage = SLOT_COMMITTED;
	return 0;
err:
	jcs_regbatch_rollback(rb);
	return -1;
}

static int
flush_dir(jcs_ctx *ctx, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || syncfs(fd) == -1) {
		int e = errno;

		if (fd != -1)
			close(fd);
		return jcs_fail(ctx, JCS_ERR_IO, "cannot flush %s: %s", dir,
		    strerror(e));
	}
	close(fd);
	return 0;
}

static struct slot *
oldest(struct slot *slots, int stage)
{
	struct slot *best = NULL;

	for (int i = 0; i < SLOTS; i++)
		if (slots[i].stage == stage &&
		    (best == NULL || slots[i].seq < best->seq))
			best = &slots[i];
	return best;
}

static struct slot *
free_slot(struct slot *slots)
{
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].stage == SLOT_FREE)
			return &slots[i];
	return NULL;
}

/* The first failed item of s, its error copied to ctx; NULL if none. */
static const struct item *
failed_item(jcs_ctx *ctx, const struct slot *s)
{
	for (size_t i = 0; s != NULL && i < s->n; i++)
		if (s->it[i].err != JCS_OK) {
			jcs_fail(ctx, s->it[i].err, "%s", s->it[i].msg);
			return &s->it[i];
		}
	return NULL;
}

static int
run_workers(jcs_ctx *ctx, struct run *r, int jobs)
{
	if ((r->w = calloc((size_t)jobs, sizeof(*r->w))) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	for (int i = 0; i < jobs; i++) {
		if ((r->w[i].ctx = jcs_ctx_new_like(ctx)) == NULL)
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		/* a chunk's files are flushed together (syncfs) */
		r->w[i].ctx->defer_sync = 1;
		/* a template may keep state while it renders: every helper
		 * renders with its own copy */
		if (i > 0 && r->o->tmpl != NULL &&
		    (r->w[i].own_tmpl = jcs_template_load(ctx,
		    r->o->tmpl->path)) == NULL)
			return -1;
	}
	return 0;
}

/* ---- the list (--out-list) ---- */

/* The directory part of path ("." if none) into out. */
static int
dir_of(char *out, size_t n, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return jcs_pathf(out, n, ".");
	if (slash == path)
		return jcs_pathf(out, n, "/");
	if ((size_t)(slash - path) >= n)
		return -1;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return 0;
}

/* 1 if the file at path is the list of this batch, made by an earlier
 * run: its header, then a line of the file's first unit whose label
 * serial is the one the registry holds for it (serials are random: no
 * other list matches). 0 otherwise. */
static int
list_is_ours(jcs_ctx *ctx, const jcs_batch_opts *o, struct jcs_regbatch *rb,
    const char *path)
{
	struct csv c;
	char unit[MAX_LINE + 4], why[160], serial[41], want[MAX_LINE + 48];
	char head[sizeof(JCS_BATCH_LIST_HEADER) + 2], first[MAX_LINE + 48];
	uint8_t *der = NULL;
	size_t len;
	FILE *f;
	int ok = 0;

	if (csv_open(ctx, &c, o->csv_path) == -1)
		return 0;
	if (csv_next(&c, unit, sizeof(unit), why, sizeof(why)) == 1 &&
	    jcs_regbatch_find(ctx, rb, unit, &der, &len, serial, NULL) == 1 &&
	    (f = fopen(path, "r")) != NULL) {
		snprintf(want, sizeof(want), "%s,%s,", unit, serial);
		ok = fgets(head, sizeof(head), f) != NULL &&
		    strcmp(head, JCS_BATCH_LIST_HEADER "\n") == 0 &&
		    fgets(first, sizeof(first), f) != NULL &&
		    strncmp(first, want, strlen(want)) == 0;
		fclose(f);
	}
	free(der);
	fclose(c.f);
	jcs_ok(ctx);
	return ok;
}

/* Opens and locks the list's temporary file PATH.tmp, empty. The final
 * name must not hold anything but this batch's list. Returns 0 or -1. */
static int
list_open(jcs_ctx *ctx, struct list *l, const jcs_batch_opts *o,
    struct jcs_regbatch *rb)
{
	struct stat st, fst;

	l->path = o->out_list;
	if (jcs_pathf(l->tmp, sizeof(l->tmp), "%s.jcstar-tmp", l->path) == -1)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "--out-list path is "
		    "too long");
	if (lstat(l->path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return jcs_fail(ctx, JCS_ERR_EXISTS, "%s exists and is "
			    "not a regular file", l->path);
		if (!list_is_ours(ctx, o, rb, l->path))
			return jcs_fail(ctx, JCS_ERR_EXISTS, "%s exists and is "
			    "not the list of this batch (of %s, registration "
			    "%s): remove it, or choose another name", l->path,
			    o->csv_path, o->reg_id);
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		l->fd = open(l->tmp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0644);
		if (l->fd == -1)
			return jcs_fail(ctx, JCS_ERR_IO, "cannot create %s: %s",
			    l->tmp, strerror(errno));
		if (flock(l->fd, LOCK_EX | LOCK_NB) == -1) {
			close(l->fd);
			l->fd = -1;
			return jcs_fail(ctx, JCS_ERR_IO, "another batch is "
			    "writing %s: wait for it, or choose another name",
			    l->path);
		}
		/* still the file of that name (not renamed away by the run
		 * that held it): it is ours to empty */
		if (fstat(l->fd, &fst) == 0 && lstat(l->tmp, &st) == 0 &&
		    st.st_dev == fst.st_dev && st.st_ino == fst.st_ino) {
			if (ftruncate(l->fd, 0) == -1) {
				jcs_fail(ctx, JCS_ERR_IO, "cannot write %s: %s",
				    l->tmp, strerror(errno));
				break;
			}
			return 0;
		}
		close(l->fd);
		l->fd = -1;
	}
	if (l->fd != -1) {
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	return jcs_fail(ctx, JCS_ERR_IO, "cannot lock %s", l->tmp);
}

static int
list_write(jcs_ctx *ctx, struct list *l, const void *data, size_t len)
{
	if (write_all_fd(l->fd, data, len) == -1)
		return jcs_fail(ctx, JCS_ERR_IO, "cannot write %s: %s", l->tmp,
		    errno != 0 ? strerror(errno) : "short write");
	/* start writing it out now, so that the fsync at the end has only
	 * the last chunk left to wait for (a hint: errors come from fsync) */
	(void)sync_file_range(l->fd, l->end, (off_t)len,
	    SYNC_FILE_RANGE_WRITE);
	l->end += (off_t)len;
	return 0;
}

/* Appends a written chunk's lines, in file order, in one write. */
static int
list_add_chunk(jcs_ctx *ctx, struct list *l, const struct slot *s)
{
	size_t n = 0, off = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->it[i].line_len;
	if (n > l->cap) {
		uint8_t *b = realloc(l->buf, n);

		if (b == NULL)
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		l->buf = b;
		l->cap = n;
	}
	for (size_t i = 0; i < s->n; i++) {
		memcpy(l->buf + off, s->it[i].line, s->it[i].line_len);
		off += s->it[i].line_len;
	}
	return list_write(ctx, l, l->buf, n);
}

/* The list is complete: flushed to disk, renamed to its name, and the
 * rename flushed too. Returns 0 or -1. */
static int
list_finish(jcs_ctx *ctx, struct list *l)
{
	char dir[4200];
	int dfd;

	if (fsync(l->fd) == -1)
		return jcs_fail(ctx, JCS_ERR_IO, "cannot write %s: %s", l->tmp,
		    strerror(errno));
	if (rename(l->tmp, l->path) == -1)
		return jcs_fail(ctx, JCS_ERR_IO, "cannot rename %s to %s: %s",
		    l->tmp, l->path, strerror(errno));
	if (dir_of(dir, sizeof(dir), l->path) == 0 &&
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		int rc = fsync(dfd);

		close(dfd);
		if (rc == -1)
			return jcs_fail(ctx, JCS_ERR_IO, "cannot flush %s: %s",
			    dir, strerror(errno));
	}
	close(l->fd); /* releases the lock */
	l->fd = -1;
	return 0;
}

/* An unfinished list: its temporary is removed (a re-run rebuilds every
 * line from the registry). */
static void
list_abandon(struct list *l)
{
	if (l->fd == -1)
		return;
	unlink(l->tmp);
	close(l->fd);
	l->fd = -1;
}

static void
run_free(struct run *r, int jobs)
{
	for (int i = 0; r->w != NULL && i < jobs; i++) {
		jcs_ctx_free(r->w[i].ctx);
		jcs_label_signer_free(r->w[i].signer);
		jcs_template_free(r->w[i].own_tmpl);
	}
	free(r->w);
}

/* Keeps the first failure's error and message (ctx's) and drops every
 * chunk in flight: after a failure nothing more is written. */
static void
fail_batch(const jcs_ctx *ctx, int *failed, jcs_err *err, char *msg,
    size_t msglen, struct slot *slots)
{
	if (!*failed) {
		*err = jcs_ctx_error(ctx);
		snprintf(msg, msglen, "%s", jcs_ctx_message(ctx));
	}
	*failed = 1;
	for (int i = 0; i < SLOTS; i++)
		slots[i].stage = SLOT_FREE;
}

int
jcs_ca_issue_batch(jcs_ctx *ctx, jcs_ca *ca, const jcs_batch_opts *o,
    jcs_batch_result *res)
{
	struct csv c = { 0 };
	struct run r;
	struct slot *slots = NULL;
	struct jcs_pool *pool = NULL;
	struct jcs_regbatch *rb = NULL;
	jcs_issue_opts io;
	unsigned long total, done = 0, seq = 0, unsynced = 0;
	struct stat st;
	int lockfd = -1, jobs, eof = 0, stop = 0, failed = 0, rc = -1;
	jcs_err err = JCS_OK;
	char msg[512] = "";

	memset(&r, 0, sizeof(r));
	r.list.fd = -1;
	r.sync.fd = -1;
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (ca == NULL || o == NULL || o->reg_id == NULL ||
	    o->csv_path == NULL || (o->out_dir == NULL &&
	    o->out_list == NULL) || res == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "batch needs a CA, a registration, a CSV file and an "
		    "output directory or list file");
	if (o->out_dir == NULL && (o->tmpl != NULL || o->pem))
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "artwork and PEM "
		    "files go to an output directory: give one");
	jobs = o->jobs > 0 ? o->jobs : 1;
	if (jobs > jcs_jobs_max())
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "jobs must be 1 to "
		    "%d (4 per processor), not %d", jcs_jobs_max(), jobs);
	if (strcmp(o->csv_path, "-") == 0)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "the batch file must "
		    "be a file (it is read twice), not standard input");
	if (o->out_dir != NULL && (stat(o->out_dir, &st) == -1 ||
	    !S_ISDIR(st.st_mode)))
		return jcs_fail(ctx, JCS_ERR_IO, "output directory %s does "
		    "not exist", o->out_dir);
	if (o->out_list != NULL) {
		char dir[4200];

		if (strcmp(o->out_list, "-") == 0 || o->out_list[0] == '\0')
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "the list "
			    "must be a file (it is renamed into place once "
			    "complete), not standard output");
		if (dir_of(dir, sizeof(dir), o->out_list) == -1 ||
		    stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
			return jcs_fail(ctx, JCS_ERR_IO, "the directory of the "
			    "list %s does not exist", o->out_list);
		if (stat(o->out_list, &st) == 0 && S_ISDIR(st.st_mode))
			return jcs_fail(ctx, JCS_ERR_EXISTS, "the list %s is a "
			    "directory", o->out_list);
	}
	if (o->payload_base_url != NULL &&
	    jcs_base_url_check(ctx, o->payload_base_url) == -1)
		return -1;
	if ((rb = jcs_regbatch_new(ctx, ca, o->reg_id)) == NULL)
		return -1;
	if ((r.key = jcs_ca_current_key(ctx, ca)) == NULL)
		goto out;
	if (jcs_batch_check_rows(ctx, o->csv_path, &total, o) == -1)
		goto out;
	/* one batch at a time per output directory: the temporaries it
	 * finds are then surely left by a dead run */
	if (o->out_dir != NULL) {
		char lock[4200];

		jcs_pathf(lock, sizeof(lock), "%s/.jcstar-batch.lock",
		    o->out_dir);
		lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0644);
		if (lockfd == -1) {
			jcs_fail(ctx, JCS_ERR_IO, "cannot create %s: %s", lock,
			    strerror(errno));
			goto out;
		}
		if (flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
			jcs_fail(ctx, JCS_ERR_IO, "another batch is writing to "
			    "%s: wait for it, or use another --out-dir",
			    o->out_dir);
			goto out;
		}
	}
	if (o->out_dir != NULL)
		remove_stale_temporaries(o->out_dir);
	if (o->out_list != NULL && (list_open(ctx, &r.list, o, rb) == -1 ||
	    list_write(ctx, &r.list, JCS_BATCH_LIST_HEADER "\n",
	    strlen(JCS_BATCH_LIST_HEADER "\n")) == -1))
		goto out;
	res->rows = total;
	r.rows = total;

	/* the fields every label of the batch shares */
	memset(&io, 0, sizeof(io));
	{
		const jcs_registration *reg = jcs_regbatch_registration(rb);

		io.scheme = reg->scheme;
		io.level = reg->level;
		io.product = reg->product;
		io.lab = reg->lab;
		io.support_until = reg->support_until;
		if (o->issue != NULL) {
			io.not_before = o->issue->not_before;
			io.valid_days = o->issue->valid_days;
		}
	}
	r.o = o;
	r.ca = ca;
	r.sync.fd = jcs_regbatch_defer_sync(rb);
	r.hsm = jcs_key_in_hsm(r.key);
	pthread_mutex_init(&r.hsm_lock, NULL);
	if ((slots = calloc(SLOTS, sizeof(*slots))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto out_mutex;
	}
	if (run_workers(ctx, &r, jobs) == -1 ||
	    (pool = jcs_pool_new(ctx, jobs)) == NULL)
		goto out_mutex;
	if (csv_open(ctx, &c, o->csv_path) == -1)
		goto out_mutex;
	if (o->progress != NULL)
		o->progress(o->progress_arg, 0, total);

	for (;;) {
		struct slot *sign, *write, *commit, *next;
		size_t n;

		if (!stop && o->stop != NULL && o->stop(o->stop_arg)) {
			stop = 1;
			err = JCS_ERR_INTERRUPTED;
		}
		sign = stop ? NULL : oldest(slots, SLOT_READ);
		commit = stop ? NULL : oldest(slots, SLOT_SIGNED);
		write = oldest(slots, SLOT_COMMITTED);
		if (sign == NULL && write == NULL && commit == NULL &&
		    (stop || eof))
			break;
		/* the chunk to write was committed in the last round: its
		 * labels leave only once the registry holds them on disk */
		if (write != NULL && sync_wait(ctx, &r.sync) == -1) {
			fail_batch(ctx, &failed, &err, msg, sizeof(msg), slots);
			stop = 1;
			continue;
		}
		/* the jobs: sign one chunk, write the files of another */
		r.sign = sign;
		r.write = write;
		n = (sign != NULL ? sign->n : 0) + (write != NULL ? write->n :
		    0);
		jcs_pool_start(pool, job_item, &r, n);
		/* meanwhile, on this thread: commit, read ahead */
		if (commit != NULL && (commit_chunk(ctx, &r, rb, commit,
		    res) == -1 || sync_start(ctx, &r.sync) == -1)) {
			stop = failed = 1;
			err = jcs_ctx_error(ctx);
			snprintf(msg, sizeof(msg), "%s", jcs_ctx_message(ctx));
			/* nothing committed is written before it is durable */
			for (int i = 0; i < SLOTS; i++)
				if (slots[i].stage == SLOT_COMMITTED)
					slots[i].stage = SLOT_FREE;
		}
		if (!stop && !eof && (next = free_slot(slots)) != NULL) {
			int k = read_chunk(ctx, &r, &c, rb, &io, next);

			if (k == 1) {
				next->seq = seq++;
			} else if (k == 0) {
				eof = 1;
			} else {
				stop = failed = 1;
				err = jcs_ctx_error(ctx);
				snprintf(msg, sizeof(msg), "%s",
				    jcs_ctx_message(ctx));
			}
		}
		jcs_pool_wait(pool);
		r.sign = r.write = NULL;
		if (sign != NULL) {
			if (!failed && failed_item(ctx, sign) != NULL) {
				stop = failed = 1;
				err = jcs_ctx_error(ctx);
				snprintf(msg, sizeof(msg), "%s",
				    jcs_ctx_message(ctx));
			}
			sign->stage = SLOT_SIGNED;
		}
		if (write != NULL) {
			for (size_t i = 0; i < write->n; i++) {
				res->files += write->it[i].files;
				unsynced += write->it[i].files;
			}
			if (failed_item(ctx, write) != NULL ||
			    (r.list.fd != -1 && list_add_chunk(ctx, &r.list,
			    write) == -1)) {
				/* nothing more can be written reliably */
				fail_batch(ctx, &failed, &err, msg, sizeof(msg),
				    slots);
				stop = 1;
			} else {
				write->stage = SLOT_FREE;
				done += write->n;
				if (r.list.fd != -1)
					res->listed += write->n;
				if (unsynced >= SYNC_EVERY) {
					if (flush_dir(ctx, o->out_dir) == -1 &&
					    !failed) {
						stop = failed = 1;
						err = jcs_ctx_error(ctx);
						snprintf(msg, sizeof(msg), "%s",
						    jcs_ctx_message(ctx));
					}
					unsynced = 0;
				}
				if (o->progress != NULL)
					o->progress(o->progress_arg, done,
					    total);
			}
		}
		if (stop) {
			/* chunks not committed are dropped: their labels
			 * were never recorded nor handed out */
			for (int i = 0; i < SLOTS; i++)
				if (slots[i].stage == SLOT_READ ||
				    slots[i].stage == SLOT_SIGNED)
					slots[i].stage = SLOT_FREE;
		}
	}
	/* what was written is made durable, also when stopping */
	if (unsynced > 0 && flush_dir(ctx, o->out_dir) == -1 && !failed) {
		failed = 1;
		err = jcs_ctx_error(ctx);
		snprintf(msg, sizeof(msg), "%s", jcs_ctx_message(ctx));
	}
	/* the list gets its name only whole */
	if (r.list.fd != -1 && !failed && err != JCS_ERR_INTERRUPTED &&
	    list_finish(ctx, &r.list) == -1) {
		failed = 1;
		err = jcs_ctx_error(ctx);
		snprintf(msg, sizeof(msg), "%s", jcs_ctx_message(ctx));
	}
	if (failed) {
		jcs_fail(ctx, err, "%s", msg);
	} else if (err == JCS_ERR_INTERRUPTED) {
		jcs_fail(ctx, JCS_ERR_INTERRUPTED, "interrupted after %lu of "
		    "%lu labels; run the same command again to resume", done,
		    total);
	} else {
		rc = 0;
		jcs_ok(ctx);
	}
out_mutex:
	pthread_mutex_destroy(&r.hsm_lock);
out:
	/* a sync under way is waited for (it may still fail: nothing of its
	 * chunk was written) */
	if (r.sync.running) {
		pthread_join(r.sync.t, NULL);
		r.sync.running = 0;
	}
	list_abandon(&r.list);
	free(r.list.buf);
	jcs_pool_free(pool);
	run_free(&r, jobs);
	for (int i = 0; slots != NULL && i < SLOTS; i++)
		for (size_t k = 0; k < CHUNK; k++) {
			free(slots[i].it[k].der);
			free(slots[i].it[k].line);
		}
	free(slots);
	jcs_regbatch_free(rb);
	if (c.f != NULL)
		fclose(c.f);
	if (lockfd != -1)
		close(lockfd); /* releases the lock */
	return rc;
}
