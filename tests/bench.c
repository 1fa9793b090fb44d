/*
 * bench.c - `make bench`: one table, every figure beside the raw operation
 * it is built on, measured in the same run on the same machine, with the
 * ratio and the goal (docs: README "Tests and benchmarks"; scripts/
 * bench-report adds the HTTP rows and writes bench/results.md).
 *
 *   raw sign        the fastest plain OpenSSL signature of a tbsLabel-sized
 *                   message, one thread: ECDSA P-256 as EVP_PKEY_sign of
 *                   its SHA-256 with one EVP_PKEY_CTX set up once; Ed25519
 *                   as EVP_DigestSign, the best of a new EVP_MD_CTX per
 *                   signature and a copy of one set up once
 *   raw verify      the same for verification
 *   raw sign x2     raw sign on two threads at once, each with its own
 *                   contexts: shown beside the issue rows' --jobs 2 vs 1,
 *                   the scaling the two virtual CPUs themselves give
 *   batch issue     jcs_ca_issue_batch of $BENCH_ISSUE_ROWS units (20,000)
 *   (list)          into a label list (--out-list, url form): both passes
 *                   over the CSV file, sign + DER, registry rows and audit
 *                   entries committed, every line (payload included)
 *                   written, the list flushed and renamed; --jobs 1 and 2.
 *                   The goal (issue 7): >= 50% of raw sign, and 2 jobs
 *                   >= 1.7 times 1 job on 2 cores
 *   batch issue     the same into a fresh directory, every UNIT.der written
 *   (files)         and flushed: reported only, the "fs" row bounds it (one
 *                   directory's creates cost about one signature each)
 *   batch verify    a jcs_checker over one payload string (url form) per
 *                   label of that batch: decode, signer, chain, CRL,
 *                   signature, validity; --jobs 1 and 2
 *   (every file of the batch rows goes to a new directory in $BENCH_DIR,
 *   default /tmp)
 *   1M batch        `jcstar issue --batch` of $BENCH_BATCH_ROWS units
 *                   (1,000,000; 0 skips it) as a child process: peak RSS
 *                   (getrusage of the child) and labels/s, files included
 *
 *   render PNG    jcs_render_png with template jcstar-1 at 300 dpi (QR,
 *                 text with FreeType, PNG), labels/s on one core: 16 labels
 *                 in turn that differ as a batch's do (the reference
 *                 label's fields with unit serials 1 to 16: each its own
 *                 signature, QR code and serial line), one template
 *   raw QR PNG    libqrencode encode + libpng write (default settings) of
 *                 the same payloads' bare QR codes at the template's module
 *                 size (4 px at 300 dpi), 8-bit grey: the baseline for
 *                 render; goal (issue 7): render >= 1000 labels/s per core
 *   scan          jcs_scan_mem of that rendered label (libpng + libzbar)
 * The raw baselines of the batch rows are timed over as many operations as
 * a batch run, interleaved with the runs (a busy moment of the machine hits
 * both alike); each figure is the best of two. Render and scan rates are
 * the best of three runs of about 0.3 s.
 *
 *   file system     create (O_EXCL) + write + close of a 300-byte file,
 *                   as many as a batch run, in one new directory: the
 *                   kernel's part of a label, which no thread count can
 *                   spread (one directory's creates are serialised) Output directories are removed only
 * at the end: on ext4 without a journal, inodes freed in the last minutes
 * make new files slow to create (the kernel skips "recently deleted"
 * inodes), which would slow the rows measured after a removal.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <qrencode.h>

#include "internal.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int (*op_fn)(void *arg);

/* Returns operations per second: best of 3 runs of ~0.3 s. */
static double
rate(op_fn op, void *arg)
{
	double best = 0;

	for (int run = 0; run < 3; run++) {
		double t0 = now(), t;
		long n = 0;

		do {
			for (int i = 0; i < 16; i++) {
				if (op(arg) != 0) {
					fprintf(stderr, "bench: operation "
					    "failed\n");
					exit(1);
				}
			}
			n += 16;
			t = now() - t0;
		} while (t < 0.3);
		if ((double)n / t > best)
			best = (double)n / t;
	}
	return best;
}

/* ---- the table ---- */

enum { GOAL_NONE, GOAL_RATIO, GOAL_ABS, GOAL_BELOW };

static int misses;

static void
fmt_num(char *out, size_t n, double v)
{
	long x = (long)(v + 0.5);

	if (x >= 1000000)
		snprintf(out, n, "%ld,%03ld,%03ld", x / 1000000,
		    x / 1000 % 1000, x % 1000);
	else if (x >= 1000)
		snprintf(out, n, "%ld,%03ld", x / 1000, x % 1000);
	else
		snprintf(out, n, "%ld", x);
}

/* One row: value beside its baseline (or none), the ratio, the goal and
 * whether it is met. GOAL_RATIO: value/base >= goal; GOAL_ABS: value >=
 * goal; GOAL_BELOW: value < goal. */
static void
row(const char *alg, const char *figure, double value, const char *base_name,
    double base, int kind, double goal, const char *goal_text)
{
	char v[32], bv[32], ratio[32] = "-";
	const char *result = "-";
	int ok = 1;

	fmt_num(v, sizeof(v), value);
	if (base_name != NULL && base > 0) {
		fmt_num(bv, sizeof(bv), base);
		snprintf(ratio, sizeof(ratio), "%.0f%%", 100 * value / base);
	} else {
		snprintf(bv, sizeof(bv), "-");
	}
	if (kind == GOAL_RATIO)
		ok = base > 0 && value / base >= goal;
	else if (kind == GOAL_ABS)
		ok = value >= goal;
	else if (kind == GOAL_BELOW)
		ok = value < goal;
	if (kind != GOAL_NONE) {
		result = ok ? "PASS" : "MISS";
		misses += !ok;
	}
	printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", alg, figure, v,
	    base_name != NULL ? base_name : "-", bv, ratio, goal_text, result);
	fflush(stdout);
}

/* A scaling row: rate with 2 jobs against 1; goal >= 1.7 unless
 * report_only. base (> 0): raw signing's own 2-thread scaling in the same
 * run, shown beside it. */
static void
scale_row(const char *alg, const char *what, double two, double one,
    int report_only, double base)
{
	char fig[160], v[32], b[32] = "-";
	int ok = one > 0 && two / one >= 1.7;

	snprintf(fig, sizeof(fig), "%s: --jobs 2 vs --jobs 1 (2 cores)", what);
	snprintf(v, sizeof(v), "%.2f&times;", one > 0 ? two / one : 0);
	if (base > 0)
		snprintf(b, sizeof(b), "%.2f&times;", base);
	printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", alg, fig, v,
	    base > 0 ? "raw EVP sign, 2 threads vs 1" : "-", b, "-",
	    report_only ? "report" : "&ge; 1.7&times;",
	    report_only ? "-" : ok ? "PASS" : "MISS");
	if (!report_only)
		misses += !ok;
	fflush(stdout);
}

/* ---- raw OpenSSL: the baselines ---- */

struct raw {
	EVP_PKEY *pkey;
	int ed;
	EVP_PKEY_CTX *sctx, *vctx;  /* ECDSA */
	EVP_MD_CTX *stmpl, *vtmpl, *m; /* Ed25519 */
	uint8_t msg[160];
	uint8_t sig[128];
	size_t siglen;
};

static int
raw_sign_new_ctx(void *arg)
{
	struct raw *r = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	size_t len = sizeof(r->sig);
	int ok = m != NULL && EVP_DigestSignInit(m, NULL, r->ed ? NULL :
	    EVP_sha256(), NULL, r->pkey) == 1 &&
	    EVP_DigestSign(m, r->sig, &len, r->msg, sizeof(r->msg)) == 1;

	EVP_MD_CTX_free(m);
	r->siglen = len;
	return ok ? 0 : -1;
}

static int
raw_verify_new_ctx(void *arg)
{
	struct raw *r = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = m != NULL && EVP_DigestVerifyInit(m, NULL, r->ed ? NULL :
	    EVP_sha256(), NULL, r->pkey) == 1 &&
	    EVP_DigestVerify(m, r->sig, r->siglen, r->msg,
	    sizeof(r->msg)) == 1;

	EVP_MD_CTX_free(m);
	return ok ? 0 : -1;
}

/* the fastest: contexts set up once */
static int
raw_sign_reuse(void *arg)
{
	struct raw *r = arg;
	size_t len = sizeof(r->sig);
	uint8_t md[32];
	unsigned int mdlen;

	int ok;

	if (r->ed)
		ok = EVP_MD_CTX_copy_ex(r->m, r->stmpl) == 1 &&
		    EVP_DigestSign(r->m, r->sig, &len, r->msg,
		    sizeof(r->msg)) == 1;
	else
		ok = EVP_Digest(r->msg, sizeof(r->msg), md, &mdlen,
		    EVP_sha256(), NULL) == 1 && EVP_PKEY_sign(r->sctx, r->sig,
		    &len, md, mdlen) == 1;
	r->siglen = len;
	return ok ? 0 : -1;
}

static int
raw_verify_reuse(void *arg)
{
	struct raw *r = arg;
	uint8_t md[32];
	unsigned int mdlen;

	if (r->ed)
		return EVP_MD_CTX_copy_ex(r->m, r->vtmpl) == 1 &&
		    EVP_DigestVerify(r->m, r->sig, r->siglen, r->msg,
		    sizeof(r->msg)) == 1 ? 0 : -1;
	return EVP_Digest(r->msg, sizeof(r->msg), md, &mdlen, EVP_sha256(),
	    NULL) == 1 && EVP_PKEY_verify(r->vctx, r->sig, r->siglen, md,
	    mdlen) == 1 ? 0 : -1;
}

static double
max2(double a, double b)
{
	return a > b ? a : b;
}

/* Returns operations per second over n operations. */
static double
rate_n(op_fn op, void *arg, unsigned long n)
{
	double t0 = now();

	for (unsigned long i = 0; i < n; i++)
		if (op(arg) != 0) {
			fprintf(stderr, "bench: operation failed\n");
			exit(1);
		}
	return (double)n / (now() - t0);
}

/* Sets r up for pkey (not owned): contexts made once. */
static void
raw_setup(struct raw *r, EVP_PKEY *pkey)
{
	memset(r, 0, sizeof(*r));
	r->pkey = pkey;
	r->ed = jcs_key_alg(pkey) == JCS_ALG_ED25519;
	memset(r->msg, 0x5a, sizeof(r->msg));
	if (r->ed) {
		r->stmpl = EVP_MD_CTX_new();
		r->vtmpl = EVP_MD_CTX_new();
		r->m = EVP_MD_CTX_new();
		if (EVP_DigestSignInit(r->stmpl, NULL, NULL, NULL, pkey) != 1 ||
		    EVP_DigestVerifyInit(r->vtmpl, NULL, NULL, NULL, pkey) != 1)
			exit(1);
	} else {
		r->sctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		r->vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		if (EVP_PKEY_sign_init(r->sctx) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(r->sctx, EVP_sha256()) != 1 ||
		    EVP_PKEY_verify_init(r->vctx) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(r->vctx, EVP_sha256()) != 1)
			exit(1);
	}
}

static void
raw_cleanup(struct raw *r)
{
	EVP_PKEY_CTX_free(r->sctx);
	EVP_PKEY_CTX_free(r->vctx);
	EVP_MD_CTX_free(r->stmpl);
	EVP_MD_CTX_free(r->vtmpl);
	EVP_MD_CTX_free(r->m);
}

struct raw_thread {
	struct raw r;
	unsigned long n;
};

static void *
raw_sign_thread(void *arg)
{
	struct raw_thread *t = arg;

	for (unsigned long i = 0; i < t->n; i++)
		if (raw_sign_reuse(&t->r) != 0) {
			fprintf(stderr, "bench: operation failed\n");
			exit(1);
		}
	return NULL;
}

/* Raw signing on two threads at once, n operations in all, each thread
 * with its own contexts: signatures/s. The hardware's own scaling (two
 * virtual CPUs may share one core), the bound of the batch's. */
static double
raw_sign_2threads(EVP_PKEY *pkey, unsigned long n)
{
	struct raw_thread t[2];
	pthread_t th[2];
	double t0;

	for (int i = 0; i < 2; i++) {
		raw_setup(&t[i].r, pkey);
		t[i].n = n / 2;
	}
	t0 = now();
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, raw_sign_thread, &t[i]) != 0)
			exit(1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	t0 = now() - t0;
	for (int i = 0; i < 2; i++)
		raw_cleanup(&t[i].r);
	return (double)(2 * (n / 2)) / t0;
}

/* Baselines for the key of a CA's current signer (pkey: not owned): over
 * n operations each (0: best of three runs of 0.3 s). */
static void
raw_rates(EVP_PKEY *pkey, unsigned long n, double *sign, double *verify)
{
	struct raw r;

	raw_setup(&r, pkey);
	if (n == 0) {
		*sign = max2(rate(raw_sign_new_ctx, &r),
		    rate(raw_sign_reuse, &r));
		*verify = max2(rate(raw_verify_new_ctx, &r),
		    rate(raw_verify_reuse, &r));
	} else {
		/* as many operations as a batch run, timed the same way */
		raw_sign_reuse(&r);
		*sign = max2(rate_n(raw_sign_new_ctx, &r, n),
		    rate_n(raw_sign_reuse, &r, n));
		*verify = max2(rate_n(raw_verify_new_ctx, &r, n),
		    rate_n(raw_verify_reuse, &r, n));
	}
	raw_cleanup(&r);
}

/* ---- batch issue and verify, in process ---- */

static char workdir[256];

static void
die(jcs_ctx *ctx, const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, jcs_ctx_message(ctx));
	exit(1);
}

/* Registers a JC-STAR level 1 product under reg_id. */
static void
register_product(jcs_ctx *ctx, jcs_ca *ca, const char *reg_id)
{
	jcs_registration reg;

	memset(&reg, 0, sizeof(reg));
	reg.scheme = JCS_SCHEME_JCSTAR;
	reg.level = 1;
	reg.product.reg_id = reg_id;
	reg.product.vendor = "Example Electronics Co., Ltd.";
	reg.product.product = "Home Router";
	reg.product.model = "HR-1000";
	if (jcs_ca_register(ctx, ca, &reg) == -1)
		die(ctx, "register");
}

/* Issues n units of a new registration into a label list with jobs;
 * returns labels/s. */
static double
list_run(jcs_ctx *ctx, jcs_ca *ca, const char *tag, const char *csv,
    unsigned long n, int jobs)
{
	char out[512], reg_id[32];
	jcs_batch_opts bo;
	jcs_batch_result res;
	double t0, t;

	snprintf(reg_id, sizeof(reg_id), "R-%s", tag);
	snprintf(out, sizeof(out), "%s/list-%s.csv", workdir, tag);
	register_product(ctx, ca, reg_id);
	memset(&bo, 0, sizeof(bo));
	bo.reg_id = reg_id;
	bo.csv_path = csv;
	bo.out_list = out;
	bo.payload_base_url = "HTTPS://VERIFY.JCSTAR.EXAMPLE/L/";
	bo.jobs = jobs;
	sync(); /* the runs before are on disk: none of their writing here */
	t0 = now();
	if (jcs_ca_issue_batch(ctx, ca, &bo, &res) == -1)
		die(ctx, "issue --batch --out-list");
	t = now() - t0;
	if (res.issued != n || res.listed != n) {
		fprintf(stderr, "bench: list batch issued %lu of %lu\n",
		    res.issued, n);
		exit(1);
	}
	return (double)n / t;
}

/* Issues n units of a new registration into a new directory with jobs;
 * returns labels/s. The payloads of the labels go to lines (if not NULL,
 * n of them, for free()). */
static double
issue_run(jcs_ctx *ctx, jcs_ca *ca, const char *tag, const char *csv,
    unsigned long n, int jobs, char **lines)
{
	char out[512], reg_id[32];
	jcs_batch_opts bo;
	jcs_batch_result res;
	double t0, t;

	snprintf(reg_id, sizeof(reg_id), "R-%s", tag);
	snprintf(out, sizeof(out), "%s/out-%s", workdir, tag);
	register_product(ctx, ca, reg_id);
	if (mkdir(out, 0755) == -1) {
		perror(out);
		exit(1);
	}
	memset(&bo, 0, sizeof(bo));
	bo.reg_id = reg_id;
	bo.csv_path = csv;
	bo.out_dir = out;
	bo.jobs = jobs;
	sync(); /* as in list_run */
	t0 = now();
	if (jcs_ca_issue_batch(ctx, ca, &bo, &res) == -1)
		die(ctx, "issue --batch");
	t = now() - t0;
	if (res.issued != n || res.files != n) {
		fprintf(stderr, "bench: batch issued %lu of %lu\n", res.issued,
		    n);
		exit(1);
	}
	for (unsigned long i = 0; lines != NULL && i < n; i++) {
		char path[600];
		jcs_label *l;
		const uint8_t *der;
		size_t len;

		snprintf(path, sizeof(path), "%s/U%lu.der", out, i + 1);
		if ((l = jcs_label_load_file(ctx, path)) == NULL)
			die(ctx, path);
		der = jcs_label_der(l, &len);
		lines[i] = jcs_payload_encode(ctx, der, len, JCS_FORM_URL,
		    "HTTPS://VERIFY.JCSTAR.EXAMPLE/L/");
		if (lines[i] == NULL)
			die(ctx, "payload");
		jcs_label_free(l);
	}
	return (double)n / t;
}

/* Checks every line with jobs; returns labels/s. */
static double
verify_run(jcs_ctx *ctx, const jcs_trust *trust, char **lines,
    unsigned long n, int jobs)
{
	jcs_checker *c = jcs_checker_new(ctx, trust, NULL);
	size_t total, valid;
	double t0, t;

	if (c == NULL || jcs_checker_set_jobs(ctx, c, jobs) == -1)
		die(ctx, "checker");
	t0 = now();
	for (unsigned long i = 0; i < n; i++)
		if (jcs_checker_add(ctx, c, lines[i], strlen(lines[i])) == -1)
			die(ctx, "checker");
	if (jcs_checker_flush(ctx, c) == -1)
		die(ctx, "checker");
	t = now() - t0;
	jcs_checker_summary(c, &total, &valid, NULL);
	if (total != n || valid != n) {
		fprintf(stderr, "bench: %zu of %lu labels valid\n", valid, n);
		exit(1);
	}
	jcs_checker_free(c);
	return (double)n / t;
}

/* The file system's own cost of one label file: create (O_EXCL), write
 * 300 bytes, close, n files in a new directory; returns files/s. */
static double
files_run(const char *tag, unsigned long n)
{
	char dir[512], path[600];
	uint8_t buf[300];
	double t0, t;

	memset(buf, 0x30, sizeof(buf));
	snprintf(dir, sizeof(dir), "%s/files-%s", workdir, tag);
	if (mkdir(dir, 0755) == -1) {
		perror(dir);
		exit(1);
	}
	t0 = now();
	for (unsigned long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/U%lu.der", dir, i + 1);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd == -1 || write(fd, buf, sizeof(buf)) !=
		    (ssize_t)sizeof(buf) || close(fd) == -1) {
			perror(path);
			exit(1);
		}
	}
	t = now() - t0;
	return (double)n / t;
}

static void
bench_files(unsigned long n)
{
	double best = max2(files_run("a", n), files_run("b", n));

	row("fs", "create + write + close a 300-byte file in one directory "
	    "(the file system's part of a label), files/s", best, NULL, 0,
	    GOAL_NONE, 0, "report");
}

static void
bench_alg(const char *alg_name, int alg, const char *csv, unsigned long n)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca_init_opts io;
	jcs_ca *ca;
	jcs_trust *trust;
	char dir[512], tag[24], *pem, fig[200];
	char **lines = calloc(n, sizeof(*lines));
	const jcs_key *key;
	double raw_s, raw_v, raw_s2 = 0, is[3] = { 0, 0, 0 };
	double vs[3] = { 0, 0, 0 };
	double ls[3] = { 0, 0, 0 };
	const char *top = getenv("JCSTAR_TOP");
	char prof[512];

	snprintf(dir, sizeof(dir), "%s/ca-%s", workdir, alg_name);
	snprintf(prof, sizeof(prof), "%s/certs", top != NULL ? top : ".");
	memset(&io, 0, sizeof(io));
	io.dir = dir;
	io.name = "Bench Certification Body";
	io.alg = alg;
	io.profile_dir = prof;
	if (lines == NULL || jcs_ca_init(ctx, &io) == -1 ||
	    (ca = jcs_ca_open(ctx, dir, NULL)) == NULL ||
	    (key = jcs_ca_current_key(ctx, ca)) == NULL ||
	    (pem = jcs_ca_trust_pem(ctx, ca)) == NULL ||
	    (trust = jcs_trust_load_mem(ctx, (const uint8_t *)pem,
	    strlen(pem))) == NULL)
		die(ctx, "bench CA");
	free(pem);
	/* interleaved, best of two each: the baseline over as many
	 * operations as a batch, then the batch with one and two jobs; the
	 * machine may be busy at times */
	raw_s = raw_v = 0;
	for (int run = 0; run < 2; run++) {
		double s, v;

		raw_rates(key->pkey, n, &s, &v);
		raw_s = max2(raw_s, s);
		raw_s2 = max2(raw_s2, raw_sign_2threads(key->pkey, n));
		for (int jobs = 1; jobs <= 2; jobs++) {
			snprintf(tag, sizeof(tag), "%s-j%d-%d", alg_name, jobs,
			    run);
			is[jobs] = max2(is[jobs], issue_run(ctx, ca, tag, csv,
			    n, jobs, run == 0 && jobs == 1 ? lines : NULL));
		}
		for (int jobs = 1; jobs <= 2; jobs++) {
			snprintf(tag, sizeof(tag), "%s-l%d-%d", alg_name, jobs,
			    run);
			ls[jobs] = max2(ls[jobs], list_run(ctx, ca, tag, csv, n,
			    jobs));
		}
	}
	for (int run = 0; run < 2; run++) {
		double s, v;

		raw_rates(key->pkey, n, &s, &v);
		raw_v = max2(raw_v, v);
		for (int jobs = 1; jobs <= 2; jobs++)
			vs[jobs] = max2(vs[jobs], verify_run(ctx, trust, lines,
			    n, jobs));
	}
	for (int jobs = 1; jobs <= 2; jobs++) {
		snprintf(fig, sizeof(fig), "batch issue --jobs %d into the "
		    "label list, labels/s (sign + DER + registry commit + "
		    "list line written)", jobs);
		row(alg_name, fig, ls[jobs], "raw EVP sign/s, 1 thread", raw_s,
		    GOAL_RATIO, 0.5, "&ge; 50%");
	}
	for (int jobs = 1; jobs <= 2; jobs++) {
		snprintf(fig, sizeof(fig), "batch issue --jobs %d, labels/s "
		    "(sign + DER + registry commit + label file written; "
		    "bounded by the fs row)", jobs);
		row(alg_name, fig, is[jobs], "raw EVP sign/s, 1 thread", raw_s,
		    GOAL_NONE, 0, "report");
	}
	for (int jobs = 1; jobs <= 2; jobs++) {
		snprintf(fig, sizeof(fig), "batch verify --jobs %d of payload "
		    "strings, labels/s (decode + chain + CRL + signature)",
		    jobs);
		row(alg_name, fig, vs[jobs], "raw EVP verify/s, 1 thread",
		    raw_v, GOAL_RATIO, 0.8, "&ge; 80%");
	}
	scale_row(alg_name, "batch issue into the label list", ls[2], ls[1],
	    0, raw_s2 / raw_s);
	scale_row(alg_name, "batch issue, label files", is[2], is[1], 1,
	    raw_s2 / raw_s);
	scale_row(alg_name, "batch verify", vs[2], vs[1], 0, 0);
	for (unsigned long i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	jcs_trust_free(trust);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
}

#define ART_LABELS 16

struct art {
	jcs_ctx *ctx;
	jcs_template *tmpl;
	jcs_label *label;               /* the reference, for scan */
	char *payload;
	uint8_t *png;
	size_t png_len;
	jcs_label *unit[ART_LABELS];    /* a batch's labels */
	char *unit_payload[ART_LABELS];
	int next;                       /* the label the next call takes */
	int module_px;                  /* at 300 dpi */
};

static int
render_png(void *arg)
{
	struct art *a = arg;
	int i = a->next++ % ART_LABELS;
	uint8_t *out;
	size_t len;

	if (jcs_render_png(a->ctx, a->tmpl, a->unit[i], a->unit_payload[i],
	    300, &out, &len) == -1)
		return -1;
	jcs_free(out);
	return 0;
}

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static void
mem_write(png_structp png, png_bytep data, png_size_t n)
{
	struct membuf *m = png_get_io_ptr(png);

	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->p = realloc(m->p, m->cap);
	}
	memcpy(m->p + m->len, data, n);
	m->len += n;
}

static void
mem_flush(png_structp png)
{
	(void)png;
}

/* The baseline: what any QR tool does, libqrencode then libpng. */
static int
raw_qr_png(void *arg)
{
	struct art *a = arg;
	QRcode *qr = QRcode_encodeString(a->unit_payload[a->next++ %
	    ART_LABELS], 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	png_structp png;
	png_infop info;
	struct membuf m = { NULL, 0, 0 };
	int px = a->module_px, quiet = 4, w;
	uint8_t *row;

	if (qr == NULL)
		return -1;
	w = (qr->width + 2 * quiet) * px;
	row = malloc((size_t)w);
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		free(m.p);
		QRcode_free(qr);
		return -1;
	}
	png_set_write_fn(png, &m, mem_write, mem_flush);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)w, 8,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < w; y++) {
		int my = y / px - quiet;

		for (int x = 0; x < w; x++) {
			int mx = x / px - quiet;
			int dark = mx >= 0 && my >= 0 && mx < qr->width &&
			    my < qr->width && (qr->data[my * qr->width + mx] & 1);

			row[x] = dark ? 0 : 255;
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	free(m.p);
	QRcode_free(qr);
	return 0;
}

static int
scan_png(void *arg)
{
	struct art *a = arg;
	jcs_scan *s = jcs_scan_mem(a->ctx, a->png, a->png_len);
	int rc = s != NULL && jcs_scan_count(s) == 1 ? 0 : -1;

	jcs_scan_free(s);
	return rc;
}

static void
bench_art(void)
{
	struct art a;
	const uint8_t *der;
	size_t len;
	jcs_key *key;
	jcs_label_fields f;
	double rr, rq, rs;

	memset(&a, 0, sizeof(a));
	a.ctx = jcs_ctx_new();
	a.tmpl = jcs_template_load(a.ctx, "templates/jcstar-1.tmpl");
	a.label = jcs_label_load_file(a.ctx, "tests/vectors/ref-p256.der");
	key = jcs_key_load(a.ctx, "tests/vectors/ca-p256/signers/0001.key",
	    NULL);
	if (a.tmpl == NULL || a.label == NULL || key == NULL) {
		fprintf(stderr, "bench: %s\n", jcs_ctx_message(a.ctx));
		exit(1);
	}
	der = jcs_label_der(a.label, &len);
	a.payload = jcs_payload_encode(a.ctx, der, len, JCS_FORM_URL,
	    "HTTPS://VERIFY.JCSTAR.EXAMPLE/L/");
	if (jcs_render_png(a.ctx, a.tmpl, a.label, a.payload, 300, &a.png,
	    &a.png_len) == -1) {
		fprintf(stderr, "bench: %s\n", jcs_ctx_message(a.ctx));
		exit(1);
	}
	f = *jcs_label_get_fields(a.label);
	for (int i = 0; i < ART_LABELS; i++) {
		char serial[32];

		snprintf(serial, sizeof(serial), "SN-%06d", i + 1);
		f.product.unit_serial = serial;
		if ((a.unit[i] = jcs_label_new(a.ctx, &f)) == NULL ||
		    jcs_label_sign(a.ctx, a.unit[i], key) == -1) {
			fprintf(stderr, "bench: %s\n", jcs_ctx_message(a.ctx));
			exit(1);
		}
		der = jcs_label_der(a.unit[i], &len);
		a.unit_payload[i] = jcs_payload_encode(a.ctx, der, len,
		    JCS_FORM_URL, "HTTPS://VERIFY.JCSTAR.EXAMPLE/L/");
	}
	a.module_px = (int)(jcs_template_module_mm(a.tmpl) * 300 / 25.4 + 0.5);
	rr = rate(render_png, &a);
	rq = rate(raw_qr_png, &a);
	rs = rate(scan_png, &a);
	row("art", "render PNG label artwork, 300 dpi (jcstar-1), "
	    "labels/s, 1 core", rr, "libqrencode encode + libpng write of "
	    "the bare QR, /s", rq, GOAL_ABS, 1000,
	    "&ge; 1,000 labels/s per core");
	row("art", "scan: payloads/s from rendered PNGs (libpng + libzbar)",
	    rs, NULL, 0, GOAL_NONE, 0, "report");
	for (int i = 0; i < ART_LABELS; i++) {
		jcs_free(a.unit_payload[i]);
		jcs_label_free(a.unit[i]);
	}
	jcs_key_free(key);
	jcs_free(a.png);
	jcs_free(a.payload);
	jcs_label_free(a.label);
	jcs_template_free(a.tmpl);
	jcs_ctx_free(a.ctx);
}

struct big {
	unsigned long n;
	int jobs, rc;
	double rate;
	long maxrss_kb;
};

/* Runs the jcstar command on a batch of n units as a child process in the
 * work directory, measuring its rate and peak RSS (getrusage of the
 * children). Run first, while this process is small: a child's peak RSS
 * includes what it shared with this process before its exec. */
static void
bench_batch(const char *jcstar, struct big *b)
{
	char cmd[8192];
	struct rusage ru;
	FILE *f;
	double t0;
	unsigned long n = b->n;
	int jobs = b->jobs;

	snprintf(cmd, sizeof(cmd), "%s/big.csv", workdir);
	if ((f = fopen(cmd, "w")) == NULL)
		return;
	fputs("unit_serial\n", f);
	for (unsigned long i = 1; i <= n; i++)
		fprintf(f, "U%lu\n", i);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && JCSTAR_PROFILES=%s/certs %s ca "
	    "init --dir ca-big --name Bench -q && %s register --ca ca-big "
	    "--reg-id R --scheme jcstar --level 1 --vendor V --product P "
	    "--model M -q && mkdir out-big", workdir,
	    getenv("JCSTAR_TOP") != NULL ? getenv("JCSTAR_TOP") : ".", jcstar,
	    jcstar);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench: cannot set up the batch\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "cd %s && %s issue --ca ca-big --reg-id R "
	    "--batch big.csv --out-dir out-big --jobs %d -q", workdir, jcstar,
	    jobs);
	t0 = now();
	b->rc = system(cmd);
	b->rate = (double)n / (now() - t0);
	getrusage(RUSAGE_CHILDREN, &ru);
	b->maxrss_kb = ru.ru_maxrss;
}

static void
big_rows(const struct big *b)
{
	char fig[160], v[32];

	fmt_num(v, sizeof(v), (double)b->n);
	snprintf(fig, sizeof(fig), "%s-unit `jcstar issue --batch --jobs %d`"
	    "%s, labels/s (files included)", v, b->jobs, b->rc == 0 ? "" :
	    " FAILED");
	row("P-256", fig, b->rc == 0 ? b->rate : 0, NULL, 0, GOAL_NONE, 0,
	    "report");
	snprintf(fig, sizeof(fig), "%s-unit batch issue: peak RSS, MB", v);
	row("P-256", fig, (double)b->maxrss_kb / 1024, NULL, 0, GOAL_BELOW,
	    64, "&lt; 64 MB");
}

int
main(int argc, char **argv)
{
	const char *env = getenv("BENCH_BATCH_ROWS");
	const char *ienv = getenv("BENCH_ISSUE_ROWS");
	unsigned long big_n = env != NULL ? strtoul(env, NULL, 10) : 1000000UL;
	unsigned long n = ienv != NULL ? strtoul(ienv, NULL, 10) : 20000UL;
	char csv[600], cmd[700];
	struct big big;
	FILE *f;

	/* bench [JCSTAR]: JCSTAR (build/jcstar) runs the big batch; the work
	 * directory is made in $BENCH_DIR (default /tmp) */
	if (jcs_pathf(workdir, sizeof(workdir), "%s/jcstar-bench-XXXXXX",
	    getenv("BENCH_DIR") != NULL ? getenv("BENCH_DIR") : "/tmp") ==
	    -1 || n == 0 || mkdtemp(workdir) == NULL) {
		fprintf(stderr, "bench: BENCH_ISSUE_ROWS must be > 0, and "
		    "BENCH_DIR a directory (of a name under 230 bytes)\n");
		return 1;
	}
	/* the big batch first (see bench_batch), its rows last */
	memset(&big, 0, sizeof(big));
	big.rc = -1;
	big.n = argc > 1 ? big_n : 0;
	big.jobs = 2;
	if (big.n > 0)
		bench_batch(argv[1], &big);
	snprintf(csv, sizeof(csv), "%s/units.csv", workdir);
	if ((f = fopen(csv, "w")) == NULL)
		return 1;
	fputs("unit_serial\n", f);
	for (unsigned long i = 1; i <= n; i++)
		fprintf(f, "U%lu\n", i);
	fclose(f);
	printf("| alg | figure | value | baseline (same run) | baseline | "
	    "ratio | goal | |\n");
	printf("|---|---|--:|---|--:|--:|---|---|\n");
	fflush(stdout);
	bench_files(n);
	bench_alg("P-256", JCS_ALG_EC_P256, csv, n);
	bench_alg("Ed25519", JCS_ALG_ED25519, csv, n);
	bench_art();
	if (big.n > 0)
		big_rows(&big);
	/* the notes go to stderr: stdout is the table alone */
	fprintf(stderr, "bench: batch rows of %lu units per run%s; %d row%s "
	    "missed %s goal\n", n, big.n > 0 ? "" :
	    "; big batch skipped", misses, misses == 1 ? "" : "s",
	    misses == 1 ? "its" : "their");
	/* removed last: see the top of this file */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", workdir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: cannot remove %s\n", workdir);
	return 0;
}
