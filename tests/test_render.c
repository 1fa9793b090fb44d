/* test_render.c - label templates and artwork: every shipped template, with
 * a label of its scheme, at 300 and 600 dpi in both payload forms, read back
 * with libpng and checked module by module; each scheme's level marks; SVG structure and escaping; bad templates and bad
 * renders, each with its specific error and FILE:LINE; what a template
 * keeps between renders (and between threads) changes no byte. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>

#include "testutil.h"

#define BASE "HTTPS://VERIFY.JCSTAR.EXAMPLE/L/"

static char *tmp;        /* a scratch directory */
static jcs_label *ref;   /* tests/vectors/ref-p256.der */
static jcs_key *signer;  /* its signer, to sign labels made here */

static int
setup(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	tmp = tu_tmpdir();
	ref = jcs_label_load_file(ctx, tu_src("tests/vectors/ref-p256.der"));
	signer = jcs_key_load(ctx,
	    tu_src("tests/vectors/ca-p256/signers/0001.key"), NULL);
	jcs_ctx_free(ctx);
	return ref == NULL || signer == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmrf(tmp);
	free(tmp);
	jcs_label_free(ref);
	jcs_key_free(signer);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* A signed label like the reference, with some fields replaced. */
static jcs_label *
make_label(int scheme, int level, const char *vendor, const char *serial,
    const char *lab)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label_fields f = tu_ref_fields();
	jcs_label *l;

	f.scheme = scheme;
	f.level = level;
	if (vendor != NULL)
		f.product.vendor = vendor;
	f.product.unit_serial = serial;
	f.lab = lab;
	l = jcs_label_new(ctx, &f);
	if (l == NULL || jcs_label_sign(ctx, l, signer) == -1)
		fail_msg("cannot make a label: %s", jcs_ctx_message(ctx));
	jcs_ctx_free(ctx);
	return l;
}

static char *
payload_of(const jcs_label *l, int form)
{
	jcs_ctx *ctx = jcs_ctx_new();
	size_t len;
	const uint8_t *der = jcs_label_der(l, &len);
	char *p = jcs_payload_encode(ctx, der, len, form, BASE);

	if (p == NULL)
		fail_msg("payload: %s", jcs_ctx_message(ctx));
	jcs_ctx_free(ctx);
	return p;
}

/* Writes text as tmp/name and returns its path (static buffer). */
static const char *
write_tmpl(const char *name, const char *text)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	tu_write(path, text, strlen(text));
	return path;
}

/* Reads "key = value" of a section of a template file as a number: the
 * tests' own reading of the documented format. */
static double
tmpl_number(const char *path, const char *section, const char *key)
{
	size_t len;
	char *buf = (char *)tu_read(path, &len), *line, *save = NULL;
	char sect[32] = "";
	double v = -1;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char k[32];
		double d;

		if (sscanf(line, " [%31[a-z]]", sect) == 1)
			continue;
		if (strcmp(sect, section) == 0 &&
		    sscanf(line, " %31[a-z] = %lf", k, &d) == 2 &&
		    strcmp(k, key) == 0)
			v = d;
	}
	free(buf);
	if (v < 0)
		fail_msg("%s: no [%s] %s", path, section, key);
	return v;
}

/* The same for a word ("" if the key is not there). */
static const char *
tmpl_word(const char *path, const char *section, const char *key)
{
	static char v[32];
	size_t len;
	char *buf = (char *)tu_read(path, &len), *line, *save = NULL;
	char sect[32] = "";

	v[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char k[32], w[32];

		if (sscanf(line, " [%31[a-z]]", sect) == 1)
			continue;
		if (strcmp(sect, section) == 0 &&
		    sscanf(line, " %31[a-z] = %31s", k, w) == 2 &&
		    strcmp(k, key) == 0)
			snprintf(v, sizeof(v), "%s", w);
	}
	free(buf);
	return v;
}

/* Where the code goes in its box of spare whole pixels, as documented:
 * left/top, centre (rounded down), right/bottom. */
static long
place(const char *how, long spare)
{
	if (strcmp(how, "left") == 0 || strcmp(how, "top") == 0)
		return 0;
	if (strcmp(how, "right") == 0 || strcmp(how, "bottom") == 0)
		return spare;
	assert_true(how[0] == '\0' || strcmp(how, "center") == 0);
	return spare / 2;
}

static long
px(double mm, int dpi)
{
	return (long)(mm * dpi / 25.4 + 0.5);
}

/* A PNG read back as 8-bit RGB. */
struct image {
	png_uint_32 w, h;
	int color_type, depth;
	int has_phys, phys_unit;
	png_uint_32 ppm_x, ppm_y;
	uint8_t *rgb;
};

struct rd {
	const uint8_t *p;
	size_t len, off;
};

static void
read_cb(png_structp png, png_bytep out, size_t n)
{
	struct rd *r = png_get_io_ptr(png);

	if (n > r->len - r->off)
		png_error(png, "read past the end");
	memcpy(out, r->p + r->off, n);
	r->off += n;
}

/* Decodes buf with libpng; returns 0, or -1 if libpng refuses it. */
static int
decode_png(const uint8_t *buf, size_t len, struct image *img)
{
	png_structp volatile png = NULL;
	png_infop volatile info = NULL;
	png_bytep *volatile rows = NULL;
	volatile int rc = -1;
	struct rd r = { buf, len, 0 };
	png_structp p;
	png_infop i;

	memset(img, 0, sizeof(*img));
	if (len < 8 || png_sig_cmp(buf, 0, 8) != 0)
		return -1;
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png)) != 0)
		goto done;
	png_set_read_fn(png, &r, read_cb);
	png_read_info(png, info);
	img->w = png_get_image_width(png, info);
	img->h = png_get_image_height(png, info);
	img->color_type = png_get_color_type(png, info);
	img->depth = png_get_bit_depth(png, info);
	img->has_phys = png_get_pHYs(png, info, &img->ppm_x, &img->ppm_y,
	    &img->phys_unit) != 0;
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	png_set_strip_alpha(png);
	png_read_update_info(png, info);
	assert_int_equal(png_get_rowbytes(png, info), 3 * img->w);
	img->rgb = malloc((size_t)img->w * img->h * 3);
	rows = malloc(img->h * sizeof(*rows));
	assert_non_null(img->rgb);
	assert_non_null(rows);
	for (png_uint_32 y = 0; y < img->h; y++)
		rows[y] = img->rgb + (size_t)y * img->w * 3;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	rc = 0;
done:
	p = png;
	i = info;
	png_destroy_read_struct(&p, &i, NULL);
	free(rows);
	return rc;
}

static const uint8_t *
pixel(const struct image *img, long x, long y)
{
	return img->rgb + ((size_t)y * img->w + (size_t)x) * 3;
}

static int
is_dark(const uint8_t *p)
{
	return (299 * p[0] + 587 * p[1] + 114 * p[2]) / 1000 < 128;
}

/* Checks an image rendered from template path at dpi with payload: pHYs,
 * size, colour type, and the QR code module by module, quiet zone
 * included. */
static void
check_png(const char *path, const char *what, const uint8_t *buf, size_t len,
    int dpi, const char *payload, int ec)
{
	jcs_ctx *ctx = jcs_ctx_new();
	struct image img;
	jcs_qr *qr = jcs_qr_encode(ctx, payload, ec);
	double w = tmpl_number(path, "label", "width");
	double h = tmpl_number(path, "label", "height");
	double qx = tmpl_number(path, "qr", "x");
	double qy = tmpl_number(path, "qr", "y");
	double qs = tmpl_number(path, "qr", "size");
	long m = px(tmpl_number(path, "qr", "module"), dpi);
	long quiet = (long)tmpl_number(path, "qr", "quiet");
	long n, span, bx, by, bw, bh, ox, oy;
	png_uint_32 ppm = (png_uint_32)(dpi / 0.0254 + 0.5);

	assert_non_null(qr);
	if (decode_png(buf, len, &img) == -1)
		fail_msg("%s: libpng cannot read the PNG", what);
	/* resolution and size */
	if (!img.has_phys || img.phys_unit != PNG_RESOLUTION_METER ||
	    img.ppm_x != ppm || img.ppm_y != ppm)
		fail_msg("%s: pHYs %u x %u (unit %d), want %u per metre", what,
		    img.ppm_x, img.ppm_y, img.phys_unit, ppm);
	if (labs((long)img.w - (long)(w * dpi / 25.4)) > 1 ||
	    labs((long)img.h - (long)(h * dpi / 25.4)) > 1)
		fail_msg("%s: %u x %u px for %.1f x %.1f mm at %d dpi", what,
		    img.w, img.h, w, h, dpi);
	/* greyscale or palette; the black and white templates pack to 4
	 * bits (16 grey levels) */
	if (img.color_type != PNG_COLOR_TYPE_GRAY &&
	    img.color_type != PNG_COLOR_TYPE_PALETTE)
		fail_msg("%s: colour type %d", what, img.color_type);
	if (img.depth > 4)
		fail_msg("%s: bit depth %d for a black and white label", what,
		    img.depth);
	/* the QR code: whole-pixel modules, centred in the box */
	if (m < 1)
		m = 1;
	n = jcs_qr_width(qr);
	span = (n + 2 * quiet) * m;
	bx = px(qx, dpi);
	by = px(qy, dpi);
	bw = px(qx + qs, dpi) - bx;
	bh = px(qy + qs, dpi) - by;
	assert_true(span <= bw && span <= bh);
	ox = bx + place(tmpl_word(path, "qr", "align"), bw - span) + quiet * m;
	oy = by + place(tmpl_word(path, "qr", "valign"), bh - span) + quiet * m;
	for (long my = -quiet; my < n + quiet; my++)
		for (long mx = -quiet; mx < n + quiet; mx++) {
			int want = jcs_qr_module(qr, (int)mx, (int)my);
			const uint8_t *first = pixel(&img, ox + mx * m,
			    oy + my * m);

			for (long y = 0; y < m; y++)
				for (long x = 0; x < m; x++) {
					const uint8_t *p = pixel(&img,
					    ox + mx * m + x, oy + my * m + y);

					if (memcmp(p, first, 3) != 0 ||
					    is_dark(p) != want)
						fail_msg("%s: module (%ld,%ld) "
						    "pixel (%ld,%ld) is %s, "
						    "want a uniform %s block",
						    what, mx, my, x, y,
						    is_dark(p) ? "dark" :
						    "light", want ? "dark" :
						    "light");
				}
		}
	free(img.rgb);
	jcs_qr_free(qr);
	jcs_ctx_free(ctx);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* label: the label drawn, whose scheme and level mark the SVG shows */
static void
check_svg(const char *path, const char *what, const jcs_label *label,
    const uint8_t *buf, size_t len)
{
	const jcs_label_fields *f = jcs_label_get_fields(label);
	jcs_ctx *ctx = jcs_ctx_new();
	char *s = malloc(len + 1), want[256], mark[128];

	assert_non_null(s);
	memcpy(s, buf, len);
	s[len] = '\0';
	assert_int_equal(strlen(s), len);
	if (strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ",
	    44) != 0 || strcmp(s + len - 7, "</svg>\n") != 0)
		fail_msg("%s: not an SVG document", what);
	if (count(s, "<path") != 1)
		fail_msg("%s: %zu <path elements, want one", what,
		    count(s, "<path"));
	if (count(s, "<text") < 5 || count(s, "<text") != count(s, "</text>"))
		fail_msg("%s: <text elements do not match", what);
	if (count(s, "<") != count(s, ">"))
		fail_msg("%s: unbalanced < and >", what);
	snprintf(want, sizeof(want), "width=\"%gmm\"",
	    tmpl_number(path, "label", "width"));
	if (strstr(s, want) == NULL)
		fail_msg("%s: lacks %s", what, want);
	snprintf(want, sizeof(want), "height=\"%gmm\"",
	    tmpl_number(path, "label", "height"));
	if (strstr(s, want) == NULL)
		fail_msg("%s: lacks %s", what, want);
	/* the scheme's name (or its one mark, which is the name) and the
	 * level's mark (stars, asterisks or the level's name), each one
	 * whole text */
	snprintf(want, sizeof(want), ">%s</text>",
	    jcs_scheme_display(ctx, f->scheme));
	if (strstr(s, want) == NULL)
		fail_msg("%s: lacks %s", what, want);
	snprintf(want, sizeof(want), ">%s</text>", jcs_level_mark(ctx,
	    f->scheme, f->level, mark, sizeof(mark)));
	if (mark[0] == '\0' || strstr(s, want) == NULL)
		fail_msg("%s: lacks the level's mark %s", what, want);
	free(s);
	jcs_ctx_free(ctx);
}

/* ---- every shipped template ------------------------------------------- */

/* A label for the template at path: of its scheme, at the lowest level the
 * scheme's profile names the template for (else the scheme's lowest); the
 * reference label itself for JC-STAR level 1. Free with jcs_label_free()
 * unless it is ref. */
static jcs_label *
label_for_template(const char *path, const char *name)
{
	int scheme = tu_template_scheme(path), level;
	const jcs_profile *p;
	jcs_label_fields f;
	jcs_ctx *ctx;
	jcs_label *l;

	if (scheme == 0)
		return ref;
	assert_non_null(p = jcs_schemes_find(jcs_schemes_builtin(), scheme));
	level = p->min_level;
	for (int lv = p->max_level; lv >= p->min_level; lv--)
		if (strcmp(p->tmpl[lv], name) == 0)
			level = lv;
	if (scheme == JCS_SCHEME_JCSTAR && level == 1)
		return ref;
	ctx = jcs_ctx_new();
	f = tu_scheme_fields(scheme, level);
	l = jcs_label_new(ctx, &f);
	if (l == NULL || jcs_label_sign(ctx, l, signer) == -1)
		fail_msg("cannot make a label: %s", jcs_ctx_message(ctx));
	jcs_ctx_free(ctx);
	return l;
}

static void
test_all_templates(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dirpath = tu_src("templates");
	char dir[4096], path[4096 + 256], what[512], out[4096 + 32];
	DIR *d;
	struct dirent *de;
	int seen = 0;
	const int dpis[] = { 300, 600 };

	(void)state;
	snprintf(dir, sizeof(dir), "%s", dirpath);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		jcs_template *t;
		jcs_label *l;

		if (n < 6 || strcmp(de->d_name + n - 5, ".tmpl") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((t = jcs_template_load(ctx, path)) == NULL)
			fail_msg("%s", jcs_ctx_message(ctx));
		assert_int_equal(strncmp(jcs_template_name(t), de->d_name,
		    n - 5), 0);
		assert_int_equal(strlen(jcs_template_name(t)), n - 5);
		seen++;
		l = label_for_template(path, jcs_template_name(t));
		for (int form = JCS_FORM_URL; form <= JCS_FORM_BARE; form++) {
			char *payload = payload_of(l, form);
			uint8_t *buf, *file;
			size_t len, flen;

			for (size_t k = 0; k < 2; k++) {
				snprintf(what, sizeof(what), "%s at %d dpi, %s "
				    "form", de->d_name, dpis[k],
				    form == JCS_FORM_URL ? "url" : "bare");
				if (jcs_render_png(ctx, t, l, payload,
				    dpis[k], &buf, &len) == -1)
					fail_msg("%s: %s", what,
					    jcs_ctx_message(ctx));
				assert_int_equal(jcs_ctx_error(ctx), JCS_OK);
				check_png(path, what, buf, len, dpis[k],
				    payload, jcs_template_ec(t));
				/* the file is the same bytes */
				snprintf(out, sizeof(out), "%s/out.png", tmp);
				assert_int_equal(jcs_render_file(ctx, t, l,
				    payload, dpis[k], out), 0);
				file = tu_read(out, &flen);
				assert_int_equal(flen, len);
				assert_memory_equal(file, buf, len);
				free(file);
				jcs_free(buf);
			}
			snprintf(what, sizeof(what), "%s as SVG, %s form",
			    de->d_name, form == JCS_FORM_URL ? "url" : "bare");
			if (jcs_render_svg(ctx, t, l, payload, &buf,
			    &len) == -1)
				fail_msg("%s: %s", what, jcs_ctx_message(ctx));
			check_svg(path, what, l, buf, len);
			snprintf(out, sizeof(out), "%s/out.svg", tmp);
			assert_int_equal(jcs_render_file(ctx, t, l, payload,
			    300, out), 0);
			file = tu_read(out, &flen);
			assert_int_equal(flen, len);
			assert_memory_equal(file, buf, len);
			free(file);
			jcs_free(buf);
			jcs_free(payload);
		}
		if (l != ref)
			jcs_label_free(l);
		jcs_template_free(t);
	}
	closedir(d);
	/* jcstar-1 to jcstar-4, jcstar-ja, cls-1 to cls-4, psti,
	 * cyber-trust-mark and cra at least */
	if (seen < 12)
		fail_msg("only %d templates in %s", seen, dir);
	jcs_ctx_free(ctx);
}

/* Every level's stars, the lab, the unit serial and Japanese text go
 * through the fonts (with the per-glyph fallback to IPAGothic). */
static void
test_fields_and_fonts(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *names[] = { "jcstar-1", "jcstar-2", "jcstar-3",
		"jcstar-4", "jcstar-ja" };
	const char *stars[] = { "★☆☆☆", "★★☆☆", "★★★☆", "★★★★" };

	(void)state;
	for (int level = 1; level <= 4; level++) {
		jcs_label *l = make_label(JCS_SCHEME_JCSTAR, level,
		    "株式会社サンプル電機", level >= 2 ? "SN-000042" : NULL,
		    level >= 3 ? "Japan Test Lab" : NULL);
		char *payload = payload_of(l, JCS_FORM_URL);

		for (size_t i = 0; i < 5; i++) {
			char path[4096], *s;
			jcs_template *t;
			uint8_t *buf;
			size_t len;

			snprintf(path, sizeof(path), "%s",
			    tu_src("templates/"));
			strcat(path, names[i]);
			strcat(path, ".tmpl");
			assert_non_null(t = jcs_template_load(ctx, path));
			if (jcs_render_svg(ctx, t, l, payload, &buf, &len) ==
			    -1)
				fail_msg("%s level %d: %s", names[i], level,
				    jcs_ctx_message(ctx));
			s = strndup((char *)buf, len);
			assert_non_null(strstr(s, stars[level - 1]));
			assert_non_null(strstr(s, "株式会社サンプル電機"));
			/* optional lines appear only with their field */
			if (strcmp(names[i], "jcstar-3") == 0 ||
			    strcmp(names[i], "jcstar-4") == 0)
				assert_int_equal(strstr(s, "Evaluated by Japan "
				    "Test Lab") != NULL, level >= 3);
			if (strcmp(names[i], "jcstar-3") != 0 &&
			    strcmp(names[i], "jcstar-ja") != 0)
				assert_int_equal(strstr(s, "S/N SN-000042") !=
				    NULL, level >= 2);
			if (strcmp(names[i], "jcstar-ja") == 0)
				assert_int_equal(strstr(s, "製造番号 SN-000042")
				    != NULL, level >= 2);
			free(s);
			jcs_free(buf);
			if (jcs_render_png(ctx, t, l, payload, 300, &buf,
			    &len) == -1)
				fail_msg("%s level %d: %s", names[i], level,
				    jcs_ctx_message(ctx));
			jcs_free(buf);
			jcs_template_free(t);
		}
		jcs_free(payload);
		jcs_label_free(l);
	}
	jcs_ctx_free(ctx);
}

/* The other schemes' templates show the level as the scheme does ({mark},
 * {level_text}) and name the lab or body only on a label that has one. */
static void
test_scheme_marks(void **state)
{
	static const struct {
		const char *tmpl;
		int scheme, level;
		const char *want[3];  /* whole <text>s */
		const char *lacks;
	} cases[] = {
		{ "cls-1", JCS_SCHEME_CLS, 1, { ">CLS</text>",
		  ">\u2731</text>", ">CLS level 1 \u00b7 self-declared</text>" },
		  "\u2731\u2731" },
		{ "cls-2", JCS_SCHEME_CLS, 2, { ">\u2731\u2731</text>",
		  ">CLS level 2 \u00b7 self-declared</text>",
		  ">Support until 2030-03-31</text>" }, "Tested by" },
		{ "cls-3", JCS_SCHEME_CLS, 3, { ">\u2731\u2731\u2731</text>",
		  ">CLS level 3 \u00b7 third-party evaluated</text>",
		  ">Tested by Singapore Test Lab</text>" }, "\u2605" },
		{ "cls-4", JCS_SCHEME_CLS, 4, {
		  ">\u2731\u2731\u2731\u2731</text>",
		  ">Tested by Singapore Test Lab</text>",
		  ">Valid till 2027-03-31</text>" }, "\u2606" },
		{ "psti", JCS_SCHEME_PSTI, 1, { ">PSTI</text>",
		  ">compliant</text>",
		  ">Security updates until 2030-03-31</text>" }, "by " },
		{ "cyber-trust-mark", JCS_SCHEME_CYBER_TRUST_MARK, 1, {
		  ">Cyber Trust Mark</text>", ">Tested by CyberLAB Test</text>",
		  ">Security updates until 2030-03-31</text>" }, "\u2605" },
		{ "cra", JCS_SCHEME_CRA, 1, { ">CRA</text>", ">default</text>",
		  ">EU Cyber Resilience Act \u00b7 self-declared</text>" },
		  "Assessed by" },
		{ "cra", JCS_SCHEME_CRA, 2, { ">important I</text>",
		  ">EU Cyber Resilience Act \u00b7 third-party evaluated</text>",
		  ">Assessed by Notified Body 1234</text>" }, "default" },
		{ "cra", JCS_SCHEME_CRA, 3, { ">important II</text>",
		  ">Assessed by Notified Body 1234</text>",
		  ">Support until 2030-03-31</text>" }, "critical" },
		{ "cra", JCS_SCHEME_CRA, 4, { ">critical</text>",
		  ">Assessed by Notified Body 1234</text>",
		  ">Valid until 2027-03-31</text>" }, "important" },
	};
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jcs_label_fields f = tu_scheme_fields(cases[i].scheme,
		    cases[i].level);
		jcs_label *l = jcs_label_new(ctx, &f);
		char path[4096], *payload, *s;
		jcs_template *t;
		uint8_t *buf;
		size_t len;

		assert_non_null(l);
		assert_int_equal(jcs_label_sign(ctx, l, signer), 0);
		payload = payload_of(l, JCS_FORM_URL);
		snprintf(path, sizeof(path), "%s%s.tmpl",
		    tu_src("templates/"), cases[i].tmpl);
		assert_non_null(t = jcs_template_load(ctx, path));
		if (jcs_render_svg(ctx, t, l, payload, &buf, &len) == -1)
			fail_msg("%s level %d: %s", cases[i].tmpl,
			    cases[i].level, jcs_ctx_message(ctx));
		s = strndup((char *)buf, len);
		for (size_t w = 0; w < 3; w++)
			if (strstr(s, cases[i].want[w]) == NULL)
				fail_msg("%s level %d: lacks %s", cases[i].tmpl,
				    cases[i].level, cases[i].want[w]);
		if (strstr(s, cases[i].lacks) != NULL)
			fail_msg("%s level %d: shows %s", cases[i].tmpl,
			    cases[i].level, cases[i].lacks);
		free(s);
		jcs_free(buf);
		/* and a JC-STAR label is refused */
		assert_int_equal(jcs_render_svg(ctx, t, ref, payload, &buf,
		    &len), -1);
		assert_err(ctx, JCS_ERR_INVALID_ARG);
		assert_msg(ctx, "labels; this label is JC-STAR");
		jcs_template_free(t);
		jcs_free(payload);
		jcs_label_free(l);
	}
	jcs_ctx_free(ctx);
}

/* XML special characters in a field are escaped in the SVG. */
static void
test_svg_escaping(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label *l = make_label(JCS_SCHEME_JCSTAR, 1, "A&B <Tools> \"Q\" 'x'",
	    NULL, NULL);
	char *payload = payload_of(l, JCS_FORM_BARE), *s;
	jcs_template *t = jcs_template_load(ctx,
	    tu_src("templates/jcstar-1.tmpl"));
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_non_null(t);
	assert_int_equal(jcs_render_svg(ctx, t, l, payload, &buf, &len), 0);
	s = strndup((char *)buf, len);
	assert_non_null(strstr(s, ">A&amp;B &lt;Tools&gt; &quot;Q&quot; "
	    "&apos;x&apos;</text>"));
	assert_null(strstr(s, "A&B"));
	assert_null(strstr(s, "<Tools>"));
	assert_int_equal(count(s, "<path"), 1);
	free(s);
	jcs_free(buf);
	jcs_template_free(t);
	jcs_free(payload);
	jcs_label_free(l);
	jcs_ctx_free(ctx);
}

/* ---- bad templates --------------------------------------------------- */

/* A good template with one line replaced or added. */
#define HEAD \
	"# test\n" \
	"[label]\n" \
	"width = 70\n" \
	"height = 30\n"
#define QR \
	"[qr]\n" \
	"x = 1\n" \
	"y = 1\n" \
	"size = 28\n" \
	"module = 0.33\n"
#define TEXT \
	"[text]\n" \
	"x = 30\n" \
	"y = 2\n" \
	"width = 39\n" \
	"height = 4\n" \
	"size = 7pt\n"

static const struct bad_tmpl {
	const char *name;
	const char *text;
	int line;        /* 0: no line check (errors without one) */
	const char *msg;
} bad_tmpls[] = {
	{ "unknown key", HEAD "colour = #000000\n" QR, 5,
	  "unknown key 'colour' in [label] (known: width, height, "
	  "background, foreground, scheme)" },
	{ "unknown placeholder", HEAD QR TEXT "text = {vendr}\n", 16,
	  "unknown placeholder '{vendr}' (known: {scheme} {stars}" },
	{ "bad colour", HEAD "background = white\n" QR, 5,
	  "background: 'white' is not a colour (write #rrggbb" },
	{ "short colour", HEAD "foreground = #000\n" QR, 5,
	  "foreground: '#000' is not a colour" },
	{ "bad number", HEAD QR "quiet = 4\n" TEXT "text = x\n", 4 + 5 + 1 + 3,
	  NULL },
	{ "bad length", "[label]\nwidth = 7o\nheight = 30\n", 2,
	  "width: '7o' is not a length in mm (e.g. 62 or 62.5)" },
	{ "negative length", HEAD QR "x = -1\n", 0, NULL },
	{ "bad font size", HEAD QR TEXT "text = x\n", 0, NULL },
	{ "quiet zone 3", HEAD QR "quiet = 3\n", 10,
	  "quiet: a quiet zone of 3 modules is too small; at least 4" },
	{ "quiet zone not a number", HEAD QR "quiet = four\n", 10,
	  "quiet: 'four' is not a whole number of modules" },
	{ "QR box too small", HEAD "[qr]\nx = 1\ny = 1\nsize = 9\n"
	  "module = 0.33\n", 8, "the QR box is 9.00 mm; even a version-1 "
	  "code (21 modules) with a 4-module quiet zone on each side needs "
	  "9.57 mm" },
	{ "module too small", HEAD "[qr]\nx = 1\ny = 1\nsize = 20\n"
	  "module = 0.05\n", 9, "module: 0.05 mm is out of range" },
	{ "bad ec", HEAD QR "ec = X\n", 10,
	  "ec: 'X' is not an error-correction level (L, M, Q or H)" },
	{ "missing font file", HEAD QR TEXT "text = x\n"
	  "font = fonts/NoSuchFont.ttf\n", 17,
	  "/fonts/NoSuchFont.ttf: No such file or directory" },
	{ "unknown font family", HEAD QR TEXT "text = x\nfont = Comic Sans\n",
	  17, "unknown font 'Comic Sans' (known: DejaVu Sans, DejaVu Sans "
	  "Mono" },
	{ "no bold face", HEAD QR TEXT "text = x\nfont = IPAGothic\n"
	  "weight = bold\n", 17, "font 'IPAGothic' has no bold face" },
	{ "empty file", "", 1, "empty template (no [label] section)" },
	{ "only comments", "# nothing\n\n", 1,
	  "not a label template (no [label] section)" },
	{ "duplicate key", HEAD "width = 60\n" QR, 5,
	  "duplicate key 'width' in [label] (first at line 3)" },
	{ "duplicate key in text", HEAD QR TEXT "text = a\ntext = b\n", 17,
	  "duplicate key 'text' in [text] (first at line 16)" },
	{ "unterminated placeholder", HEAD QR TEXT "text = Reg. {reg_id\n",
	  16, "unterminated placeholder '{reg_id' (a '{' needs its '}'" },
	{ "nested brace", HEAD QR TEXT "text = {reg{id}\n", 16,
	  "unterminated placeholder '{reg'" },
	{ "lone closing brace", HEAD QR TEXT "text = a } b\n", 16,
	  "a lone '}' at byte 3 (write }} for a literal brace)" },
	{ "unknown section", HEAD "[logo]\n", 5,
	  "unknown section [logo] (known: [label], [qr], [text], [rect])" },
	{ "section before label", QR HEAD, 1,
	  "[qr] before [label]: the [label] section comes first" },
	{ "key outside a section", "width = 3\n", 1,
	  "'width' outside a section" },
	{ "not key = value", HEAD "width\n", 5,
	  "expected 'key = value' or '[section]'" },
	{ "missing required key", HEAD "[qr]\nx = 1\ny = 1\nsize = 28\n", 5,
	  "[qr] needs 'module'" },
	{ "no [qr]", HEAD, 4, "no [qr] section: every label carries its QR" },
	{ "two [qr]", HEAD QR QR, 10, "a second [qr] section (the first is at "
	  "line 5)" },
	{ "box off the label", HEAD QR "[text]\nx = 60\ny = 2\nwidth = 20\n"
	  "height = 4\nsize = 7pt\ntext = x\n", 10,
	  "[text] box reaches 80.00 mm across; the label is 70.00 mm wide" },
	{ "text over the QR box", HEAD QR "[text]\nx = 20\ny = 2\n"
	  "width = 20\nheight = 4\nsize = 7pt\ntext = x\n", 10,
	  "[text] box overlaps the [qr] box of line 5" },
	{ "text over text", HEAD QR TEXT "text = a\n" TEXT "text = b\n", 17,
	  "[text] box overlaps the [text] box of line 10" },
	{ "low contrast", "[label]\nwidth = 70\nheight = 30\n"
	  "foreground = #777777\nbackground = #888888\n" QR, 1,
	  "the foreground must be much darker" },
	{ "label too big", "[label]\nwidth = 250\nheight = 30\n" QR, 2,
	  "a label is 5 mm to 200 mm on each side, not 250.00 x 30.00 mm" },
	{ "bad optional", HEAD QR TEXT "text = a\noptional = maybe\n", 17,
	  "optional: 'maybe' is not yes or no" },
	{ "bad align", HEAD QR TEXT "text = a\nalign = middle\n", 17,
	  "align: 'middle' is not left, center or right" },
	{ "bad valign", HEAD QR "valign = middle\n", 10,
	  "valign: 'middle' is not top, center or bottom" },
	{ "shrink above size", HEAD QR TEXT "text = a\nshrink = 10pt\n", 17,
	  "shrink: the smallest size (3.53 mm) is above the size (2.47 mm)" },
	{ "unknown scheme", "[label]\nwidth = 70\nheight = 30\n"
	  "scheme = jc-star\n" QR, 4, "scheme: unknown scheme 'jc-star'" },
	{ "bad UTF-8", HEAD QR TEXT "text = caf\xe9\n", 16,
	  "text: not valid UTF-8 (or a control character) at byte 3" },
	{ "value missing", HEAD QR "ec =\n", 10, "ec: no value" },
	{ "bad header", HEAD "[qr\n", 5, "a section header is '[name]'" },
};

static void
test_bad_templates(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	for (size_t i = 0; i < sizeof(bad_tmpls) / sizeof(bad_tmpls[0]); i++) {
		const struct bad_tmpl *b = &bad_tmpls[i];
		const char *text = b->text;
		char buf[2048], prefix[4200];
		const char *path;

		/* the number cases replace a value in a good template */
		if (strcmp(b->name, "bad number") == 0) {
			snprintf(buf, sizeof(buf), "%s", text);
			memcpy(strstr(buf, "y = 2"), "y = ?", 5);
			text = buf;
		} else if (strcmp(b->name, "negative length") == 0) {
			text = HEAD "[qr]\nx = -1\ny = 1\nsize = 28\n"
			    "module = 0.33\n";
		} else if (strcmp(b->name, "bad font size") == 0) {
			snprintf(buf, sizeof(buf), "%s", text);
			memcpy(strstr(buf, "size = 7pt"), "size = 7px", 10);
			text = buf;
		}
		path = write_tmpl("bad.tmpl", text);
		if (jcs_template_load(ctx, path) != NULL)
			fail_msg("%s: loads", b->name);
		if (jcs_ctx_error(ctx) != JCS_ERR_TEMPLATE)
			fail_msg("%s: want template error, got %s (%s)", b->name,
			    jcs_err_name(jcs_ctx_error(ctx)),
			    jcs_ctx_message(ctx));
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path,
		    b->line != 0 ? b->line : 0);
		if (strcmp(b->name, "bad number") == 0) {
			snprintf(prefix, sizeof(prefix), "%s:13: y: '?' is not a "
			    "length in mm", path);
		} else if (strcmp(b->name, "negative length") == 0) {
			snprintf(prefix, sizeof(prefix), "%s:6: x: '-1' is not "
			    "a length in mm", path);
		} else if (strcmp(b->name, "bad font size") == 0) {
			snprintf(prefix, sizeof(prefix), "%s:15: size: '7px' is "
			    "not a font size (e.g. 7pt or 2.5mm)", path);
		}
		if (strncmp(jcs_ctx_message(ctx), prefix, strlen(prefix)) != 0)
			fail_msg("%s: message '%s' does not start with '%s'",
			    b->name, jcs_ctx_message(ctx), prefix);
		if (b->msg != NULL && strstr(jcs_ctx_message(ctx), b->msg) ==
		    NULL)
			fail_msg("%s: message '%s' lacks '%s'", b->name,
			    jcs_ctx_message(ctx), b->msg);
	}
	jcs_ctx_free(ctx);
}

/* Files that are no template at all: caps and I/O. */
static void
test_template_files(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char path[4200], *big;
	const size_t n = 64 * 1024 + 1;
	jcs_template *t;

	(void)state;
	/* over 64 KiB: refused before reading it all */
	big = malloc(n);
	assert_non_null(big);
	memset(big, '#', n);
	snprintf(path, sizeof(path), "%s/big.tmpl", tmp);
	tu_write(path, big, n);
	free(big);
	assert_null(jcs_template_load(ctx, path));
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	assert_msg(ctx, path);
	assert_msg(ctx, "at most 65536 bytes");
	/* exactly 64 KiB of comments is read (and has no [label]) */
	big = malloc(n - 1);
	assert_non_null(big);
	memset(big, '#', n - 1);
	tu_write(path, big, n - 1);
	free(big);
	assert_null(jcs_template_load(ctx, path));
	assert_err(ctx, JCS_ERR_TEMPLATE);
	assert_msg(ctx, "not a label template");
	/* missing file, directory */
	snprintf(path, sizeof(path), "%s/none.tmpl", tmp);
	assert_null(jcs_template_load(ctx, path));
	assert_err(ctx, JCS_ERR_IO);
	assert_msg(ctx, "No such file or directory");
	assert_null(jcs_template_load(ctx, tmp));
	assert_err(ctx, JCS_ERR_IO);
	assert_null(jcs_template_load(ctx, NULL));
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	/* a NUL byte */
	snprintf(path, sizeof(path), "%s/nul.tmpl", tmp);
	tu_write(path, "[label]\nwidth = 7\0", 18);
	assert_null(jcs_template_load(ctx, path));
	assert_err(ctx, JCS_ERR_TEMPLATE);
	assert_msg(ctx, ":2: a NUL byte");
	/* more than 64 elements */
	{
		size_t cap = 65536, o;
		char *s = malloc(cap);

		assert_non_null(s);
		o = (size_t)snprintf(s, cap, "%s%s", HEAD, QR);
		for (int i = 0; i < 64; i++)
			o += (size_t)snprintf(s + o, cap - o, "[rect]\nx = 30\n"
			    "y = 1\nwidth = 1\nheight = 1\n");
		snprintf(path, sizeof(path), "%s/many.tmpl", tmp);
		tu_write(path, s, o);
		free(s);
		assert_null(jcs_template_load(ctx, path));
		assert_err(ctx, JCS_ERR_TEMPLATE);
		assert_msg(ctx, "more than 64 elements");
		assert_msg(ctx, ":325: ");
	}
	/* the accessors; name without directory and .tmpl */
	snprintf(path, sizeof(path), "%s/good.tmpl", tmp);
	tu_write(path, HEAD QR "ec = h\n", strlen(HEAD QR "ec = h\n"));
	assert_non_null(t = jcs_template_load(ctx, path));
	assert_int_equal(jcs_ctx_error(ctx), JCS_OK);
	assert_string_equal(jcs_template_name(t), "good");
	assert_int_equal(jcs_template_ec(t), JCS_QR_EC_H);
	jcs_template_free(t);
	jcs_template_free(NULL);
	jcs_ctx_free(ctx);
}

/* ---- bad renders --------------------------------------------------------- */

static jcs_template *
load_text(jcs_ctx *ctx, const char *name, const char *text)
{
	jcs_template *t = jcs_template_load(ctx, write_tmpl(name, text));

	if (t == NULL)
		fail_msg("%s: %s", name, jcs_ctx_message(ctx));
	return t;
}

/* Renders as PNG, and as SVG unless png_only; each must fail with err and
 * a message that starts with prefix and holds msg, handing out nothing. */
static void
expect_render_fail_as(int png_only, jcs_template *t, const jcs_label *l,
    const char *payload, int dpi, jcs_err err, const char *prefix,
    const char *msg)
{
	jcs_ctx *ctx = jcs_ctx_new();

	for (int svg = 0; svg <= !png_only; svg++) {
		uint8_t *buf = (uint8_t *)"x";
		size_t len = 1;
		int r = svg ? jcs_render_svg(ctx, t, l, payload, &buf, &len) :
		    jcs_render_png(ctx, t, l, payload, dpi, &buf, &len);

		if (r != -1)
			fail_msg("%s renders", svg ? "SVG" : "PNG");
		assert_null(buf);
		assert_int_equal(len, 0);
		assert_err(ctx, err);
		if (strncmp(jcs_ctx_message(ctx), prefix, strlen(prefix)) != 0)
			fail_msg("message '%s' does not start with '%s'",
			    jcs_ctx_message(ctx), prefix);
		assert_msg(ctx, msg);
	}
	jcs_ctx_free(ctx);
}

#define expect_render_fail(...) expect_render_fail_as(0, __VA_ARGS__)

static void
test_text_overflow(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *longv = "Very Long Vendor Name Industrial Electronics "
	    "Holdings Co., Ltd.";
	jcs_label *l = make_label(JCS_SCHEME_JCSTAR, 1, longv, NULL, NULL);
	char *payload = payload_of(l, JCS_FORM_URL), prefix[4200];
	jcs_template *t;
	uint8_t *buf;
	size_t len;

	(void)state;
	/* a 10 mm box for a 64-byte vendor name */
	t = load_text(ctx, "overflow.tmpl", HEAD QR TEXT "text = {vendor}\n");
	snprintf(prefix, sizeof(prefix), "%s/overflow.tmpl:16: ", tmp);
	expect_render_fail(t, l, payload, 300, JCS_ERR_TEMPLATE, prefix,
	    "text 'Very Long Vendor Name Industrial Electronics Holdings Co., "
	    "Ltd.' is ");
	expect_render_fail(t, l, payload, 300, JCS_ERR_TEMPLATE, prefix,
	    " mm wide; its box is 39.0 mm");
	jcs_template_free(t);
	/* shrink may go down to 4pt: still too wide, names the floor */
	t = load_text(ctx, "shrink.tmpl", HEAD QR TEXT "text = {vendor}\n"
	    "shrink = 4pt\n");
	snprintf(prefix, sizeof(prefix), "%s/shrink.tmpl:16: ", tmp);
	expect_render_fail(t, l, payload, 300, JCS_ERR_TEMPLATE, prefix,
	    "(at the smallest size allowed by shrink)");
	jcs_template_free(t);
	/* down to 2pt it fits: positive twin */
	t = load_text(ctx, "shrink2.tmpl", HEAD QR TEXT "text = {vendor}\n"
	    "shrink = 2pt\n");
	assert_int_equal(jcs_render_png(ctx, t, l, payload, 300, &buf, &len),
	    0);
	jcs_free(buf);
	assert_int_equal(jcs_render_svg(ctx, t, l, payload, &buf, &len), 0);
	jcs_free(buf);
	jcs_template_free(t);
	/* the reference's vendor fits the same box */
	jcs_free(payload);
	payload = payload_of(ref, JCS_FORM_URL);
	t = load_text(ctx, "fits.tmpl", HEAD QR TEXT "text = {vendor}\n");
	assert_int_equal(jcs_render_png(ctx, t, ref, payload, 300, &buf, &len),
	    0);
	jcs_free(buf);
	jcs_template_free(t);
	/* a box too low for the size */
	t = load_text(ctx, "tall.tmpl", HEAD QR "[text]\nx = 30\ny = 2\n"
	    "width = 39\nheight = 2\nsize = 7pt\ntext = x\n");
	snprintf(prefix, sizeof(prefix), "%s/tall.tmpl:16: ", tmp);
	expect_render_fail(t, ref, payload, 300, JCS_ERR_TEMPLATE, prefix,
	    "text at 7.0pt is 2.87 mm tall (ascender to descender); its box "
	    "is 2.00 mm high");
	jcs_template_free(t);
	jcs_free(payload);
	jcs_label_free(l);
	jcs_ctx_free(ctx);
}

static void
test_qr_does_not_fit(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char *payload = payload_of(ref, JCS_FORM_URL), prefix[4200];
	jcs_template *t;
	uint8_t *buf;
	size_t len;

	(void)state;
	/* room for version 1 (29 modules) but not version 11 (69) */
	t = load_text(ctx, "small.tmpl", HEAD "[qr]\nx = 1\ny = 1\n"
	    "size = 12\nmodule = 0.33\n");
	snprintf(prefix, sizeof(prefix), "%s/small.tmpl:8: ", tmp);
	expect_render_fail(t, ref, payload, 300, JCS_ERR_TEMPLATE, prefix,
	    "the QR code (version 11, 61 modules, with a 4-module quiet zone "
	    "on each side) needs ");
	expect_render_fail(t, ref, payload, 600, JCS_ERR_TEMPLATE, prefix,
	    "; the [qr] box is 12.00 mm");
	jcs_template_free(t);
	/* 23 mm holds 69 x 0.33 = 22.77 mm, but not 69 x 4 px = 23.37 mm at
	 * 300 dpi: the PNG, with whole-pixel modules, does not fit */
	t = load_text(ctx, "edge.tmpl", HEAD "[qr]\nx = 1\ny = 1\n"
	    "size = 23\nmodule = 0.33\n");
	assert_int_equal(jcs_render_svg(ctx, t, ref, payload, &buf, &len), 0);
	jcs_free(buf);
	assert_int_equal(jcs_render_png(ctx, t, ref, payload, 300, &buf, &len),
	    -1);
	assert_err(ctx, JCS_ERR_TEMPLATE);
	assert_msg(ctx, "needs 69 x 4 px = 276 px (23.37 mm) at 300 dpi");
	jcs_template_free(t);
	/* error correction H needs a bigger code than M in the same box */
	t = load_text(ctx, "ech.tmpl", HEAD "[qr]\nx = 1\ny = 1\n"
	    "size = 24\nmodule = 0.33\nec = H\n");
	expect_render_fail(t, ref, payload, 300, JCS_ERR_TEMPLATE, "",
	    "(version 16, 81 modules");
	jcs_template_free(t);
	jcs_free(payload);
	jcs_ctx_free(ctx);
}

static void
test_bad_render_args(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_template *t = jcs_template_load(ctx,
	    tu_src("templates/jcstar-1.tmpl"));
	char *payload = payload_of(ref, JCS_FORM_URL), path[4200];
	jcs_label *other = make_label(JCS_SCHEME_JCSTAR, 1, NULL, NULL, NULL);
	jcs_label *cls = make_label(JCS_SCHEME_CLS, 1, NULL, NULL, NULL);
	char *cls_payload = payload_of(cls, JCS_FORM_URL);
	jcs_label_fields f = tu_ref_fields();
	jcs_label *unsigned_l = jcs_label_new(ctx, &f);
	const int bad_dpi[] = { 0, -300, 71, 2401, 100000 };
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_non_null(t);
	for (size_t i = 0; i < sizeof(bad_dpi) / sizeof(bad_dpi[0]); i++) {
		expect_render_fail_as(1, t, ref, payload, bad_dpi[i],
		    JCS_ERR_INVALID_ARG, "a resolution of", " dpi is out of "
		    "range (72 to 2400)");
		snprintf(path, sizeof(path), "%s/dpi.png", tmp);
		assert_int_equal(jcs_render_file(ctx, t, ref, payload,
		    bad_dpi[i], path), -1);
		assert_err(ctx, JCS_ERR_INVALID_ARG);
		assert_int_equal(access(path, F_OK), -1);
	}
	/* the ends of the range work */
	assert_int_equal(jcs_render_png(ctx, t, ref, payload, 72, &buf, &len),
	    0);
	jcs_free(buf);
	/* the payload of another label: the QR would not match the text */
	{
		char *op = payload_of(other, JCS_FORM_BARE);

		assert_int_equal(jcs_render_png(ctx, t, ref, op, 300, &buf,
		    &len), -1);
		assert_err(ctx, JCS_ERR_INVALID_ARG);
		assert_msg(ctx, "the payload carries another label");
		jcs_free(op);
	}
	/* not a payload; an unsigned label; NULLs */
	assert_int_equal(jcs_render_svg(ctx, t, ref, "hello", &buf, &len), -1);
	assert_err(ctx, JCS_ERR_NOT_PAYLOAD);
	assert_non_null(unsigned_l);
	assert_int_equal(jcs_render_svg(ctx, t, unsigned_l, payload, &buf,
	    &len), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_msg(ctx, "not signed");
	assert_int_equal(jcs_render_svg(ctx, NULL, ref, payload, &buf, &len),
	    -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_int_equal(jcs_render_png(ctx, t, NULL, payload, 300, &buf,
	    &len), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_int_equal(jcs_render_png(ctx, t, ref, NULL, 300, &buf, &len),
	    -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	/* a template for JC-STAR refuses a CLS label */
	assert_int_equal(jcs_render_png(ctx, t, cls, cls_payload, 300, &buf,
	    &len), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_msg(ctx, "template jcstar-1 is for JC-STAR labels; this label "
	    "is CLS");
	/* over 100 megapixels: refused before allocating */
	{
		jcs_template *big = load_text(ctx, "big.tmpl", "[label]\n"
		    "width = 200\nheight = 200\n" QR);

		assert_int_equal(jcs_render_png(ctx, big, ref, payload, 2400,
		    &buf, &len), -1);
		assert_err(ctx, JCS_ERR_TOO_LARGE);
		assert_msg(ctx, "is 18898 x 18898 pixels, over the limit of "
		    "100 megapixels");
		jcs_template_free(big);
	}
	/* a glyph that no font has */
	{
		/* Hangul: in neither DejaVu Sans nor IPAGothic */
		jcs_label *emoji = make_label(JCS_SCHEME_JCSTAR, 1,
		    "Vendor \xea\xb0\x80", NULL, NULL);
		char *ep = payload_of(emoji, JCS_FORM_BARE);
		jcs_template *vt = load_text(ctx, "v.tmpl", HEAD QR TEXT
		    "text = {vendor}\n");

		snprintf(path, sizeof(path), "%s/v.tmpl:16: ", tmp);
		expect_render_fail(vt, emoji, ep, 300, JCS_ERR_TEMPLATE, path,
		    "no font has a glyph for U+AC00 in text 'Vendor ");
		jcs_template_free(vt);
		jcs_free(ep);
		jcs_label_free(emoji);
	}
	jcs_label_free(unsigned_l);
	jcs_free(cls_payload);
	jcs_label_free(cls);
	jcs_label_free(other);
	jcs_free(payload);
	jcs_template_free(t);
	jcs_ctx_free(ctx);
}

/* A failed write leaves no file, and no temporary file either. */
static void
test_render_files(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_template *t = jcs_template_load(ctx,
	    tu_src("templates/jcstar-2.tmpl"));
	char *payload = payload_of(ref, JCS_FORM_URL), path[4200];
	char *dir = tu_tmpdir();
	DIR *d;
	struct dirent *de;
	int entries = 0;
	struct stat st;

	(void)state;
	assert_non_null(t);
	/* a missing directory */
	snprintf(path, sizeof(path), "%s/no-such-dir/out.png", dir);
	assert_int_equal(jcs_render_file(ctx, t, ref, payload, 300, path),
	    -1);
	assert_err(ctx, JCS_ERR_IO);
	assert_msg(ctx, "no-such-dir/out.png");
	/* a directory in the way: the rename fails, the temporary goes */
	snprintf(path, sizeof(path), "%s/taken.svg", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(jcs_render_file(ctx, t, ref, payload, 300, path),
	    -1);
	assert_err(ctx, JCS_ERR_IO);
	/* another extension */
	snprintf(path, sizeof(path), "%s/out.jpg", dir);
	assert_int_equal(jcs_render_file(ctx, t, ref, payload, 300, path),
	    -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_msg(ctx, "name it NAME.png or NAME.svg");
	/* a failing render leaves an existing file as it was */
	snprintf(path, sizeof(path), "%s/keep.png", dir);
	tu_write(path, "old", 3);
	assert_int_equal(jcs_render_file(ctx, t, ref, payload, 5, path), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	/* only taken.svg and keep.png are there */
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") !=
		    0) {
			entries++;
			if (strcmp(de->d_name, "taken.svg") != 0 &&
			    strcmp(de->d_name, "keep.png") != 0)
				fail_msg("left behind: %s", de->d_name);
		}
	closedir(d);
	assert_int_equal(entries, 2);
	/* and a good one, upper-case extension */
	snprintf(path, sizeof(path), "%s/GOOD.PNG", dir);
	assert_int_equal(jcs_render_file(ctx, t, ref, payload, 300, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 1000 && st.st_size < 64 * 1024);
	tu_rmrf(dir);
	free(dir);
	jcs_free(payload);
	jcs_template_free(t);
	jcs_ctx_free(ctx);
}

/* A colour template gives a palette PNG, still with exact modules. */
static void
test_palette(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *text = "[label]\nwidth = 70\nheight = 30\n"
	    "foreground = #1a237e\nbackground = #fffde7\n" QR
	    "[rect]\nx = 30\ny = 1\nwidth = 39\nheight = 8\ncolor = #c62828\n"
	    "[text]\nx = 31\ny = 2\nwidth = 37\nheight = 6\nsize = 10pt\n"
	    "weight = bold\ncolor = #ffffff\ntext = {scheme} {stars}\n";
	jcs_template *t = load_text(ctx, "colour.tmpl", text);
	char *payload = payload_of(ref, JCS_FORM_BARE);
	struct image img;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(jcs_render_png(ctx, t, ref, payload, 300, &buf, &len),
	    0);
	assert_int_equal(decode_png(buf, len, &img), 0);
	assert_int_equal(img.color_type, PNG_COLOR_TYPE_PALETTE);
	/* the band's red is there, the QR's first module is the ink */
	{
		const uint8_t *p = pixel(&img, px(50, 300), px(1.5, 300));
		long m = px(0.33, 300), span = 69 * m;
		long bx = px(1, 300), bw = px(29, 300) - bx;
		long ox = bx + (bw - span) / 2 + 4 * m;

		assert_int_equal(p[0], 0xc6);
		assert_int_equal(p[1], 0x28);
		assert_int_equal(p[2], 0x28);
		p = pixel(&img, ox, ox);
		assert_int_equal(p[0], 0x1a);
		assert_int_equal(p[1], 0x23);
		assert_int_equal(p[2], 0x7e);
		p = pixel(&img, ox - 1, ox - 1);
		assert_int_equal(p[0], 0xff);
		assert_int_equal(p[2], 0xe7);
	}
	free(img.rgb);
	jcs_free(buf);
	jcs_template_free(t);
	jcs_free(payload);
	jcs_ctx_free(ctx);
}

/* ---- what a template keeps between renders ----------------------------- */

/* Renders label with a template loaded for this render alone. */
static uint8_t *
render_fresh(const char *path, const jcs_label *l, const char *payload,
    int dpi, size_t *len)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_template *t = jcs_template_load(ctx, path);
	uint8_t *buf = NULL;

	if (t == NULL)
		fail_msg("%s: %s", path, jcs_ctx_message(ctx));
	if (dpi == 0 ? jcs_render_svg(ctx, t, l, payload, &buf, len) :
	    jcs_render_png(ctx, t, l, payload, dpi, &buf, len))
		fail_msg("%s at %d dpi: %s", path, dpi, jcs_ctx_message(ctx));
	jcs_template_free(t);
	jcs_ctx_free(ctx);
	return buf;
}

/* One template renders labels that differ in one line, in all lines, in
 * their fonts (Japanese from IPAGothic), at one resolution then another
 * and back, PNG and SVG: every file is byte for byte the one a fresh
 * template gives. A cache keyed on too little (the text but not the
 * resolution, a glyph but not its size or sub-pixel offset, a face of
 * another font) would draw the previous label's line or pixels. */
static void
test_render_cache(void **state)
{
	const char *names[] = { "jcstar-1", "jcstar-ja", "colour" };
	const char *colour = "[label]\nwidth = 70\nheight = 30\n"
	    "foreground = #1a237e\nbackground = #fffde7\n" QR
	    "[rect]\nx = 30\ny = 1\nwidth = 39\nheight = 8\n"
	    "color = #c62828\n"
	    "[text]\nx = 31\ny = 2\nwidth = 37\nheight = 6\nsize = 10pt\n"
	    "weight = bold\ncolor = #ffffff\ntext = {scheme} {stars}\n"
	    "[text]\nx = 31\ny = 10\nwidth = 37\nheight = 4\nsize = 7pt\n"
	    "color = #808080\ntext = S/N {unit_serial}\noptional = yes\n"
	    "[text]\nx = 31\ny = 15\nwidth = 37\nheight = 4\nsize = 7pt\n"
	    "shrink = 4pt\ntext = {vendor}\n";
	jcs_label *l[6];
	char *payload[6];
	/* label, dpi (0: SVG); 4 and 5 have the same words in another order,
	 * so their glyphs fall at other sub-pixel offsets */
	static const int seq[][2] = { { 0, 300 }, { 1, 300 }, { 2, 300 },
		{ 1, 300 }, { 0, 600 }, { 3, 600 }, { 2, 0 }, { 1, 300 },
		{ 3, 203 }, { 4, 300 }, { 5, 300 }, { 2, 300 }, { 0, 300 } };
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	l[0] = ref;
	l[1] = make_label(JCS_SCHEME_JCSTAR, 1, NULL, "SN-000001", NULL);
	l[2] = make_label(JCS_SCHEME_JCSTAR, 2, "株式会社サンプル電機",
	    "SN-000002", NULL);
	l[3] = make_label(JCS_SCHEME_JCSTAR, 1, "Very Long Vendor Name "
	    "Industrial Co., Ltd.", "SN-000003", NULL);
	l[4] = make_label(JCS_SCHEME_JCSTAR, 1, "Acme Widgets", NULL, NULL);
	l[5] = make_label(JCS_SCHEME_JCSTAR, 1, "Widgets Acme", NULL, NULL);
	for (int i = 0; i < 6; i++)
		payload[i] = payload_of(l[i], i % 2 ? JCS_FORM_BARE :
		    JCS_FORM_URL);
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		char path[4096];
		jcs_template *t;

		if (strcmp(names[n], "colour") == 0)
			snprintf(path, sizeof(path), "%s",
			    write_tmpl("colour.tmpl", colour));
		else
			snprintf(path, sizeof(path), "%s/%s.tmpl",
			    tu_src("templates"), names[n]);
		assert_non_null(t = jcs_template_load(ctx, path));
		for (size_t k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
			int i = seq[k][0], dpi = seq[k][1];
			uint8_t *buf, *want;
			size_t len, want_len;

			if ((dpi == 0 ? jcs_render_svg(ctx, t, l[i], payload[i],
			    &buf, &len) : jcs_render_png(ctx, t, l[i],
			    payload[i], dpi, &buf, &len)) == -1)
				fail_msg("%s, label %d at %d dpi: %s", names[n],
				    i, dpi, jcs_ctx_message(ctx));
			want = render_fresh(path, l[i], payload[i], dpi,
			    &want_len);
			if (len != want_len || memcmp(buf, want, len) != 0)
				fail_msg("%s, step %zu (label %d at %d dpi): "
				    "%zu bytes, a fresh template gives %zu "
				    "other bytes", names[n], k, i, dpi, len,
				    want_len);
			jcs_free(want);
			jcs_free(buf);
		}
		jcs_template_free(t);
	}
	for (int i = 0; i < 6; i++) {
		jcs_free(payload[i]);
		if (l[i] != ref)
			jcs_label_free(l[i]);
	}
	jcs_ctx_free(ctx);
}

/* A kept glyph is the one of its size and sub-pixel position: at 254 dpi
 * (0.1 mm a pixel) a "W" at x = 40.05 mm starts half a pixel later than
 * one at 30 mm, so it is anti-aliased otherwise; one at 40 mm is the same
 * pixels 100 pixels on (the twin that shows the comparison can match). */
static void
test_glyph_subpixel(void **state)
{
	static const struct {
		const char *x2;
		int same;
	} cases[] = { { "40.05", 0 }, { "40", 1 } };
	jcs_ctx *ctx = jcs_ctx_new();
	char *payload = payload_of(ref, JCS_FORM_URL);

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char text[1024];
		jcs_template *t;
		struct image img;
		uint8_t *buf;
		size_t len;
		int differ = 0;

		snprintf(text, sizeof(text), HEAD QR "[text]\nx = 30\ny = 2\n"
		    "width = 8\nheight = 6\nsize = 12pt\ntext = W\n"
		    "[text]\nx = %s\ny = 2\nwidth = 8\nheight = 6\n"
		    "size = 12pt\ntext = W\n", cases[c].x2);
		t = load_text(ctx, "subpixel.tmpl", text);
		assert_int_equal(jcs_render_png(ctx, t, ref, payload, 254, &buf,
		    &len), 0);
		assert_int_equal(decode_png(buf, len, &img), 0);
		/* the first box (30 to 38 mm, 2 to 8 mm) against the same
		 * pixels 100 on; the glyph is dark in it */
		for (long y = 20; y < 80; y++)
			for (long x = 295; x < 385; x++)
				differ |= memcmp(pixel(&img, x, y),
				    pixel(&img, x + 100, y), 3) != 0;
		assert_true(is_dark(pixel(&img, 307, 50)));
		if (differ == cases[c].same)
			fail_msg("W at 30 mm and at %s mm: %s pixels", cases[c].x2,
			    differ ? "other" : "the same");
		free(img.rgb);
		jcs_free(buf);
		jcs_template_free(t);
	}
	jcs_free(payload);
	jcs_ctx_free(ctx);
}

#define THREADS 4
#define THREAD_RENDERS 12

struct shared {
	const jcs_template *t;
	const jcs_label *l[2];
	const char *payload[2];
	const uint8_t *want[2];
	size_t want_len[2];
	int bad[THREADS];
	int id;
};

static void *
render_thread(void *arg)
{
	struct shared *sh = arg;
	int id = __atomic_fetch_add(&sh->id, 1, __ATOMIC_SEQ_CST);
	jcs_ctx *ctx = jcs_ctx_new();

	for (int k = 0; k < THREAD_RENDERS; k++) {
		int i = (k + id) % 2;
		uint8_t *buf;
		size_t len;

		if (jcs_render_png(ctx, sh->t, sh->l[i], sh->payload[i], 300,
		    &buf, &len) == -1) {
			sh->bad[id]++;
			continue;
		}
		if (len != sh->want_len[i] || memcmp(buf, sh->want[i], len) != 0)
			sh->bad[id]++;
		jcs_free(buf);
	}
	jcs_ctx_free(ctx);
	return NULL;
}

/* Threads share one template: a render that finds its cache busy works
 * without it, and every file is still the one a fresh template gives. */
static void
test_render_threads(void **state)
{
	char path[4096];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_template *t;
	struct shared sh;
	pthread_t th[THREADS];
	uint8_t *want[2];
	char *payload[2];
	jcs_label *other = make_label(JCS_SCHEME_JCSTAR, 1, NULL,
	    "SN-000009", NULL);

	(void)state;
	memset(&sh, 0, sizeof(sh));
	snprintf(path, sizeof(path), "%s", tu_src("templates/jcstar-1.tmpl"));
	assert_non_null(t = jcs_template_load(ctx, path));
	sh.t = t;
	sh.l[0] = ref;
	sh.l[1] = other;
	for (int i = 0; i < 2; i++) {
		sh.payload[i] = payload[i] = payload_of(sh.l[i], JCS_FORM_URL);
		sh.want[i] = want[i] = render_fresh(path, sh.l[i], payload[i],
		    300, &sh.want_len[i]);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, render_thread,
		    &sh), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < THREADS; i++)
		if (sh.bad[i] != 0)
			fail_msg("thread %d: %d of %d renders failed or differ "
			    "from a fresh template's", i, sh.bad[i],
			    THREAD_RENDERS);
	for (int i = 0; i < 2; i++) {
		jcs_free(want[i]);
		jcs_free(payload[i]);
	}
	jcs_label_free(other);
	jcs_template_free(t);
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_templates),
		cmocka_unit_test(test_fields_and_fonts),
		cmocka_unit_test(test_scheme_marks),
		cmocka_unit_test(test_svg_escaping),
		cmocka_unit_test(test_bad_templates),
		cmocka_unit_test(test_template_files),
		cmocka_unit_test(test_text_overflow),
		cmocka_unit_test(test_qr_does_not_fit),
		cmocka_unit_test(test_bad_render_args),
		cmocka_unit_test(test_render_files),
		cmocka_unit_test(test_palette),
		cmocka_unit_test(test_render_cache),
		cmocka_unit_test(test_glyph_subpixel),
		cmocka_unit_test(test_render_threads),
	};

	return cmocka_run_group_tests_name("render", tests, setup, teardown);
}
