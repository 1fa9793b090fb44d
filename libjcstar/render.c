/*
 * render.c - label artwork from a template: PNG (libpng, text with
 * FreeType) and SVG (vector: the QR code as one path, text as text).
 *
 * Both outputs share one layout in millimetres: text is measured with
 * FreeType from the unhinted advances (so the measure does not depend on the
 * resolution) and checked against its box; the QR code's fit is checked in
 * millimetres for SVG and in whole pixels for PNG, where every module is a
 * square of round(module_mm * dpi / 25.4) pixels (at least 1), never
 * resampled. The PNG is greyscale (1, 2, 4 or 8 bits) when every colour is a
 * grey, else a palette; text is anti-aliased with 16 coverage levels, so
 * black text on white gives a 4-bit greyscale file.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <png.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_ADVANCES_H

#include "template.h"

#define MAX_FONTS 16         /* >= the family table */
#define AA_LEVELS 15         /* coverage levels above 0 */
#define SVG_MAX (4 * 1024 * 1024)

/* Rounding without libm (the library links no -lm). */
static long
iround(double v)
{
	return v >= 0 ? (long)(v + 0.5) : -(long)(-v + 0.5);
}

static double
ifloor(double v)
{
	double i = (double)(long)v;

	return i > v ? i - 1 : i;
}

/* ---- fonts ----------------------------------------------------------- */

struct fontset {
	FT_Library lib;
	FT_Face table[MAX_FONTS];
	FT_Face file[JCS_TMPL_MAX_ELEMENTS]; /* per element with a font file */
};

static void
fontset_free(struct fontset *fs)
{
	/* FT_Done_FreeType releases every face */
	if (fs->lib != NULL)
		FT_Done_FreeType(fs->lib);
	memset(fs, 0, sizeof(*fs));
}

static int
elfail(jcs_ctx *ctx, const jcs_template *t, int line, jcs_err err,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
elfail(jcs_ctx *ctx, const jcs_template *t, int line, jcs_err err,
    const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return jcs_fail(ctx, err, "%s:%d: %s", t->path, line, msg);
}

/* Opens a font file as a scalable face. */
static int
open_face(jcs_ctx *ctx, struct fontset *fs, const jcs_template *t,
    const jcs_tmpl_el *e, const char *file, const char *package,
    FT_Face *out)
{
	FT_Error fe;

	if (fs->lib == NULL && FT_Init_FreeType(&fs->lib) != 0) {
		fs->lib = NULL;
		return jcs_fail(ctx, JCS_ERR_NOMEM, "cannot start FreeType");
	}
	if ((fe = FT_New_Face(fs->lib, file, 0, out)) != 0) {
		*out = NULL;
		if (fe == FT_Err_Cannot_Open_Resource && package != NULL)
			return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
			    "font file %s is missing: install the Debian "
			    "package %s", file, package);
		return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
		    "cannot load font file %s (FreeType error 0x%02x)", file,
		    (unsigned)fe);
	}
	if (!FT_IS_SCALABLE(*out) || (*out)->units_per_EM == 0)
		return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
		    "font file %s is not a scalable (outline) font", file);
	return 0;
}

/* Returns the face of table entry i, loading it on first use. */
static int
table_face(jcs_ctx *ctx, struct fontset *fs, const jcs_template *t,
    const jcs_tmpl_el *e, int i, FT_Face *out)
{
	const jcs_font_info *fi = jcs_font_table((size_t)i);

	if (fi == NULL || i >= MAX_FONTS)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "bad font index");
	if (fs->table[i] == NULL && open_face(ctx, fs, t, e, fi->file,
	    fi->package, &fs->table[i]) == -1)
		return -1;
	*out = fs->table[i];
	return 0;
}

/* The element's own face. */
static int
el_face(jcs_ctx *ctx, struct fontset *fs, const jcs_template *t,
    const jcs_tmpl_el *e, FT_Face *out)
{
	size_t k = (size_t)(e - t->el);

	if (e->font.index >= 0)
		return table_face(ctx, fs, t, e, e->font.index, out);
	if (fs->file[k] == NULL && open_face(ctx, fs, t, e, e->font.file,
	    NULL, &fs->file[k]) == -1)
		return -1;
	*out = fs->file[k];
	return 0;
}

/* ---- text layout (millimetres) ---------------------------------------- */

struct glyph {
	FT_Face face;
	FT_UInt index;
	double adv;          /* advance in em */
};

struct layout {
	int skip;            /* nothing to draw (optional, or empty) */
	char *text;          /* expanded */
	struct glyph *g;
	size_t n;
	double size;         /* em size in mm, after shrinking */
	double width;        /* mm */
	double x0, base;     /* pen start and baseline, mm */
	double asc, desc;    /* ascender, descender (positive), em */
	FT_Face face;        /* the element's own face */
};

/* Decodes one UTF-8 character (the text was checked; anything odd becomes
 * U+FFFD). Returns the bytes used. */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (n == 0) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return i;
		}
		*cp = (*cp << 6) | (s[i] & 0x3fu);
	}
	return n;
}

/* Text for a message: at most about 60 bytes, cut at a character. */
static const char *
shorten(const char *s, char *buf, size_t cap)
{
	size_t n = strlen(s), cut = 0;

	if (n < 64 || cap < 70) {
		snprintf(buf, cap, "%s", s);
		return buf;
	}
	while (cut < 60) {
		uint32_t cp;

		cut += utf8_next((const unsigned char *)s + cut, &cp);
	}
	snprintf(buf, cap, "%.*s...", (int)cut, s);
	return buf;
}

static void
layout_free(struct layout *lo)
{
	free(lo->text);
	free(lo->g);
	memset(lo, 0, sizeof(*lo));
}

static int
layout_text(jcs_ctx *ctx, struct fontset *fs, const jcs_template *t,
    const jcs_tmpl_el *e, const jcs_label *label, struct layout *lo)
{
	const double eps = 1e-6;
	size_t cap = jcs_tmpl_expand_max(e->text), len;
	double em = 0, asc, desc, lh;
	int empty;
	char shown[80];

	memset(lo, 0, sizeof(*lo));
	if ((lo->text = malloc(cap)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	if (jcs_tmpl_expand(ctx, e->text, label, lo->text, cap, &empty) < 0)
		return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
		    "cannot expand the text");
	len = strlen(lo->text);
	if (len == 0 || (empty && e->optional)) {
		lo->skip = 1;
		return 0;
	}
	if (el_face(ctx, fs, t, e, &lo->face) == -1)
		return -1;
	if ((lo->g = calloc(len, sizeof(*lo->g))) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < len;) {
		struct glyph *g = &lo->g[lo->n];
		uint32_t cp;
		FT_Fixed adv;

		i += utf8_next((const unsigned char *)lo->text + i, &cp);
		g->face = lo->face;
		g->index = FT_Get_Char_Index(g->face, cp);
		/* per glyph: the element's font, then DejaVu Sans, then
		 * IPAGothic */
		for (int f = 0; g->index == 0 && f < JCS_FONT_FALLBACKS; f++) {
			int k = jcs_font_fallback(e->font.index >= 0 &&
			    jcs_font_table((size_t)e->font.index)->bold, f);

			if (table_face(ctx, fs, t, e, k, &g->face) == -1)
				return -1;
			g->index = FT_Get_Char_Index(g->face, cp);
		}
		if (g->index == 0)
			return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
			    "no font has a glyph for U+%04X in text '%s'",
			    (unsigned)cp, shorten(lo->text, shown,
			    sizeof(shown)));
		if (FT_Get_Advance(g->face, g->index, FT_LOAD_NO_SCALE,
		    &adv) != 0)
			return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
			    "font cannot measure U+%04X", (unsigned)cp);
		g->adv = (double)adv / g->face->units_per_EM;
		em += g->adv;
		lo->n++;
	}
	asc = (double)lo->face->ascender / lo->face->units_per_EM;
	desc = -(double)lo->face->descender / lo->face->units_per_EM;
	lo->size = e->size;
	if (em * lo->size > e->w + eps && e->min_size > 0 &&
	    em * e->min_size <= e->w + eps)
		lo->size = ifloor(e->w / em * 1000) / 1000;
	if ((asc + desc) * lo->size > e->h + eps && e->min_size > 0 &&
	    (asc + desc) * e->min_size <= e->h + eps)
		lo->size = ifloor(e->h / (asc + desc) * 1000) / 1000;
	lo->width = em * lo->size;
	lh = (asc + desc) * lo->size;
	if (lo->width > e->w + eps)
		return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
		    "text '%s' is %.1f mm wide; its box is %.1f mm%s",
		    shorten(lo->text, shown, sizeof(shown)),
		    em * (e->min_size > 0 ? e->min_size : e->size), e->w,
		    e->min_size > 0 ? " (at the smallest size allowed by "
		    "shrink)" : "");
	if (lh > e->h + eps)
		return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
		    "text at %.1fpt is %.2f mm tall (ascender to descender); "
		    "its box is %.2f mm high", lo->size / JCS_MM_PER_PT, lh,
		    e->h);
	lo->asc = asc;
	lo->desc = desc;
	lo->base = e->y + asc * lo->size + (e->valign == JCS_VALIGN_TOP ? 0 :
	    e->valign == JCS_VALIGN_BOTTOM ? e->h - lh : (e->h - lh) / 2);
	lo->x0 = e->align == JCS_ALIGN_LEFT ? e->x :
	    e->align == JCS_ALIGN_CENTER ? e->x + (e->w - lo->width) / 2 :
	    e->x + e->w - lo->width;
	return 0;
}

/* ---- what both outputs need -------------------------------------------- */

struct job {
	const jcs_template *t;
	const jcs_label *label;
	jcs_qr *qr;
	struct fontset fs;
	struct layout lo[JCS_TMPL_MAX_ELEMENTS];
};

static void
job_free(struct job *j)
{
	for (size_t i = 0; i < JCS_TMPL_MAX_ELEMENTS; i++)
		layout_free(&j->lo[i]);
	jcs_qr_free(j->qr);
	fontset_free(&j->fs);
}

/* Checks the arguments, that the payload carries this label, makes the QR
 * code and lays out every text. */
static int
job_prepare(jcs_ctx *ctx, struct job *j, const jcs_template *t,
    const jcs_label *label, const char *payload)
{
	const jcs_label_fields *f;
	const uint8_t *der;
	uint8_t *pder = NULL;
	size_t len, plen;
	int same;

	memset(j, 0, sizeof(*j));
	j->t = t;
	j->label = label;
	if (t == NULL || label == NULL || payload == NULL || t->qr == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "render needs a "
		    "template, a label and its payload");
	f = jcs_label_get_fields(label);
	if (t->scheme != 0 && f->scheme != t->scheme)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "template %s is for "
		    "%s labels; this label is %s", t->name,
		    jcs_scheme_display(ctx, t->scheme),
		    jcs_scheme_display(ctx, f->scheme));
	/* the QR code must carry the very label whose fields are drawn */
	if ((der = jcs_label_der(label, &len)) == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "the label is not "
		    "signed: only a signed label has artwork");
	if (jcs_payload_decode(ctx, payload, strlen(payload), &pder, &plen,
	    NULL) == -1)
		return -1;
	same = plen == len && memcmp(pder, der, len) == 0;
	jcs_free(pder);
	if (!same)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "the payload carries "
		    "another label than the one whose fields are drawn");
	if ((j->qr = jcs_qr_encode(ctx, payload, t->qr->ec)) == NULL)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		if (t->el[i].kind == JCS_EL_TEXT &&
		    layout_text(ctx, &j->fs, t, &t->el[i], label,
		    &j->lo[i]) == -1)
			return -1;
	return 0;
}

/* The QR code's side in modules, quiet zone included. */
static int
qr_span(const struct job *j)
{
	return jcs_qr_width(j->qr) + 2 * j->t->qr->quiet;
}

/* The code's offset in its box of room spare pixels (whole pixels). */
static long
place(int align, long spare)
{
	return align == JCS_ALIGN_LEFT ? 0 : align == JCS_ALIGN_RIGHT ? spare :
	    spare / 2;
}

static int
qr_too_big(jcs_ctx *ctx, const struct job *j, const char *need)
{
	const jcs_tmpl_el *q = j->t->qr;

	return elfail(ctx, j->t, q->size_line, JCS_ERR_TEMPLATE, "the QR "
	    "code (version %d, %d modules, with a %d-module quiet zone on "
	    "each side) needs %s; the [qr] box is %.2f mm: make the box "
	    "larger or the modules smaller", jcs_qr_version(j->qr),
	    jcs_qr_width(j->qr), q->quiet, need, q->size);
}

/* ---- PNG ------------------------------------------------------------- */

struct canvas {
	int w, h;
	uint8_t *px;          /* w * h palette indexes */
	jcs_rgb pal[256];
	int npal;
	int last;             /* palette lookup cache */
};

/* Returns the palette index of c, adding it; -1 past 256 colours. */
static int
pal_index(struct canvas *cv, jcs_rgb c)
{
	if (cv->last < cv->npal && cv->pal[cv->last].r == c.r &&
	    cv->pal[cv->last].g == c.g && cv->pal[cv->last].b == c.b)
		return cv->last;
	for (int i = 0; i < cv->npal; i++)
		if (cv->pal[i].r == c.r && cv->pal[i].g == c.g &&
		    cv->pal[i].b == c.b)
			return cv->last = i;
	if (cv->npal == 256)
		return -1;
	cv->pal[cv->npal] = c;
	return cv->last = cv->npal++;
}

static long
px_of(double mm, int dpi)
{
	return iround(mm * dpi / JCS_MM_PER_INCH);
}

static void
fill(struct canvas *cv, long x0, long y0, long x1, long y1, int idx)
{
	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > cv->w ? cv->w : x1;
	y1 = y1 > cv->h ? cv->h : y1;
	for (long y = y0; y < y1; y++)
		if (x1 > x0)
			memset(cv->px + (size_t)y * (size_t)cv->w + (size_t)x0,
			    idx, (size_t)(x1 - x0));
}

static int
draw_rect(jcs_ctx *ctx, struct canvas *cv, const jcs_template *t,
    const jcs_tmpl_el *e, int dpi)
{
	long x0 = px_of(e->x, dpi), y0 = px_of(e->y, dpi);
	long x1 = px_of(e->x + e->w, dpi), y1 = px_of(e->y + e->h, dpi);
	long lw;
	int idx = pal_index(cv, e->color);

	if (idx < 0)
		return elfail(ctx, t, e->line, JCS_ERR_TEMPLATE, "the artwork "
		    "needs more than 256 colours: use fewer colours");
	if (e->line_w <= 0) {
		fill(cv, x0, y0, x1, y1, idx);
		return 0;
	}
	lw = px_of(e->line_w, dpi);
	lw = lw < 1 ? 1 : lw;
	fill(cv, x0, y0, x1, y0 + lw, idx);
	fill(cv, x0, y1 - lw, x1, y1, idx);
	fill(cv, x0, y0, x0 + lw, y1, idx);
	fill(cv, x1 - lw, y0, x1, y1, idx);
	return 0;
}

/* A text's coverage, gathered from all its glyphs before it is blended
 * once onto the canvas: neighbouring glyphs' soft edges add up instead of
 * darkening twice, and every blend is between template colours (so black
 * on white stays 16 grey levels). */
struct mask {
	long x0, y0, w, h;
	uint8_t *cov;
};

static void
mask_add(struct mask *mk, const FT_Bitmap *bm, long left, long top)
{
	for (unsigned r = 0; r < bm->rows; r++) {
		long y = top + (long)r - mk->y0;
		const uint8_t *src = bm->buffer + (long)r * bm->pitch;

		if (y < 0 || y >= mk->h)
			continue;
		for (unsigned c = 0; c < bm->width; c++) {
			long x = left + (long)c - mk->x0;
			uint8_t *p;

			if (x < 0 || x >= mk->w || src[c] == 0)
				continue;
			p = mk->cov + (size_t)y * (size_t)mk->w + (size_t)x;
			*p = (uint8_t)(*p + src[c] > 255 ? 255 : *p + src[c]);
		}
	}
}

/* Blends the mask in ink onto the canvas. Returns 0, or -1 past 256
 * colours. */
static int
mask_blend(struct canvas *cv, const struct mask *mk, jcs_rgb ink,
    int ink_idx)
{
	for (long my = 0; my < mk->h; my++) {
		long y = mk->y0 + my;

		if (y < 0 || y >= cv->h)
			continue;
		for (long mx = 0; mx < mk->w; mx++) {
			long x = mk->x0 + mx;
			unsigned q = ((unsigned)mk->cov[my * mk->w + mx] *
			    AA_LEVELS + 127) / 255;
			uint8_t *p;
			jcs_rgb u, b;
			int idx;

			if (x < 0 || x >= cv->w || q == 0)
				continue;
			p = cv->px + (size_t)y * (size_t)cv->w + (size_t)x;
			if (q == AA_LEVELS) {
				*p = (uint8_t)ink_idx;
				continue;
			}
			u = cv->pal[*p];
			b.r = (uint8_t)((u.r * (AA_LEVELS - q) + ink.r * q +
			    AA_LEVELS / 2) / AA_LEVELS);
			b.g = (uint8_t)((u.g * (AA_LEVELS - q) + ink.g * q +
			    AA_LEVELS / 2) / AA_LEVELS);
			b.b = (uint8_t)((u.b * (AA_LEVELS - q) + ink.b * q +
			    AA_LEVELS / 2) / AA_LEVELS);
			if ((idx = pal_index(cv, b)) < 0)
				return -1;
			*p = (uint8_t)idx;
		}
	}
	return 0;
}

static int
draw_text(jcs_ctx *ctx, struct canvas *cv, const jcs_template *t,
    const jcs_tmpl_el *e, const struct layout *lo, int dpi)
{
	double ppmm = dpi / JCS_MM_PER_INCH;
	double pen = lo->x0 * ppmm, by = lo->base * ppmm;
	double fy = ifloor(by);
	FT_F26Dot6 pt64 = (FT_F26Dot6)iround(lo->size / JCS_MM_PER_PT * 64);
	long pad = iround(lo->size * ppmm) + 2;
	struct mask mk;
	int ink = pal_index(cv, e->color), rc = -1;

	if (ink < 0)
		return elfail(ctx, t, e->line, JCS_ERR_TEMPLATE, "the artwork "
		    "needs more than 256 colours: use fewer colours");
	/* the line's box, with an em around it for overhanging glyphs */
	mk.x0 = (long)ifloor(pen) - pad;
	mk.y0 = (long)ifloor(by - lo->asc * lo->size * ppmm) - pad;
	mk.w = iround(lo->width * ppmm) + 2 * pad + 2;
	mk.h = iround((lo->asc + lo->desc) * lo->size * ppmm) + 2 * pad + 2;
	if ((mk.cov = calloc((size_t)mk.w, (size_t)mk.h)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < lo->n; i++) {
		const struct glyph *g = &lo->g[i];
		double fx = ifloor(pen);
		FT_Vector d;
		FT_Error fe;

		/* the outline at its exact (sub-pixel) position */
		d.x = (FT_Pos)iround((pen - fx) * 64);
		d.y = -(FT_Pos)iround((by - fy) * 64);
		if ((fe = FT_Set_Char_Size(g->face, 0, pt64, (FT_UInt)dpi,
		    (FT_UInt)dpi)) == 0) {
			FT_Set_Transform(g->face, NULL, &d);
			fe = FT_Load_Glyph(g->face, g->index, FT_LOAD_RENDER |
			    FT_LOAD_NO_HINTING);
			FT_Set_Transform(g->face, NULL, NULL);
		}
		if (fe != 0 ||
		    g->face->glyph->bitmap.pixel_mode != FT_PIXEL_MODE_GRAY) {
			elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
			    "FreeType cannot render glyph %u (error 0x%02x)",
			    g->index, (unsigned)fe);
			goto done;
		}
		mask_add(&mk, &g->face->glyph->bitmap,
		    (long)fx + g->face->glyph->bitmap_left,
		    (long)fy - g->face->glyph->bitmap_top);
		pen += g->adv * lo->size * ppmm;
	}
	if (mask_blend(cv, &mk, e->color, ink) == -1) {
		elfail(ctx, t, e->line, JCS_ERR_TEMPLATE, "the artwork needs "
		    "more than 256 colours: use fewer colours");
		goto done;
	}
	rc = 0;
done:
	free(mk.cov);
	return rc;
}

struct membuf {
	uint8_t *p;
	size_t len, cap;
	char err[200];
};

static void
png_err_cb(png_structp png, png_const_charp msg)
{
	struct membuf *mb = png_get_error_ptr(png);

	snprintf(mb->err, sizeof(mb->err), "%s", msg);
	png_longjmp(png, 1);
}

static void
png_warn_cb(png_structp png, png_const_charp msg)
{
	/* the library never prints */
	(void)png;
	(void)msg;
}

static void
png_write_cb(png_structp png, png_bytep data, size_t n)
{
	struct membuf *mb = png_get_io_ptr(png);

	if (n > mb->cap - mb->len) {
		size_t ncap = mb->cap == 0 ? 65536 : mb->cap;
		uint8_t *np;

		while (ncap - mb->len < n)
			ncap *= 2;
		if ((np = realloc(mb->p, ncap)) == NULL)
			png_error(png, "out of memory");
		mb->p = np;
		mb->cap = ncap;
	}
	memcpy(mb->p + mb->len, data, n);
	mb->len += n;
}

static void
png_flush_cb(png_structp png)
{
	(void)png;
}

/* How the canvas is stored: colour type, bit depth, and the sample of each
 * palette index (a grey level for greyscale). */
struct pngfmt {
	int color_type, depth;
	uint8_t sample[256];
};

static void
choose_format(const struct canvas *cv, struct pngfmt *f)
{
	int grey = 1;

	for (int i = 0; i < cv->npal; i++)
		if (cv->pal[i].r != cv->pal[i].g || cv->pal[i].r != cv->pal[i].b)
			grey = 0;
	if (grey) {
		static const int depths[] = { 1, 2, 4, 8 };

		f->color_type = PNG_COLOR_TYPE_GRAY;
		for (size_t d = 0; d < 4; d++) {
			int step = 255 / ((1 << depths[d]) - 1), ok = 1;

			for (int i = 0; i < cv->npal; i++)
				ok &= cv->pal[i].r % step == 0;
			if (!ok)
				continue;
			f->depth = depths[d];
			for (int i = 0; i < cv->npal; i++)
				f->sample[i] = (uint8_t)(cv->pal[i].r / step);
			return;
		}
	}
	f->color_type = PNG_COLOR_TYPE_PALETTE;
	f->depth = cv->npal <= 2 ? 1 : cv->npal <= 4 ? 2 : cv->npal <= 16 ?
	    4 : 8;
	for (int i = 0; i < cv->npal; i++)
		f->sample[i] = (uint8_t)i;
}

/* The one function with setjmp: its locals that change are volatile, and
 * the writer is destroyed on every path. row holds cv->w bytes. */
static int
png_encode(const struct canvas *cv, const struct pngfmt *f, int dpi,
    struct membuf *mb, uint8_t *row)
{
	png_structp volatile png = NULL;
	png_infop volatile info = NULL;
	volatile int rc = -1;
	png_structp p;
	png_infop i;
	png_uint_32 ppm = (png_uint_32)iround(dpi / 0.0254);

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, mb, png_err_cb,
	    png_warn_cb);
	if (png == NULL) {
		snprintf(mb->err, sizeof(mb->err), "cannot start libpng");
		return -1;
	}
	if ((info = png_create_info_struct(png)) == NULL) {
		snprintf(mb->err, sizeof(mb->err), "out of memory");
		goto done;
	}
	if (setjmp(png_jmpbuf(png)) != 0)
		goto done;
	png_set_write_fn(png, mb, png_write_cb, png_flush_cb);
	png_set_IHDR(png, info, (png_uint_32)cv->w, (png_uint_32)cv->h,
	    f->depth, f->color_type, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (f->color_type == PNG_COLOR_TYPE_PALETTE) {
		png_color pal[256];

		for (int k = 0; k < cv->npal; k++) {
			pal[k].red = cv->pal[k].r;
			pal[k].green = cv->pal[k].g;
			pal[k].blue = cv->pal[k].b;
		}
		png_set_PLTE(png, info, pal, cv->npal);
	}
	png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	/* Level 6: level 9 makes these files only ~7% smaller and the
	 * render six times slower (measured with make bench). */
	png_set_compression_level(png, 6);
	/* flat artwork: no filter for palette and packed greys; adaptive
	 * filtering helps 8-bit anti-aliased grey */
	png_set_filter(png, PNG_FILTER_TYPE_BASE, f->depth < 8 ||
	    f->color_type == PNG_COLOR_TYPE_PALETTE ? PNG_FILTER_NONE :
	    PNG_ALL_FILTERS);
	png_write_info(png, info);
	png_set_packing(png);
	for (int y = 0; y < cv->h; y++) {
		const uint8_t *src = cv->px + (size_t)y * (size_t)cv->w;

		for (int x = 0; x < cv->w; x++)
			row[x] = f->sample[src[x]];
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	rc = 0;
done:
	p = png;
	i = info;
	png_destroy_write_struct(&p, i != NULL ? &i : NULL);
	return rc;
}

int
jcs_render_png(jcs_ctx *ctx, const jcs_template *t, const jcs_label *label,
    const char *payload, int dpi, uint8_t **out, size_t *outlen)
{
	struct job j;
	struct canvas cv;
	struct pngfmt fmt;
	struct membuf mb;
	uint8_t *row = NULL;
	const jcs_tmpl_el *q;
	long w, h, m, span, bx, by, bw, bh, ox, oy;
	int fg, bg, rc = -1;

	memset(&cv, 0, sizeof(cv));
	memset(&mb, 0, sizeof(mb));
	if (out == NULL || outlen == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no output buffer");
	*out = NULL;
	*outlen = 0;
	if (dpi < JCS_RENDER_MIN_DPI || dpi > JCS_RENDER_MAX_DPI)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "a resolution of %d "
		    "dpi is out of range (%d to %d)", dpi, JCS_RENDER_MIN_DPI,
		    JCS_RENDER_MAX_DPI);
	if (job_prepare(ctx, &j, t, label, payload) == -1)
		goto err;
	q = t->qr;
	w = px_of(t->width, dpi);
	h = px_of(t->height, dpi);
	if (w * h > JCS_RENDER_MAX_PIXELS) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE, "a %.1f x %.1f mm label at %d "
		    "dpi is %ld x %ld pixels, over the limit of %ld "
		    "megapixels", t->width, t->height, dpi, w, h,
		    JCS_RENDER_MAX_PIXELS / 1000000);
		goto err;
	}
	/* whole-pixel modules; the code centred in its box */
	m = px_of(q->module, dpi);
	m = m < 1 ? 1 : m;
	span = qr_span(&j) * m;
	bx = px_of(q->x, dpi);
	by = px_of(q->y, dpi);
	bw = px_of(q->x + q->size, dpi) - bx;
	bh = px_of(q->y + q->size, dpi) - by;
	if (span > bw || span > bh) {
		char need[120];

		snprintf(need, sizeof(need), "%d x %ld px = %ld px (%.2f mm) at "
		    "%d dpi", qr_span(&j), m, span,
		    (double)span * JCS_MM_PER_INCH / dpi, dpi);
		qr_too_big(ctx, &j, need);
		goto err;
	}
	cv.w = (int)w;
	cv.h = (int)h;
	if ((cv.px = malloc((size_t)w * (size_t)h)) == NULL ||
	    (row = malloc((size_t)w)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	bg = pal_index(&cv, t->bg);
	fg = pal_index(&cv, t->fg);
	fill(&cv, 0, 0, w, h, bg);
	for (size_t i = 0; i < t->n; i++)
		if (t->el[i].kind == JCS_EL_RECT &&
		    draw_rect(ctx, &cv, t, &t->el[i], dpi) == -1)
			goto err;
	for (size_t i = 0; i < t->n; i++)
		if (t->el[i].kind == JCS_EL_TEXT && !j.lo[i].skip &&
		    draw_text(ctx, &cv, t, &t->el[i], &j.lo[i], dpi) == -1)
			goto err;
	/* the QR last: its box (and so its quiet zone) is background */
	fill(&cv, bx, by, bx + bw, by + bh, bg);
	ox = bx + place(q->align, bw - span) + q->quiet * m;
	oy = by + place(q->valign == JCS_VALIGN_TOP ? JCS_ALIGN_LEFT :
	    q->valign == JCS_VALIGN_BOTTOM ? JCS_ALIGN_RIGHT : JCS_ALIGN_CENTER,
	    bh - span) + q->quiet * m;
	for (int y = 0; y < jcs_qr_width(j.qr); y++)
		for (int x = 0; x < jcs_qr_width(j.qr); x++)
			if (jcs_qr_module(j.qr, x, y))
				fill(&cv, ox + x * m, oy + y * m,
				    ox + (x + 1) * m, oy + (y + 1) * m, fg);
	choose_format(&cv, &fmt);
	if (png_encode(&cv, &fmt, dpi, &mb, row) == -1) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "cannot encode the PNG: %s",
		    mb.err);
		goto err;
	}
	*out = mb.p;
	*outlen = mb.len;
	mb.p = NULL;
	rc = 0;
	jcs_ok(ctx);
err:
	free(mb.p);
	free(row);
	free(cv.px);
	job_free(&j);
	return rc;
}

/* ---- SVG ------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
sb_add(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(sb->p != NULL ? sb->p + sb->len : NULL,
		    sb->p != NULL ? sb->cap - sb->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->oom = 1;
			return;
		}
		if (sb->p != NULL && (size_t)n < sb->cap - sb->len) {
			sb->len += (size_t)n;
			return;
		}
		{
			size_t ncap = sb->cap == 0 ? 16384 : sb->cap * 2;
			char *np;

			while (ncap - sb->len <= (size_t)n)
				ncap *= 2;
			if (ncap > SVG_MAX || (np = realloc(sb->p, ncap)) ==
			    NULL) {
				sb->oom = 1;
				return;
			}
			sb->p = np;
			sb->cap = ncap;
		}
	}
}

/* A length in mm as text, to the micrometre, whatever the locale. */
static const char *
mm(double v, char *buf)
{
	long u = iround(v * 1000);
	const char *sign = u < 0 ? "-" : "";
	int n;

	u = u < 0 ? -u : u;
	n = snprintf(buf, 32, "%s%ld.%03ld", sign, u / 1000, u % 1000);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

static void
sb_escape(struct sbuf *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			sb_add(sb, "&amp;");
			break;
		case '<':
			sb_add(sb, "&lt;");
			break;
		case '>':
			sb_add(sb, "&gt;");
			break;
		case '"':
			sb_add(sb, "&quot;");
			break;
		case '\'':
			sb_add(sb, "&apos;");
			break;
		default:
			sb_add(sb, "%c", *s);
		}
	}
}

static const char *
hex(jcs_rgb c, char *buf)
{
	snprintf(buf, 8, "#%02x%02x%02x", c.r, c.g, c.b);
	return buf;
}

static void
svg_text(struct sbuf *sb, const jcs_tmpl_el *e, const struct layout *lo)
{
	char a[32], b[32], c[32], d[32], col[8];
	const jcs_font_info *fi = e->font.index >= 0 ?
	    jcs_font_table((size_t)e->font.index) : NULL;
	const char *family;

	sb_add(sb, "<text x=\"%s\" y=\"%s\" font-size=\"%s\" fill=\"%s\" "
	    "textLength=\"%s\" lengthAdjust=\"spacingAndGlyphs\" "
	    "xml:space=\"preserve\" font-family=\"",
	    mm(lo->x0, a), mm(lo->base, b), mm(lo->size, c),
	    hex(e->color, col), mm(lo->width, d));
	/* the element's family, then the fallbacks the PNG uses */
	family = fi != NULL ? fi->family : lo->face->family_name != NULL ?
	    lo->face->family_name : "sans-serif";
	sb_add(sb, "'");
	sb_escape(sb, family);
	sb_add(sb, "', ");
	if (strcmp(family, "DejaVu Sans") != 0)
		sb_add(sb, "'DejaVu Sans', ");
	if (strcmp(family, "IPAGothic") != 0)
		sb_add(sb, "'IPAGothic', ");
	sb_add(sb, "sans-serif\"%s>",
	    fi != NULL && fi->bold ? " font-weight=\"bold\"" : "");
	sb_escape(sb, lo->text);
	sb_add(sb, "</text>\n");
}

int
jcs_render_svg(jcs_ctx *ctx, const jcs_template *t, const jcs_label *label,
    const char *payload, uint8_t **out, size_t *outlen)
{
	struct job j;
	struct sbuf sb;
	const jcs_tmpl_el *q;
	double span_mm, ox, oy;
	char a[32], b[32], c[32], d[32], e2[32], col[8];
	int n, rc = -1;

	memset(&sb, 0, sizeof(sb));
	if (out == NULL || outlen == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no output buffer");
	*out = NULL;
	*outlen = 0;
	if (job_prepare(ctx, &j, t, label, payload) == -1)
		goto err;
	q = t->qr;
	n = jcs_qr_width(j.qr);
	span_mm = qr_span(&j) * q->module;
	if (span_mm > q->size + 1e-9) {
		char need[80];

		snprintf(need, sizeof(need), "%d x %.3f mm = %.2f mm",
		    qr_span(&j), q->module, span_mm);
		qr_too_big(ctx, &j, need);
		goto err;
	}
	sb_add(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "stroke=\"none\" "
	    "width=\"%smm\" height=\"%smm\" viewBox=\"0 0 %s %s\">\n",
	    mm(t->width, a), mm(t->height, b), mm(t->width, c),
	    mm(t->height, d));
	sb_add(&sb, "<rect width=\"%s\" height=\"%s\" fill=\"%s\"/>\n",
	    mm(t->width, a), mm(t->height, b), hex(t->bg, col));
	for (size_t i = 0; i < t->n; i++) {
		const jcs_tmpl_el *e = &t->el[i];

		if (e->kind != JCS_EL_RECT)
			continue;
		if (e->line_w <= 0)
			sb_add(&sb, "<rect x=\"%s\" y=\"%s\" width=\"%s\" "
			    "height=\"%s\" fill=\"%s\"/>\n", mm(e->x, a),
			    mm(e->y, b), mm(e->w, c), mm(e->h, d),
			    hex(e->color, col));
		else
			/* the stroke inside the box, as in the PNG */
			sb_add(&sb, "<rect x=\"%s\" y=\"%s\" width=\"%s\" "
			    "height=\"%s\" fill=\"none\" stroke=\"%s\" "
			    "stroke-width=\"%s\"/>\n",
			    mm(e->x + e->line_w / 2, a),
			    mm(e->y + e->line_w / 2, b),
			    mm(e->w - e->line_w, c), mm(e->h - e->line_w, d),
			    hex(e->color, col), mm(e->line_w, e2));
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->el[i].kind == JCS_EL_TEXT && !j.lo[i].skip)
			svg_text(&sb, &t->el[i], &j.lo[i]);
	sb_add(&sb, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" "
	    "fill=\"%s\"/>\n", mm(q->x, a), mm(q->y, b), mm(q->size, c),
	    mm(q->size, d), hex(t->bg, col));
	ox = q->x + q->quiet * q->module + (q->align == JCS_ALIGN_LEFT ? 0 :
	    q->align == JCS_ALIGN_RIGHT ? q->size - span_mm :
	    (q->size - span_mm) / 2);
	oy = q->y + q->quiet * q->module + (q->valign == JCS_VALIGN_TOP ? 0 :
	    q->valign == JCS_VALIGN_BOTTOM ? q->size - span_mm :
	    (q->size - span_mm) / 2);
	/* the code as one path in module units: a rectangle per run of
	 * dark modules in a row */
	sb_add(&sb, "<path fill=\"%s\" shape-rendering=\"crispEdges\" "
	    "transform=\"translate(%s %s) scale(%s)\" d=\"", hex(t->fg, col),
	    mm(ox, a), mm(oy, b), mm(q->module, c));
	for (int y = 0; y < n; y++)
		for (int x = 0; x < n;) {
			int run = 0;

			while (x + run < n && jcs_qr_module(j.qr, x + run, y))
				run++;
			if (run == 0) {
				x++;
				continue;
			}
			sb_add(&sb, "M%d %dh%dv1h-%dz", x, y, run, run);
			x += run;
		}
	sb_add(&sb, "\"/>\n</svg>\n");
	if (sb.oom) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory writing the SVG");
		goto err;
	}
	*out = (uint8_t *)sb.p;
	*outlen = sb.len;
	sb.p = NULL;
	rc = 0;
	jcs_ok(ctx);
err:
	free(sb.p);
	job_free(&j);
	return rc;
}

/* ---- files ----------------------------------------------------------- */

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

int
jcs_render_file(jcs_ctx *ctx, const jcs_template *t, const jcs_label *label,
    const char *payload, int dpi, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (path == NULL || path[0] == '\0')
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no output file");
	if (ends_with(path, ".png"))
		r = jcs_render_png(ctx, t, label, payload, dpi, &buf, &len);
	else if (ends_with(path, ".svg"))
		r = jcs_render_svg(ctx, t, label, payload, &buf, &len);
	else
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "cannot tell the "
		    "format of %s: name it NAME.png or NAME.svg", path);
	if (r == -1)
		return -1;
	r = jcs_write_file_atomic(ctx, path, buf, len, 0644);
	free(buf);
	if (r == 0)
		jcs_ok(ctx);
	return r;
}
