/* cmd_schemes.c - jcstar schemes: the scheme profiles, the recognition
 * between schemes and the procurement policy, as jcstar reads them. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
"usage: jcstar schemes [--recognition FILE] [--policy FILE] [--json]\n"
"\n"
"List the schemes jcstar knows, from their profiles (certs/schemes/, or\n"
"$JCSTAR_SCHEMES): levels, how a level is shown, the label validity cap,\n"
"which levels name a third-party lab, the support-period rules and the\n"
"templates; then every line of the recognition file and the procurement\n"
"policy. Every file is checked as it is read: an error names the file\n"
"and line, and the exit status is 2.\n"
"\n"
"  --recognition FILE  the recognition file (default: recognition.conf of\n"
"                    the installed profiles)\n"
"  --policy FILE     a procurement policy file (default: policy.conf)\n"
"  --json            one JSON object (the web verifier reads the same)\n"
"  -h, --help        this help\n";

static void
validity_text(const jcs_profile *p, char *buf, size_t len)
{
	if (p->max_years > 0)
		snprintf(buf, len, "%d year%s", p->max_years,
		    p->max_years == 1 ? "" : "s");
	else if (p->max_days > 0)
		snprintf(buf, len, "%d day%s", p->max_days,
		    p->max_days == 1 ? "" : "s");
	else
		snprintf(buf, len, "none");
}

static void
ref_text(int scheme, int lo, int hi, char *buf, size_t len)
{
	if (lo == hi)
		snprintf(buf, len, "%s:%d", jcs_scheme_name(scheme), lo);
	else
		snprintf(buf, len, "%s:%d-%d", jcs_scheme_name(scheme), lo,
		    hi);
}

void
json_schemes(FILE *f, const jcs_ctx *ctx, const jcs_recognition *rec,
    const jcs_policy *pol, jcs_ctx *wctx)
{
	const jcs_schemes *set = jcs_ctx_schemes(ctx);
	char buf[128];

	fputs("{\"schemes\":[", f);
	for (size_t i = 0; i < jcs_schemes_count(set); i++) {
		const jcs_profile *p = jcs_schemes_get(set, i);

		fputs(i > 0 ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, p->name);
		fputs(",\"display\":", f);
		json_str(f, p->display);
		fputs(",\"authority\":", f);
		json_str(f, p->authority);
		fputs(",\"country\":", f);
		json_str(f, p->country);
		fprintf(f, ",\"min_level\":%d,\"max_level\":%d,"
		    "\"level_style\":\"%s\",\"third_party_from\":%d,"
		    "\"max_years\":%d,\"max_days\":%d,"
		    "\"support_until\":\"%s\",\"within_support\":%s,"
		    "\"levels\":[", p->min_level, p->max_level,
		    jcs_style_name(p->style), p->third_party_from,
		    p->max_years, p->max_days,
		    p->support_required ? "required" : "optional",
		    p->within_support ? "true" : "false");
		for (int l = p->min_level; l <= p->max_level; l++) {
			fprintf(f, "%s{\"level\":%d,\"text\":", l >
			    p->min_level ? "," : "", l);
			json_str(f, jcs_level_text(ctx, p->scheme, l, buf,
			    sizeof(buf)));
			fputs(",\"mark\":", f);
			json_str(f, jcs_level_mark(ctx, p->scheme, l, buf,
			    sizeof(buf)));
			fputs(",\"template\":", f);
			json_str(f, p->tmpl[l]);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("],\"recognition\":[", f);
	for (size_t i = 0; i < jcs_recognition_count(rec); i++) {
		const jcs_recognition_line *l = jcs_recognition_get(rec, i);
		char d[16];

		fprintf(f, "%s{\"kind\":\"%s\",\"scheme\":", i > 0 ? "," : "",
		    l->kind == JCS_RECOGNITION_ACCEPT ? "accept" :
		    "simplified");
		json_str(f, jcs_scheme_name(l->scheme));
		fprintf(f, ",\"level\":%d,\"label_scheme\":", l->level);
		json_str(f, jcs_scheme_name(l->label_scheme));
		fprintf(f, ",\"label_min\":%d,\"label_max\":%d,\"from\":",
		    l->label_min, l->label_max);
		if (l->from != 0)
			json_str(f, jcs_date_format(l->from, d, sizeof(d)));
		else
			fputs("null", f);
		fputs(",\"file\":", f);
		json_str(f, l->file);
		fprintf(f, ",\"line\":%u,\"basis\":", l->line);
		json_str(f, l->basis);
		fputc('}', f);
	}
	fputs("],\"policy\":[", f);
	for (size_t i = 0; i < jcs_policy_count(pol); i++) {
		const char *imp = jcs_policy_importance(pol, i);
		const jcs_requirement *req;
		size_t n;

		if (jcs_policy_lookup(wctx, pol, imp, &req, &n) == -1)
			continue;
		fputs(i > 0 ? ",{\"importance\":" : "{\"importance\":", f);
		json_str(f, imp);
		fputs(",\"file\":", f);
		json_str(f, req[0].source);
		fprintf(f, ",\"line\":%u,\"requires\":[", req[0].line);
		for (size_t j = 0; j < n; j++) {
			fprintf(f, "%s{\"scheme\":", j > 0 ? "," : "");
			json_str(f, jcs_scheme_name(req[j].scheme));
			fprintf(f, ",\"min_level\":%d}", req[j].min_level);
		}
		fputs("]}", f);
	}
	fputs("]}\n", f);
}

static void
print_text(const jcs_ctx *ctx, const jcs_recognition *rec,
    const jcs_policy *pol, jcs_ctx *wctx)
{
	const jcs_schemes *set = jcs_ctx_schemes(ctx);
	char buf[128], lo[48], hi[48];

	printf("Schemes (%s):\n", schemes_dir());
	for (size_t i = 0; i < jcs_schemes_count(set); i++) {
		const jcs_profile *p = jcs_schemes_get(set, i);

		validity_text(p, buf, sizeof(buf));
		printf("\n%s  %s (%s%s%s)\n", p->name, p->display,
		    p->authority, p->country[0] != '\0' ? ", " : "",
		    p->country);
		printf("  levels      %s\n", p->min_level == p->max_level ?
		    jcs_level_text(ctx, p->scheme, p->min_level, lo,
		    sizeof(lo)) : (snprintf(lo, sizeof(lo), "%d-%d, shown as "
		    "%s", p->min_level, p->max_level,
		    jcs_style_name(p->style)), lo));
		if (p->style == JCS_STYLE_CLASS)
			for (int l = p->min_level; l <= p->max_level; l++)
				printf("              %d = %s\n", l,
				    jcs_level_mark(ctx, p->scheme, l, hi,
				    sizeof(hi)));
		if (p->max_years == 0 && p->max_days == 0)
			printf("  validity    until the end of the support "
			    "period\n");
		else
			printf("  validity    at most %s%s\n", buf,
			    p->within_support ? ", and not past the support "
			    "period" : "");
		printf("  support     end date %s\n", p->support_required ?
		    "required" : "optional");
		if (p->third_party_from == 0)
			printf("  assessment  no level needs a third party\n");
		else if (p->third_party_from == p->min_level)
			printf("  assessment  every level names the lab or "
			    "body\n");
		else
			printf("  assessment  levels %d and up name the lab or "
			    "body\n", p->third_party_from);
		printf("  templates  ");
		for (int l = p->min_level; l <= p->max_level; l++)
			if (l == p->min_level || strcmp(p->tmpl[l],
			    p->tmpl[l - 1]) != 0)
				printf(" %s", p->tmpl[l]);
		printf("\n  profile     %s\n", p->file);
	}
	printf("\nRecognition:\n");
	for (size_t i = 0; i < jcs_recognition_count(rec); i++) {
		const jcs_recognition_line *l = jcs_recognition_get(rec, i);
		char d[16];

		ref_text(l->scheme, l->level, l->level, lo, sizeof(lo));
		ref_text(l->label_scheme, l->label_min, l->label_max, hi,
		    sizeof(hi));
		printf("  %s:%u  %-10s %-9s <- %-12s from %s\n    %s\n",
		    l->file, l->line, l->kind == JCS_RECOGNITION_ACCEPT ?
		    "accept" : "simplified", lo, hi, l->from != 0 ?
		    jcs_date_format(l->from, d, sizeof(d)) : "always",
		    l->basis);
	}
	printf("\nProcurement policy:\n");
	for (size_t i = 0; i < jcs_policy_count(pol); i++) {
		const char *imp = jcs_policy_importance(pol, i);
		const jcs_requirement *req;
		size_t n;

		if (jcs_policy_lookup(wctx, pol, imp, &req, &n) == -1)
			continue;
		printf("  %s:%u  %-8s", req[0].source, req[0].line, imp);
		for (size_t j = 0; j < n; j++) {
			const jcs_profile *p = jcs_schemes_find(set,
			    req[j].scheme);

			printf("%s%s%s", j > 0 ? " or " : " ",
			    jcs_level_text(ctx, req[j].scheme,
			    req[j].min_level, buf, sizeof(buf)),
			    p != NULL && req[j].min_level < p->max_level ?
			    " or higher" : "");
		}
		putchar('\n');
	}
}

int
cmd_schemes(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "recognition", required_argument, NULL, 'G' },
		{ "policy", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rec_file = NULL, *pol_file = NULL;
	jcs_recognition *rec = NULL;
	jcs_policy *pol = NULL;
	jcs_ctx *ctx;
	int c, json = 0, rc = EXIT_VALID;

	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'G':
			rec_file = optarg;
			break;
		case 'P':
			pol_file = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			rc = print_help(help);
			goto done;
		default:
			rc = usage_error(help);
			goto done;
		}
	}
	if (optind < argc) {
		rc = fail_usage("schemes: unexpected argument '%s'",
		    argv[optind]);
		goto done;
	}
	if ((rec = load_recognition(ctx, rec_file)) == NULL ||
	    (pol = load_policy(ctx, pol_file)) == NULL) {
		fail_ctx(ctx, NULL);
		rc = EXIT_USAGE;
		goto done;
	}
	if (json)
		json_schemes(stdout, ctx, rec, pol, ctx);
	else
		print_text(ctx, rec, pol, ctx);
	if (fflush(stdout) != 0)
		rc = fail_usage("schemes: cannot write: %m");
done:
	jcs_recognition_free(rec);
	jcs_policy_free(pol);
	jcs_ctx_free(ctx);
	return rc;
}
