/*
 * template.h - the parsed label template, shared by template.c (parser) and
 * render.c (PNG and SVG). Never installed. docs/TEMPLATES.md is the
 * normative description of the text format.
 */
#ifndef JCSTAR_TEMPLATE_H
#define JCSTAR_TEMPLATE_H

#include "internal.h"

#define JCS_TMPL_MAX_FILE (64 * 1024)  /* bytes of a template file */
#define JCS_TMPL_MAX_ELEMENTS 64       /* [qr] + [text] + [rect] */
#define JCS_TMPL_MAX_MM 200.0          /* a label side */
#define JCS_TMPL_MAX_TEXT 256          /* bytes of one text value */
#define JCS_TMPL_MIN_QUIET 4           /* modules (ISO/IEC 18004) */
#define JCS_TMPL_MAX_QUIET 40
#define JCS_TMPL_MIN_MODULE 0.1        /* mm */
#define JCS_TMPL_MAX_MODULE 5.0
#define JCS_RENDER_MIN_DPI 72
#define JCS_RENDER_MAX_DPI 2400
#define JCS_RENDER_MAX_PIXELS (100L * 1000 * 1000)
#define JCS_MM_PER_INCH 25.4
#define JCS_MM_PER_PT (25.4 / 72.0)

typedef struct jcs_rgb {
	uint8_t r, g, b;
} jcs_rgb;

enum jcs_el_kind { JCS_EL_QR = 1, JCS_EL_TEXT, JCS_EL_RECT };
enum jcs_align { JCS_ALIGN_LEFT = 0, JCS_ALIGN_CENTER, JCS_ALIGN_RIGHT };
enum jcs_valign { JCS_VALIGN_CENTER = 0, JCS_VALIGN_TOP, JCS_VALIGN_BOTTOM };

/* A font of the family table (template.c), or a font file. */
typedef struct jcs_font_ref {
	int index;       /* into the family table, or -1 for file */
	char *file;      /* a font file named in the template (absolute) */
} jcs_font_ref;

typedef struct jcs_tmpl_el {
	int kind;        /* jcs_el_kind */
	int line;        /* line of the [section] header */
	double x, y, w, h; /* the element's box, mm from the top left */
	jcs_rgb color;   /* text, rect */
	/* [qr] */
	int size_line;   /* line of "size", for fit errors */
	double module;   /* mm */
	int quiet;       /* modules */
	int ec;          /* jcs_qr_ec */
	/* [rect] */
	double line_w;   /* outline width in mm; 0 = filled */
	/* [text] */
	int text_line;   /* line of "text" */
	char *text;      /* with placeholders, UTF-8 */
	jcs_font_ref font;
	double size;     /* em size, mm */
	double min_size; /* may shrink to this to fit (mm); 0 = never */
	int align;       /* jcs_align: text in its box, the code in its box */
	int valign;      /* jcs_valign: the same, vertically */
	int optional;    /* skipped when a placeholder in it is empty */
} jcs_tmpl_el;

/* What render.c keeps in a template from one render to the next: the
 * FreeType faces, the rasterised glyphs and its buffers (render.c). */
typedef struct jcs_render_cache jcs_render_cache;

struct jcs_template {
	char *path;      /* as given, for messages */
	char *name;      /* file name without directory and ".tmpl" */
	double width, height; /* mm */
	jcs_rgb fg, bg;
	int scheme;      /* labels of this scheme only; 0 = any */
	const jcs_tmpl_el *qr;  /* the one [qr] element, in el[] */
	size_t n;
	jcs_tmpl_el el[JCS_TMPL_MAX_ELEMENTS];
	/* made at load, so that a const template can still fill it; it has
	 * its own lock (render.c) */
	jcs_render_cache *cache;
};

/* Returns an empty render cache (it opens nothing until a render needs
 * it), or NULL when out of memory. */
jcs_render_cache *jcs_render_cache_new(void);
/* Frees the cache with its faces, glyphs and buffers. NULL is a no-op. */
void jcs_render_cache_free(jcs_render_cache *rc);

/* One font of the family table: name, weight, file, Debian package. */
typedef struct jcs_font_info {
	const char *family;
	int bold;
	const char *file;
	const char *package;
} jcs_font_info;

/* Returns the family table entry i, or NULL past the end. */
const jcs_font_info *jcs_font_table(size_t i);
/* Indexes of the fallback fonts tried, in order, for a glyph that the
 * element's font lacks (DejaVu Sans in the element's weight, then
 * IPAGothic). */
int jcs_font_fallback(int bold, int which);
#define JCS_FONT_FALLBACKS 2

/* Expands the placeholders of text with the label's fields into out (cap
 * bytes, NUL-terminated). Returns the length, or -1 if out is too small.
 * *empty (if not NULL) is set to 1 when a placeholder expanded to "" (an
 * absent optional field). text was checked at load. */
int jcs_tmpl_expand(const jcs_ctx *ctx, const char *text,
    const jcs_label *label, char *out, size_t cap, int *empty);
/* Bytes needed by jcs_tmpl_expand for any label (NUL included). */
size_t jcs_tmpl_expand_max(const char *text);

#endif

