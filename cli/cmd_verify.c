/* cmd_verify.c - jcstar verify: check labels against a trust bundle. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
"usage: jcstar verify --trust BUNDLE [--at TIME] [--require-fresh-crl]\n"
"           [--as SCHEME] [--min-level N] [--recognition FILE]\n"
"           [--importance NAME [--policy FILE]] [--json] [-q]\n"
"           [--payload TEXT|-]... [--image FILE]... [LABEL...]\n"
"       jcstar verify --trust BUNDLE --batch FILE|- [--report OUT.csv|OUT.json]\n"
"           [--jobs N]\n"
"\n"
"Verify labels offline against a trust bundle: strict format, signature\n"
"by a signer of the bundle, the signer's chain to a root of the bundle\n"
"and its label-signing key usage, revocation of signer and label (the\n"
"CRLs in the bundle), validity of label and signer, and the level\n"
"policy. A label comes from a file (DER or PEM; - reads stdin), from the\n"
"text of its QR code (--payload, either form), or from the QR codes in a\n"
"photo or scan of the label (--image, PNG or JPEG).\n"
"\n"
"  --trust BUNDLE    the certification body's trust bundle (trust export)\n"
"  --payload TEXT    verify a scanned QR text (url or bare form); may be\n"
"                    repeated; --payload - reads one payload per line from\n"
"                    stdin (only the line ending is removed: spaces count)\n"
"  --batch FILE      bulk check (retailers): one payload or image path per\n"
"                    line of FILE (- for stdin); labels seen twice (same\n"
"                    serial, or same registration and unit) are flagged\n"
"                    as duplicates, possibly copied labels\n"
"  --report FILE     with --batch: a report, CSV (.csv) or JSON (.json),\n"
"                    one row per label and a summary\n"
"  --jobs N          with --batch: check lines on N threads (default 1;\n"
"                    at most 4 per processor); same rows, same order\n"
"  --image FILE      verify every QR code found in the image; may be\n"
"                    repeated (an image without a code is not valid)\n"
"  --at TIME         verify as of TIME (YYYY-MM-DD or\n"
"                    YYYY-MM-DDTHH:MM:SSZ) instead of now\n"
"  --as SCHEME       require a label that satisfies SCHEME (jcstar, cls,\n"
"                    psti, cyber-trust-mark, cra; see jcstar schemes):\n"
"                    a label of SCHEME, or of another scheme through an\n"
"                    acceptance line of the recognition file; the\n"
"                    output names the line the decision rests on;\n"
"                    SCHEME:N is SCHEME with --min-level N\n"
"  --min-level N     ... at level N or higher (default: the scheme's\n"
"                    lowest); without --as, SCHEME is jcstar\n"
"  --recognition FILE  the recognition file (default: recognition.conf\n"
"                    of the installed profiles)\n"
"  --importance NAME require what the procurement policy asks for a\n"
"                    system of importance NAME; the default policy is\n"
"                    Japan's: low -> JC-STAR star 1 or higher; medium,\n"
"                    high -> star 3 or higher\n"
"  --policy FILE     an organisation's own policy file for --importance\n"
"  --require-fresh-crl\n"
"                    fail unless the bundle has a label CRL for the\n"
"                    label's root that is not past its nextUpdate (at\n"
"                    --at): a stale bundle could miss recent revocations\n"
"  --json            one JSON object per label, one per line\n"
"  -q, --quiet       print nothing; the exit status tells\n"
"  -h, --help        this help\n"
"\n"
"Exit status: 0 every label valid, 1 a label is not valid (forged,\n"
"malformed, untrusted, revoked, expired, not yet valid, below policy,\n"
"stale CRL), 2 usage or I/O error (including a bundle that cannot be\n"
"loaded, e.g. one with a CRL whose signature does not verify).\n";

/* d is the decision of this label's jcs_verify, or NULL (no requirement,
 * or the label was not verified). */
static void
print_result(const char *file, const jcs_label *l, const jcs_ctx *ctx,
    int ok, const char *signer, const jcs_decision *d, int json)
{
	char lv[64], t[32];

	if (json) {
		fputs("{\"file\":", stdout);
		json_str(stdout, file);
		printf(",\"valid\":%s,\"verdict\":", ok ? "true" : "false");
		json_str(stdout, ok ? "valid" :
		    jcs_err_name(jcs_ctx_error(ctx)));
		fputs(",\"reason\":", stdout);
		json_str(stdout, ok ? NULL : jcs_ctx_message(ctx));
		fputs(",\"signer\":", stdout);
		json_str(stdout, ok ? signer : NULL);
		if (d != NULL) {
			fputs(",\"decision\":", stdout);
			json_decision(stdout, d);
		}
		fputs(",\"label\":", stdout);
		if (l != NULL)
			json_label(stdout, l);
		else
			fputs("null", stdout);
		fputs("}\n", stdout);
		return;
	}
	if (quiet)
		return;
	if (ok) {
		const jcs_label_fields *f = jcs_label_get_fields(l);

		printf("%s: VALID: genuine %s label\n", file,
		    level_text(f->scheme, f->level, lv, sizeof(lv)));
		printf("  %s, %s %s %s", f->product.reg_id, f->product.vendor,
		    f->product.product, f->product.model);
		if (f->product.unit_serial != NULL)
			printf(", unit %s", f->product.unit_serial);
		printf("\n  valid until %s",
		    jcs_time_format(f->not_after, t, sizeof(t)));
		if (f->support_until != 0)
			printf(", support until %s",
			    jcs_date_format(f->support_until, t, sizeof(t)));
		printf("\n  signed by %s\n", signer);
		if (d != NULL)
			printf("  requirement met: %s\n", d->reason);
	} else {
		printf("%s: NOT VALID (%s): %s\n", file,
		    jcs_err_name(jcs_ctx_error(ctx)), jcs_ctx_message(ctx));
	}
}

#define MAX_ARGS 256

/* Verifies one label (NULL: it failed to load, reason on ctx), prints the
 * result and raises *rc to the worst exit status so far. */
static void
check_one(jcs_ctx *ctx, const jcs_trust *trust, const jcs_verify_opts *vo,
    const char *name, jcs_label *l, int json, int *rc)
{
	const char *signer = NULL;
	const jcs_decision *d = NULL;
	int ok = 0, r;

	if (l == NULL && !jcs_err_is_verdict(jcs_ctx_error(ctx))) {
		/* I/O or size: not a verdict on a label, but scripts reading
		 * --json still get a line for it */
		if (json)
			print_result(name, NULL, ctx, 0, NULL, NULL, 1);
		r = fail_ctx(ctx, name);
		if (r > *rc)
			*rc = r;
		return;
	}
	if (l != NULL) {
		ok = jcs_verify(ctx, trust, l, vo, &signer) == 0;
		d = jcs_ctx_decision(ctx);
	}
	print_result(name, l, ctx, ok, signer, d, json);
	if (!ok) {
		r = jcs_err_is_verdict(jcs_ctx_error(ctx)) ? EXIT_INVALID :
		    EXIT_USAGE;
		if (r > *rc)
			*rc = r;
	}
	jcs_label_free(l);
}

/* --payload -: one payload per line; only "\n" or "\r\n" is removed. */
static void
payloads_from_stdin(jcs_ctx *ctx, const jcs_trust *trust,
    const jcs_verify_opts *vo, int json, int *rc)
{
	/* a fixed buffer: a line longer than any payload is refused without
	 * reading it into memory */
	static char line[JCS_PAYLOAD_MAX + 3];
	char name[32];
	long lineno = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strlen(line);

		lineno++;
		snprintf(name, sizeof(name), "line %ld", lineno);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			int ch;

			while ((ch = getchar()) != EOF && ch != '\n')
				;
			jcs_label_free(jcs_label_from_payload(ctx, line,
			    JCS_PAYLOAD_MAX + 1));
			check_one(ctx, trust, vo, name, NULL, json, rc);
			continue;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0)
			continue;
		check_one(ctx, trust, vo, name,
		    jcs_label_from_payload(ctx, line, n), json, rc);
	}
}

/* Prints the checker's results from *shown on, one row each. */
static void
show_rows(const jcs_checker *chk, size_t *shown, int json)
{
	for (; *shown < jcs_checker_count(chk); (*shown)++) {
		const jcs_check_result *r = jcs_checker_result(chk, *shown);
		char where[48];

		if (r->code > 0)
			snprintf(where, sizeof(where), "line %lu#%d", r->line,
			    r->code);
		else
			snprintf(where, sizeof(where), "line %lu", r->line);
		if (quiet || json)
			continue;
		if (r->duplicate_of != 0)
			printf("%s: DUPLICATE of line %lu, possibly a copied "
			    "label (serial %s)\n", where, r->duplicate_of,
			    r->serial);
		else if (r->verdict == JCS_OK)
			printf("%s: VALID: %s %s%s%s\n", where, r->reg_id,
			    r->serial, r->unit_serial[0] != '\0' ? " unit " :
			    "", r->unit_serial);
		else
			printf("%s: NOT VALID (%s): %s\n", where,
			    jcs_err_name(r->verdict), r->reason);
	}
}

/* --batch: every line through the library's checker; a row per label on
 * stdout, a report file, a summary on stderr. */
static int
run_batch(jcs_ctx *ctx, const jcs_trust *trust, const jcs_verify_opts *vo,
    const char *path, const char *report, int json, int jobs)
{
	static char line[JCS_PAYLOAD_MAX + 3];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	jcs_checker *chk;
	size_t total, valid, dups, shown = 0;
	int rc = EXIT_VALID;

	if (f == NULL)
		return fail_usage("cannot open %s: %m", path);
	if ((chk = jcs_checker_new(ctx, trust, vo)) == NULL ||
	    (jobs > 1 && jcs_checker_set_jobs(ctx, chk, jobs) == -1)) {
		jcs_checker_free(chk);
		if (f != stdin)
			fclose(f);
		return fail_ctx(ctx, "verify --batch");
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			int ch;

			/* longer than any payload or path: recorded as bad */
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (jcs_checker_add(ctx, chk, line, n) == -1) {
			fail_ctx(ctx, "verify --batch");
			rc = EXIT_USAGE;
			break;
		}
		show_rows(chk, &shown, json);
	}
	if (rc == EXIT_VALID && jcs_checker_flush(ctx, chk) == -1) {
		fail_ctx(ctx, "verify --batch");
		rc = EXIT_USAGE;
	}
	show_rows(chk, &shown, json);
	if (f != stdin)
		fclose(f);
	jcs_checker_summary(chk, &total, &valid, &dups);
	if (rc == EXIT_VALID && report != NULL &&
	    jcs_checker_write_report(ctx, chk, report) == -1)
		rc = fail_ctx(ctx, "--report");
	if (rc == EXIT_VALID && json && report == NULL &&
	    jcs_checker_write_report(ctx, chk, "-") == -1)
		rc = fail_ctx(ctx, "--json");
	if (!quiet)
		fprintf(stderr, "%s: %zu label%s checked: %zu valid, %zu not "
		    "valid, %zu duplicate%s%s%s\n", path, total,
		    total == 1 ? "" : "s", valid, total - valid - dups, dups,
		    dups == 1 ? "" : "s", report != NULL ? "; report " : "",
		    report != NULL ? report : "");
	if (rc == EXIT_VALID && (valid != total || total == 0))
		rc = EXIT_INVALID;
	jcs_checker_free(chk);
	return rc;
}

/* --image: every QR code in the image is a label to verify, named
 * "IMAGE#N"; an image with no code is a "no-code" verdict. */
static void
check_image(jcs_ctx *ctx, const jcs_trust *trust, const jcs_verify_opts *vo,
    const char *path, int json, int *rc)
{
	jcs_scan *scan = jcs_scan_file(ctx, path);
	char name[4200];
	size_t n;

	if (scan == NULL) {
		/* unreadable, not an image, damaged image: input errors */
		if (json)
			print_result(path, NULL, ctx, 0, NULL, NULL, 1);
		fail_ctx(ctx, path);
		*rc = EXIT_USAGE;
		return;
	}
	if ((n = jcs_scan_count(scan)) == 0) {
		/* ctx holds JCS_ERR_NO_CODE: a verdict on this image */
		print_result(path, NULL, ctx, 0, NULL, NULL, json);
		if (*rc < EXIT_INVALID)
			*rc = EXIT_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *text = jcs_scan_text(scan, i, &len);

		snprintf(name, sizeof(name), "%s#%zu", path, i + 1);
		check_one(ctx, trust, vo, name,
		    jcs_label_from_payload(ctx, text, len), json, rc);
	}
	jcs_scan_free(scan);
}

/* Sets vo's requirements from --as, --min-level, --importance and the
 * recognition and policy files. Returns 0 or an exit status. */
static int
requirement(jcs_ctx *ctx, const char *as, const char *min_level,
    const char *importance, const char *pol_file, const char *rec_file,
    jcs_requirement *one, jcs_policy **pol, jcs_recognition **rec,
    jcs_verify_opts *vo)
{
	memset(one, 0, sizeof(*one));
	if (importance != NULL && (as != NULL || min_level != NULL))
		return fail_usage("verify: --importance takes its requirement "
		    "from the policy: do not add --as or --min-level");
	if (pol_file != NULL && importance == NULL)
		return fail_usage("verify: --policy goes with --importance");
	if (importance == NULL && as == NULL && min_level == NULL) {
		if (rec_file != NULL)
			return fail_usage("verify: --recognition goes with "
			    "--as or --importance");
		return EXIT_VALID;
	}
	if ((*rec = load_recognition(ctx, rec_file)) == NULL) {
		/* a bad file is a usage error, never a verdict */
		fail_ctx(ctx, "--recognition");
		return EXIT_USAGE;
	}
	vo->recognition = *rec;
	if (importance != NULL) {
		if ((*pol = load_policy(ctx, pol_file)) == NULL) {
			fail_ctx(ctx, "--policy");
			return EXIT_USAGE;
		}
		if (jcs_policy_lookup(ctx, *pol, importance, &vo->require,
		    &vo->n_require) == -1) {
			fail_ctx(ctx, "--importance");
			return EXIT_USAGE;
		}
		return EXIT_VALID;
	}
	if (jcs_requirement_parse(ctx, as, "--as", min_level, "--min-level",
	    one) == -1) {
		fail_ctx(ctx, "verify");
		return EXIT_USAGE;
	}
	vo->require = one;
	vo->n_require = 1;
	return EXIT_VALID;
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "at", required_argument, NULL, 'a' },
		{ "min-level", required_argument, NULL, 'm' },
		{ "importance", required_argument, NULL, 'i' },
		{ "as", required_argument, NULL, 'S' },
		{ "recognition", required_argument, NULL, 'G' },
		{ "policy", required_argument, NULL, 'P' },
		{ "require-fresh-crl", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "payload", required_argument, NULL, 'p' },
		{ "image", required_argument, NULL, 'I' },
		{ "batch", required_argument, NULL, 'B' },
		{ "report", required_argument, NULL, 'R' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tfile = NULL, *payloads[MAX_ARGS], *images[MAX_ARGS];
	const char *batch = NULL, *report = NULL, *importance = NULL;
	const char *as = NULL, *min_level = NULL, *rec_file = NULL;
	const char *pol_file = NULL;
	size_t n_payloads = 0, n_images = 0;
	jcs_verify_opts vo;
	jcs_ctx *ctx;
	jcs_trust *trust = NULL;
	jcs_recognition *rec = NULL;
	jcs_policy *pol = NULL;
	jcs_requirement one;
	int c, json = 0, rc = EXIT_VALID, jobs = 0;

	memset(&vo, 0, sizeof(vo));
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tfile = optarg;
			break;
		case 'a':
			if (jcs_time_parse(ctx, optarg, &vo.at) == -1) {
				rc = fail_ctx(ctx, "--at");
				goto done;
			}
			break;
		case 'm':
			min_level = optarg;
			break;
		case 'i':
			importance = optarg;
			break;
		case 'S':
			as = optarg;
			break;
		case 'G':
			rec_file = optarg;
			break;
		case 'P':
			pol_file = optarg;
			break;
		case 'F':
			vo.require_fresh_crl = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'p':
			if (n_payloads == MAX_ARGS) {
				rc = fail_usage("verify: at most %d --payload "
				    "options", MAX_ARGS);
				goto done;
			}
			payloads[n_payloads++] = optarg;
			break;
		case 'B':
			batch = optarg;
			break;
		case 'R':
			report = optarg;
			break;
		case 'J':
			if ((rc = parse_jobs(optarg, &jobs)) != 0)
				goto done;
			break;
		case 'I':
			if (n_images == MAX_ARGS) {
				rc = fail_usage("verify: at most %d --image "
				    "options", MAX_ARGS);
				goto done;
			}
			images[n_images++] = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			rc = print_help(help);
			goto done;
		default:
			rc = usage_error(help);
			goto done;
		}
	}
	if (tfile == NULL) {
		rc = fail_usage("verify: --trust BUNDLE is required");
		goto done;
	}
	if (report != NULL && batch == NULL) {
		rc = fail_usage("verify: --report goes with --batch");
		goto done;
	}
	if (jobs != 0 && batch == NULL) {
		rc = fail_usage("verify: --jobs goes with --batch");
		goto done;
	}
	if (batch != NULL && (optind < argc || n_payloads > 0 ||
	    n_images > 0)) {
		rc = fail_usage("verify: --batch takes its inputs from the "
		    "file only");
		goto done;
	}
	if (optind >= argc && n_payloads == 0 && n_images == 0 &&
	    batch == NULL) {
		rc = fail_usage("verify: no label file, --payload or --image "
		    "given");
		goto done;
	}
	if ((rc = requirement(ctx, as, min_level, importance, pol_file,
	    rec_file, &one, &pol, &rec, &vo)) != EXIT_VALID)
		goto done;
	if ((trust = jcs_trust_load_file(ctx, tfile)) == NULL) {
		rc = fail_ctx(ctx, "--trust");
		if (rc == EXIT_INVALID)
			rc = EXIT_USAGE; /* a bad bundle is not a verdict */
		goto done;
	}
	if (batch != NULL) {
		rc = run_batch(ctx, trust, &vo, batch, report, json, jobs);
		goto done;
	}
	for (int i = optind; i < argc; i++)
		check_one(ctx, trust, &vo, argv[i],
		    jcs_label_load_file(ctx, argv[i]), json, &rc);
	for (size_t i = 0; i < n_payloads; i++) {
		if (strcmp(payloads[i], "-") == 0) {
			payloads_from_stdin(ctx, trust, &vo, json, &rc);
			continue;
		}
		char name[32];

		/* "payload", or "payload N" when there are several */
		snprintf(name, sizeof(name), n_payloads > 1 ? "payload %zu" :
		    "payload", i + 1);
		check_one(ctx, trust, &vo, name,
		    jcs_label_from_payload(ctx, payloads[i],
		    strlen(payloads[i])), json, &rc);
	}
	for (size_t i = 0; i < n_images; i++)
		check_image(ctx, trust, &vo, images[i], json, &rc);
done:
	jcs_trust_free(trust);
	jcs_recognition_free(rec);
	jcs_policy_free(pol);
	jcs_ctx_free(ctx);
	return rc;
}
