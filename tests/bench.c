/*
 * bench.c - `make bench`: label signing and verification speed beside the
 * raw OpenSSL operation measured in the same run, on the same machine.
 *
 *   raw sign      EVP_DigestSign of a tbsLabel-sized message, one key
 *   label issue   jcs_label_new + jcs_label_sign (fields, DER, signature)
 *   raw verify    EVP_DigestVerify of that message
 *   label verify  jcs_label_from_der + jcs_verify (strict decode, signer
 *                 lookup, signature, the signer's chain check done once at
 *                 bundle load, validity windows, policy)
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
 *   batch         `jcstar issue --batch` of $BENCH_BATCH_ROWS units
 *                 (default 1,000,000) as a child process: its peak RSS
 *                 (getrusage of the child) and labels/s, files included
 *
 * Each figure is the best of three runs of about 0.3 s (wall clock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

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

struct ctx {
	jcs_ctx *jctx;
	jcs_key *key;
	jcs_trust *trust;
	jcs_label_fields fields;
	uint8_t msg[124];
	uint8_t sig[128];
	size_t siglen;
	const uint8_t *der;
	size_t der_len;
	jcs_verify_opts vo;
};

static int
raw_sign(void *arg)
{
	struct ctx *c = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	size_t len = sizeof(c->sig);
	int ok = m != NULL &&
	    EVP_DigestSignInit(m, NULL, jcs_key_md(c->key->pkey), NULL,
	    c->key->pkey) == 1 &&
	    EVP_DigestSign(m, c->sig, &len, c->msg, sizeof(c->msg)) == 1;

	EVP_MD_CTX_free(m);
	c->siglen = len;
	return ok ? 0 : -1;
}

static int
raw_verify(void *arg)
{
	struct ctx *c = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = m != NULL &&
	    EVP_DigestVerifyInit(m, NULL, jcs_key_md(c->key->pkey), NULL,
	    c->key->pkey) == 1 &&
	    EVP_DigestVerify(m, c->sig, c->siglen, c->msg, sizeof(c->msg)) ==
	    1;

	EVP_MD_CTX_free(m);
	return ok ? 0 : -1;
}

static int
label_issue(void *arg)
{
	struct ctx *c = arg;
	jcs_label *l = jcs_label_new(c->jctx, &c->fields);
	int rc = l != NULL && jcs_label_sign(c->jctx, l, c->key) == 0 ? 0 : -1;

	jcs_label_free(l);
	return rc;
}

static int
label_verify(void *arg)
{
	struct ctx *c = arg;
	jcs_label *l = jcs_label_from_der(c->jctx, c->der, c->der_len);
	int rc = l != NULL && jcs_verify(c->jctx, c->trust, l, &c->vo,
	    NULL) == 0 ? 0 : -1;

	jcs_label_free(l);
	return rc;
}

static void
bench(const char *alg, const char *dir)
{
	struct ctx c;
	char path[512];
	jcs_label *l;
	double rs, ri, rv, lv;

	memset(&c, 0, sizeof(c));
	c.jctx = jcs_ctx_new();
	snprintf(path, sizeof(path), "tests/vectors/%s/signers/0001.key", dir);
	c.key = jcs_key_load(c.jctx, path, NULL);
	snprintf(path, sizeof(path), "tests/vectors/trust-%s.pem",
	    strchr(dir, '-') + 1);
	c.trust = jcs_trust_load_file(c.jctx, path);
	if (c.key == NULL || c.trust == NULL) {
		fprintf(stderr, "bench: %s (run from the source tree)\n",
		    jcs_ctx_message(c.jctx));
		exit(1);
	}
	memset(&c.fields, 0, sizeof(c.fields));
	c.fields.scheme = JCS_SCHEME_JCSTAR;
	c.fields.level = 1;
	c.fields.product.reg_id = "JCS-2025-000123";
	c.fields.product.vendor = "Example Electronics Co., Ltd.";
	c.fields.product.product = "Home Router";
	c.fields.product.model = "HR-1000";
	jcs_time_parse(NULL, "2025-04-01", &c.fields.not_before);
	jcs_time_parse(NULL, "2027-04-01", &c.fields.not_after);
	jcs_time_parse(NULL, "2026-01-01", &c.vo.at);
	memset(c.msg, 0x5a, sizeof(c.msg));
	l = jcs_label_new(c.jctx, &c.fields);
	jcs_label_sign(c.jctx, l, c.key);
	c.der = jcs_label_der(l, &c.der_len);

	rs = rate(raw_sign, &c);
	ri = rate(label_issue, &c);
	rv = rate(raw_verify, &c);
	lv = rate(label_verify, &c);
	printf("| %-8s | %-36s | %9.0f | %-22s | %9.0f | %5.0f%% |\n", alg,
	    "label issue (fields+DER+sign), /s", ri, "raw EVP sign, /s", rs,
	    100 * ri / rs);
	printf("| %-8s | %-36s | %9.0f | %-22s | %9.0f | %5.0f%% |\n", alg,
	    "label verify (decode+sig+checks), /s", lv, "raw EVP verify, /s",
	    rv, 100 * lv / rv);
	jcs_label_free(l);
	jcs_key_free(c.key);
	jcs_trust_free(c.trust);
	jcs_ctx_free(c.jctx);
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
	printf("| %-8s | %-36s | %9.0f | %-22s | %9.0f | %5.0f%% |\n", "art",
	    "render PNG 300dpi labels/s, 1 core", rr,
	    "bare QR qrencode+png/s", rq, 100 * rr / rq);
	printf("| %-8s | %-36s | %9.0f | %-22s | %9s | %6s |\n", "art",
	    "render goal (issue 7), labels/s/core", 1000.0, "-", "-",
	    rr >= 1000 ? "ok" : "UNDER");
	printf("| %-8s | %-36s | %9.0f | %-22s | %9s | %6s |\n", "art",
	    "scan rendered PNG (libzbar), /s", rs, "-", "-", "-");
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

/* Runs the jcstar command (argv[0] of this bench's sibling build/jcstar)
 * on a batch of n units in a temporary directory; reports peak RSS. */
static void
bench_batch(const char *jcstar)
{
	const char *env = getenv("BENCH_BATCH_ROWS");
	unsigned long n = env != NULL ? strtoul(env, NULL, 10) : 1000000UL;
	char dir[] = "/tmp/jcstar-bench-XXXXXX", cmd[8192];
	struct rusage ru;
	FILE *f;
	double t0, t;
	int rc;

	if (n == 0 || mkdtemp(dir) == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "%s/units.csv", dir);
	if ((f = fopen(cmd, "w")) == NULL)
		return;
	fputs("unit_serial\n", f);
	for (unsigned long i = 1; i <= n; i++)
		fprintf(f, "U%lu\n", i);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && JCSTAR_PROFILES=%s/certs %s ca "
	    "init --dir ca --name Bench -q && %s register --ca ca --reg-id R "
	    "--scheme jcstar --level 1 --vendor V --product P --model M -q && "
	    "mkdir out", dir, getenv("JCSTAR_TOP") != NULL ?
	    getenv("JCSTAR_TOP") : ".", jcstar, jcstar);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench: cannot set up the batch\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "cd %s && %s issue --ca ca --reg-id R "
	    "--batch units.csv --out-dir out -q", dir, jcstar);
	t0 = now();
	rc = system(cmd);
	t = now() - t0;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("| %-8s | %-36s | %9.0f | %-22s | %9s | %6s |\n", "batch",
	    "batch issue incl. files, labels/s", rc == 0 ? (double)n / t : 0,
	    "-", "-", "-");
	printf("| %-8s | %-36s | %6ld MB | %-22s | %9s | %6s |\n", "batch",
	    "peak RSS of that batch", ru.ru_maxrss / 1024, "goal < 64 MB",
	    "-", ru.ru_maxrss / 1024 < 64 ? "ok" : "OVER");
	printf("\n(batch of %lu units%s)\n", n, rc == 0 ? "" : " FAILED");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: cannot remove %s\n", dir);
}

int
main(int argc, char **argv)
{
	/* --batch-only JCSTAR: only the batch rows (make bench prints the
	 * table first, then the API rows, then these) */
	if (argc > 2 && strcmp(argv[1], "--batch-only") == 0) {
		bench_batch(argv[2]);
		return 0;
	}
	printf("jcstar %s bench (single thread; best of 3 x 0.3 s)\n\n",
	    jcs_version());
	printf("| %-8s | %-36s | %9s | %-22s | %9s | %6s |\n", "alg",
	    "figure", "rate", "baseline (same run)", "rate", "ratio");
	printf("|----------|--------------------------------------|-----------"
	    "|------------------------|-----------|--------|\n");
	bench("P-256", "ca-p256");
	bench("Ed25519", "ca-ed25519");
	bench_art();
	fflush(stdout);
	if (argc > 1)
		bench_batch(argv[1]);
	return 0;
}
