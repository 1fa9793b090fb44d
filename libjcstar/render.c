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
 *
 * Speed (make bench): a template keeps, from one render to the next, its
 * FreeType faces, the glyphs FreeType rasterised (keyed by face, glyph,
 * size, dpi and sub-pixel offset: a kept glyph is the very bitmap FreeType
 * would make again), each text element's last drawing (keyed by its
 * expanded text and the dpi) and the pixels it blended it onto and made of
 * them (drawn again by copying when the canvas under it and the palette are
 * as they were), its canvas, and the last PNG's canvas and rows. The output
 * is the same, byte for byte, as with a template loaded for one render. The
 * PNG is written by pngwrite.c, which knows that such artwork's rows repeat
 * and, given the last label's canvas, deflates again only where this one
 * differs: consecutive labels of a batch differ in their QR code and a line
 * or two. What is left of a label's time is mostly libqrencode's (its
 * choice of mask, which the standard requires and its public API does not
 * let a caller skip).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>
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

/* ---- what a template keeps between renders --------------------------- */

#define GC_SLOTS 4096              /* glyph cache slots, a power of two */
#define GC_MAX_GLYPHS (GC_SLOTS / 2)
#define GC_MAX_BYTES (4L << 20)    /* of bitmaps, before it starts over */
#define GC_MAX_GLYPH (64L * 1024)  /* a bigger bitmap is not kept */
#define KEEP_MAX (16L << 20)       /* a bigger buffer or text is not kept */

/* A glyph's coverage bitmap, placed from the pen position (top is up). */
struct gbitmap {
	long left, top;
	unsigned w, h;
	int pitch;
	const uint8_t *px;
};

/* What makes FreeType's bitmap: the face, the glyph, the size, the
 * resolution and the outline's sub-pixel offset (1/64 pixel). */
struct gkey {
	FT_Face face;
	FT_UInt index;
	FT_F26Dot6 pt64;
	int dpi;
	FT_Pos dx, dy;
};

struct gslot {
	struct gkey k;       /* k.face NULL: a free slot */
	struct gbitmap bm;   /* bm.px is px, pitch == w */
	uint8_t *px;
};

/* Open addressing, linear probing; when full it empties and starts over
 * (a batch renders the same few glyphs again and again). */
struct gcache {
	struct gslot *slot;  /* GC_SLOTS, allocated on first use */
	size_t n;
	long bytes;
};

/* A text element as last drawn: the canvas pixels it covers and how much
 * (1 to AA_LEVELS), in canvas order. The layout is a function of the
 * expanded text (and the template), so the text and the resolution are the
 * key: a batch, whose labels differ in a line or two, redraws only those. */
struct textcache {
	char *text;          /* NULL: nothing kept */
	int dpi;
	size_t n;
	uint32_t *off;       /* n offsets into the canvas */
	uint8_t *lv;         /* n levels */
	struct blend *last;  /* its last blend, or NULL */
};

/* A text's last blend onto the canvas: per canvas row that it touches,
 * the pixels from its first to its last (ns spans, np pixels) as they were
 * under it and after, and the palette before and after. Blending is a
 * function of those pixels and that palette, so when they are as they were
 * the blend is these copies (the label's other lines, over the same
 * background, are each a copy). */
struct blend {
	int ok;
	size_t ns, np;
	uint32_t *soff, *slen;
	uint8_t *under, *after;
	int npal0, npal1;
	jcs_rgb pal0[256], pal1[256];
};

struct jcs_render_cache {
	pthread_mutex_t lock;
	int has_lock;        /* 0 for a render's private cache */
	struct fontset fs;   /* FreeType and the faces, opened on first use */
	struct gcache gc;
	struct textcache tc[JCS_TMPL_MAX_ELEMENTS];
	uint8_t *px, *cov;   /* the canvas, a text's coverage mask */
	size_t px_cap, cov_cap;
	/* the last PNG written (its rows in png, its canvas in was, of w x h
	 * pixels; w 0: none), for the next */
	jcs_png_keep *png;
	uint8_t *was;
	size_t was_cap;
	int was_w, was_h;
};

static void
gcache_clear(struct gcache *gc)
{
	if (gc->slot != NULL)
		for (size_t i = 0; i < GC_SLOTS; i++) {
			free(gc->slot[i].px);
			memset(&gc->slot[i], 0, sizeof(gc->slot[i]));
		}
	gc->n = 0;
	gc->bytes = 0;
}

static size_t
gkey_hash(const struct gkey *k)
{
	uint64_t h = (uint64_t)(uintptr_t)k->face;

	h = h * 1000003u ^ k->index;
	h = h * 1000003u ^ (uint64_t)k->pt64;
	h = h * 1000003u ^ (uint64_t)k->dpi;
	h = h * 1000003u ^ (uint64_t)(k->dx + 64);
	h = h * 1000003u ^ (uint64_t)(k->dy + 64);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 29;
	return (size_t)(h & (GC_SLOTS - 1));
}

static int
gkey_eq(const struct gkey *a, const struct gkey *b)
{
	return a->face == b->face && a->index == b->index &&
	    a->pt64 == b->pt64 && a->dpi == b->dpi && a->dx == b->dx &&
	    a->dy == b->dy;
}

/* Returns the slot of k, or the free slot where it goes; NULL without a
 * table. */
static struct gslot *
gcache_find(struct gcache *gc, const struct gkey *k)
{
	size_t i;

	if (gc->slot == NULL)
		return NULL;
	for (i = gkey_hash(k); gc->slot[i].k.face != NULL &&
	    !gkey_eq(&gc->slot[i].k, k); i = (i + 1) & (GC_SLOTS - 1))
		;
	return &gc->slot[i];
}

/* Keeps a copy of bitmap bm under k. Returns the kept copy, or NULL when
 * it is not kept (too big, out of memory: the caller uses bm itself). */
static const struct gbitmap *
gcache_put(struct gcache *gc, const struct gkey *k, const struct gbitmap *bm)
{
	long size = (long)bm->w * (long)bm->h;
	struct gslot *s;
	uint8_t *px;

	if (size > GC_MAX_GLYPH)
		return NULL;
	if (gc->slot == NULL &&
	    (gc->slot = calloc(GC_SLOTS, sizeof(*gc->slot))) == NULL)
		return NULL;
	if (gc->n == GC_MAX_GLYPHS || gc->bytes + size > GC_MAX_BYTES)
		gcache_clear(gc);
	if ((px = malloc(size > 0 ? (size_t)size : 1)) == NULL)
		return NULL;
	for (unsigned r = 0; r < bm->h; r++)
		memcpy(px + (size_t)r * bm->w, bm->px + (long)r * bm->pitch,
		    bm->w);
	s = gcache_find(gc, k);
	s->k = *k;
	s->bm = *bm;
	s->bm.pitch = (int)bm->w;
	s->bm.px = s->px = px;
	gc->n++;
	gc->bytes += size;
	return &s->bm;
}

jcs_render_cache *
jcs_render_cache_new(void)
{
	jcs_render_cache *rc = calloc(1, sizeof(*rc));

	if (rc == NULL)
		return NULL;
	if (pthread_mutex_init(&rc->lock, NULL) != 0) {
		free(rc);
		return NULL;
	}
	rc->has_lock = 1;
	return rc;
}

static void
textcache_free(struct textcache *tc)
{
	free(tc->text);
	free(tc->off);
	free(tc->lv);
	if (tc->last != NULL) {
		free(tc->last->soff);
		free(tc->last->slen);
		free(tc->last->under);
		free(tc->last->after);
		free(tc->last);
	}
	memset(tc, 0, sizeof(*tc));
}

/* Frees what the cache holds, not the cache itself. */
static void
cache_empty(jcs_render_cache *rc)
{
	gcache_clear(&rc->gc);
	free(rc->gc.slot);
	rc->gc.slot = NULL;
	for (size_t i = 0; i < JCS_TMPL_MAX_ELEMENTS; i++)
		textcache_free(&rc->tc[i]);
	fontset_free(&rc->fs);
	jcs_png_keep_free(rc->png);
	rc->png = NULL;
	free(rc->was);
	rc->was = NULL;
	rc->was_cap = 0;
	rc->was_w = rc->was_h = 0;
	free(rc->px);
	free(rc->cov);
	rc->px = rc->cov = NULL;
	rc->px_cap = rc->cov_cap = 0;
}

/* Drops what is too big to keep: the canvas of a poster at 2400 dpi is
 * 100 MB. */
static void
cache_trim(jcs_render_cache *rc)
{
	if (rc->px_cap > (size_t)KEEP_MAX) {
		free(rc->px);
		rc->px = NULL;
		rc->px_cap = 0;
	}
	if (rc->cov_cap > (size_t)KEEP_MAX) {
		free(rc->cov);
		rc->cov = NULL;
		rc->cov_cap = 0;
	}
	for (size_t i = 0; i < JCS_TMPL_MAX_ELEMENTS; i++)
		if (rc->tc[i].n > (size_t)KEEP_MAX / 5 || (rc->tc[i].last !=
		    NULL && rc->tc[i].last->np > (size_t)KEEP_MAX / 2))
			textcache_free(&rc->tc[i]);
	if (jcs_png_keep_size(rc->png) > (size_t)KEEP_MAX ||
	    rc->was_cap > (size_t)KEEP_MAX) {
		jcs_png_keep_free(rc->png);
		rc->png = NULL;
		free(rc->was);
		rc->was = NULL;
		rc->was_cap = 0;
		rc->was_w = rc->was_h = 0;
	}
}

void
jcs_render_cache_free(jcs_render_cache *rc)
{
	if (rc == NULL)
		return;
	cache_empty(rc);
	if (rc->has_lock)
		pthread_mutex_destroy(&rc->lock);
	free(rc);
}

/* The template's cache if no other thread is rendering with it, else own
 * (emptied): a template may be shared between threads, and each render
 * gives the same bytes with either. */
static jcs_render_cache *
cache_take(const jcs_template *t, jcs_render_cache *own)
{
	memset(own, 0, sizeof(*own));
	if (t->cache != NULL && pthread_mutex_trylock(&t->cache->lock) == 0)
		return t->cache;
	return own;
}

static void
cache_give(jcs_render_cache *rc)
{
	if (rc == NULL)
		return;
	if (rc->has_lock) {
		cache_trim(rc);
		pthread_mutex_unlock(&rc->lock);
	} else {
		cache_empty(rc);
	}
}

/* Returns a buffer of at least need bytes, kept in *p, or NULL. */
static uint8_t *
buf_grow(uint8_t **p, size_t *cap, size_t need)
{
	uint8_t *np;

	if (need <= *cap)
		return *p;
	if ((np = realloc(*p, need)) == NULL)
		return NULL;
	*p = np;
	*cap = need;
	return np;
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
	/* freed by job_free(), for every element; the analyser stops
	 * following that loop after a few elements and reports a leak */
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
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
	jcs_render_cache *rc;  /* the template's, or own */
	jcs_render_cache own;
	struct layout lo[JCS_TMPL_MAX_ELEMENTS];
};

static void
job_free(struct job *j)
{
	for (size_t i = 0; i < JCS_TMPL_MAX_ELEMENTS; i++)
		layout_free(&j->lo[i]);
	jcs_qr_free(j->qr);
	cache_give(j->rc);
	j->rc = NULL;
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
	j->rc = &j->own;       /* empty; the template's is taken below */
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
	j->rc = cache_take(t, &j->own);
	for (size_t i = 0; i < t->n; i++)
		if (t->el[i].kind == JCS_EL_TEXT &&
		    layout_text(ctx, &j->rc->fs, t, &t->el[i], label,
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
	long bx0, by0, bx1, by1; /* the part glyphs touched, in the mask */
};

static void
mask_add(struct mask *mk, const struct gbitmap *bm, long left, long top)
{
	long x0 = left - mk->x0, y0 = top - mk->y0;
	long x1 = x0 + (long)bm->w, y1 = y0 + (long)bm->h;

	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > mk->w ? mk->w : x1;
	y1 = y1 > mk->h ? mk->h : y1;
	if (x0 < x1 && y0 < y1) {
		mk->bx0 = x0 < mk->bx0 ? x0 : mk->bx0;
		mk->by0 = y0 < mk->by0 ? y0 : mk->by0;
		mk->bx1 = x1 > mk->bx1 ? x1 : mk->bx1;
		mk->by1 = y1 > mk->by1 ? y1 : mk->by1;
	}
	for (unsigned r = 0; r < bm->h; r++) {
		long y = top + (long)r - mk->y0;
		const uint8_t *src = bm->px + (long)r * bm->pitch;

		if (y < 0 || y >= mk->h)
			continue;
		for (unsigned c = 0; c < bm->w; c++) {
			long x = left + (long)c - mk->x0;
			uint8_t *p;

			if (x < 0 || x >= mk->w || src[c] == 0)
				continue;
			p = mk->cov + (size_t)y * (size_t)mk->w + (size_t)x;
			*p = (uint8_t)(*p + src[c] > 255 ? 255 : *p + src[c]);
		}
	}
}

/* Blends a text's levels in ink onto the canvas. Returns 0, or -1 past
 * 256 colours. */
static int
blend_levels(struct canvas *cv, const struct textcache *tc, jcs_rgb ink,
    int ink_idx)
{
	/* the blend of palette entry u with q levels of ink: index + 1, or
	 * 0 until first needed (so the palette fills in the same order) */
	uint16_t memo[256][AA_LEVELS];

	memset(memo, 0, sizeof(memo));
	for (size_t k = 0; k < tc->n; k++) {
		uint8_t *p = cv->px + tc->off[k];
		unsigned q = tc->lv[k];
		jcs_rgb u, b;
		int idx;

		if (q == AA_LEVELS) {
			*p = (uint8_t)ink_idx;
			continue;
		}
		if (memo[*p][q] != 0) {
			*p = (uint8_t)(memo[*p][q] - 1);
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
		memo[*p][q] = (uint16_t)(idx + 1);
		*p = (uint8_t)idx;
	}
	return 0;
}

/* Does tc's last blend again if the canvas under it and the palette are
 * as they were then. Returns 1 if it did, else 0. */
static int
blend_again(struct canvas *cv, const struct textcache *tc)
{
	const struct blend *b = tc->last;
	size_t k = 0;

	if (b == NULL || !b->ok || cv->npal != b->npal0 ||
	    memcmp(cv->pal, b->pal0, (size_t)b->npal0 * sizeof(jcs_rgb)) != 0)
		return 0;
	for (size_t i = 0; i < b->ns; k += b->slen[i], i++)
		if (memcmp(cv->px + b->soff[i], b->under + k, b->slen[i]) != 0)
			return 0;
	for (size_t i = 0, at = 0; i < b->ns; at += b->slen[i], i++)
		memcpy(cv->px + b->soff[i], b->after + at, b->slen[i]);
	memcpy(cv->pal, b->pal1, (size_t)b->npal1 * sizeof(jcs_rgb));
	cv->npal = b->npal1;
	return 1;
}

/* Keeps what is under tc's pixels (after 0) before its blend, or (after 1)
 * what the blend made of them. Out of memory, nothing is kept. */
static void
blend_keep(struct canvas *cv, struct textcache *tc, int after)
{
	struct blend *b = tc->last;

	if (!after) {
		size_t ns = 0;

		if (b == NULL && (b = tc->last = calloc(1, sizeof(*b))) == NULL)
			return;
		b->ok = 0;
		/* the spans: per canvas row, first to last pixel */
		free(b->soff);
		free(b->slen);
		free(b->under);
		free(b->after);
		b->soff = b->slen = NULL;
		b->under = b->after = NULL;
		for (size_t k = 0; k < tc->n; k++)
			if (k == 0 || tc->off[k] / (uint32_t)cv->w !=
			    tc->off[k - 1] / (uint32_t)cv->w)
				ns++;
		if ((b->soff = malloc((ns + 1) * sizeof(*b->soff))) == NULL ||
		    (b->slen = malloc((ns + 1) * sizeof(*b->slen))) == NULL)
			return;
		b->ns = b->np = 0;
		for (size_t k = 0; k < tc->n; k++) {
			if (k == 0 || tc->off[k] / (uint32_t)cv->w !=
			    tc->off[k - 1] / (uint32_t)cv->w)
				b->soff[b->ns++] = tc->off[k];
			b->slen[b->ns - 1] = tc->off[k] - b->soff[b->ns - 1] + 1;
		}
		for (size_t i = 0; i < b->ns; i++)
			b->np += b->slen[i];
		if ((b->under = malloc(b->np + 1)) == NULL ||
		    (b->after = malloc(b->np + 1)) == NULL)
			return;
		for (size_t i = 0, at = 0; i < b->ns; at += b->slen[i], i++)
			memcpy(b->under + at, cv->px + b->soff[i], b->slen[i]);
		b->npal0 = cv->npal;
		memcpy(b->pal0, cv->pal, (size_t)cv->npal * sizeof(jcs_rgb));
		return;
	}
	if (b == NULL || b->after == NULL)
		return;
	for (size_t i = 0, at = 0; i < b->ns; at += b->slen[i], i++)
		memcpy(b->after + at, cv->px + b->soff[i], b->slen[i]);
	b->npal1 = cv->npal;
	memcpy(b->pal1, cv->pal, (size_t)cv->npal * sizeof(jcs_rgb));
	b->ok = 1;
}

/* Sets *out to glyph g rasterised at pt64 and dpi with the sub-pixel
 * offset d: from the cache, else by FreeType (then kept). *out is valid
 * until the next call. */
static int
glyph_bitmap(jcs_ctx *ctx, jcs_render_cache *rc, const jcs_template *t,
    const jcs_tmpl_el *e, const struct glyph *g, FT_F26Dot6 pt64, int dpi,
    FT_Vector d, struct gbitmap *out)
{
	struct gkey k;
	struct gslot *s;
	const struct gbitmap *kept;
	FT_GlyphSlot gs = g->face->glyph;
	FT_Error fe;

	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	k.face = g->face;
	k.index = g->index;
	k.pt64 = pt64;
	k.dpi = dpi;
	k.dx = d.x;
	k.dy = d.y;
	if ((s = gcache_find(&rc->gc, &k)) != NULL && s->k.face != NULL) {
		*out = s->bm;
		return 0;
	}
	if ((fe = FT_Set_Char_Size(g->face, 0, pt64, (FT_UInt)dpi,
	    (FT_UInt)dpi)) == 0) {
		FT_Set_Transform(g->face, NULL, &d);
		fe = FT_Load_Glyph(g->face, g->index, FT_LOAD_RENDER |
		    FT_LOAD_NO_HINTING);
		FT_Set_Transform(g->face, NULL, NULL);
	}
	if (fe != 0 || gs->bitmap.pixel_mode != FT_PIXEL_MODE_GRAY)
		return elfail(ctx, t, e->text_line, JCS_ERR_TEMPLATE,
		    "FreeType cannot render glyph %u (error 0x%02x)", g->index,
		    (unsigned)fe);
	out->left = gs->bitmap_left;
	out->top = gs->bitmap_top;
	out->w = gs->bitmap.width;
	out->h = gs->bitmap.rows;
	out->pitch = gs->bitmap.pitch;
	out->px = gs->bitmap.buffer;
	if ((kept = gcache_put(&rc->gc, &k, out)) != NULL)
		*out = *kept;
	return 0;
}

/* Rasterises a text into tc: its glyphs' coverage added up in a mask,
 * then quantised to levels, kept where they are not 0 and on the canvas. */
static int
rasterise_text(jcs_ctx *ctx, jcs_render_cache *rc, struct textcache *tc,
    const struct canvas *cv, const jcs_template *t, const jcs_tmpl_el *e,
    const struct layout *lo, int dpi)
{
	double ppmm = dpi / JCS_MM_PER_INCH;
	double pen = lo->x0 * ppmm, by = lo->base * ppmm;
	double fy = ifloor(by);
	FT_F26Dot6 pt64 = (FT_F26Dot6)iround(lo->size / JCS_MM_PER_PT * 64);
	long pad = iround(lo->size * ppmm) + 2;
	struct mask mk;
	size_t n;
	uint8_t level[256];

	for (unsigned c = 0; c < 256; c++)
		level[c] = (uint8_t)((c * AA_LEVELS + 127) / 255);
	free(tc->text);
	tc->text = NULL;
	tc->n = 0;
	if (tc->last != NULL)
		tc->last->ok = 0;
	/* the line's box, with an em around it for overhanging glyphs */
	mk.x0 = (long)ifloor(pen) - pad;
	mk.y0 = (long)ifloor(by - lo->asc * lo->size * ppmm) - pad;
	mk.w = iround(lo->width * ppmm) + 2 * pad + 2;
	mk.h = iround((lo->asc + lo->desc) * lo->size * ppmm) + 2 * pad + 2;
	if ((mk.cov = buf_grow(&rc->cov, &rc->cov_cap, (size_t)mk.w *
	    (size_t)mk.h)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	memset(mk.cov, 0, (size_t)mk.w * (size_t)mk.h);
	mk.bx0 = mk.w;
	mk.by0 = mk.h;
	mk.bx1 = mk.by1 = 0;
	for (size_t i = 0; i < lo->n; i++) {
		double fx = ifloor(pen);
		FT_Vector d;
		struct gbitmap bm;

		/* the outline at its exact (sub-pixel) position */
		d.x = (FT_Pos)iround((pen - fx) * 64);
		d.y = -(FT_Pos)iround((by - fy) * 64);
		if (glyph_bitmap(ctx, rc, t, e, &lo->g[i], pt64, dpi, d,
		    &bm) == -1)
			return -1;
		mask_add(&mk, &bm, (long)fx + bm.left, (long)fy - bm.top);
		pen += lo->g[i].adv * lo->size * ppmm;
	}
	/* the levels above 0 on the canvas: counted, then kept */
	free(tc->off);
	free(tc->lv);
	tc->off = NULL;
	tc->lv = NULL;
	for (int pass = 0; pass < 2; pass++) {
		n = 0;
		for (long my = mk.by0; my < mk.by1; my++) {
			long y = mk.y0 + my;

			if (y < 0 || y >= cv->h)
				continue;
			for (long mx = mk.bx0; mx < mk.bx1; mx++) {
				long x = mk.x0 + mx;
				unsigned q = level[mk.cov[my * mk.w + mx]];

				if (q == 0 || x < 0 || x >= cv->w)
					continue;
				if (pass == 1) {
					tc->off[n] = (uint32_t)(y * cv->w + x);
					tc->lv[n] = (uint8_t)q;
				}
				n++;
			}
		}
		if (pass == 0 && ((tc->off = malloc((n > 0 ? n : 1) *
		    sizeof(*tc->off))) == NULL ||
		    (tc->lv = malloc(n > 0 ? n : 1)) == NULL))
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	}
	if ((tc->text = jcs_strdup(lo->text)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	tc->n = n;
	tc->dpi = dpi;
	return 0;
}

static int
draw_text(jcs_ctx *ctx, jcs_render_cache *rc, struct canvas *cv,
    const jcs_template *t, const jcs_tmpl_el *e, const struct layout *lo,
    int dpi)
{
	struct textcache *tc = &rc->tc[e - t->el];
	int ink = pal_index(cv, e->color);

	if (ink < 0)
		return elfail(ctx, t, e->line, JCS_ERR_TEMPLATE, "the artwork "
		    "needs more than 256 colours: use fewer colours");
	if ((tc->text == NULL || tc->dpi != dpi ||
	    strcmp(tc->text, lo->text) != 0) &&
	    rasterise_text(ctx, rc, tc, cv, t, e, lo, dpi) == -1)
		return -1;
	if (blend_again(cv, tc))
		return 0;
	blend_keep(cv, tc, 0);
	if (blend_levels(cv, tc, e->color, ink) == -1)
		return elfail(ctx, t, e->line, JCS_ERR_TEMPLATE, "the artwork "
		    "needs more than 256 colours: use fewer colours");
	blend_keep(cv, tc, 1);
	return 0;
}

/* Sets the stored format of the canvas: greyscale when every colour is a
 * grey, in the smallest depth that holds them exactly, else a palette. */
static void
choose_format(const struct canvas *cv, int dpi, jcs_png_image *img)
{
	int grey = 1;

	img->w = cv->w;
	img->h = cv->h;
	img->px = cv->px;
	img->ppm = (uint32_t)iround(dpi / 0.0254);
	img->npal = 0;
	for (int i = 0; i < cv->npal; i++)
		if (cv->pal[i].r != cv->pal[i].g || cv->pal[i].r != cv->pal[i].b)
			grey = 0;
	if (grey) {
		static const int depths[] = { 1, 2, 4, 8 };

		for (size_t d = 0; d < 4; d++) {
			int step = 255 / ((1 << depths[d]) - 1), ok = 1;

			for (int i = 0; i < cv->npal; i++)
				ok &= cv->pal[i].r % step == 0;
			if (!ok)
				continue;
			img->depth = depths[d];
			for (int i = 0; i < cv->npal; i++)
				img->sample[i] = (uint8_t)(cv->pal[i].r / step);
			return;
		}
	}
	img->depth = cv->npal <= 2 ? 1 : cv->npal <= 4 ? 2 : cv->npal <= 16 ?
	    4 : 8;
	img->npal = cv->npal;
	for (int i = 0; i < cv->npal; i++) {
		img->sample[i] = (uint8_t)i;
		img->pal[i][0] = cv->pal[i].r;
		img->pal[i][1] = cv->pal[i].g;
		img->pal[i][2] = cv->pal[i].b;
	}
}

int
jcs_render_png(jcs_ctx *ctx, const jcs_template *t, const jcs_label *label,
    const char *payload, int dpi, uint8_t **out, size_t *outlen)
{
	struct job j;
	struct canvas cv;
	jcs_png_image img;
	const jcs_tmpl_el *q;
	long w, h, m, span, bx, by, bw, bh, ox, oy;
	int fg, bg, rc = -1;

	memset(&cv, 0, sizeof(cv));
	memset(&img, 0, sizeof(img));
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
	if ((cv.px = buf_grow(&j.rc->px, &j.rc->px_cap, (size_t)w *
	    (size_t)h)) == NULL) {
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
		    draw_text(ctx, j.rc, &cv, t, &t->el[i], &j.lo[i],
		    dpi) == -1)
			goto err;
	/* the QR last: its box (and so its quiet zone) is background */
	fill(&cv, bx, by, bx + bw, by + bh, bg);
	ox = bx + place(q->align, bw - span) + q->quiet * m;
	oy = by + place(q->valign == JCS_VALIGN_TOP ? JCS_ALIGN_LEFT :
	    q->valign == JCS_VALIGN_BOTTOM ? JCS_ALIGN_RIGHT : JCS_ALIGN_CENTER,
	    bh - span) + q->quiet * m;
	/* a module row's first pixel row, then copies of it; the box lies on
	 * the label (checked at load), so the code lies on the canvas */
	if (ox < 0 || oy < 0 || ox + jcs_qr_width(j.qr) * m > w ||
	    oy + jcs_qr_width(j.qr) * m > h) {
		elfail(ctx, t, q->line, JCS_ERR_TEMPLATE, "the QR code does not "
		    "lie on the label");
		goto err;
	}
	for (int y = 0, n = jcs_qr_width(j.qr); y < n; y++) {
		uint8_t *top = cv.px + (size_t)(oy + y * m) * (size_t)w;
		const uint8_t *row = jcs_qr_modules(j.qr) + (size_t)y * (size_t)n;

		/* each run of dark modules at once */
		for (int x = 0, r; x < n; x += r + 1) {
			for (r = 0; x + r < n && row[x + r]; r++)
				;
			if (r > 0)
				memset(top + ox + x * m, fg, (size_t)(r * m));
		}
		for (long k = 1; k < m; k++)
			memcpy(top + k * w + ox, top + ox, (size_t)(n * m));
	}
	choose_format(&cv, dpi, &img);
	/* a template's own cache keeps the PNG (its rows and canvas) for the
	 * next label, whose rows are mostly the same; one made for this
	 * render would be emptied after it */
	if (j.rc->has_lock && j.rc->png == NULL)
		j.rc->png = jcs_png_keep_new(); /* NULL: the writer keeps none */
	if (j.rc->png != NULL && j.rc->was_w == cv.w && j.rc->was_h == cv.h)
		img.was = j.rc->was;
	/* until this canvas is kept as the last one */
	j.rc->was_w = j.rc->was_h = 0;
	if (jcs_png_write_flat(&img, j.rc->has_lock ? j.rc->png : NULL, out,
	    outlen) == -1) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory writing the PNG");
		goto err;
	}
	if (j.rc->png != NULL) {
		/* the canvas is the last one; the next draws on the other */
		uint8_t *kept = j.rc->was;
		size_t cap = j.rc->was_cap;

		j.rc->was = j.rc->px;
		j.rc->was_cap = j.rc->px_cap;
		j.rc->px = kept;
		j.rc->px_cap = cap;
		j.rc->was_w = cv.w;
		j.rc->was_h = cv.h;
	}
	rc = 0;
	jcs_ok(ctx);
err:
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

	if (lo->skip || lo->text == NULL || lo->face == NULL)
		return; /* nothing was laid out for this element */
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
