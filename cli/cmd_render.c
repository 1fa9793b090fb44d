/* cmd_render.c - jcstar render: print-ready label artwork (PNG or SVG). */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
"usage: jcstar render LABEL [--template NAME|PATH] -o OUT.png|OUT.svg\n"
"           [--dpi N] [--form url|bare] [--base-url URL | --ca DIR] [-q]\n"
"\n"
"Draw a signed label's artwork from a template: the label's fields in the\n"
"template's text boxes and its QR code (docs/TEMPLATES.md). OUT.png is a\n"
"greyscale or palette PNG at --dpi, every QR module a block of whole\n"
"pixels, the resolution recorded in the file; OUT.svg is vector artwork of\n"
"the same layout. The file is written whole or not at all.\n"
"\n"
"  --template NAME|PATH  a template of the template directory by NAME (e.g.\n"
"                        jcstar-2), or a template file (a PATH has a '/' or\n"
"                        ends in .tmpl); default: the template the label's\n"
"                        scheme profile names for its level (see 'jcstar\n"
"                        schemes')\n"
"  -o, --output FILE     the artwork: FILE.png or FILE.svg\n"
"  --dpi N               PNG resolution, 72 to 2400 (default 300)\n"
"  --form FORM           QR payload: url (default) or bare\n"
"  --base-url URL        verifier base URL for the url form\n"
"  --ca DIR              take the base URL set with 'jcstar ca init\n"
"                        --verify-url'\n"
"  -q, --quiet           print nothing on success\n"
"  -h, --help            this help\n"
"\n"
"Templates are looked up in $JCSTAR_TEMPLATES, else templates/ of the\n"
"source tree or the installed share/jcstar/templates.\n";

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the templates of dir, sorted, as "a, b, c" (or "none"). */
static void
list_templates(FILE *f, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[256];
	size_t n = 0;

	while (d != NULL && (de = readdir(d)) != NULL && n < 256) {
		size_t len = strlen(de->d_name);

		if (len > 5 && de->d_name[0] != '.' &&
		    strcmp(de->d_name + len - 5, ".tmpl") == 0 &&
		    (names[n] = strndup(de->d_name, len - 5)) != NULL)
			n++;
	}
	if (d != NULL)
		closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s", i > 0 ? ", " : "", names[i]);
		free(names[i]);
	}
	if (n == 0)
		fputs("none", f);
}

static int
is_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') != NULL || (n > 5 && strcmp(s + n - 5,
	    ".tmpl") == 0);
}

int
template_path(const char *name, char *out, size_t size)
{
	const char *dir;

	if (is_path(name)) {
		snprintf(out, size, "%s", name);
		return 0;
	}
	dir = template_dir(NULL);
	if (snprintf(out, size, "%s/%s.tmpl", dir, name) >= (int)size)
		return fail_usage("template name too long");
	if (access(out, F_OK) != 0) {
		fprintf(stderr, "%s: unknown template '%s' in %s (available: ",
		    progname, name, dir);
		list_templates(stderr, dir);
		fputs(")\n", stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* The name of the template the scheme profile of label names for its
 * level. Prints the problem and returns NULL with *rc set if there is none. */
static const char *
profile_template(const jcs_ctx *ctx, const jcs_label *label, int *rc)
{
	const jcs_label_fields *f = jcs_label_get_fields(label);
	const jcs_profile *p = jcs_schemes_find(jcs_ctx_schemes(ctx),
	    f->scheme);
	char lv[128];

	if (p != NULL && f->level >= p->min_level &&
	    f->level <= p->max_level && p->tmpl[f->level] != NULL)
		return p->tmpl[f->level];
	*rc = fail_usage("render: the scheme profiles (%s) name no template "
	    "for %s labels: give --template", schemes_dir(),
	    jcs_level_text(ctx, f->scheme, f->level, lv, sizeof(lv)));
	return NULL;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

int
cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "template", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "dpi", required_argument, NULL, 'd' },
		{ "form", required_argument, NULL, 'f' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "ca", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tname = NULL, *out = NULL, *base = NULL, *cadir = NULL;
	const char *url = NULL;
	char tpath[4200];
	int c, dpi = 300, form = JCS_FORM_URL, rc = EXIT_VALID, png;
	jcs_ctx *ctx = NULL;
	jcs_ca *ca = NULL;
	jcs_label *l = NULL;
	jcs_template *t = NULL;
	jcs_qr *qr = NULL;
	char *text = NULL;
	const uint8_t *der;
	size_t len;

	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tname = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'd':
			if (parse_int(optarg, 72, 2400, &dpi) == -1)
				return fail_usage("--dpi must be a whole number "
				    "from 72 to 2400 (e.g. 300 or 600), not "
				    "'%s'", optarg);
			break;
		case 'f':
			if ((form = jcs_form_from_name(optarg)) == 0)
				return fail_usage("--form must be url or bare, "
				    "not '%s'", optarg);
			break;
		case 'b':
			base = optarg;
			break;
		case 'c':
			cadir = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return print_help(help);
		default:
			return usage_error(help);
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "%s render: give exactly one label file\n",
		    progname);
		return usage_error(help);
	}
	if (out == NULL)
		return fail_usage("render: -o is required");
	if (!ends_with(out, ".png") && !ends_with(out, ".svg"))
		return fail_usage("render: -o %s: the output is NAME.png or "
		    "NAME.svg", out);
	png = ends_with(out, ".png");
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	/* the label first: without --template, its scheme and level choose */
	if ((l = jcs_label_load_file(ctx, argv[optind])) == NULL) {
		rc = fail_ctx(ctx, argv[optind]);
		goto done;
	}
	if (tname == NULL && (tname = profile_template(ctx, l, &rc)) == NULL)
		goto done;
	if ((rc = template_path(tname, tpath, sizeof(tpath))) != 0)
		goto done;
	if ((t = jcs_template_load(ctx, tpath)) == NULL) {
		rc = fail_ctx(ctx, NULL);
		goto done;
	}
	if (form == JCS_FORM_URL &&
	    (url = resolve_base_url(ctx, base, cadir, &ca, &rc)) == NULL)
		goto done;
	der = jcs_label_der(l, &len);
	if ((text = jcs_payload_encode(ctx, der, len, form, url)) == NULL ||
	    jcs_render_file(ctx, t, l, text, dpi, out) == -1) {
		rc = fail_ctx(ctx, "render");
		goto done;
	}
	if (!quiet && (qr = jcs_qr_encode(ctx, text, jcs_template_ec(t))) !=
	    NULL) {
		double w, h, mod = jcs_template_module_mm(t);
		long mpx = (long)(mod * dpi / 25.4 + 0.5);

		jcs_template_size_mm(t, &w, &h);
		mpx = mpx < 1 ? 1 : mpx;
		if (png)
			fprintf(stderr, "wrote %s: %s label, %.1f x %.1f mm "
			    "(%ld x %ld px at %d dpi); QR version %d at level "
			    "%c, %d modules of %ld px (%.3f mm)\n", out,
			    jcs_template_name(t), w, h,
			    (long)(w * dpi / 25.4 + 0.5),
			    (long)(h * dpi / 25.4 + 0.5), dpi,
			    jcs_qr_version(qr), "LMQH"[jcs_template_ec(t) - 1],
			    jcs_qr_width(qr), mpx, (double)mpx * 25.4 / dpi);
		else
			fprintf(stderr, "wrote %s: %s label, %.1f x %.1f mm "
			    "(vector); QR version %d at level %c, %d modules "
			    "of %.3f mm\n", out, jcs_template_name(t), w, h,
			    jcs_qr_version(qr), "LMQH"[jcs_template_ec(t) - 1],
			    jcs_qr_width(qr), mod);
	}
done:
	jcs_qr_free(qr);
	jcs_free(text);
	jcs_template_free(t);
	jcs_label_free(l);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}
