/* test_registry.c - registrations, issuing from them, listing, revoking,
 * the audit chain, batch issuance and concurrent writers, through the
 * library with a real SQLite file. */
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"

static char *tmp;
static char prof[4096];

static int
setup(void **state)
{
	(void)state;
	return tu_setup_tmp(&tmp, prof, sizeof(prof));
}

static int
teardown(void **state)
{
	(void)state;
	tu_teardown_tmp(&tmp);
	return 0;
}

static char *
new_ca(const char *name)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char *dir = malloc(4200);
	jcs_ca_init_opts o;

	snprintf(dir, 4200, "%s/%s", tmp, name);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "Example Certification Body";
	o.profile_dir = prof;
	if (jcs_ca_init(ctx, &o) == -1)
		fail_msg("ca init: %s", jcs_ctx_message(ctx));
	jcs_ctx_free(ctx);
	return dir;
}

static jcs_registration
reg_of(const char *id, int level, const char *lab)
{
	jcs_registration r;
	jcs_label_fields f = tu_ref_fields();

	memset(&r, 0, sizeof(r));
	r.scheme = JCS_SCHEME_JCSTAR;
	r.level = level;
	r.product = f.product;
	r.product.reg_id = id;
	r.lab = lab;
	r.support_until = f.support_until;
	return r;
}

static int
count_cb(void *arg, const jcs_record *rec)
{
	(void)rec;
	(*(int *)arg)++;
	return 0;
}

struct seen {
	char serial[64];
	int status, reason;
	char unit[40];
};

static int
keep_cb(void *arg, const jcs_record *rec)
{
	struct seen *s = arg;

	snprintf(s->serial, sizeof(s->serial), "%s", rec->serial_hex);
	snprintf(s->unit, sizeof(s->unit), "%s",
	    rec->unit_serial != NULL ? rec->unit_serial : "-");
	s->status = rec->status;
	s->reason = rec->reason;
	return 0;
}

static void
test_register_and_issue(void **state)
{
	char *dir = new_ca("reg");
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	jcs_registration r = reg_of("JCS-R-1", 2, NULL);
	jcs_registration bad;
	jcs_label *l, *u;
	struct seen s;
	int n = 0;

	(void)state;
	assert_non_null(ca);
	assert_int_equal(jcs_ca_register(ctx, ca, &r), 0);
	assert_int_equal(jcs_ca_register(ctx, ca, &r), -1);
	assert_err(ctx, JCS_ERR_EXISTS);
	/* rules apply to registrations */
	bad = reg_of("JCS-R-3", 3, NULL);
	assert_int_equal(jcs_ca_register(ctx, ca, &bad), -1);
	assert_err(ctx, JCS_ERR_POLICY_RULE);
	bad = reg_of("JCS-R-5", 5, "Lab");
	assert_int_equal(jcs_ca_register(ctx, ca, &bad), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	bad = reg_of("bad id", 1, NULL);
	assert_int_equal(jcs_ca_register(ctx, ca, &bad), -1);
	assert_msg(ctx, "registration id may hold only");

	l = jcs_ca_issue_registered(ctx, ca, "JCS-R-1", NULL, NULL);
	assert_non_null(l);
	assert_int_equal(jcs_label_get_fields(l)->level, 2);
	assert_string_equal(jcs_label_get_fields(l)->product.vendor,
	    "Example Electronics Co., Ltd.");
	u = jcs_ca_issue_registered(ctx, ca, "JCS-R-1", "SN-1", NULL);
	assert_non_null(u);
	assert_string_equal(jcs_label_get_fields(u)->product.unit_serial,
	    "SN-1");
	jcs_label_free(u);
	assert_null(jcs_ca_issue_registered(ctx, ca, "JCS-R-1", "SN-1", NULL));
	assert_err(ctx, JCS_ERR_EXISTS);
	assert_msg(ctx, "already has label");
	assert_null(jcs_ca_issue_registered(ctx, ca, "JCS-NONE", NULL, NULL));
	assert_err(ctx, JCS_ERR_NOT_FOUND);

	/* recorded, and found again by serial */
	assert_int_equal(jcs_ca_list(ctx, ca, NULL, 0, 0, count_cb, &n), 2);
	assert_int_equal(n, 2);
	assert_int_equal(jcs_ca_find(ctx, ca, jcs_label_serial_hex(l),
	    keep_cb, &s), 0);
	assert_string_equal(s.serial, jcs_label_serial_hex(l));
	assert_int_equal(s.status, JCS_STATUS_VALID);
	assert_int_equal(jcs_ca_find(ctx, ca, "00aa", keep_cb, &s), -1);
	assert_err(ctx, JCS_ERR_NOT_FOUND);

	/* revoke one, then the registration */
	assert_int_equal(jcs_ca_revoke(ctx, ca, jcs_label_serial_hex(l), NULL,
	    JCS_REASON_KEY_COMPROMISE), 1);
	assert_int_equal(jcs_ca_revoke(ctx, ca, jcs_label_serial_hex(l), NULL,
	    JCS_REASON_SUPERSEDED), 0);
	assert_int_equal(jcs_ca_find(ctx, ca, jcs_label_serial_hex(l),
	    keep_cb, &s), 0);
	assert_int_equal(s.status, JCS_STATUS_REVOKED);
	assert_int_equal(s.reason, JCS_REASON_KEY_COMPROMISE);
	assert_int_equal(jcs_ca_revoke(ctx, ca, NULL, "JCS-R-1",
	    JCS_REASON_PRIVILEGE_WITHDRAWN), 1);
	assert_null(jcs_ca_issue_registered(ctx, ca, "JCS-R-1", "SN-2", NULL));
	assert_err(ctx, JCS_ERR_REVOKED);
	assert_msg(ctx, "withdrawn");
	assert_int_equal(jcs_ca_revoke(ctx, ca, NULL, NULL, 0), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_int_equal(jcs_ca_revoke(ctx, ca, NULL, "JCS-NONE", 0), -1);
	assert_err(ctx, JCS_ERR_NOT_FOUND);
	n = 0;
	assert_int_equal(jcs_ca_list(ctx, ca, "JCS-R-1", JCS_STATUS_REVOKED, 0,
	    count_cb, &n), 2);
	n = 0;
	assert_int_equal(jcs_ca_list(ctx, ca, NULL, JCS_STATUS_VALID, 0,
	    count_cb, &n), 0);
	/* in two years' time an unrevoked label would be expired */
	{
		jcs_registration r2 = reg_of("JCS-R-2", 1, NULL);
		jcs_label *x;

		assert_int_equal(jcs_ca_register(ctx, ca, &r2), 0);
		x = jcs_ca_issue_registered(ctx, ca, "JCS-R-2", NULL, NULL);
		n = 0;
		assert_int_equal(jcs_ca_list(ctx, ca, NULL, JCS_STATUS_EXPIRED,
		    jcs_label_get_fields(x)->not_after + 1, count_cb, &n), 1);
		jcs_label_free(x);
	}
	assert_true(jcs_ca_audit_verify(ctx, ca) >= 7);
	jcs_label_free(l);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

/* jcs_ca_issue with product fields registers them, once. */
static void
test_issue_with_fields(void **state)
{
	char *dir = new_ca("fields");
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	jcs_label_fields f = tu_ref_fields();
	jcs_issue_opts io;
	jcs_label *a, *b;

	(void)state;
	memset(&io, 0, sizeof(io));
	io.scheme = JCS_SCHEME_JCSTAR;
	io.level = 1;
	io.product = f.product;
	a = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(a);
	b = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(b);
	assert_string_not_equal(jcs_label_serial_hex(a),
	    jcs_label_serial_hex(b));
	io.level = 2;
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_EXISTS);
	assert_msg(ctx, "exists with other fields");
	jcs_label_free(a);
	jcs_label_free(b);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

static void
sql(const char *db, const char *stmt)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	if (sqlite3_exec(h, stmt, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", stmt, sqlite3_errmsg(h));
	sqlite3_close(h);
}

static void
copy_file(const char *from, const char *to)
{
	size_t n;
	uint8_t *b = tu_read(from, &n);

	tu_write(to, b, n);
	free(b);
}

static const struct tamper {
	const char *name;
	const char *sql;
	const char *msg;
} tampers[] = {
	{ "edit a subject", "UPDATE audit SET subject='X' WHERE seq=2",
	  "entry 2: its contents were changed" },
	{ "edit a time", "UPDATE audit SET time=time+1 WHERE seq=3",
	  "entry 3: its contents were changed" },
	{ "edit a result and its hash",
	  "UPDATE audit SET result='fail', hash='00' WHERE seq=2",
	  "broken at entry 2" },
	{ "delete an entry", "DELETE FROM audit WHERE seq=2",
	  "entry 2: it is missing" },
	{ "delete the last entry",
	  "DELETE FROM audit WHERE seq=(SELECT max(seq) FROM audit)",
	  "the last ones were removed" },
	{ "swap two entries", "UPDATE audit SET seq=-seq WHERE seq IN (2,3);"
	  "UPDATE audit SET seq=3 WHERE seq=-2;"
	  "UPDATE audit SET seq=2 WHERE seq=-3",
	  "broken at entry 2" },
	{ "insert an entry", "INSERT INTO audit VALUES (99, 0, 'issue', 'x', "
	  "'ok', 'a', 'b')", "entry" },
};

static void
test_audit_tampering(void **state)
{
	char *dir = new_ca("audit"), db[4300], backup[4300];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	jcs_registration r = reg_of("JCS-A", 1, NULL);

	(void)state;
	assert_int_equal(jcs_ca_register(ctx, ca, &r), 0);
	for (int i = 0; i < 3; i++) {
		jcs_label *l = jcs_ca_issue_registered(ctx, ca, "JCS-A", NULL,
		    NULL);

		assert_non_null(l);
		jcs_label_free(l);
	}
	assert_int_equal(jcs_ca_audit_verify(ctx, ca), 5);
	jcs_ca_free(ca);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	snprintf(backup, sizeof(backup), "%s/backup.db", tmp);
	/* fold the WAL in so that a file copy is the whole database */
	sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	copy_file(db, backup);
	for (size_t i = 0; i < sizeof(tampers) / sizeof(tampers[0]); i++) {
		copy_file(backup, db);
		sql(db, tampers[i].sql);
		ca = jcs_ca_open(ctx, dir, NULL);
		if (jcs_ca_audit_verify(ctx, ca) != -1)
			fail_msg("%s: not detected", tampers[i].name);
		if (jcs_ctx_error(ctx) != JCS_ERR_AUDIT ||
		    strstr(jcs_ctx_message(ctx), tampers[i].msg) == NULL)
			fail_msg("%s: got '%s'", tampers[i].name,
			    jcs_ctx_message(ctx));
		jcs_ca_free(ca);
	}
	copy_file(backup, db);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_int_equal(jcs_ca_audit_verify(ctx, ca), 5);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

static void
test_bad_registries(void **state)
{
	char *dir = new_ca("badreg"), db[4300];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca;
	int n = 0;

	(void)state;
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	sql(db, "PRAGMA user_version=7");
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_int_equal(jcs_ca_list(ctx, ca, NULL, 0, 0, count_cb, &n), -1);
	assert_err(ctx, JCS_ERR_REGISTRY);
	assert_msg(ctx, "newer jcstar (registry format 7");
	jcs_ca_free(ca);
	unlink(db);
	tu_write(db, "garbage, not SQLite at all", 26);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_int_equal(jcs_ca_audit_verify(ctx, ca), -1);
	assert_err(ctx, JCS_ERR_REGISTRY);
	assert_msg(ctx, "not an SQLite database");
	jcs_ca_free(ca);
	unlink(db);
	sql(db, "CREATE TABLE other(x)");
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_int_equal(jcs_ca_list(ctx, ca, NULL, 0, 0, count_cb, &n), -1);
	assert_msg(ctx, "another application");
	jcs_ca_free(ca);
	unlink(db);
	/* a CA without a registry gets a new one on first use */
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_int_equal(jcs_ca_list(ctx, ca, NULL, 0, 0, count_cb, &n), 0);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

static const struct csv_case {
	const char *name, *text, *msg;
} csv_cases[] = {
	{ "no header", "SN1\nSN2\n", "expected the header line 'unit_serial'" },
	{ "empty file", "", "expected the header line" },
	{ "header only", "unit_serial\n", "no unit serials" },
	{ "duplicate", "unit_serial\nA\nB\nA\n", "line 4: unit serial A is "
	  "already on line 2" },
	{ "bad quoting", "unit_serial\n\"A\n", "line 2: unterminated quote" },
	{ "two fields", "unit_serial\nA,B\n", "line 2: more than one field" },
	{ "over-long", "unit_serial\n"
	  "0123456789012345678901234567890123456789\n", "line 2: unit serial is" },
	{ "bad character", "unit_serial\nA B\n", "line 2: unit serial may hold" },
	{ "blank line", "unit_serial\nA\n\nB\n", "line 3: empty unit serial" },
};

/* Writes a units file of n units "U<i>" (i = 1..n) plus the extra lines,
 * each line given after unit at (its line number: 1 + position). */
static void
write_units(const char *path, unsigned long n, const char *const *extra,
    const unsigned long *after, size_t n_extra)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("unit_serial\n", f);
	for (unsigned long i = 1; i <= n; i++) {
		fprintf(f, "U%lu\n", i);
		for (size_t k = 0; k < n_extra; k++)
			if (after[k] == i)
				fprintf(f, "%s\n", extra[k]);
	}
	fclose(f);
}

/* Pass 1 finds duplicates the same way in both of its stores: in memory,
 * past JCS_SEEN_SLOTS / 2 units (then moved to a table on disk, with the
 * lines of the units seen before), and with units whose hashes collide
 * (a long probe moves them to disk too). */
static void
test_batch_duplicates(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char path[4300], coll[72][16];
	unsigned long rows, big = JCS_SEEN_SLOTS / 2 + 1000;
	/* U5, U131000 and U3 are seen in memory, their repeats after the
	 * move to disk (past unit JCS_SEEN_SLOTS / 2 = 131,072) */
	const char *extra[] = { "U5", "U131000", "U3" };
	const unsigned long after[] = { 131500, 131600, 131700 };
	uint64_t target = jcs_batch_unit_hash("C0") & (JCS_SEEN_SLOTS - 1);
	int found = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/dups.csv", tmp);
	write_units(path, big, extra, after, 3);
	assert_int_equal(jcs_batch_check_rows(ctx, path, &rows, NULL), -1);
	assert_err(ctx, JCS_ERR_MALFORMED);
	assert_msg(ctx, "3 bad lines");
	assert_msg(ctx, "line 131502: unit serial U5 is already on line 6");
	assert_msg(ctx, "line 131603: unit serial U131000 is already on line "
	    "131001");
	assert_msg(ctx, "line 131704: unit serial U3 is already on line 4");
	/* the same file without the repeats: every unit counted */
	write_units(path, big, NULL, NULL, 0);
	assert_int_equal(jcs_batch_check_rows(ctx, path, &rows, NULL), 0);
	assert_int_equal(rows, big);

	/* 72 units whose hashes all fall on one slot of the table in
	 * memory (more than the longest probe), then the 3rd and the 70th
	 * again */
	for (unsigned long i = 0; found < 72; i++) {
		snprintf(coll[found], sizeof(coll[found]), "C%lu", i);
		if ((jcs_batch_unit_hash(coll[found]) &
		    (JCS_SEEN_SLOTS - 1)) == target)
			found++;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("unit_serial\n", f);
	for (int i = 0; i < 72; i++)
		fprintf(f, "%s\n", coll[i]);
	fclose(f);
	assert_int_equal(jcs_batch_check_rows(ctx, path, &rows, NULL), 0);
	assert_int_equal(rows, 72);
	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f, "%s\n%s\n", coll[2], coll[69]);
	fclose(f);
	assert_int_equal(jcs_batch_check_rows(ctx, path, &rows, NULL), -1);
	assert_msg(ctx, "2 bad lines");
	assert_msg(ctx, "is already on line 4");
	assert_msg(ctx, "is already on line 71");
	jcs_ctx_free(ctx);
}

static void
test_batch(void **state)
{
	char *dir = new_ca("batch"), csv[4300], out[4300], path[4400];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	jcs_registration r = reg_of("JCS-B", 1, NULL);
	jcs_batch_opts bo;
	jcs_batch_result res;
	FILE *f;
	struct stat st;

	(void)state;
	assert_int_equal(jcs_ca_register(ctx, ca, &r), 0);
	snprintf(csv, sizeof(csv), "%s/units.csv", tmp);
	snprintf(out, sizeof(out), "%s/out", tmp);
	assert_int_equal(mkdir(out, 0700), 0);
	memset(&bo, 0, sizeof(bo));
	bo.reg_id = "JCS-B";
	bo.csv_path = csv;
	bo.out_dir = out;
	for (size_t i = 0; i < sizeof(csv_cases) / sizeof(csv_cases[0]); i++) {
		tu_write(csv, csv_cases[i].text, strlen(csv_cases[i].text));
		if (jcs_ca_issue_batch(ctx, ca, &bo, &res) != -1)
			fail_msg("%s: accepted", csv_cases[i].name);
		if (strstr(jcs_ctx_message(ctx), csv_cases[i].msg) == NULL)
			fail_msg("%s: got '%s'", csv_cases[i].name,
			    jcs_ctx_message(ctx));
		assert_int_equal(res.issued, 0);
	}
	f = fopen(csv, "w");
	fputs("unit_serial\r\n\"SN/1\"\r\n", f);
	for (int i = 2; i <= 700; i++)
		fprintf(f, "SN-%d\r\n", i);
	fclose(f);
	assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), 0);
	assert_int_equal(res.rows, 700);
	assert_int_equal(res.issued, 700);
	assert_int_equal(res.files, 700);
	snprintf(path, sizeof(path), "%s/SN%%2F1.der", out);
	assert_int_equal(stat(path, &st), 0);
	/* again: nothing new, a missing file comes back */
	snprintf(path, sizeof(path), "%s/SN-300.der", out);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), 0);
	assert_int_equal(res.issued, 0);
	assert_int_equal(res.existing, 700);
	assert_int_equal(res.files, 1);
	assert_int_equal(stat(path, &st), 0);
	/* stdin, a missing output directory */
	bo.csv_path = "-";
	assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	bo.csv_path = csv;
	bo.out_dir = "/nonexistent/out";
	assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), -1);
	assert_err(ctx, JCS_ERR_IO);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

/* The units of registration reg_id in audit-log order, one per line. */
static char *
units_in_audit_order(const char *dir, const char *reg_id)
{
	char db[4300], *out = calloc(1, 1 << 20);
	size_t len = 0;
	sqlite3 *h;
	sqlite3_stmt *st;

	snprintf(db, sizeof(db), "%s/registry.db", dir);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT l.unit_serial FROM "
	    "audit a JOIN labels l ON substr(a.subject, 1, "
	    "length(l.serial)) = l.serial WHERE a.op='issue' AND l.reg_id=? "
	    "ORDER BY a.seq", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, reg_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		len += (size_t)snprintf(out + len, (1 << 20) - len, "%s\n",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

/* The label file of unit u in out: its fields, checked against the trust
 * bundle of the CA. */
static void
check_unit_file(jcs_ctx *ctx, const jcs_trust *trust, const char *out,
    const char *u, const char *reg_id)
{
	char path[4400];
	jcs_label *l;

	snprintf(path, sizeof(path), "%s/%s.der", out, u);
	if ((l = jcs_label_load_file(ctx, path)) == NULL)
		fail_msg("%s: %s", path, jcs_ctx_message(ctx));
	if (jcs_verify(ctx, trust, l, NULL, NULL) != 0)
		fail_msg("%s: %s", path, jcs_ctx_message(ctx));
	assert_string_equal(jcs_label_get_fields(l)->product.unit_serial, u);
	assert_string_equal(jcs_label_get_fields(l)->product.reg_id, reg_id);
	jcs_label_free(l);
}

/* --jobs: two jobs give what one gives - every unit once, in file order in
 * the registry and the audit log, files that verify - and bad values are
 * refused. */
static void
test_batch_jobs(void **state)
{
	char *dir = new_ca("jobs"), csv[4300], out[2][4300], want[1 << 16];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	jcs_batch_opts bo;
	jcs_batch_result res;
	jcs_trust *trust;
	char *pem;
	size_t wlen = 0;
	FILE *f;
	const int n = 2500; /* several chunks, the last one short */
	const int bad_jobs[] = { -1, jcs_jobs_max() + 1, 1 << 20 };

	(void)state;
	for (int k = 0; k < 2; k++) {
		char id[24];
		jcs_registration r;

		snprintf(id, sizeof(id), "JCS-J%d", k + 1);
		r = reg_of(id, 1, NULL);
		assert_int_equal(jcs_ca_register(ctx, ca, &r), 0);
		snprintf(out[k], sizeof(out[k]), "%s/out-j%d", tmp, k + 1);
		assert_int_equal(mkdir(out[k], 0700), 0);
	}
	snprintf(csv, sizeof(csv), "%s/jobs.csv", tmp);
	f = fopen(csv, "w");
	fputs("unit_serial\n", f);
	for (int i = 0; i < n; i++) {
		/* not in sorted order: the order kept must be the file's */
		fprintf(f, "U%d\n", (i * 7919) % n);
		wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen,
		    "U%d\n", (i * 7919) % n);
	}
	fclose(f);
	pem = jcs_ca_trust_pem(ctx, ca);
	trust = jcs_trust_load_mem(ctx, (const uint8_t *)pem, strlen(pem));
	assert_non_null(trust);
	free(pem);
	for (int k = 0; k < 2; k++) {
		char id[24], *order;

		snprintf(id, sizeof(id), "JCS-J%d", k + 1);
		memset(&bo, 0, sizeof(bo));
		bo.reg_id = id;
		bo.csv_path = csv;
		bo.out_dir = out[k];
		bo.jobs = k + 1;
		if (jcs_ca_issue_batch(ctx, ca, &bo, &res) != 0)
			fail_msg("jobs %d: %s", k + 1, jcs_ctx_message(ctx));
		assert_int_equal(res.rows, n);
		assert_int_equal(res.issued, n);
		assert_int_equal(res.existing, 0);
		assert_int_equal(res.files, n);
		order = units_in_audit_order(dir, id);
		assert_string_equal(order, want);
		free(order);
		check_unit_file(ctx, trust, out[k], "U0", id);
		check_unit_file(ctx, trust, out[k], "U2499", id);
		/* a re-run with the other number of jobs: nothing new */
		bo.jobs = 2 - k;
		assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), 0);
		assert_int_equal(res.issued, 0);
		assert_int_equal(res.existing, n);
		assert_int_equal(res.files, 0);
	}
	assert_int_equal(jcs_ca_audit_verify(ctx, ca), 1 + 2 + 2 * n);
	/* a file cut short (a crash while writing) is found and rewritten,
	 * one that holds another label too */
	{
		char path[4400], other[4400];
		size_t len;
		uint8_t *der;

		snprintf(path, sizeof(path), "%s/U5.der", out[1]);
		snprintf(other, sizeof(other), "%s/U6.der", out[1]);
		der = tu_read(path, &len);
		tu_write(path, der, len / 2);
		free(der);
		der = tu_read(other, &len);
		snprintf(other, sizeof(other), "%s/U7.der", out[1]);
		tu_write(other, der, len);
		free(der);
		bo.reg_id = "JCS-J2";
		bo.out_dir = out[1];
		bo.jobs = 2;
		assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), 0);
		assert_int_equal(res.files, 2);
		check_unit_file(ctx, trust, out[1], "U5", "JCS-J2");
		check_unit_file(ctx, trust, out[1], "U7", "JCS-J2");
	}
	for (size_t i = 0; i < sizeof(bad_jobs) / sizeof(bad_jobs[0]); i++) {
		bo.jobs = bad_jobs[i];
		if (bad_jobs[i] < 0) {
			/* 0 and below: the default, one job */
			assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res),
			    0);
			continue;
		}
		assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), -1);
		assert_err(ctx, JCS_ERR_INVALID_ARG);
		assert_msg(ctx, "jobs must be 1 to");
	}
	jcs_trust_free(trust);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

struct stopper {
	int calls, after;
};

static int
stop_after(void *arg)
{
	struct stopper *s = arg;

	return ++s->calls > s->after;
}

/* Counts the label files in dir. */
static unsigned long
der_files(const char *dir)
{
	unsigned long n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".der") != NULL;
	closedir(d);
	return n;
}

/* A batch asked to stop ends between transactions with
 * JCS_ERR_INTERRUPTED: what it recorded has its files, nothing else is
 * recorded, and re-runs finish it with every unit once. */
static void
test_batch_stop(void **state)
{
	char *dir = new_ca("stop"), csv[4300], out[4300];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	jcs_batch_opts bo;
	jcs_batch_result res;
	struct stopper st;
	FILE *f;
	const int n = 6000; /* six transactions, the last one short */

	(void)state;
	snprintf(csv, sizeof(csv), "%s/stop.csv", tmp);
	f = fopen(csv, "w");
	fputs("unit_serial\n", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "S%d\n", i);
	fclose(f);
	for (int jobs = 1; jobs <= 2; jobs++) {
		char id[24];
		jcs_registration r;
		unsigned long issued = 0;
		int round;

		snprintf(id, sizeof(id), "JCS-S%d", jobs);
		r = reg_of(id, 1, NULL);
		assert_int_equal(jcs_ca_register(ctx, ca, &r), 0);
		snprintf(out, sizeof(out), "%s/out-stop%d", tmp, jobs);
		assert_int_equal(mkdir(out, 0700), 0);
		memset(&bo, 0, sizeof(bo));
		bo.reg_id = id;
		bo.csv_path = csv;
		bo.out_dir = out;
		bo.jobs = jobs;
		bo.stop = stop_after;
		bo.stop_arg = &st;
		/* asked while the file is checked (every 4096 lines), then
		 * before the first transaction: nothing at all */
		memset(&st, 0, sizeof(st));
		assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), -1);
		assert_err(ctx, JCS_ERR_INTERRUPTED);
		assert_msg(ctx, "interrupted while checking");
		assert_msg(ctx, "nothing was issued");
		memset(&st, 0, sizeof(st));
		st.after = 1;
		assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), -1);
		assert_err(ctx, JCS_ERR_INTERRUPTED);
		assert_msg(ctx, "interrupted after 0 of 6000 labels; run the "
		    "same command again to resume");
		assert_int_equal(res.issued, 0);
		assert_int_equal(der_files(out), 0);
		/* asked later and later: each run gets further (one call
		 * while the file is checked, then one per step; the first
		 * chunk commits in the third step) */
		for (round = 1;; round++) {
			memset(&st, 0, sizeof(st));
			st.after = 3 * round + 1;
			if (jcs_ca_issue_batch(ctx, ca, &bo, &res) == 0)
				break;
			assert_err(ctx, JCS_ERR_INTERRUPTED);
			assert_msg(ctx, "of 6000 labels; run the same command "
			    "again to resume");
			assert_true(res.issued > 0);
			issued += res.issued;
			/* every recorded label has its file, and only those */
			assert_int_equal(der_files(out), issued);
			assert_true(round < 20);
		}
		assert_true(round > 2);
		assert_int_equal(issued + res.issued, n);
		assert_int_equal(res.issued + res.existing, n);
		assert_int_equal(der_files(out), n);
	}
	assert_int_equal(jcs_ca_audit_verify(ctx, ca), 1 + 2 + 2 * n);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

struct list_rec {
	const char *unit, *reg_id;
	time_t not_after;
	int found;
};

static int
list_rec_cb(void *arg, const jcs_record *rec)
{
	struct list_rec *w = arg;

	w->found = rec->unit_serial != NULL &&
	    strcmp(rec->unit_serial, w->unit) == 0 &&
	    strcmp(rec->reg_id, w->reg_id) == 0;
	w->not_after = rec->not_after;
	return 0;
}

/* Checks the label list at path: the header, then one line per unit of
 * want ("U1\nU2\n...") in that order, each line's serial the registry's
 * label of that unit, its date the label's end, its payload (url form with
 * base, else bare) a label of that unit that verifies. Returns the
 * number of lines. */
static unsigned long
check_list(jcs_ctx *ctx, jcs_ca *ca, const jcs_trust *trust, const char *path,
    const char *want, const char *reg_id, const char *base)
{
	size_t len;
	char *text = (char *)tu_read(path, &len), *line, *save = NULL;
	const char *w = want;
	unsigned long n = 0;
	char tmpname[4400];
	struct stat st;

	assert_non_null(text);
	text = realloc(text, len + 1);
	text[len] = '\0';
	assert_int_equal(strncmp(text, JCS_BATCH_LIST_HEADER "\n",
	    strlen(JCS_BATCH_LIST_HEADER) + 1), 0);
	assert_int_equal(text[len - 1], '\n');
	for (line = strtok_r(text + strlen(JCS_BATCH_LIST_HEADER) + 1, "\n",
	    &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *unit = line, *serial, *date, *payload, d[16];
		const char *nl = strchr(w, '\n');
		struct list_rec rec;
		jcs_label *l;

		assert_non_null(nl);
		assert_non_null(serial = strchr(unit, ','));
		*serial++ = '\0';
		assert_non_null(date = strchr(serial, ','));
		*date++ = '\0';
		assert_non_null(payload = strchr(date, ','));
		*payload++ = '\0';
		/* the units file's order */
		if (strlen(unit) != (size_t)(nl - w) ||
		    strncmp(unit, w, (size_t)(nl - w)) != 0)
			fail_msg("line %lu: unit %s, expected %.*s", n + 2,
			    unit, (int)(nl - w), w);
		w = nl + 1;
		assert_true(strlen(serial) >= 16);
		/* the payload is that unit's label, and it verifies */
		if (base != NULL)
			assert_int_equal(strncmp(payload, base, strlen(base)),
			    0);
		else
			assert_int_equal(strncmp(payload, JCS_BARE_PREFIX,
			    strlen(JCS_BARE_PREFIX)), 0);
		if ((l = jcs_label_from_payload(ctx, payload,
		    strlen(payload))) == NULL)
			fail_msg("line %lu: %s", n + 2, jcs_ctx_message(ctx));
		if (jcs_verify(ctx, trust, l, NULL, NULL) != 0)
			fail_msg("line %lu: %s", n + 2, jcs_ctx_message(ctx));
		assert_string_equal(jcs_label_get_fields(l)->product.unit_serial,
		    unit);
		assert_string_equal(jcs_label_serial_hex(l), serial);
		assert_string_equal(jcs_date_format(
		    jcs_label_get_fields(l)->not_after, d, sizeof(d)), date);
		jcs_label_free(l);
		/* the registry holds that serial for that unit */
		memset(&rec, 0, sizeof(rec));
		rec.unit = unit;
		rec.reg_id = reg_id;
		assert_int_equal(jcs_ca_find(ctx, ca, serial, list_rec_cb,
		    &rec), 0);
		assert_true(rec.found);
		n++;
	}
	assert_int_equal(*w, '\0');
	free(text);
	/* no temporary is left beside it */
	snprintf(tmpname, sizeof(tmpname), "%s.jcstar-tmp", path);
	assert_int_equal(stat(tmpname, &st), -1);
	return n;
}

/* --out-list: one CSV list in the units file's order, the same with one
 * or two jobs; a list that exists is refused unless it is this batch's;
 * an interrupted batch leaves no list and resumes to a whole one. */
static void
test_batch_list(void **state)
{
	char *dir = new_ca("list"), csv[4300], list[4][4300], out[4300];
	char want[1 << 16];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	jcs_batch_opts bo;
	jcs_batch_result res;
	jcs_trust *trust;
	struct stat st;
	struct stopper stp;
	char *pem, *before, *after;
	size_t wlen = 0, blen, alen;
	FILE *f;
	int count;
	const int n = 2500;
	const char *base = "HTTPS://VERIFY.EXAMPLE/L/";

	(void)state;
	for (int k = 1; k <= 5; k++) {
		char id[24];
		jcs_registration r;

		snprintf(id, sizeof(id), "JCS-L%d", k);
		r = reg_of(id, 1, NULL);
		assert_int_equal(jcs_ca_register(ctx, ca, &r), 0);
	}
	for (int k = 0; k < 4; k++)
		snprintf(list[k], sizeof(list[k]), "%s/list%d.csv", tmp, k + 1);
	snprintf(csv, sizeof(csv), "%s/list-units.csv", tmp);
	f = fopen(csv, "w");
	fputs("unit_serial\n", f);
	for (int i = 0; i < n; i++) {
		fprintf(f, "U%d\n", (i * 7919) % n);
		wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen,
		    "U%d\n", (i * 7919) % n);
	}
	fclose(f);
	pem = jcs_ca_trust_pem(ctx, ca);
	trust = jcs_trust_load_mem(ctx, (const uint8_t *)pem, strlen(pem));
	assert_non_null(trust);
	free(pem);
	/* one job and two: the same lines in the same order */
	for (int k = 0; k < 2; k++) {
		memset(&bo, 0, sizeof(bo));
		bo.reg_id = k == 0 ? "JCS-L1" : "JCS-L2";
		bo.csv_path = csv;
		bo.out_list = list[k];
		bo.payload_base_url = base;
		bo.jobs = k + 1;
		if (jcs_ca_issue_batch(ctx, ca, &bo, &res) != 0)
			fail_msg("jobs %d: %s", k + 1, jcs_ctx_message(ctx));
		assert_int_equal(res.issued, n);
		assert_int_equal(res.listed, n);
		assert_int_equal(res.files, 0);
		assert_int_equal(check_list(ctx, ca, trust, list[k], want,
		    bo.reg_id, base), n);
	}
	/* the same batch again: accepted, nothing issued, the same list */
	before = (char *)tu_read(list[0], &blen);
	bo.reg_id = "JCS-L1";
	bo.out_list = list[0];
	bo.jobs = 2;
	assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), 0);
	assert_int_equal(res.issued, 0);
	assert_int_equal(res.existing, n);
	assert_int_equal(res.listed, n);
	after = (char *)tu_read(list[0], &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	free(after);
	/* another batch's list, or some other file, is not replaced, and
	 * nothing is issued */
	bo.reg_id = "JCS-L3";
	bo.out_list = list[1];
	assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), -1);
	assert_err(ctx, JCS_ERR_EXISTS);
	assert_msg(ctx, "is not the list of this batch");
	tu_write(list[2], "unit_serial\nsomething else\n", 27);
	bo.out_list = list[2];
	assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), -1);
	assert_err(ctx, JCS_ERR_EXISTS);
	after = (char *)tu_read(list[2], &alen);
	assert_int_equal(alen, 27);
	free(after);
	count = 0;
	assert_int_equal(jcs_ca_list(ctx, ca, "JCS-L3", 0, 0, count_cb,
	    &count), 0);
	assert_int_equal(count, 0);
	/* bad places for the list, bad combinations */
	{
		const struct {
			const char *path;
			int pem, err;
			const char *msg;
		} bad[] = {
			{ "/nonexistent/dir/list.csv", 0, JCS_ERR_IO,
			  "directory of the list" },
			{ "-", 0, JCS_ERR_INVALID_ARG, "must be a file" },
			{ "", 0, JCS_ERR_INVALID_ARG, "must be a file" },
			{ tmp, 0, JCS_ERR_EXISTS, "is a directory" },
			{ list[3], 1, JCS_ERR_INVALID_ARG,
			  "output directory" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			bo.out_list = bad[i].path;
			bo.pem = bad[i].pem;
			if (jcs_ca_issue_batch(ctx, ca, &bo, &res) != -1)
				fail_msg("%s: accepted", bad[i].path);
			assert_err(ctx, bad[i].err);
			assert_msg(ctx, bad[i].msg);
		}
		bo.pem = 0;
		assert_int_equal(stat(list[3], &st), -1);
	}
	/* interrupted, with both jobs counts: no list (and no temporary)
	 * until a run completes it, then every unit once, in order */
	for (int jobs = 1; jobs <= 2; jobs++) {
		int round;

		bo.reg_id = jobs == 1 ? "JCS-L3" : "JCS-L4";
		bo.out_list = list[3];
		bo.jobs = jobs;
		bo.payload_base_url = NULL; /* the bare form */
		bo.stop = stop_after;
		bo.stop_arg = &stp;
		unlink(list[3]);
		for (round = 1;; round++) {
			char tmpname[4400];

			memset(&stp, 0, sizeof(stp));
			stp.after = 3 * round + 1;
			if (jcs_ca_issue_batch(ctx, ca, &bo, &res) == 0)
				break;
			assert_err(ctx, JCS_ERR_INTERRUPTED);
			assert_int_equal(stat(list[3], &st), -1);
			snprintf(tmpname, sizeof(tmpname), "%s.jcstar-tmp",
			    list[3]);
			assert_int_equal(stat(tmpname, &st), -1);
			assert_true(round < 20);
		}
		assert_true(round > 1);
		assert_true(res.existing > 0);
		assert_int_equal(res.issued + res.existing, n);
		assert_int_equal(res.listed, n);
		assert_int_equal(check_list(ctx, ca, trust, list[3], want,
		    bo.reg_id, NULL), n);
		bo.stop = NULL;
	}
	/* a list and files together */
	snprintf(out, sizeof(out), "%s/out-list", tmp);
	assert_int_equal(mkdir(out, 0700), 0);
	unlink(list[3]);
	bo.reg_id = "JCS-L5";
	bo.out_dir = out;
	bo.payload_base_url = base;
	assert_int_equal(jcs_ca_issue_batch(ctx, ca, &bo, &res), 0);
	assert_int_equal(res.files, n);
	assert_int_equal(res.listed, n);
	assert_int_equal(check_list(ctx, ca, trust, list[3], want, "JCS-L5",
	    base), n);
	assert_int_equal(der_files(out), n);
	free(before);
	assert_int_equal(jcs_ca_audit_verify(ctx, ca), 1 + 5 + 5 * n);
	jcs_trust_free(trust);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

/* Four processes issue into one CA at once: all succeed, serials unique,
 * units never doubled. */
static void
test_concurrent_issuers(void **state)
{
	char *dir = new_ca("conc"), db[4300];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	jcs_registration r = reg_of("JCS-C", 1, NULL);
	pid_t pids[4];
	sqlite3 *h;
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(jcs_ca_register(ctx, ca, &r), 0);
	jcs_ca_free(ca);
	for (int p = 0; p < 4; p++) {
		if ((pids[p] = fork()) == 0) {
			jcs_ctx *c = jcs_ctx_new();
			jcs_ca *a = jcs_ca_open(c, dir, NULL);
			int bad = 0;

			for (int i = 0; i < 40; i++) {
				char unit[32];
				jcs_label *l;

				/* units 0..59 wanted by every process */
				snprintf(unit, sizeof(unit), "U%d",
				    (i * 3 + p) % 60);
				l = jcs_ca_issue_registered(c, a, "JCS-C",
				    unit, NULL);
				if (l == NULL &&
				    jcs_ctx_error(c) != JCS_ERR_EXISTS)
					bad = 1;
				jcs_label_free(l);
			}
			jcs_ca_free(a);
			jcs_ctx_free(c);
			_exit(bad);
		}
	}
	for (int p = 0; p < 4; p++) {
		int status;

		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*), "
	    "count(DISTINCT serial), count(DISTINCT unit_serial) FROM labels",
	    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 60);
	assert_int_equal(sqlite3_column_int(st, 1), 60);
	assert_int_equal(sqlite3_column_int(st, 2), 60);
	sqlite3_finalize(st);
	sqlite3_close(h);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_int_equal(jcs_ca_audit_verify(ctx, ca), 1 + 1 + 60);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_issue),
		cmocka_unit_test(test_issue_with_fields),
		cmocka_unit_test(test_audit_tampering),
		cmocka_unit_test(test_bad_registries),
		cmocka_unit_test(test_batch_duplicates),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_batch_jobs),
		cmocka_unit_test(test_batch_stop),
		cmocka_unit_test(test_batch_list),
		cmocka_unit_test(test_concurrent_issuers),
	};

	return cmocka_run_group_tests_name("registry", tests, setup, teardown);
}
