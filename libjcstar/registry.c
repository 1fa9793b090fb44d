/*
 * registry.c - the certification body's record of what it did: the
 * registrations it assessed, every label it issued (recorded and committed
 * before the label is handed out), revocations, and an audit log in which
 * each entry carries the hash of the one before. One SQLite file,
 * DIR/registry.db, in WAL mode with synchronous=FULL: a commit survives a
 * crash or a kill -9, and several processes may work on one CA at once
 * (writers take the database lock with BEGIN IMMEDIATE and wait for it).
 *
 * docs/REGISTRY.md describes the schema.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "internal.h"

#define REGISTRY_APP_ID 0x4a435352 /* "JCSR" */
#define REGISTRY_VERSION 2
/* how long a writer waits for another one: 30 s, or $JCSTAR_LOCK_TIMEOUT
 * seconds (0 to 3600) */
#define BUSY_TIMEOUT_MS 30000
#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct jcs_registry {
	sqlite3 *db;
	char path[PATH_MAX];
	int in_txn;
	int busy_ms;
};

/* A count the registry keeps in its meta table (written by this code as
 * a decimal number); a damaged value reads as -1, which no audit chain
 * matches. */
static long long
count_of(const char *text)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < 0)
		return -1;
	return v;
}

static int
busy_timeout_ms(void)
{
	const char *e = getenv("JCSTAR_LOCK_TIMEOUT");
	int s;

	if (e != NULL && *e != '\0' &&
	    jcs_parse_int(e, strlen(e), 0, 3600, &s) == 0)
		return s * 1000;
	return BUSY_TIMEOUT_MS;
}

static const char schema[] =
"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
"CREATE TABLE registrations (\n"
"  reg_id TEXT PRIMARY KEY,\n"
"  scheme INTEGER NOT NULL, level INTEGER NOT NULL,\n"
"  vendor TEXT NOT NULL, product TEXT NOT NULL, model TEXT NOT NULL,\n"
"  lab TEXT, support_until INTEGER,\n"
"  created_at INTEGER NOT NULL,\n"
"  withdrawn_at INTEGER, withdrawn_reason INTEGER);\n"
"CREATE TABLE labels (\n"
"  serial TEXT PRIMARY KEY,\n"          /* hex of the serial: unique */
"  reg_id TEXT NOT NULL REFERENCES registrations(reg_id),\n"
"  unit_serial TEXT,\n"
"  signer_id TEXT NOT NULL,\n"
"  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,\n"
"  issued_at INTEGER NOT NULL,\n"
"  der BLOB NOT NULL,\n"
"  revoked_at INTEGER, reason INTEGER);\n"
"CREATE UNIQUE INDEX labels_unit ON labels(reg_id, unit_serial)\n"
"  WHERE unit_serial IS NOT NULL;\n"
"CREATE INDEX labels_reg ON labels(reg_id);\n"
"CREATE TABLE revoked_signers (\n"
"  signer_id TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL,\n"
"  reason INTEGER NOT NULL);\n"
"CREATE TABLE audit (\n"
"  seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, op TEXT NOT NULL,\n"
"  subject TEXT NOT NULL, result TEXT NOT NULL,\n"
"  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);\n"
"INSERT INTO meta VALUES ('audit_count', '0'), ('audit_head', '"
ZERO_HASH "'), ('label_crl_number', '0'), ('signer_crl_number', '0');\n";

/* Format 2 adds the basis of simplified applications (docs/SCHEMES.md); a
 * format-1 registry is brought up to date when it is opened. */
static const char schema_v2[] =
"CREATE TABLE bases (\n"
"  reg_id TEXT PRIMARY KEY REFERENCES registrations(reg_id),\n"
"  kind TEXT NOT NULL CHECK (kind IN ('label', 'statement')),\n"
"  scheme INTEGER NOT NULL, level INTEGER NOT NULL,\n"
"  serial TEXT, issuer TEXT,\n"          /* a label's, hex */
"  content BLOB NOT NULL,\n"             /* the label's DER, or the text */
"  summary TEXT NOT NULL,\n"             /* what was checked */
"  recognition TEXT NOT NULL,\n"         /* FILE:LINE: basis */
"  recorded_at INTEGER NOT NULL);\n";

/* ---- plumbing ---- */

static int
db_fail(jcs_ctx *ctx, struct jcs_registry *r, const char *what)
{
	int code = sqlite3_extended_errcode(r->db);
	const char *msg = sqlite3_errmsg(r->db);

	if ((code & 0xff) == SQLITE_NOTADB)
		return jcs_fail(ctx, JCS_ERR_REGISTRY,
		    "%s is not a jcstar registry (not an SQLite database)",
		    r->path);
	if ((code & 0xff) == SQLITE_FULL)
		return jcs_fail(ctx, JCS_ERR_IO, "%s: %s: the disk is full",
		    r->path, what);
	if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) ==
	    SQLITE_CANTOPEN || (code & 0xff) == SQLITE_PERM)
		return jcs_fail(ctx, JCS_ERR_IO, "%s: %s: %s", r->path, what,
		    msg);
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return jcs_fail(ctx, JCS_ERR_REGISTRY,
		    "%s: %s: the registry is locked by another process "
		    "(waited %d s; try again when it is done, or raise "
		    "JCSTAR_LOCK_TIMEOUT)", r->path, what, r->busy_ms / 1000);
	if ((code & 0xff) == SQLITE_IOERR)
		return jcs_fail(ctx, JCS_ERR_IO, "%s: %s: %s", r->path, what,
		    msg);
	return jcs_fail(ctx, JCS_ERR_REGISTRY, "%s: %s: %s", r->path, what,
	    msg);
}

static int
exec(jcs_ctx *ctx, struct jcs_registry *r, const char *sql, const char *what)
{
	if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(ctx, r, what);
	return 0;
}

static sqlite3_stmt *
prep(jcs_ctx *ctx, struct jcs_registry *r, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(ctx, r, "cannot read the registry");
		return NULL;
	}
	return st;
}

static int
begin(jcs_ctx *ctx, struct jcs_registry *r)
{
	if (exec(ctx, r, "BEGIN IMMEDIATE", "cannot start a transaction") ==
	    -1)
		return -1;
	r->in_txn = 1;
	return 0;
}

static int
commit(jcs_ctx *ctx, struct jcs_registry *r)
{
	r->in_txn = 0;
	if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(ctx, r, "cannot commit");
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static void
rollback(struct jcs_registry *r)
{
	if (r->in_txn)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	r->in_txn = 0;
}

void
jcs_registry_close(struct jcs_registry *r)
{
	if (r == NULL)
		return;
	rollback(r);
	sqlite3_close(r->db);
	free(r);
}

static int
pragma_int(jcs_ctx *ctx, struct jcs_registry *r, const char *sql, int *out)
{
	sqlite3_stmt *st = prep(ctx, r, sql);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(ctx, r, "cannot read the registry");
		sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Opens (create: creates) the registry of CA directory dir. */
static struct jcs_registry *
registry_open(jcs_ctx *ctx, const char *dir, int create)
{
	struct jcs_registry *r;
	struct stat st;
	int exists, app = 0, ver = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (jcs_pathf(r->path, sizeof(r->path), "%s/registry.db", dir) ==
	    -1) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "CA path too long");
		free(r);
		return NULL;
	}
	/* WAL mode writes beside the database even to read it */
	if (access(dir, W_OK) == -1) {
		jcs_fail(ctx, JCS_ERR_IO, "the CA directory %s is not writable "
		    "(%s): the registry needs to write there", dir,
		    strerror(errno));
		free(r);
		return NULL;
	}
	exists = stat(r->path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		jcs_fail(ctx, JCS_ERR_REGISTRY, "%s is not a file", r->path);
		free(r);
		return NULL;
	}
	if (!exists && !create) {
		jcs_fail(ctx, JCS_ERR_NOT_FOUND, "%s does not exist", r->path);
		free(r);
		return NULL;
	}
	if (sqlite3_open_v2(r->path, &r->db, SQLITE_OPEN_READWRITE |
	    (exists ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (r->db != NULL)
			db_fail(ctx, r, "cannot open");
		else
			jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	r->busy_ms = busy_timeout_ms();
	sqlite3_busy_timeout(r->db, r->busy_ms);
	sqlite3_extended_result_codes(r->db, 1);
	if (exists) {
		if (pragma_int(ctx, r, "PRAGMA application_id", &app) == -1 ||
		    pragma_int(ctx, r, "PRAGMA user_version", &ver) == -1)
			goto err;
		if (app != REGISTRY_APP_ID) {
			jcs_fail(ctx, JCS_ERR_REGISTRY,
			    "%s is not a jcstar registry (an SQLite database "
			    "of another application)", r->path);
			goto err;
		}
		if (ver > REGISTRY_VERSION) {
			jcs_fail(ctx, JCS_ERR_REGISTRY,
			    "%s is from a newer jcstar (registry format %d; "
			    "this version reads format %d): upgrade jcstar",
			    r->path, ver, REGISTRY_VERSION);
			goto err;
		}
		if (ver < 1) {
			jcs_fail(ctx, JCS_ERR_REGISTRY,
			    "%s is not a complete jcstar registry", r->path);
			goto err;
		}
	}
	if (exec(ctx, r, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
	    "PRAGMA foreign_keys=ON;", "cannot set up") == -1)
		goto err;
	if (exists && ver < REGISTRY_VERSION) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
		    REGISTRY_VERSION);
		if (begin(ctx, r) == -1 ||
		    exec(ctx, r, schema_v2, "cannot upgrade the registry to "
		    "format 2") == -1 ||
		    exec(ctx, r, sql, "cannot upgrade the registry") == -1 ||
		    commit(ctx, r) == -1)
			goto err;
	}
	if (!exists) {
		char sql[64];

		if (begin(ctx, r) == -1 ||
		    exec(ctx, r, schema, "cannot create the registry") == -1 ||
		    exec(ctx, r, schema_v2, "cannot create the registry") == -1)
			goto err;
		snprintf(sql, sizeof(sql), "PRAGMA application_id=%d; "
		    "PRAGMA user_version=%d", REGISTRY_APP_ID,
		    REGISTRY_VERSION);
		if (exec(ctx, r, sql, "cannot create the registry") == -1 ||
		    commit(ctx, r) == -1)
			goto err;
	}
	return r;
err:
	rollback(r);
	sqlite3_close(r->db);
	if (!exists) {
		char p[PATH_MAX + 8];

		unlink(r->path);
		snprintf(p, sizeof(p), "%s-wal", r->path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", r->path);
		unlink(p);
	}
	free(r);
	return NULL;
}

static struct jcs_registry *
reg_of(jcs_ctx *ctx, jcs_ca *ca)
{
	if (ca == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no CA given");
		return NULL;
	}
	if (ca->reg == NULL)
		ca->reg = registry_open(ctx, ca->dir, 1);
	return ca->reg;
}

/* ---- audit log ---- */

static int
meta_get(jcs_ctx *ctx, struct jcs_registry *r, const char *key, char *out,
    size_t len)
{
	sqlite3_stmt *st = prep(ctx, r, "SELECT value FROM meta WHERE key=?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			jcs_fail(ctx, JCS_ERR_REGISTRY,
			    "%s: meta '%s' is missing", r->path, key);
		else
			db_fail(ctx, r, "cannot read the registry");
		sqlite3_finalize(st);
		return -1;
	}
	snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

static int
meta_set(jcs_ctx *ctx, struct jcs_registry *r, const char *key,
    const char *value)
{
	sqlite3_stmt *st = prep(ctx, r,
	    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(ctx, r, "cannot write the registry");
	return 0;
}

/* hash = SHA-256 over the previous hash and the entry's fields, each
 * length-prefixed so that no two entries can encode alike. */
static void
audit_hash_ctx(EVP_MD_CTX *reuse, const EVP_MD *sha256, const char *prev,
    long long seq, long long t, const char *op, const char *subject,
    const char *result, char out[65])
{
	EVP_MD_CTX *m = reuse != NULL ? reuse : EVP_MD_CTX_new();
	unsigned char md[32];
	char num[64];
	const char *parts[5] = { prev, NULL, op, subject, result };

	out[0] = '\0';
	/* a fetched SHA-256 saves a fetch (and its lock) per entry */
	if (m == NULL || EVP_DigestInit_ex(m, sha256 != NULL ? sha256 :
	    EVP_sha256(), NULL) != 1)
		goto done;
	for (int i = 0; i < 5; i++) {
		const char *p = parts[i];

		if (i == 1) {
			snprintf(num, sizeof(num), "%lld/%lld", seq, t);
			p = num;
		}
		snprintf(num + 32, 32, "%zu:", strlen(p));
		EVP_DigestUpdate(m, num + 32, strlen(num + 32));
		EVP_DigestUpdate(m, p, strlen(p));
	}
	if (EVP_DigestFinal_ex(m, md, NULL) == 1)
		jcs_hex(md, sizeof(md), out);
done:
	if (m != reuse)
		EVP_MD_CTX_free(m);
}

static void
audit_hash(const char *prev, long long seq, long long t, const char *op,
    const char *subject, const char *result, char out[65])
{
	audit_hash_ctx(NULL, NULL, prev, seq, t, op, subject, result, out);
}

/* Appends an entry; the caller holds the transaction. */
static int
audit(jcs_ctx *ctx, struct jcs_registry *r, const char *op,
    const char *subject, const char *result)
{
	char head[80], count[32], hash[65];
	long long seq;
	time_t now = time(NULL);
	sqlite3_stmt *st;
	int rc;

	if (meta_get(ctx, r, "audit_head", head, sizeof(head)) == -1 ||
	    meta_get(ctx, r, "audit_count", count, sizeof(count)) == -1)
		return -1;
	seq = count_of(count) + 1;
	audit_hash(head, seq, (long long)now, op, subject, result, hash);
	if ((st = prep(ctx, r, "INSERT INTO audit(seq, time, op, subject, "
	    "result, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_text(st, 3, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, head, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(ctx, r, "cannot write the audit log");
	snprintf(count, sizeof(count), "%lld", seq);
	if (meta_set(ctx, r, "audit_head", hash) == -1 ||
	    meta_set(ctx, r, "audit_count", count) == -1)
		return -1;
	return 0;
}

int
jcs_registry_audit_op(jcs_ctx *ctx, jcs_ca *ca, const char *op,
    const char *subject, const char *result)
{
	struct jcs_registry *r = reg_of(ctx, ca);

	if (r == NULL)
		return -1;
	if (r->in_txn)
		return audit(ctx, r, op, subject, result);
	if (begin(ctx, r) == -1)
		return -1;
	if (audit(ctx, r, op, subject, result) == -1) {
		rollback(r);
		return -1;
	}
	return commit(ctx, r);
}

int
jcs_registry_create(jcs_ctx *ctx, const char *dir, const char *name)
{
	struct jcs_registry *r = registry_open(ctx, dir, 1);
	int rc = -1;

	if (r == NULL)
		return -1;
	if (begin(ctx, r) == 0 && audit(ctx, r, "init", name, "ok") == 0 &&
	    commit(ctx, r) == 0)
		rc = 0;
	/* leave a single file behind: fold the WAL into the database */
	sqlite3_exec(r->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
	    NULL);
	jcs_registry_close(r);
	return rc;
}

long
jcs_ca_audit_verify(jcs_ctx *ctx, jcs_ca *ca)
{
	struct jcs_registry *r = reg_of(ctx, ca);
	sqlite3_stmt *st;
	char prev[65] = ZERO_HASH, head[80], count[32], hash[65];
	long long want = 1;
	int rc;

	if (r == NULL)
		return -1;
	if ((st = prep(ctx, r, "SELECT seq, time, op, subject, result, "
	    "prev_hash, hash FROM audit ORDER BY seq")) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		const char *ph = (const char *)sqlite3_column_text(st, 5);
		const char *h = (const char *)sqlite3_column_text(st, 6);
		const char *op = (const char *)sqlite3_column_text(st, 2);
		const char *subj = (const char *)sqlite3_column_text(st, 3);
		const char *res = (const char *)sqlite3_column_text(st, 4);

		if (seq != want) {
			sqlite3_finalize(st);
			return jcs_fail(ctx, JCS_ERR_AUDIT,
			    "audit log broken at entry %lld: %s", want,
			    seq > want ? "it is missing (deleted)" :
			    "entries are out of order");
		}
		if (ph == NULL || h == NULL || op == NULL || subj == NULL ||
		    res == NULL || strcmp(ph, prev) != 0) {
			sqlite3_finalize(st);
			return jcs_fail(ctx, JCS_ERR_AUDIT,
			    "audit log broken at entry %lld: it does not "
			    "follow entry %lld (reordered, inserted or "
			    "edited)", seq, seq - 1);
		}
		audit_hash(prev, seq, sqlite3_column_int64(st, 1), op, subj,
		    res, hash);
		if (strcmp(hash, h) != 0) {
			sqlite3_finalize(st);
			return jcs_fail(ctx, JCS_ERR_AUDIT,
			    "audit log broken at entry %lld: its contents were "
			    "changed after it was written", seq);
		}
		snprintf(prev, sizeof(prev), "%s", h);
		want++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(ctx, r, "cannot read the audit log");
	if (meta_get(ctx, r, "audit_head", head, sizeof(head)) == -1 ||
	    meta_get(ctx, r, "audit_count", count, sizeof(count)) == -1)
		return -1;
	if (count_of(count) != want - 1 || strcmp(head, prev) != 0)
		return jcs_fail(ctx, JCS_ERR_AUDIT,
		    "audit log broken after entry %lld: the registry recorded "
		    "%s entries (the last ones were removed)", want - 1, count);
	jcs_ok(ctx);
	return (long)(want - 1);
}

/* ---- registrations ---- */

struct reg_row {
	jcs_registration reg;
	char *str[5]; /* reg_id vendor product model lab */
	time_t withdrawn_at;
	int withdrawn_reason;
};

static void
reg_row_free(struct reg_row *row)
{
	for (int i = 0; i < 5; i++)
		free(row->str[i]);
	memset(row, 0, sizeof(*row));
}

/* Returns 1 found, 0 not found, -1 error. */
static int
get_registration(jcs_ctx *ctx, struct jcs_registry *r, const char *reg_id,
    struct reg_row *row)
{
	sqlite3_stmt *st = prep(ctx, r, "SELECT reg_id, scheme, level, "
	    "vendor, product, model, lab, support_until, withdrawn_at, "
	    "withdrawn_reason FROM registrations WHERE reg_id=?");
	static const int cols[5] = { 0, 3, 4, 5, 6 };
	int rc;

	memset(row, 0, sizeof(*row));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, reg_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		db_fail(ctx, r, "cannot read the registry");
		sqlite3_finalize(st);
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		const char *v = (const char *)sqlite3_column_text(st, cols[i]);

		if (v != NULL && (row->str[i] = jcs_strdup(v)) == NULL) {
			sqlite3_finalize(st);
			reg_row_free(row);
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		}
	}
	row->reg.product.reg_id = row->str[0];
	row->reg.product.vendor = row->str[1];
	row->reg.product.product = row->str[2];
	row->reg.product.model = row->str[3];
	row->reg.lab = row->str[4];
	row->reg.scheme = sqlite3_column_int(st, 1);
	row->reg.level = sqlite3_column_int(st, 2);
	row->reg.support_until = (time_t)sqlite3_column_int64(st, 7);
	row->withdrawn_at = (time_t)sqlite3_column_int64(st, 8);
	row->withdrawn_reason = sqlite3_column_int(st, 9);
	sqlite3_finalize(st);
	return 1;
}

/* Checks a registration's fields as a label would carry them. */
static int
check_registration(jcs_ctx *ctx, const jcs_registration *reg)
{
	jcs_label_fields f;
	jcs_label *l;

	if (reg == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no registration given");
	memset(&f, 0, sizeof(f));
	f.scheme = reg->scheme;
	f.level = reg->level;
	f.product = reg->product;
	f.product.unit_serial = NULL;
	f.lab = reg->lab;
	f.support_until = reg->support_until;
	if (jcs_profile_check_fields(ctx, JCS_ERR_POLICY_RULE, &f, 1) == -1)
		return -1;
	f.not_before = 1;
	f.not_after = 2;
	f.support_until = reg->support_until;
	if ((l = jcs_label_new(ctx, &f)) == NULL)
		return -1;
	jcs_label_free(l);
	return 0;
}

/* Records the basis of a simplified application, in the caller's
 * transaction. */
static int
record_basis(jcs_ctx *ctx, struct jcs_registry *r, const jcs_registration *reg,
    const jcs_recognition_line *line)
{
	const jcs_basis *b = reg->basis;
	sqlite3_stmt *st;
	char rec[600];
	int rc;

	snprintf(rec, sizeof(rec), "%s:%u: %s", line->file, line->line,
	    line->basis);
	if ((st = prep(ctx, r, "INSERT INTO bases(reg_id, kind, scheme, "
	    "level, serial, issuer, content, summary, recognition, "
	    "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, reg->product.reg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->kind == JCS_BASIS_LABEL ? "label" :
	    "statement", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, b->scheme);
	sqlite3_bind_int(st, 4, b->level);
	if (b->kind == JCS_BASIS_LABEL) {
		sqlite3_bind_text(st, 5, b->serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, b->issuer, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 7, b->content, (int)b->len,
		    SQLITE_STATIC);
	} else
		sqlite3_bind_text(st, 7, (const char *)b->content, (int)b->len,
		    SQLITE_STATIC);
	sqlite3_bind_text(st, 8, b->summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, rec, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(ctx, r, "cannot record the basis");
	return 0;
}

int
jcs_ca_register(jcs_ctx *ctx, jcs_ca *ca, const jcs_registration *reg)
{
	const jcs_recognition_line *line = NULL;
	struct jcs_registry *r;
	sqlite3_stmt *st = NULL;
	int rc;

	if (check_registration(ctx, reg) == -1)
		return -1;
	if (reg->basis != NULL) {
		const jcs_basis *b = reg->basis;

		if ((line = jcs_recognition_simplified(ctx, reg->recognition,
		    reg->scheme, reg->level, b->scheme, b->level,
		    time(NULL))) == NULL)
			return -1;
		if (b->kind == JCS_BASIS_LABEL &&
		    strcmp(b->model, reg->product.model) != 0)
			return jcs_fail(ctx, JCS_ERR_POLICY_RULE, "the basis "
			    "label is for model '%s', the registration for "
			    "model '%s'", b->model, reg->product.model);
	}
	if ((r = reg_of(ctx, ca)) == NULL || begin(ctx, r) == -1)
		return -1;
	if ((st = prep(ctx, r, "INSERT INTO registrations(reg_id, scheme, "
	    "level, vendor, product, model, lab, support_until, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) == NULL)
		goto err;
	sqlite3_bind_text(st, 1, reg->product.reg_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, reg->scheme);
	sqlite3_bind_int(st, 3, reg->level);
	sqlite3_bind_text(st, 4, reg->product.vendor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, reg->product.product, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, reg->product.model, -1, SQLITE_STATIC);
	if (reg->lab != NULL)
		sqlite3_bind_text(st, 7, reg->lab, -1, SQLITE_STATIC);
	if (reg->support_until != 0)
		sqlite3_bind_int64(st, 8, (sqlite3_int64)reg->support_until);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_CONSTRAINT ||
	    sqlite3_extended_errcode(r->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
		jcs_fail(ctx, JCS_ERR_EXISTS,
		    "registration %s already exists", reg->product.reg_id);
		goto err;
	}
	if (rc != SQLITE_DONE) {
		db_fail(ctx, r, "cannot record the registration");
		goto err;
	}
	if (line != NULL && record_basis(ctx, r, reg, line) == -1)
		goto err;
	{
		char res[300];

		if (line != NULL)
			snprintf(res, sizeof(res), "ok: %s level %d, "
			    "simplified application on %s %s level %d "
			    "(%s:%u)", jcs_scheme_name(reg->scheme),
			    reg->level, reg->basis->kind == JCS_BASIS_LABEL ?
			    "label" : "statement",
			    jcs_scheme_name(reg->basis->scheme),
			    reg->basis->level, line->file, line->line);
		else
			snprintf(res, sizeof(res), "ok: %s level %d",
			    jcs_scheme_name(reg->scheme), reg->level);
		if (audit(ctx, r, "register", reg->product.reg_id, res) == -1)
			goto err;
	}
	if (commit(ctx, r) == -1)
		return -1;
	jcs_ok(ctx);
	return 0;
err:
	rollback(r);
	return -1;
}

/* ---- issuing ---- */

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Signs a label for registration row and records it; the caller holds the
 * transaction. Returns the label or NULL. */
static jcs_label *
issue_in_txn(jcs_ctx *ctx, jcs_ca *ca, struct jcs_registry *r,
    const struct reg_row *row, const char *unit, const jcs_issue_opts *o)
{
	jcs_issue_opts io;
	jcs_label *l = NULL;
	sqlite3_stmt *st;
	const jcs_label_fields *f;
	const uint8_t *der;
	size_t len;
	char subject[160];

	memset(&io, 0, sizeof(io));
	io.scheme = row->reg.scheme;
	io.level = row->reg.level;
	io.product = row->reg.product;
	io.product.unit_serial = unit;
	io.lab = row->reg.lab;
	io.support_until = row->reg.support_until;
	if (o != NULL) {
		io.not_before = o->not_before;
		io.valid_days = o->valid_days;
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		int rc;

		if ((l = jcs_ca_make_label(ctx, ca, &io)) == NULL)
			return NULL;
		f = jcs_label_get_fields(l);
		der = jcs_label_der(l, &len);
		if ((st = prep(ctx, r, "INSERT INTO labels(serial, reg_id, "
		    "unit_serial, signer_id, not_before, not_after, issued_at, "
		    "der) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) == NULL)
			goto err;
		sqlite3_bind_text(st, 1, jcs_label_serial_hex(l), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 2, row->reg.product.reg_id, -1,
		    SQLITE_STATIC);
		if (unit != NULL)
			sqlite3_bind_text(st, 3, unit, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, jcs_label_issuer_hex(l), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)f->not_before);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)f->not_after);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
		sqlite3_bind_blob(st, 8, der, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			break;
		if (sqlite3_extended_errcode(r->db) ==
		    SQLITE_CONSTRAINT_UNIQUE && unit != NULL) {
			jcs_fail(ctx, JCS_ERR_EXISTS, "unit %s of registration "
			    "%s already has a label", unit,
			    row->reg.product.reg_id);
			goto err;
		}
		if (sqlite3_extended_errcode(r->db) !=
		    SQLITE_CONSTRAINT_PRIMARYKEY) {
			db_fail(ctx, r, "cannot record the label");
			goto err;
		}
		/* a serial seen before (never with 72 random bits, but the
		 * database is the judge): sign again with a fresh one */
		jcs_label_free(l);
		l = NULL;
	}
	if (l == NULL) {
		jcs_fail(ctx, JCS_ERR_REGISTRY, "could not draw a fresh serial");
		return NULL;
	}
	snprintf(subject, sizeof(subject), "%s reg=%s%s%s",
	    jcs_label_serial_hex(l), row->reg.product.reg_id,
	    unit != NULL ? " unit=" : "", unit != NULL ? unit : "");
	if (audit(ctx, r, "issue", subject, "ok") == -1)
		goto err;
	return l;
err:
	jcs_label_free(l);
	return NULL;
}

/* Looks up registration reg_id for issuing; the caller holds the
 * transaction. Returns 0 or -1. */
static int
issuable_registration(jcs_ctx *ctx, struct jcs_registry *r,
    const char *reg_id, const char *unit, struct reg_row *row)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = get_registration(ctx, r, reg_id, row)) == -1)
		return -1;
	if (rc == 0)
		return jcs_fail(ctx, JCS_ERR_NOT_FOUND,
		    "no registration %s (record it with 'jcstar register')",
		    reg_id);
	if (row->withdrawn_at != 0) {
		char d[16];

		jcs_fail(ctx, JCS_ERR_REVOKED, "registration %s was withdrawn "
		    "on %s (%s): no new labels", reg_id,
		    jcs_date_format(row->withdrawn_at, d, sizeof(d)),
		    jcs_reason_name(row->withdrawn_reason));
		reg_row_free(row);
		return -1;
	}
	if (unit == NULL)
		return 0;
	if ((st = prep(ctx, r, "SELECT serial FROM labels WHERE reg_id=? AND "
	    "unit_serial=?")) == NULL) {
		reg_row_free(row);
		return -1;
	}
	sqlite3_bind_text(st, 1, reg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		jcs_fail(ctx, JCS_ERR_EXISTS, "unit %s of registration %s "
		    "already has label %s", unit, reg_id,
		    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		reg_row_free(row);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

jcs_label *
jcs_ca_issue_registered(jcs_ctx *ctx, jcs_ca *ca, const char *reg_id,
    const char *unit_serial, const jcs_issue_opts *opts)
{
	struct jcs_registry *r;
	struct reg_row row;
	jcs_label *l;

	if (reg_id == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no registration id given");
		return NULL;
	}
	if ((r = reg_of(ctx, ca)) == NULL || begin(ctx, r) == -1)
		return NULL;
	if (issuable_registration(ctx, r, reg_id, unit_serial, &row) == -1) {
		rollback(r);
		return NULL;
	}
	l = issue_in_txn(ctx, ca, r, &row, unit_serial, opts);
	reg_row_free(&row);
	if (l == NULL) {
		rollback(r);
		return NULL;
	}
	if (commit(ctx, r) == -1) {
		jcs_label_free(l);
		return NULL;
	}
	jcs_ok(ctx);
	return l;
}

jcs_label *
jcs_ca_issue(jcs_ctx *ctx, jcs_ca *ca, const jcs_issue_opts *o)
{
	struct jcs_registry *r;
	struct reg_row row;
	jcs_registration reg;
	jcs_label *l;
	int found;

	if (ca == NULL || o == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no CA or options given");
		return NULL;
	}
	memset(&reg, 0, sizeof(reg));
	reg.scheme = o->scheme;
	reg.level = o->level;
	reg.product = o->product;
	reg.product.unit_serial = NULL;
	reg.lab = o->lab;
	reg.support_until = o->support_until;
	if (check_registration(ctx, &reg) == -1)
		return NULL;
	if ((r = reg_of(ctx, ca)) == NULL || begin(ctx, r) == -1)
		return NULL;
	/* The product fields go into a registration of that id (made now if
	 * new, or the same fields as before) and the label from it. */
	if ((found = get_registration(ctx, r, reg.product.reg_id, &row)) == -1)
		goto err;
	if (found && (row.reg.scheme != reg.scheme ||
	    row.reg.level != reg.level ||
	    !same_str(row.reg.product.vendor, reg.product.vendor) ||
	    !same_str(row.reg.product.product, reg.product.product) ||
	    !same_str(row.reg.product.model, reg.product.model) ||
	    !same_str(row.reg.lab, reg.lab) ||
	    row.reg.support_until != reg.support_until)) {
		jcs_fail(ctx, JCS_ERR_EXISTS, "registration %s exists with "
		    "other fields: issue from it with --reg-id alone, or "
		    "register a new id", reg.product.reg_id);
		reg_row_free(&row);
		goto err;
	}
	reg_row_free(&row);
	if (!found) {
		sqlite3_stmt *st = prep(ctx, r, "INSERT INTO registrations("
		    "reg_id, scheme, level, vendor, product, model, lab, "
		    "support_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
		    "?, ?)");
		int rc;

		if (st == NULL)
			goto err;
		sqlite3_bind_text(st, 1, reg.product.reg_id, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(st, 2, reg.scheme);
		sqlite3_bind_int(st, 3, reg.level);
		sqlite3_bind_text(st, 4, reg.product.vendor, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 5, reg.product.product, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 6, reg.product.model, -1, SQLITE_STATIC);
		if (reg.lab != NULL)
			sqlite3_bind_text(st, 7, reg.lab, -1, SQLITE_STATIC);
		if (reg.support_until != 0)
			sqlite3_bind_int64(st, 8,
			    (sqlite3_int64)reg.support_until);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)time(NULL));
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			db_fail(ctx, r, "cannot record the registration");
			goto err;
		}
		if (audit(ctx, r, "register", reg.product.reg_id,
		    "ok: with its first label") == -1)
			goto err;
	}
	if (issuable_registration(ctx, r, reg.product.reg_id,
	    o->product.unit_serial, &row) == -1)
		goto err;
	l = issue_in_txn(ctx, ca, r, &row, o->product.unit_serial, o);
	reg_row_free(&row);
	if (l == NULL)
		goto err;
	if (commit(ctx, r) == -1) {
		jcs_label_free(l);
		return NULL;
	}
	jcs_ok(ctx);
	return l;
err:
	rollback(r);
	return NULL;
}

/* ---- listing ---- */

static const char record_cols[] = "SELECT l.serial, l.reg_id, l.unit_serial, "
    "l.signer_id, l.not_before, l.not_after, l.issued_at, l.revoked_at, "
    "l.reason, l.der FROM labels l";

static int
emit(sqlite3_stmt *st, time_t at, jcs_record_cb cb, void *arg)
{
	jcs_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.serial_hex = (const char *)sqlite3_column_text(st, 0);
	rec.reg_id = (const char *)sqlite3_column_text(st, 1);
	rec.unit_serial = (const char *)sqlite3_column_text(st, 2);
	rec.signer_id = (const char *)sqlite3_column_text(st, 3);
	rec.not_before = (time_t)sqlite3_column_int64(st, 4);
	rec.not_after = (time_t)sqlite3_column_int64(st, 5);
	rec.issued_at = (time_t)sqlite3_column_int64(st, 6);
	rec.revoked_at = (time_t)sqlite3_column_int64(st, 7);
	rec.reason = sqlite3_column_int(st, 8);
	rec.der = sqlite3_column_blob(st, 9);
	rec.der_len = (size_t)sqlite3_column_bytes(st, 9);
	rec.status = rec.revoked_at != 0 ? JCS_STATUS_REVOKED :
	    at > rec.not_after ? JCS_STATUS_EXPIRED : JCS_STATUS_VALID;
	return cb(arg, &rec);
}

long
jcs_ca_list(jcs_ctx *ctx, jcs_ca *ca, const char *reg_id, int status,
    time_t at, jcs_record_cb cb, void *arg)
{
	struct jcs_registry *r = reg_of(ctx, ca);
	sqlite3_stmt *st;
	char sql[512];
	long n = 0;
	int rc;

	if (r == NULL)
		return -1;
	if (cb == NULL || status < 0 || status > JCS_STATUS_EXPIRED) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "bad list arguments");
		return -1;
	}
	if (at == 0)
		at = time(NULL);
	snprintf(sql, sizeof(sql), "%s WHERE (?1 IS NULL OR l.reg_id = ?1) "
	    "AND (?2 = 0 OR (?2 = 2 AND l.revoked_at IS NOT NULL) OR "
	    "(?2 = 3 AND l.revoked_at IS NULL AND l.not_after < ?3) OR "
	    "(?2 = 1 AND l.revoked_at IS NULL AND l.not_after >= ?3)) "
	    "ORDER BY l.issued_at, l.rowid", record_cols);
	if ((st = prep(ctx, r, sql)) == NULL)
		return -1;
	if (reg_id != NULL)
		sqlite3_bind_text(st, 1, reg_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, status);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)at);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (emit(st, at, cb, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ctx, r, "cannot read the registry");
	jcs_ok(ctx);
	return n;
}

int
jcs_ca_find(jcs_ctx *ctx, jcs_ca *ca, const char *serial_hex,
    jcs_record_cb cb, void *arg)
{
	struct jcs_registry *r = reg_of(ctx, ca);
	sqlite3_stmt *st;
	char sql[256];
	int rc;

	if (r == NULL)
		return -1;
	if (serial_hex == NULL || cb == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no serial given");
	snprintf(sql, sizeof(sql), "%s WHERE l.serial = lower(?)",
	    record_cols);
	if ((st = prep(ctx, r, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, serial_hex, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		emit(st, time(NULL), cb, arg);
		sqlite3_finalize(st);
		jcs_ok(ctx);
		return 0;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return jcs_fail(ctx, JCS_ERR_NOT_FOUND,
		    "no label with serial %s in this CA's registry",
		    serial_hex);
	return db_fail(ctx, r, "cannot read the registry");
}

int
jcs_ca_find_registration(jcs_ctx *ctx, jcs_ca *ca, const char *reg_id,
    int (*cb)(void *arg, const jcs_registration_record *rec), void *arg)
{
	struct jcs_registry *r = reg_of(ctx, ca);
	jcs_registration_record rec;
	sqlite3_stmt *st;
	int rc;

	if (r == NULL)
		return -1;
	if (reg_id == NULL || cb == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no registration id given");
	if ((st = prep(ctx, r, "SELECT g.reg_id, g.scheme, g.level, g.vendor, "
	    "g.product, g.model, g.lab, g.support_until, g.created_at, "
	    "g.withdrawn_at, g.withdrawn_reason, "
	    "(SELECT count(*) FROM labels WHERE reg_id = g.reg_id), "
	    "(SELECT count(*) FROM labels WHERE reg_id = g.reg_id AND "
	    "revoked_at IS NOT NULL), "
	    "b.kind, b.scheme, b.level, b.serial, b.issuer, b.summary, "
	    "b.recognition, b.recorded_at, b.content "
	    "FROM registrations g LEFT JOIN bases b ON b.reg_id = g.reg_id "
	    "WHERE g.reg_id = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, reg_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return jcs_fail(ctx, JCS_ERR_NOT_FOUND, "no "
			    "registration '%s' in this CA's registry", reg_id);
		return db_fail(ctx, r, "cannot read the registry");
	}
	memset(&rec, 0, sizeof(rec));
	rec.reg_id = (const char *)sqlite3_column_text(st, 0);
	rec.scheme = sqlite3_column_int(st, 1);
	rec.level = sqlite3_column_int(st, 2);
	rec.vendor = (const char *)sqlite3_column_text(st, 3);
	rec.product = (const char *)sqlite3_column_text(st, 4);
	rec.model = (const char *)sqlite3_column_text(st, 5);
	rec.lab = (const char *)sqlite3_column_text(st, 6);
	rec.support_until = (time_t)sqlite3_column_int64(st, 7);
	rec.created_at = (time_t)sqlite3_column_int64(st, 8);
	rec.withdrawn_at = (time_t)sqlite3_column_int64(st, 9);
	rec.withdrawn_reason = sqlite3_column_int(st, 10);
	rec.labels = (long)sqlite3_column_int64(st, 11);
	rec.revoked = (long)sqlite3_column_int64(st, 12);
	rec.basis_kind = (const char *)sqlite3_column_text(st, 13);
	if (rec.basis_kind != NULL) {
		rec.basis_scheme = sqlite3_column_int(st, 14);
		rec.basis_level = sqlite3_column_int(st, 15);
		rec.basis_serial = (const char *)sqlite3_column_text(st, 16);
		rec.basis_issuer = (const char *)sqlite3_column_text(st, 17);
		rec.basis_summary = (const char *)sqlite3_column_text(st, 18);
		rec.basis_recognition =
		    (const char *)sqlite3_column_text(st, 19);
		rec.basis_recorded_at = (time_t)sqlite3_column_int64(st, 20);
		rec.basis_content = sqlite3_column_blob(st, 21);
		rec.basis_content_len = (size_t)sqlite3_column_bytes(st, 21);
	}
	cb(arg, &rec);
	sqlite3_finalize(st);
	jcs_ok(ctx);
	return 0;
}

/* ---- revocation ---- */

long
jcs_ca_revoke(jcs_ctx *ctx, jcs_ca *ca, const char *serial_hex,
    const char *reg_id, int reason)
{
	struct jcs_registry *r;
	sqlite3_stmt *st = NULL;
	time_t now = time(NULL);
	long n;
	char res[64];

	if ((serial_hex == NULL) == (reg_id == NULL)) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "revoke one label (serial) or one registration, not both");
		return -1;
	}
	if (reason < 0 || reason > 10 || reason == 7) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "bad reason code %d",
		    reason);
		return -1;
	}
	if ((r = reg_of(ctx, ca)) == NULL || begin(ctx, r) == -1)
		return -1;
	if (reg_id != NULL) {
		struct reg_row row;
		int rc = get_registration(ctx, r, reg_id, &row);

		if (rc == -1)
			goto err;
		if (rc == 0) {
			jcs_fail(ctx, JCS_ERR_NOT_FOUND, "no registration %s",
			    reg_id);
			goto err;
		}
		reg_row_free(&row);
		if ((st = prep(ctx, r, "UPDATE registrations SET "
		    "withdrawn_at=?, withdrawn_reason=? WHERE reg_id=? AND "
		    "withdrawn_at IS NULL")) == NULL)
			goto err;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
		sqlite3_bind_int(st, 2, reason);
		sqlite3_bind_text(st, 3, reg_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_fail(ctx, r, "cannot withdraw the registration");
			goto err;
		}
		sqlite3_finalize(st);
		st = prep(ctx, r, "UPDATE labels SET revoked_at=?, reason=? "
		    "WHERE reg_id=? AND revoked_at IS NULL");
	} else {
		sqlite3_stmt *q = prep(ctx, r, "SELECT revoked_at FROM labels "
		    "WHERE serial=lower(?)");
		int rc;

		if (q == NULL)
			goto err;
		sqlite3_bind_text(q, 1, serial_hex, -1, SQLITE_STATIC);
		rc = sqlite3_step(q);
		sqlite3_finalize(q);
		if (rc == SQLITE_DONE) {
			jcs_fail(ctx, JCS_ERR_NOT_FOUND, "no label with serial "
			    "%s in this CA's registry", serial_hex);
			goto err;
		}
		if (rc != SQLITE_ROW) {
			db_fail(ctx, r, "cannot read the registry");
			goto err;
		}
		st = prep(ctx, r, "UPDATE labels SET revoked_at=?, reason=? "
		    "WHERE serial=lower(?) AND revoked_at IS NULL");
	}
	if (st == NULL)
		goto err;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int(st, 2, reason);
	sqlite3_bind_text(st, 3, reg_id != NULL ? reg_id : serial_hex, -1,
	    SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(ctx, r, "cannot revoke");
		goto err;
	}
	n = sqlite3_changes(r->db);
	sqlite3_finalize(st);
	st = NULL;
	snprintf(res, sizeof(res), "ok: %ld label%s, %s", n, n == 1 ? "" : "s",
	    jcs_reason_name(reason));
	if (audit(ctx, r, "revoke", reg_id != NULL ? reg_id : serial_hex,
	    res) == -1 || commit(ctx, r) == -1)
		goto err;
	jcs_ok(ctx);
	return n;
err:
	sqlite3_finalize(st);
	rollback(r);
	return -1;
}

/* ---- CRLs ---- */

static int
hex_to_bytes(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = jcs_hex_digit(hex[2 * i]), lo = jcs_hex_digit(hex[2 * i +
		    1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* Reads, increments and stores a CRL counter; the caller holds the
 * transaction. */
static int
next_number(jcs_ctx *ctx, struct jcs_registry *r, const char *key,
    uint64_t *out)
{
	char v[32];

	if (meta_get(ctx, r, key, v, sizeof(v)) == -1)
		return -1;
	*out = (uint64_t)strtoull(v, NULL, 10) + 1;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)*out);
	return meta_set(ctx, r, key, v);
}

/* Writes pem to DIR/name and, if path is given, to path. */
static int
write_crl_files(jcs_ctx *ctx, const jcs_ca *ca, const char *name,
    const char *pem, size_t len, const char *path)
{
	char keep[PATH_MAX];

	jcs_pathf(keep, sizeof(keep), "%s/%s", ca->dir, name);
	if (jcs_write_file_atomic(ctx, keep, pem, len, 0644) == -1)
		return -1;
	if (path != NULL && jcs_write_file_atomic(ctx, path, pem, len, 0644) ==
	    -1)
		return -1;
	return 0;
}

int
jcs_ca_write_crl(jcs_ctx *ctx, jcs_ca *ca, int next_update_days,
    const char *path)
{
	struct jcs_registry *r;
	struct jcs_crl_entry *e = NULL;
	uint8_t (*serials)[20] = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	const jcs_key *key;
	uint64_t number;
	time_t now = time(NULL);
	char *pem = NULL, subject[64];
	size_t pem_len;
	int rc;

	if (next_update_days < 1 || next_update_days > 366)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "next update must be 1 to 366 days ahead");
	if (path == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no output path");
	if ((r = reg_of(ctx, ca)) == NULL)
		return -1;
	if ((key = jcs_ca_current_key(ctx, ca)) == NULL)
		return -1;
	if (begin(ctx, r) == -1)
		return -1;
	/* a label past its validity needs no CRL entry (RFC 5280 5.1.2.6):
	 * it fails verification anyway, and the CRL stays small */
	if ((st = prep(ctx, r, "SELECT serial, revoked_at, reason FROM labels "
	    "WHERE revoked_at IS NOT NULL AND not_after >= ? ORDER BY "
	    "serial")) == NULL)
		goto err;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap == 0 ? 64 : cap * 2;
			struct jcs_crl_entry *ne;
			uint8_t (*ns)[20];

			if ((ne = realloc(e, ncap * sizeof(*e))) == NULL) {
				jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
				goto err;
			}
			e = ne;
			if ((ns = realloc(serials, ncap * sizeof(*ns))) ==
			    NULL) {
				jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
				goto err;
			}
			serials = ns;
			cap = ncap;
		}
		if (hex_to_bytes((const char *)sqlite3_column_text(st, 0),
		    serials[n], sizeof(serials[n]), &e[n].serial_len) == -1) {
			jcs_fail(ctx, JCS_ERR_REGISTRY, "%s: a label serial is "
			    "not hex", r->path);
			goto err;
		}
		e[n].when = (time_t)sqlite3_column_int64(st, 1);
		e[n].reason = sqlite3_column_int(st, 2);
		n++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(ctx, r, "cannot read the registry");
		goto err;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (size_t i = 0; i < n; i++)
		e[i].serial = serials[i];
	if (next_number(ctx, r, "label_crl_number", &number) == -1)
		goto err;
	if (jcs_crl_build(ctx, ca->signers[ca->n_signers - 1].cert,
	    key->pkey, e, n, number, now,
	    now + (time_t)next_update_days * 86400, &pem, &pem_len) == -1)
		goto err;
	snprintf(subject, sizeof(subject), "label CRL %llu",
	    (unsigned long long)number);
	{
		char res[64];

		snprintf(res, sizeof(res), "ok: %zu revoked", n);
		if (audit(ctx, r, "crl", subject, res) == -1)
			goto err;
	}
	/* the number is committed before the CRL leaves: numbers only grow
	 * even if writing the file fails */
	if (commit(ctx, r) == -1)
		goto err;
	rc = write_crl_files(ctx, ca, "labels.crl", pem, pem_len,
	    strcmp(path, "-") == 0 ? NULL : path);
	if (rc == 0 && strcmp(path, "-") == 0)
		rc = jcs_write_file_atomic(ctx, "-", pem, pem_len, 0644);
	free(pem);
	free(e);
	free(serials);
	if (rc == 0)
		jcs_ok(ctx);
	return rc;
err:
	sqlite3_finalize(st);
	rollback(r);
	free(pem);
	free(e);
	free(serials);
	return -1;
}

int
jcs_ca_revoke_signer(jcs_ctx *ctx, jcs_ca *ca, const char *key_id_hex,
    int reason)
{
	struct jcs_registry *r;
	struct jcs_crl_entry *e = NULL;
	uint8_t (*serials)[20] = NULL;
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	jcs_key *root = NULL;
	uint64_t number;
	time_t now = time(NULL);
	char *pem = NULL, path[PATH_MAX];
	size_t pem_len, idx;
	int rc;

	if (ca == NULL || key_id_hex == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no signer given");
	for (idx = 0; idx < ca->n_signers; idx++)
		if (strcasecmp(ca->signers[idx].id_hex, key_id_hex) == 0)
			break;
	if (idx == ca->n_signers)
		return jcs_fail(ctx, JCS_ERR_NOT_FOUND,
		    "this CA has no signer with key id %s", key_id_hex);
	if (idx == ca->n_signers - 1)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "signer %s is the current one: run 'jcstar ca rotate' "
		    "first, then revoke it", ca->signers[idx].id_hex);
	if ((r = reg_of(ctx, ca)) == NULL)
		return -1;
	jcs_pathf(path, sizeof(path), "%s/root.key", ca->dir);
	if ((root = jcs_key_load(ctx, path, ca->passphrase)) == NULL)
		return -1;
	if (begin(ctx, r) == -1)
		goto done;
	if ((st = prep(ctx, r, "INSERT OR IGNORE INTO revoked_signers("
	    "signer_id, revoked_at, reason) VALUES (?, ?, ?)")) == NULL)
		goto err;
	sqlite3_bind_text(st, 1, ca->signers[idx].id_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_int(st, 3, reason);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_fail(ctx, r, "cannot record the revocation");
		st = NULL;
		goto err;
	}
	if ((st = prep(ctx, r, "SELECT signer_id, revoked_at, reason FROM "
	    "revoked_signers ORDER BY signer_id")) == NULL)
		goto err;
	if ((e = calloc(ca->n_signers, sizeof(*e))) == NULL ||
	    (serials = calloc(ca->n_signers, sizeof(*serials))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	while (sqlite3_step(st) == SQLITE_ROW && n < ca->n_signers) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		for (size_t i = 0; i < ca->n_signers; i++) {
			const ASN1_INTEGER *sn;

			if (strcmp(ca->signers[i].id_hex, id) != 0)
				continue;
			sn = X509_get0_serialNumber(ca->signers[i].cert);
			if (ASN1_STRING_length(sn) > 20)
				continue;
			memcpy(serials[n], ASN1_STRING_get0_data(sn),
			    (size_t)ASN1_STRING_length(sn));
			e[n].serial = serials[n];
			e[n].serial_len = (size_t)ASN1_STRING_length(sn);
			e[n].when = (time_t)sqlite3_column_int64(st, 1);
			e[n].reason = sqlite3_column_int(st, 2);
			n++;
			break;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (next_number(ctx, r, "signer_crl_number", &number) == -1)
		goto err;
	/* a signer CRL lives as long as the root: it is reissued only when
	 * another signer is revoked */
	{
		time_t na;

		if (jcs_asn1_time_to_time(X509_get0_notAfter(ca->root), &na) ==
		    -1 || na <= now)
			na = now + (time_t)366 * 86400;
		if (jcs_crl_build(ctx, ca->root, root->pkey, e, n, number, now,
		    na, &pem, &pem_len) == -1)
			goto err;
	}
	{
		char subj[64];

		snprintf(subj, sizeof(subj), "signer %s",
		    ca->signers[idx].id_hex);
		if (audit(ctx, r, "revoke-signer", subj,
		    jcs_reason_name(reason)) == -1)
			goto err;
	}
	if (commit(ctx, r) == -1)
		goto done;
	if (write_crl_files(ctx, ca, "signers.crl", pem, pem_len, NULL) == -1)
		goto done;
	free(pem);
	free(e);
	free(serials);
	jcs_key_free(root);
	jcs_ok(ctx);
	return 0;
err:
	sqlite3_finalize(st);
	rollback(r);
done:
	free(pem);
	free(e);
	free(serials);
	jcs_key_free(root);
	return -1;
}

/* ---- for batch issuance (batch.c) ---- */

/* Statements prepared once per batch, the audit head kept in memory
 * during a transaction and written back at its commit. */
struct jcs_regbatch {
	struct jcs_registry *r;
	struct reg_row row;
	char reg_id[JCS_MAX_REG_ID + 1];
	sqlite3_stmt *find, *insert, *audit_ins, *reg;
	EVP_MD_CTX *md;
	EVP_MD *sha256;
	char head[80];
	long long count;
	int reading;              /* a read transaction is open */
	/* the registration had no unit labels when the batch began: lookups
	 * can only miss (a label another writer adds meanwhile is found at
	 * the insert, by the unique index) */
	int fresh;
	int wal_fd;               /* jcs_regbatch_defer_sync, or -1 */
};

void
jcs_regbatch_free(struct jcs_regbatch *b)
{
	if (b == NULL)
		return;
	jcs_regbatch_read(b, 0);
	jcs_regbatch_rollback(b);
	if (b->wal_fd != -1) {
		sqlite3_exec(b->r->db, "PRAGMA synchronous=FULL", NULL, NULL,
		    NULL);
		close(b->wal_fd);
	}
	sqlite3_exec(b->r->db, "PRAGMA foreign_keys=ON; PRAGMA cache_size=-2000",
	    NULL, NULL, NULL);
	sqlite3_finalize(b->find);
	sqlite3_finalize(b->insert);
	sqlite3_finalize(b->audit_ins);
	sqlite3_finalize(b->reg);
	EVP_MD_CTX_free(b->md);
	EVP_MD_free(b->sha256);
	reg_row_free(&b->row);
	free(b);
}

struct jcs_regbatch *
jcs_regbatch_new(jcs_ctx *ctx, jcs_ca *ca, const char *reg_id)
{
	struct jcs_registry *r = reg_of(ctx, ca);
	struct jcs_regbatch *b;

	if (r == NULL)
		return NULL;
	if (strlen(reg_id) > JCS_MAX_REG_ID) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "registration id is too "
		    "long");
		return NULL;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->md = EVP_MD_CTX_new()) == NULL ||
	    (b->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		if (b != NULL)
			EVP_MD_CTX_free(b->md);
		free(b);
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	b->r = r;
	b->wal_fd = -1;
	snprintf(b->reg_id, sizeof(b->reg_id), "%s", reg_id);
	if (issuable_registration(ctx, r, reg_id, NULL, &b->row) == -1) {
		jcs_regbatch_free(b);
		return NULL;
	}
	if ((b->find = prep(ctx, r, "SELECT der, serial, not_after FROM "
	    "labels WHERE reg_id=? AND unit_serial=?")) == NULL ||
	    (b->insert = prep(ctx, r, "INSERT INTO labels(serial, reg_id, "
	    "unit_serial, signer_id, not_before, not_after, issued_at, der) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) == NULL ||
	    (b->audit_ins = prep(ctx, r, "INSERT INTO audit(seq, time, op, "
	    "subject, result, prev_hash, hash) VALUES (?, ?, 'issue', ?, "
	    "'ok', ?, ?)")) == NULL ||
	    (b->reg = prep(ctx, r, "SELECT withdrawn_at, withdrawn_reason "
	    "FROM registrations WHERE reg_id=?")) == NULL) {
		jcs_regbatch_free(b);
		return NULL;
	}
	{
		sqlite3_stmt *st = prep(ctx, r, "SELECT 1 FROM labels WHERE "
		    "reg_id=? AND unit_serial IS NOT NULL LIMIT 1");
		int rc;

		if (st == NULL) {
			jcs_regbatch_free(b);
			return NULL;
		}
		sqlite3_bind_text(st, 1, b->reg_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			db_fail(ctx, r, "cannot read the registry");
			jcs_regbatch_free(b);
			return NULL;
		}
		b->fresh = rc == SQLITE_DONE;
	}
	/* every transaction of the batch first checks that its registration
	 * is there and issuable (jcs_regbatch_begin): a foreign key lookup
	 * per label would only repeat that */
	sqlite3_exec(r->db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
	/* the indexes a batch inserts into stay in memory (16 MB; SQLite's
	 * default, 2 MB, again after the batch) */
	sqlite3_exec(r->db, "PRAGMA cache_size=-16384", NULL, NULL, NULL);
	return b;
}

const jcs_registration *
jcs_regbatch_registration(const struct jcs_regbatch *b)
{
	return &b->row.reg;
}

int
jcs_regbatch_find(jcs_ctx *ctx, struct jcs_regbatch *b, const char *unit,
    uint8_t **der, size_t *len, char serial[41], time_t *not_after)
{
	int rc;

	*der = NULL;
	*len = 0;
	if (serial != NULL)
		serial[0] = '\0';
	if (not_after != NULL)
		*not_after = 0;
	if (b->fresh && !b->r->in_txn)
		return 0;
	sqlite3_bind_text(b->find, 1, b->reg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->find, 2, unit, -1, SQLITE_STATIC);
	rc = sqlite3_step(b->find);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(b->find, 0);

		if ((*der = malloc(n > 0 ? n : 1)) == NULL) {
			sqlite3_reset(b->find);
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		}
		memcpy(*der, sqlite3_column_blob(b->find, 0), n);
		*len = n;
		if (serial != NULL)
			snprintf(serial, 41, "%s",
			    (const char *)sqlite3_column_text(b->find, 1));
		if (not_after != NULL)
			*not_after = (time_t)sqlite3_column_int64(b->find, 2);
		sqlite3_reset(b->find);
		return 1;
	}
	sqlite3_reset(b->find);
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(ctx, b->r, "cannot read the registry");
}

int
jcs_regbatch_defer_sync(struct jcs_regbatch *b)
{
	const char *db = sqlite3_db_filename(b->r->db, "main");
	char wal[PATH_MAX + 8];
	int fd;

	if (b->wal_fd != -1)
		return b->wal_fd;
	if (db == NULL || db[0] == '\0' || b->r->in_txn ||
	    jcs_pathf(wal, sizeof(wal), "%s-wal", db) == -1)
		return -1;
	/* the WAL exists while this connection is open in WAL mode; a sync
	 * of any descriptor of it flushes what SQLite wrote to it */
	if ((fd = open(wal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (sqlite3_exec(b->r->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK) {
		close(fd);
		return -1;
	}
	b->wal_fd = fd;
	return fd;
}

void
jcs_regbatch_read(struct jcs_regbatch *b, int start)
{
	/* one read transaction for a chunk's lookups, not one (with its
	 * file locks) per lookup; without it each lookup is its own */
	if (start && !b->r->in_txn)
		b->reading = sqlite3_exec(b->r->db, "BEGIN", NULL, NULL,
		    NULL) == SQLITE_OK;
	else if (!start && b->reading) {
		sqlite3_exec(b->r->db, "COMMIT", NULL, NULL, NULL);
		b->reading = 0;
	}
}

int
jcs_regbatch_begin(jcs_ctx *ctx, struct jcs_regbatch *b)
{
	char count[32];
	int rc;

	if (begin(ctx, b->r) == -1)
		return -1;
	/* the registration may have been withdrawn since the last chunk */
	sqlite3_bind_text(b->reg, 1, b->reg_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(b->reg);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			jcs_fail(ctx, JCS_ERR_NOT_FOUND, "no registration %s",
			    b->reg_id);
		else
			db_fail(ctx, b->r, "cannot read the registry");
		goto err;
	}
	if (sqlite3_column_int64(b->reg, 0) != 0) {
		char d[16];

		jcs_fail(ctx, JCS_ERR_REVOKED, "registration %s was withdrawn "
		    "on %s (%s): no new labels", b->reg_id,
		    jcs_date_format((time_t)sqlite3_column_int64(b->reg, 0), d,
		    sizeof(d)),
		    jcs_reason_name(sqlite3_column_int(b->reg, 1)));
		goto err;
	}
	sqlite3_reset(b->reg);
	if (meta_get(ctx, b->r, "audit_head", b->head, sizeof(b->head)) == -1 ||
	    meta_get(ctx, b->r, "audit_count", count, sizeof(count)) == -1)
		goto err;
	b->count = count_of(count);
	return 0;
err:
	sqlite3_reset(b->reg);
	rollback(b->r);
	return -1;
}

int
jcs_regbatch_add(jcs_ctx *ctx, struct jcs_regbatch *b, const char *serial,
    const char *unit, const char *signer, time_t not_before,
    time_t not_after, const uint8_t *der, size_t len)
{
	char subject[160], hash[65];
	time_t now = time(NULL);
	int rc;

	sqlite3_bind_text(b->insert, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->insert, 2, b->reg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->insert, 3, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->insert, 4, signer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(b->insert, 5, (sqlite3_int64)not_before);
	sqlite3_bind_int64(b->insert, 6, (sqlite3_int64)not_after);
	sqlite3_bind_int64(b->insert, 7, (sqlite3_int64)now);
	sqlite3_bind_blob(b->insert, 8, der, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(b->insert);
	sqlite3_reset(b->insert);
	if (rc != SQLITE_DONE) {
		int e = sqlite3_extended_errcode(b->r->db);

		if (e == SQLITE_CONSTRAINT_UNIQUE)
			return 1;
		if (e == SQLITE_CONSTRAINT_PRIMARYKEY)
			return 2;
		return db_fail(ctx, b->r, "cannot record the label");
	}
	snprintf(subject, sizeof(subject), "%s reg=%s unit=%s", serial,
	    b->reg_id, unit);
	audit_hash_ctx(b->md, b->sha256, b->head, b->count + 1,
	    (long long)now, "issue",
	    subject, "ok", hash);
	if (hash[0] == '\0')
		return jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot hash the "
		    "audit entry");
	sqlite3_bind_int64(b->audit_ins, 1, b->count + 1);
	sqlite3_bind_int64(b->audit_ins, 2, (sqlite3_int64)now);
	sqlite3_bind_text(b->audit_ins, 3, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->audit_ins, 4, b->head, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->audit_ins, 5, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(b->audit_ins);
	sqlite3_reset(b->audit_ins);
	if (rc != SQLITE_DONE)
		return db_fail(ctx, b->r, "cannot write the audit log");
	b->count++;
	memcpy(b->head, hash, sizeof(hash));
	return 0;
}

int
jcs_regbatch_commit(jcs_ctx *ctx, struct jcs_regbatch *b)
{
	char count[32];

	snprintf(count, sizeof(count), "%lld", b->count);
	if (meta_set(ctx, b->r, "audit_head", b->head) == -1 ||
	    meta_set(ctx, b->r, "audit_count", count) == -1) {
		rollback(b->r);
		return -1;
	}
	return commit(ctx, b->r);
}

void
jcs_regbatch_rollback(struct jcs_regbatch *b)
{
	if (b != NULL)
		rollback(b->r);
}
