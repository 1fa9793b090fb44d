/*
 * template.c - label templates: the text format of the templates/ files, its
 * parser and checks, the font family table and placeholder expansion.
 *
 * docs/TEMPLATES.md is the normative description. In short:
 *
 *   # comment
 *   [label]              width, height (mm), background, foreground, scheme
 *   [qr]                 x, y, size (the square box, quiet zone included),
 *                        module (mm), quiet (modules, >= 4), ec (L|M|Q|H),
 *                        align, valign (the code in its box)
 *   [text]  (repeated)   x, y, width, height, text, size (pt|mm), font,
 *                        weight, align, valign, color, shrink, optional
 *   [rect]  (repeated)   x, y, width, height, color, line
 *
 * Every error names the file and the line: "FILE:LINE: what is wrong".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "template.h"

#define DEJAVU "/usr/share/fonts/truetype/dejavu/"
#define IPAG "/usr/share/fonts/opentype/ipafont-gothic/"

/* Family names as fontconfig spells them (the SVG names them so). */
static const jcs_font_info fonts[] = {
	{ "DejaVu Sans", 0, DEJAVU "DejaVuSans.ttf", "fonts-dejavu-core" },
	{ "DejaVu Sans", 1, DEJAVU "DejaVuSans-Bold.ttf", "fonts-dejavu-core" },
	{ "DejaVu Sans Mono", 0, DEJAVU "DejaVuSansMono.ttf",
	  "fonts-dejavu-core" },
	{ "DejaVu Sans Mono", 1, DEJAVU "DejaVuSansMono-Bold.ttf",
	  "fonts-dejavu-core" },
	{ "DejaVu Sans Condensed", 0, DEJAVU "DejaVuSansCondensed.ttf",
	  "fonts-dejavu-extra" },
	{ "DejaVu Sans Condensed", 1, DEJAVU "DejaVuSansCondensed-Bold.ttf",
	  "fonts-dejavu-extra" },
	{ "IPAGothic", 0, IPAG "ipag.ttf", "fonts-ipafont-gothic" },
	{ "IPAPGothic", 0, IPAG "ipagp.ttf", "fonts-ipafont-gothic" },
};
#define NFONTS (sizeof(fonts) / sizeof(fonts[0]))
#define FONT_DEJAVU 0      /* + bold */
#define FONT_IPAGOTHIC 6

const jcs_font_info *
jcs_font_table(size_t i)
{
	return i < NFONTS ? &fonts[i] : NULL;
}

int
jcs_font_fallback(int bold, int which)
{
	return which == 0 ? FONT_DEJAVU + (bold ? 1 : 0) : FONT_IPAGOTHIC;
}

/* ---- placeholders ------------------------------------------------------ */

enum ph {
	PH_SCHEME, PH_STARS, PH_MARK, PH_LEVEL_TEXT, PH_LEVEL, PH_REG_ID, PH_VENDOR, PH_PRODUCT,
	PH_MODEL, PH_UNIT_SERIAL, PH_LAB, PH_ASSESSMENT, PH_ASSESSMENT_JA,
	PH_VALID_FROM,
	PH_VALID_UNTIL, PH_SUPPORT_UNTIL, PH_SERIAL, PH_COUNT
};
static const char *const ph_names[PH_COUNT] = {
	"scheme", "stars", "mark", "level_text", "level", "reg_id", "vendor", "product", "model",
	"unit_serial", "lab", "assessment", "assessment_ja", "valid_from",
	"valid_until",
	"support_until", "serial",
};
/* The longest expansion of any placeholder (a profile's level name or
 * display name, 96 bytes, with the display before it). */
#define PH_MAX_VALUE 200

static int
ph_lookup(const char *name, size_t len)
{
	for (int i = 0; i < PH_COUNT; i++)
		if (strlen(ph_names[i]) == len &&
		    memcmp(ph_names[i], name, len) == 0)
			return i;
	return -1;
}

/* Writes placeholder ph's value for label into buf (at least
 * PH_MAX_VALUE + 1 bytes). */
static const char *
ph_value(const jcs_ctx *ctx, int ph, const jcs_label *label, char *buf,
    size_t cap)
{
	const jcs_label_fields *f = jcs_label_get_fields(label);
	const jcs_profile *p = jcs_profile_of(ctx, f->scheme);
	size_t w = 0;

	buf[0] = '\0';
	switch (ph) {
	case PH_SCHEME:
		return jcs_scheme_display(ctx, f->scheme);
	case PH_STARS:
		/* stars whatever the scheme's own style: filled up to the
		 * level, then hollow up to the scheme's highest level */
		for (int i = 1; p != NULL && i <= p->max_level && w + 4 <= cap;
		    i++, w += 3)
			/* U+2605 BLACK STAR, U+2606 WHITE STAR */
			memcpy(buf + w, i <= f->level ? "\xe2\x98\x85" :
			    "\xe2\x98\x86", 4);
		return buf;
	case PH_MARK:
		return jcs_level_mark(ctx, f->scheme, f->level, buf, cap);
	case PH_LEVEL_TEXT:
		return jcs_level_text(ctx, f->scheme, f->level, buf, cap);
	case PH_LEVEL:
		snprintf(buf, cap, "%d", f->level);
		return buf;
	case PH_REG_ID:
		return f->product.reg_id;
	case PH_VENDOR:
		return f->product.vendor;
	case PH_PRODUCT:
		return f->product.product;
	case PH_MODEL:
		return f->product.model;
	case PH_UNIT_SERIAL:
		return f->product.unit_serial != NULL ?
		    f->product.unit_serial : "";
	case PH_LAB:
		return f->lab != NULL ? f->lab : "";
	case PH_ASSESSMENT:
		return f->lab != NULL ? "third-party evaluated" : "self-declared";
	case PH_ASSESSMENT_JA:
		/* 第三者評価 (third-party evaluation), 自己適合宣言
		 * (self-declaration of conformity) */
		return f->lab != NULL ?
		    "\xe7\xac\xac\xe4\xb8\x89\xe8\x80\x85\xe8\xa9\x95"
		    "\xe4\xbe\xa1" :
		    "\xe8\x87\xaa\xe5\xb7\xb1\xe9\x81\xa9\xe5\x90\x88"
		    "\xe5\xae\xa3\xe8\xa8\x80";
	case PH_VALID_FROM:
		return jcs_date_format(f->not_before, buf, cap);
	case PH_VALID_UNTIL:
		/* the last day of validity: not_after is the first instant
		 * the label is no longer valid */
		return jcs_date_format(f->not_after > f->not_before ?
		    f->not_after - 1 : f->not_after, buf, cap);
	case PH_SUPPORT_UNTIL:
		return f->support_until != 0 ?
		    jcs_date_format(f->support_until, buf, cap) : "";
	case PH_SERIAL:
		return jcs_label_serial_hex(label);
	}
	return "";
}

size_t
jcs_tmpl_expand_max(const char *text)
{
	/* a placeholder is at least "{lab}", 5 bytes, for PH_MAX_VALUE */
	return strlen(text) / 5 * PH_MAX_VALUE + strlen(text) + 1;
}

int
jcs_tmpl_expand(const jcs_ctx *ctx, const char *text, const jcs_label *label,
    char *out, size_t cap, int *empty)
{
	size_t o = 0;
	char buf[PH_MAX_VALUE + 1];

	if (empty != NULL)
		*empty = 0;
	for (const char *p = text; *p != '\0'; p++) {
		const char *v = NULL;
		size_t vlen;

		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			v = p++;
			vlen = 1;
		} else if (p[0] == '{') {
			const char *end = strchr(p, '}');
			int ph;

			/* checked at load: a known name and a closing '}' */
			if (end == NULL ||
			    (ph = ph_lookup(p + 1, (size_t)(end - p - 1))) < 0)
				return -1;
			v = ph_value(ctx, ph, label, buf, sizeof(buf));
			if (v == NULL)
				v = "";
			vlen = strlen(v);
			if (vlen == 0 && empty != NULL)
				*empty = 1;
			p = end;
		} else {
			v = p;
			vlen = 1;
		}
		if (vlen >= cap - o)
			return -1;
		memcpy(out + o, v, vlen);
		o += vlen;
	}
	out[o] = '\0';
	return (int)o;
}

/* ---- the parser ---------------------------------------------------------- */

enum sect { S_NONE, S_LABEL, S_QR, S_TEXT, S_RECT };
static const char *const sect_names[] = { "", "label", "qr", "text",
	"rect" };

enum key {
	K_WIDTH, K_HEIGHT, K_BACKGROUND, K_FOREGROUND, K_SCHEME, K_X, K_Y,
	K_SIZE, K_MODULE, K_QUIET, K_EC, K_TEXT, K_FONT, K_WEIGHT, K_ALIGN,
	K_VALIGN, K_COLOR, K_SHRINK, K_OPTIONAL, K_LINE, K_COUNT
};
static const char *const key_names[K_COUNT] = {
	"width", "height", "background", "foreground", "scheme", "x", "y",
	"size", "module", "quiet", "ec", "text", "font", "weight", "align",
	"valign", "color", "shrink", "optional", "line",
};
/* The keys each section accepts, in the order help lists them. */
static const int sect_keys[][14] = {
	[S_NONE] = { -1 },
	[S_LABEL] = { K_WIDTH, K_HEIGHT, K_BACKGROUND, K_FOREGROUND,
		K_SCHEME, -1 },
	[S_QR] = { K_X, K_Y, K_SIZE, K_MODULE, K_QUIET, K_EC, K_ALIGN,
		K_VALIGN, -1 },
	[S_TEXT] = { K_X, K_Y, K_WIDTH, K_HEIGHT, K_TEXT, K_SIZE, K_FONT,
		K_WEIGHT, K_ALIGN, K_VALIGN, K_COLOR, K_SHRINK, K_OPTIONAL, -1 },
	[S_RECT] = { K_X, K_Y, K_WIDTH, K_HEIGHT, K_COLOR, K_LINE, -1 },
};

struct parse {
	jcs_ctx *ctx;
	jcs_template *t;
	const char *dir;     /* the template's directory, for font files */
	int line;
	int sect;
	int sect_line;
	int keyline[K_COUNT]; /* where each key of the section was set */
	int seen_label, seen_qr;
	jcs_tmpl_el *el;     /* the element being read */
	char *font;          /* [text] font value until the section ends */
	int bold;
};

static int
tfail(struct parse *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
tfail(struct parse *ps, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return jcs_fail(ps->ctx, JCS_ERR_TEMPLATE, "%s:%d: %s", ps->t->path,
	    line, msg);
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t';
}

/* A decimal number: 1-4 digits, optionally '.' and 1-3 digits. Sets *end
 * past it. Locale-independent. */
static int
parse_dec(const char *s, double *out, const char **end)
{
	long ip = 0, fp = 0, scale = 1;
	int n = 0;

	while (*s >= '0' && *s <= '9' && n < 5) {
		ip = ip * 10 + (*s++ - '0');
		n++;
	}
	if (n == 0 || n > 4)
		return -1;
	if (*s == '.') {
		s++;
		n = 0;
		while (*s >= '0' && *s <= '9' && n < 4) {
			fp = fp * 10 + (*s++ - '0');
			scale *= 10;
			n++;
		}
		if (n == 0 || n > 3)
			return -1;
	}
	*out = (double)ip + (double)fp / (double)scale;
	*end = s;
	return 0;
}

/* A length in mm: "62", "62.5" or "62.5mm". */
static int
parse_length(struct parse *ps, const char *key, const char *v, double *out)
{
	const char *end;

	if (parse_dec(v, out, &end) == -1 ||
	    (*end != '\0' && strcmp(end, "mm") != 0))
		return tfail(ps, ps->line, "%s: '%s' is not a length in mm "
		    "(e.g. 62 or 62.5)", key, v);
	return 0;
}

/* A font size: "7pt" or "2.5mm"; returns mm. */
static int
parse_font_size(struct parse *ps, const char *key, const char *v,
    double *out)
{
	const char *end;
	double d;

	if (parse_dec(v, &d, &end) == -1 ||
	    (strcmp(end, "pt") != 0 && strcmp(end, "mm") != 0))
		return tfail(ps, ps->line, "%s: '%s' is not a font size "
		    "(e.g. 7pt or 2.5mm)", key, v);
	*out = strcmp(end, "pt") == 0 ? d * JCS_MM_PER_PT : d;
	if (*out < 0.5 || *out > 100.0)
		return tfail(ps, ps->line, "%s: %s is out of range (0.5 mm to "
		    "100 mm, about 1.5pt to 283pt)", key, v);
	return 0;
}

static int
parse_color(struct parse *ps, const char *key, const char *v, jcs_rgb *out)
{
	uint8_t b[3];

	if (strlen(v) != 7 || v[0] != '#')
		goto bad;
	for (int i = 0; i < 3; i++) {
		int hi = jcs_hex_digit((unsigned char)v[1 + 2 * i]);
		int lo = jcs_hex_digit((unsigned char)v[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			goto bad;
		b[i] = (uint8_t)(hi * 16 + lo);
	}
	out->r = b[0];
	out->g = b[1];
	out->b = b[2];
	return 0;
bad:
	return tfail(ps, ps->line, "%s: '%s' is not a colour (write #rrggbb, "
	    "e.g. #000000)", key, v);
}

static int
parse_yesno(struct parse *ps, const char *key, const char *v, int *out)
{
	if (strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0)
		*out = 0;
	else
		return tfail(ps, ps->line, "%s: '%s' is not yes or no", key,
		    v);
	return 0;
}

/* Checks a [text] value: UTF-8, length, and placeholders. */
static int
check_text(struct parse *ps, const char *v)
{
	size_t len = strlen(v), bad;

	if (len == 0)
		return tfail(ps, ps->line, "text: empty");
	if (len > JCS_TMPL_MAX_TEXT)
		return tfail(ps, ps->line, "text: %zu bytes; at most %d", len,
		    JCS_TMPL_MAX_TEXT);
	if (jcs_utf8_check(v, len, &bad) == -1)
		return tfail(ps, ps->line, "text: not valid UTF-8 (or a "
		    "control character) at byte %zu", bad);
	for (const char *p = v; *p != '\0'; p++) {
		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			p++; /* an escaped brace */
		} else if (p[0] == '}') {
			return tfail(ps, ps->line, "text: a lone '}' at byte "
			    "%zu (write }} for a literal brace)",
			    (size_t)(p - v) + 1);
		} else if (p[0] == '{') {
			const char *q = p + 1;

			while (*q != '\0' && *q != '}' && *q != '{')
				q++;
			if (*q != '}')
				return tfail(ps, ps->line, "text: unterminated "
				    "placeholder '%.*s' (a '{' needs its '}'; "
				    "write {{ for a literal brace)",
				    (int)(q - p), p);
			if (ph_lookup(p + 1, (size_t)(q - p - 1)) < 0) {
				char known[300] = "";

				for (int i = 0; i < PH_COUNT; i++)
					snprintf(known + strlen(known),
					    sizeof(known) - strlen(known),
					    "%s{%s}", i > 0 ? " " : "",
					    ph_names[i]);
				return tfail(ps, ps->line, "unknown placeholder "
				    "'%.*s' (known: %s)", (int)(q - p + 1), p,
				    known);
			}
			p = q;
		}
	}
	return 0;
}

static int
key_in_section(int sect, int key)
{
	for (int i = 0; sect_keys[sect][i] != -1; i++)
		if (sect_keys[sect][i] == key)
			return 1;
	return 0;
}

/* Checks that an element's box lies on the label. */
static int
check_on_label(struct parse *ps, const jcs_tmpl_el *e)
{
	const jcs_template *t = ps->t;
	const char *what = sect_names[ps->sect];

	if (e->w <= 0 || e->h <= 0)
		return tfail(ps, e->line, "[%s] box is empty (width and height "
		    "must be above 0)", what);
	if (e->x + e->w > t->width + 1e-9)
		return tfail(ps, e->line, "[%s] box reaches %.2f mm across; "
		    "the label is %.2f mm wide", what, e->x + e->w, t->width);
	if (e->y + e->h > t->height + 1e-9)
		return tfail(ps, e->line, "[%s] box reaches %.2f mm down; the "
		    "label is %.2f mm high", what, e->y + e->h, t->height);
	return 0;
}

static int
overlap(const jcs_tmpl_el *a, const jcs_tmpl_el *b)
{
	const double eps = 1e-9;

	return a->x + eps < b->x + b->w && b->x + eps < a->x + a->w &&
	    a->y + eps < b->y + b->h && b->y + eps < a->y + a->h;
}

/* Text boxes overlap neither each other nor the QR box. */
static int
check_overlaps(struct parse *ps, const jcs_tmpl_el *e)
{
	const jcs_template *t = ps->t;

	if (e->kind == JCS_EL_RECT)
		return 0;
	for (size_t i = 0; i + 1 < t->n; i++) {
		const jcs_tmpl_el *o = &t->el[i];

		if (o->kind == JCS_EL_RECT || !overlap(e, o))
			continue;
		return tfail(ps, e->line, "[%s] box overlaps the [%s] box of "
		    "line %d", sect_names[ps->sect],
		    o->kind == JCS_EL_QR ? "qr" : "text", o->line);
	}
	return 0;
}

/* Resolves the [text] font: a family of the table (with the weight) or a
 * font file (relative to the template's directory). */
static int
resolve_font(struct parse *ps, jcs_tmpl_el *e)
{
	const char *name = ps->font != NULL ? ps->font : "DejaVu Sans";
	int line = ps->font != NULL ? ps->keyline[K_FONT] : e->line;
	int family = 0;

	if (strchr(name, '/') != NULL) {
		char path[4096];

		if (ps->bold)
			return tfail(ps, ps->keyline[K_WEIGHT], "weight: a font "
			    "file has one weight; name the bold file in font "
			    "instead");
		if (name[0] != '/' && ps->dir != NULL) {
			if (jcs_pathf(path, sizeof(path), "%s/%s", ps->dir,
			    name) == -1)
				return tfail(ps, line, "font: path too long");
		} else if (jcs_pathf(path, sizeof(path), "%s", name) == -1) {
			return tfail(ps, line, "font: path too long");
		}
		if (access(path, R_OK) == -1)
			return tfail(ps, line, "font file %s: %s", path,
			    strerror(errno));
		if ((e->font.file = jcs_strdup(path)) == NULL)
			return jcs_fail(ps->ctx, JCS_ERR_NOMEM,
			    "out of memory");
		e->font.index = -1;
		return 0;
	}
	for (size_t i = 0; i < NFONTS; i++) {
		if (strcasecmp(fonts[i].family, name) != 0)
			continue;
		family = 1;
		if (fonts[i].bold != ps->bold)
			continue;
		if (access(fonts[i].file, R_OK) == -1)
			return tfail(ps, line, "font '%s'%s needs %s, which "
			    "cannot be read (%s): install the Debian package "
			    "%s", fonts[i].family, ps->bold ? " bold" : "",
			    fonts[i].file, strerror(errno), fonts[i].package);
		e->font.index = (int)i;
		return 0;
	}
	if (family)
		return tfail(ps, line, "font '%s' has no bold face", name);
	{
		char known[200] = "";

		for (size_t i = 0; i < NFONTS; i++)
			if (!fonts[i].bold)
				snprintf(known + strlen(known),
				    sizeof(known) - strlen(known), "%s%s",
				    known[0] != '\0' ? ", " : "",
				    fonts[i].family);
		return tfail(ps, line, "unknown font '%s' (known: %s; or a "
		    "path to a .ttf/.otf file)", name, known);
	}
}

static double
luma(jcs_rgb c)
{
	return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
}

/* Checks the section just read as a whole. */
static int
end_section(struct parse *ps)
{
	jcs_template *t = ps->t;
	jcs_tmpl_el *e = ps->el;
	static const struct {
		int sect, key;
	} required[] = {
		{ S_LABEL, K_WIDTH }, { S_LABEL, K_HEIGHT },
		{ S_QR, K_X }, { S_QR, K_Y }, { S_QR, K_SIZE },
		{ S_QR, K_MODULE },
		{ S_TEXT, K_X }, { S_TEXT, K_Y }, { S_TEXT, K_WIDTH },
		{ S_TEXT, K_HEIGHT }, { S_TEXT, K_TEXT }, { S_TEXT, K_SIZE },
		{ S_RECT, K_X }, { S_RECT, K_Y }, { S_RECT, K_WIDTH },
		{ S_RECT, K_HEIGHT },
	};

	if (ps->sect == S_NONE)
		return 0;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (required[i].sect == ps->sect &&
		    ps->keyline[required[i].key] == 0)
			return tfail(ps, ps->sect_line, "[%s] needs '%s'",
			    sect_names[ps->sect], key_names[required[i].key]);
	switch (ps->sect) {
	case S_LABEL:
		if (t->width < 5 || t->width > JCS_TMPL_MAX_MM ||
		    t->height < 5 || t->height > JCS_TMPL_MAX_MM)
			return tfail(ps, ps->keyline[t->width < 5 ||
			    t->width > JCS_TMPL_MAX_MM ? K_WIDTH : K_HEIGHT],
			    "a label is 5 mm to %.0f mm on each side, not "
			    "%.2f x %.2f mm", JCS_TMPL_MAX_MM, t->width,
			    t->height);
		if (luma(t->bg) - luma(t->fg) < 128)
			return tfail(ps, ps->sect_line, "the QR code is drawn "
			    "in the foreground colour on the background: the "
			    "foreground must be much darker (luma %.0f vs "
			    "%.0f; the difference must be at least 128 of "
			    "255)", luma(t->fg), luma(t->bg));
		break;
	case S_QR: {
		double need = (21 + 2 * e->quiet) * e->module;

		e->w = e->h = e->size;
		if (check_on_label(ps, e) == -1)
			return -1;
		if (need > e->size + 1e-9)
			return tfail(ps, e->size_line, "the QR box is %.2f mm; "
			    "even a version-1 code (21 modules) with a "
			    "%d-module quiet zone on each side needs %.2f mm "
			    "at %.3f mm a module", e->size, e->quiet, need,
			    e->module);
		break;
	}
	case S_TEXT:
		if (ps->keyline[K_COLOR] == 0)
			e->color = t->fg;
		if (e->min_size > e->size + 1e-9)
			return tfail(ps, ps->keyline[K_SHRINK], "shrink: the "
			    "smallest size (%.2f mm) is above the size "
			    "(%.2f mm)", e->min_size, e->size);
		if (check_on_label(ps, e) == -1 || resolve_font(ps, e) == -1)
			return -1;
		break;
	case S_RECT:
		if (ps->keyline[K_COLOR] == 0)
			e->color = t->fg;
		if (check_on_label(ps, e) == -1)
			return -1;
		if (2 * e->line_w > (e->w < e->h ? e->w : e->h) + 1e-9)
			return tfail(ps, ps->keyline[K_LINE], "line: %.2f mm is "
			    "more than half the box", e->line_w);
		break;
	}
	if (ps->el != NULL && check_overlaps(ps, e) == -1)
		return -1;
	free(ps->font);
	ps->font = NULL;
	ps->bold = 0;
	return 0;
}

static int
begin_section(struct parse *ps, const char *name, size_t len)
{
	jcs_template *t = ps->t;
	int s = S_NONE;

	if (end_section(ps) == -1)
		return -1;
	for (int i = S_LABEL; i <= S_RECT; i++)
		if (strlen(sect_names[i]) == len &&
		    memcmp(sect_names[i], name, len) == 0)
			s = i;
	if (s == S_NONE)
		return tfail(ps, ps->line, "unknown section [%.*s] (known: "
		    "[label], [qr], [text], [rect])", (int)len, name);
	if (s == S_LABEL && ps->seen_label)
		return tfail(ps, ps->line, "a second [label] section (the "
		    "first is at line %d)", ps->seen_label);
	if (s != S_LABEL && !ps->seen_label)
		return tfail(ps, ps->line, "[%s] before [label]: the [label] "
		    "section comes first", sect_names[s]);
	if (s == S_QR && ps->seen_qr)
		return tfail(ps, ps->line, "a second [qr] section (the first "
		    "is at line %d); a label has one QR code", ps->seen_qr);
	ps->sect = s;
	ps->sect_line = ps->line;
	memset(ps->keyline, 0, sizeof(ps->keyline));
	ps->el = NULL;
	if (s == S_LABEL) {
		ps->seen_label = ps->line;
		return 0;
	}
	if (t->n == JCS_TMPL_MAX_ELEMENTS)
		return tfail(ps, ps->line, "more than %d elements",
		    JCS_TMPL_MAX_ELEMENTS);
	ps->el = &t->el[t->n++];
	ps->el->line = ps->line;
	ps->el->kind = s == S_QR ? JCS_EL_QR : s == S_TEXT ? JCS_EL_TEXT :
	    JCS_EL_RECT;
	if (s == S_QR) {
		ps->seen_qr = ps->line;
		ps->el->quiet = JCS_TMPL_MIN_QUIET;
		ps->el->ec = JCS_QR_EC_M;
		ps->el->align = JCS_ALIGN_CENTER;
		t->qr = ps->el;
	}
	return 0;
}

static int
set_key(struct parse *ps, const char *key, size_t klen, const char *v)
{
	jcs_template *t = ps->t;
	jcs_tmpl_el *e = ps->el;
	int k = -1;
	char kname[32];

	for (int i = 0; i < K_COUNT; i++)
		if (strlen(key_names[i]) == klen &&
		    memcmp(key_names[i], key, klen) == 0)
			k = i;
	snprintf(kname, sizeof(kname), "%.*s", (int)(klen < 31 ? klen : 31),
	    key);
	if (ps->sect == S_NONE)
		return tfail(ps, ps->line, "'%s' outside a section (start with "
		    "[label])", kname);
	if (k < 0 || !key_in_section(ps->sect, k)) {
		char known[200] = "";

		for (int i = 0; sect_keys[ps->sect][i] != -1; i++)
			snprintf(known + strlen(known),
			    sizeof(known) - strlen(known), "%s%s",
			    i > 0 ? ", " : "",
			    key_names[sect_keys[ps->sect][i]]);
		return tfail(ps, ps->line, "unknown key '%s' in [%s] (known: "
		    "%s)", kname, sect_names[ps->sect], known);
	}
	if (ps->keyline[k] != 0)
		return tfail(ps, ps->line, "duplicate key '%s' in [%s] (first "
		    "at line %d)", kname, sect_names[ps->sect],
		    ps->keyline[k]);
	ps->keyline[k] = ps->line;
	if (v[0] == '\0')
		return tfail(ps, ps->line, "%s: no value", kname);

	if (ps->sect == S_LABEL) {
		switch (k) {
		case K_WIDTH:
			return parse_length(ps, kname, v, &t->width);
		case K_HEIGHT:
			return parse_length(ps, kname, v, &t->height);
		case K_BACKGROUND:
			return parse_color(ps, kname, v, &t->bg);
		case K_FOREGROUND:
			return parse_color(ps, kname, v, &t->fg);
		case K_SCHEME:
			if ((t->scheme = jcs_scheme_from_name(v)) == 0)
				return tfail(ps, ps->line, "scheme: unknown "
				    "scheme '%s' (jcstar, cls, psti, "
				    "cyber-trust-mark, cra)", v);
			return 0;
		}
	}
	switch (k) {
	case K_X:
		return parse_length(ps, kname, v, &e->x);
	case K_Y:
		return parse_length(ps, kname, v, &e->y);
	case K_WIDTH:
		return parse_length(ps, kname, v, &e->w);
	case K_HEIGHT:
		return parse_length(ps, kname, v, &e->h);
	case K_COLOR:
		return parse_color(ps, kname, v, &e->color);
	case K_SIZE:
		if (ps->sect == S_QR) {
			e->size_line = ps->line;
			return parse_length(ps, kname, v, &e->size);
		}
		return parse_font_size(ps, kname, v, &e->size);
	case K_MODULE:
		if (parse_length(ps, kname, v, &e->module) == -1)
			return -1;
		if (e->module < JCS_TMPL_MIN_MODULE - 1e-9 ||
		    e->module > JCS_TMPL_MAX_MODULE + 1e-9)
			return tfail(ps, ps->line, "module: %s mm is out of "
			    "range (%.1f to %.1f mm)", v, JCS_TMPL_MIN_MODULE,
			    JCS_TMPL_MAX_MODULE);
		return 0;
	case K_QUIET: {
		char *end;
		long q;

		errno = 0;
		q = strtol(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0)
			return tfail(ps, ps->line, "quiet: '%s' is not a whole "
			    "number of modules", v);
		if (q < JCS_TMPL_MIN_QUIET)
			return tfail(ps, ps->line, "quiet: a quiet zone of %ld "
			    "modules is too small; at least %d are needed "
			    "(ISO/IEC 18004) for a reliable scan", q,
			    JCS_TMPL_MIN_QUIET);
		if (q > JCS_TMPL_MAX_QUIET)
			return tfail(ps, ps->line, "quiet: %ld modules; at most "
			    "%d", q, JCS_TMPL_MAX_QUIET);
		e->quiet = (int)q;
		return 0;
	}
	case K_EC:
		if ((e->ec = jcs_qr_ec_from_name(v)) == 0)
			return tfail(ps, ps->line, "ec: '%s' is not an "
			    "error-correction level (L, M, Q or H)", v);
		return 0;
	case K_TEXT:
		if (check_text(ps, v) == -1)
			return -1;
		e->text_line = ps->line;
		if ((e->text = jcs_strdup(v)) == NULL)
			return jcs_fail(ps->ctx, JCS_ERR_NOMEM,
			    "out of memory");
		return 0;
	case K_FONT:
		if ((ps->font = jcs_strdup(v)) == NULL)
			return jcs_fail(ps->ctx, JCS_ERR_NOMEM,
			    "out of memory");
		return 0;
	case K_WEIGHT:
		if (strcmp(v, "bold") == 0)
			ps->bold = 1;
		else if (strcmp(v, "normal") == 0)
			ps->bold = 0;
		else
			return tfail(ps, ps->line, "weight: '%s' is not normal "
			    "or bold", v);
		return 0;
	case K_ALIGN:
		if (strcmp(v, "left") == 0)
			e->align = JCS_ALIGN_LEFT;
		else if (strcmp(v, "center") == 0)
			e->align = JCS_ALIGN_CENTER;
		else if (strcmp(v, "right") == 0)
			e->align = JCS_ALIGN_RIGHT;
		else
			return tfail(ps, ps->line, "align: '%s' is not left, "
			    "center or right", v);
		return 0;
	case K_VALIGN:
		if (strcmp(v, "top") == 0)
			e->valign = JCS_VALIGN_TOP;
		else if (strcmp(v, "center") == 0)
			e->valign = JCS_VALIGN_CENTER;
		else if (strcmp(v, "bottom") == 0)
			e->valign = JCS_VALIGN_BOTTOM;
		else
			return tfail(ps, ps->line, "valign: '%s' is not top, "
			    "center or bottom", v);
		return 0;
	case K_SHRINK:
		if (strcmp(v, "no") == 0) {
			e->min_size = 0;
			return 0;
		}
		return parse_font_size(ps, kname, v, &e->min_size);
	case K_OPTIONAL:
		return parse_yesno(ps, kname, v, &e->optional);
	case K_LINE:
		if (parse_length(ps, kname, v, &e->line_w) == -1)
			return -1;
		if (e->line_w <= 0)
			return tfail(ps, ps->line, "line: must be above 0 (leave "
			    "it out for a filled box)");
		return 0;
	}
	return tfail(ps, ps->line, "unhandled key '%s'", kname);
}

/* Parses one line (NUL-terminated, without its newline). */
static int
parse_line(struct parse *ps, char *s)
{
	char *end, *eq, *key, *val;
	size_t n = strlen(s);

	while (n > 0 && (is_space((unsigned char)s[n - 1]) || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (is_space((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != '\0')
			return tfail(ps, ps->line, "a section header is "
			    "'[name]' alone on its line");
		return begin_section(ps, s + 1, (size_t)(end - s - 1));
	}
	if ((eq = strchr(s, '=')) == NULL)
		return tfail(ps, ps->line, "expected 'key = value' or "
		    "'[section]'");
	key = s;
	end = eq;
	while (end > key && is_space((unsigned char)end[-1]))
		end--;
	if (end == key)
		return tfail(ps, ps->line, "no key before '='");
	val = eq + 1;
	while (is_space((unsigned char)*val))
		val++;
	/* "..." keeps leading and trailing spaces of a value */
	n = strlen(val);
	if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
		val[n - 1] = '\0';
		val++;
	}
	return set_key(ps, key, (size_t)(end - key), val);
}

jcs_template *
jcs_template_load(jcs_ctx *ctx, const char *path)
{
	struct parse ps;
	jcs_template *t = NULL;
	uint8_t *buf = NULL;
	size_t len;
	char *dir = NULL, *p, *slash;
	const char *base;

	memset(&ps, 0, sizeof(ps));
	if (path == NULL || path[0] == '\0') {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no template file given");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->cache = jcs_render_cache_new()) == NULL ||
	    (t->path = jcs_strdup(path)) == NULL ||
	    (dir = jcs_strdup(path)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	base = (slash = strrchr(dir, '/')) != NULL ? slash + 1 : dir;
	if ((t->name = jcs_strdup(base)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	len = strlen(t->name);
	if (len > 5 && strcmp(t->name + len - 5, ".tmpl") == 0)
		t->name[len - 5] = '\0';
	if (slash != NULL)
		*slash = '\0';
	ps.dir = slash != NULL ? (slash == dir ? "/" : dir) : ".";
	ps.ctx = ctx;
	ps.t = t;
	t->bg = (jcs_rgb){ 0xff, 0xff, 0xff };
	t->fg = (jcs_rgb){ 0, 0, 0 };

	if (jcs_read_file(ctx, path, JCS_TMPL_MAX_FILE, &buf, &len) == -1)
		goto err;
	if (memchr(buf, '\0', len) != NULL) {
		ps.line = 1;
		for (const uint8_t *q = buf; *q != '\0'; q++)
			ps.line += *q == '\n';
		tfail(&ps, ps.line, "a NUL byte: not a text file");
		goto err;
	}
	/* a final newline ends the last line; it starts no new one */
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	p = (char *)buf;
	for (ps.line = 1; p != NULL; ps.line++) {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (parse_line(&ps, p) == -1)
			goto err;
		p = nl != NULL ? nl + 1 : NULL;
	}
	ps.line--;
	if (!ps.seen_label) {
		tfail(&ps, 1, "%s (no [label] section)", ps.line <= 1 &&
		    len == 0 ? "empty template" : "not a label template");
		goto err;
	}
	if (end_section(&ps) == -1)
		goto err;
	if (!ps.seen_qr) {
		tfail(&ps, ps.line, "no [qr] section: every label carries its "
		    "QR code");
		goto err;
	}
	free(buf);
	free(dir);
	jcs_ok(ctx);
	return t;
err:
	free(ps.font);
	free(buf);
	free(dir);
	jcs_template_free(t);
	return NULL;
}

void
jcs_template_free(jcs_template *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->el[i].text);
		free(t->el[i].font.file);
	}
	jcs_render_cache_free(t->cache);
	free(t->path);
	free(t->name);
	free(t);
}

const char *
jcs_template_name(const jcs_template *t)
{
	return t != NULL ? t->name : NULL;
}

int
jcs_template_ec(const jcs_template *t)
{
	return t != NULL && t->qr != NULL ? t->qr->ec : JCS_QR_EC_M;
}

void
jcs_template_size_mm(const jcs_template *t, double *width, double *height)
{
	if (width != NULL)
		*width = t != NULL ? t->width : 0;
	if (height != NULL)
		*height = t != NULL ? t->height : 0;
}

double
jcs_template_module_mm(const jcs_template *t)
{
	return t != NULL && t->qr != NULL ? t->qr->module : 0;
}
