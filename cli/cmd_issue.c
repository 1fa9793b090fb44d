/* cmd_issue.c - jcstar issue: issue and sign one label. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
"usage: jcstar issue --ca DIR --reg-id ID [--unit-serial S] [--valid-days N]\n"
"           [--not-before TIME] [--passphrase-file FILE] [--pem] [--json]\n"
"           -o FILE|-\n"
"       jcstar issue --ca DIR --reg-id ID --batch UNITS.csv\n"
"           [--out-list LIST.csv] [--out-dir DIR [--pem]\n"
"           [--template NAME|PATH [--dpi N]]] [--form url|bare]\n"
"           [--base-url URL] [--jobs N] [-q]  (--out-list, --out-dir or both)\n"
"       jcstar issue --ca DIR --scheme jcstar --level N --reg-id ID\n"
"           --vendor TEXT --product TEXT --model TEXT [--lab NAME]\n"
"           [--support-until DATE] [--unit-serial S] ... -o FILE|-\n"
"\n"
"Issue a label signed by the CA's current label-signing key, from the\n"
"registration ID (jcstar register). With the product fields given, the\n"
"registration is made first if new (or must match them). The label is\n"
"recorded in the CA's registry before it is written to FILE: PEM if FILE\n"
"ends in .pem, else DER.\n"
"\n"
"  --ca DIR              the CA directory (jcstar ca init)\n"
"  --scheme NAME         jcstar, cls, psti, cyber-trust-mark or cra; the\n"
"                        scheme's profile applies (jcstar schemes)\n"
"  --level N             a level of the scheme: JC-STAR and CLS 1-4 (3 and\n"
"                        4 need --lab), PSTI and Cyber Trust Mark 1, CRA\n"
"                        1 default, 2 important I, 3 important II, 4\n"
"                        critical (2-4 name the body with --lab)\n"
"  --reg-id ID           registration id (<= 32 ASCII letters, digits, -._/:)\n"
"  --vendor TEXT         vendor name (UTF-8, <= 64 bytes)\n"
"  --product TEXT        product name (UTF-8, <= 64 bytes)\n"
"  --model TEXT          model (UTF-8, <= 32 bytes)\n"
"  --unit-serial S       one unit's serial number (<= 32, as --reg-id)\n"
"  --lab NAME            third-party lab or assessment body (UTF-8, <= 64\n"
"                        bytes); without it the label says self-declared\n"
"  --valid-days N        validity in days (default: the scheme's maximum\n"
"                        - JC-STAR 2 years, CLS 3 - cut at the end of the\n"
"                        support period where the profile says so, and at\n"
"                        the signer's expiry)\n"
"  --not-before TIME     start of validity (default now), YYYY-MM-DD or\n"
"                        YYYY-MM-DDTHH:MM:SSZ\n"
"  --support-until DATE  last day of the vendor's support period,\n"
"                        YYYY-MM-DD (required for PSTI and Cyber Trust Mark)\n"
"  --passphrase-file F   passphrase of the CA keys (else $JCSTAR_PASSPHRASE)\n"
"  -o FILE               output file; - for standard output\n"
"  --pem                 with -o -, write PEM instead of DER (a file's\n"
"                        format follows its name: .pem is PEM)\n"
"  --json                print the issued label's fields as JSON on stdout\n"
"  --batch FILE          one label per unit serial of a CSV file: a header\n"
"                        line 'unit_serial', then one serial per line\n"
"                        (docs/BATCH.md); all lines are checked first;\n"
"                        re-running after an interruption finishes the\n"
"                        batch, no unit is issued twice\n"
"  --out-list FILE       where a batch writes its label list, one CSV file\n"
"                        for variable-data printing: a header line\n"
"                        'unit_serial,serial,not_after,payload', then one\n"
"                        line per unit in file order, payload being the\n"
"                        QR text; FILE appears only once complete (an\n"
"                        existing FILE is refused unless it is this\n"
"                        batch's list); the fastest output for big batches\n"
"  --out-dir DIR         where a batch writes UNIT.der (UNIT.pem with --pem);\n"
"                        may be given with --out-list\n"
"  --form url|bare       with --out-list or --template: the payload form\n"
"                        (default url)\n"
"  --base-url URL        the url form's verifier URL (default: the CA's\n"
"                        --verify-url)\n"
"  --jobs N              with --batch: N threads sign labels and write\n"
"                        files (default 1; at most 4 per processor); the\n"
"                        labels and the registry are the same as with one\n"
"                        job. SIGINT or SIGTERM stops a batch between\n"
"                        transactions: run the same command to resume\n"
"  --template T          with --batch --out-dir: also UNIT.png artwork\n"
"                        (as jcstar render draws it)\n"
"  -q, --quiet           print nothing on success\n"
"  -h, --help            this help\n";

static int tty_progress;

static void
progress(void *arg, unsigned long done, unsigned long total)
{
	int width = 40, fill = total > 0 ? (int)(done * (unsigned long)width /
	    total) : width;

	(void)arg;
	if (!tty_progress)
		return;
	fprintf(stderr, "\r[%.*s%*s] %lu/%lu", fill,
	    "########################################", width - fill, "",
	    done, total);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* jcstar issue --batch: every decision is the library's. */
static int
issue_batch(const char *dir, const char *reg_id, const char *csv,
    const char *outdir, const char *list, const char *tmpl_name, int form,
    const char *base, int dpi, int pem, int jobs, const char *pfile,
    const jcs_issue_opts *io)
{
	jcs_ctx *ctx = cli_ctx_new();
	jcs_ca *ca = NULL;
	jcs_template *tmpl = NULL;
	jcs_batch_opts bo;
	jcs_batch_result res;
	char *pass = NULL, path[4200];
	int rc = EXIT_VALID, r;

	if (ctx == NULL)
		return fail_usage("out of memory");
	if (dir == NULL || reg_id == NULL || csv == NULL ||
	    (outdir == NULL && list == NULL)) {
		rc = fail_usage("issue --batch needs --ca, --reg-id, --batch "
		    "FILE and --out-list FILE or --out-dir DIR");
		goto done;
	}
	if (outdir == NULL && (pem || tmpl_name != NULL)) {
		rc = fail_usage("issue --batch: %s writes files into --out-dir "
		    "DIR; the list holds payloads", pem ? "--pem" :
		    "--template");
		goto done;
	}
	if (io->scheme != 0 || io->product.vendor != NULL ||
	    io->product.unit_serial != NULL) {
		rc = fail_usage("issue --batch takes the product from the "
		    "registration and the units from the file: no --scheme, "
		    "--vendor, --unit-serial...");
		goto done;
	}
	if ((rc = get_passphrase(pfile, &pass)) != 0)
		goto done;
	if ((ca = jcs_ca_open(ctx, dir, pass)) == NULL) {
		rc = fail_ctx(ctx, dir);
		goto done;
	}
	memset(&bo, 0, sizeof(bo));
	bo.reg_id = reg_id;
	bo.csv_path = csv;
	bo.out_dir = outdir;
	bo.out_list = list;
	bo.pem = pem;
	bo.dpi = dpi;
	bo.issue = io;
	bo.jobs = jobs;
	bo.stop = stop_requested;
	if (tmpl_name != NULL) {
		if ((rc = template_path(tmpl_name, path, sizeof(path))) != 0)
			goto done;
		if ((tmpl = jcs_template_load(ctx, path)) == NULL) {
			rc = fail_ctx(ctx, "--template");
			goto done;
		}
		bo.tmpl = tmpl;
	}
	if ((tmpl != NULL || list != NULL) && form != JCS_FORM_BARE) {
		bo.payload_base_url = base != NULL ? base :
		    jcs_ca_verify_url(ca);
		if (bo.payload_base_url == NULL) {
			rc = fail_usage("the url form needs a base URL: "
			    "--base-url, or a CA made with --verify-url; or "
			    "--form bare");
			goto done;
		}
	}
	tty_progress = !quiet && isatty(STDERR_FILENO);
	bo.progress = progress;
	stop_signals_begin();
	r = jcs_ca_issue_batch(ctx, ca, &bo, &res);
	stop_signals_end();
	if (r == -1) {
		if (tty_progress)
			fputc('\n', stderr);
		fprintf(stderr, "%s: issue --batch: %s\n", progname,
		    jcs_ctx_message(ctx));
		if (jcs_ctx_error(ctx) == JCS_ERR_INTERRUPTED) {
			/* as a shell reports a process killed by it */
			rc = 128 + (stop_signal() != 0 ? stop_signal() :
			    SIGINT);
			goto done;
		}
		if (res.issued > 0)
			fprintf(stderr, "%s: %lu label%s issued and recorded "
			    "before the failure; run the same command again "
			    "to finish\n", progname, res.issued,
			    res.issued == 1 ? "" : "s");
		rc = EXIT_USAGE;
		goto done;
	}
	if (!quiet && outdir != NULL)
		fprintf(stderr, "batch %s: %lu units; %lu issued now, %lu "
		    "issued before; %lu files written to %s\n", csv, res.rows,
		    res.issued, res.existing, res.files, outdir);
	if (!quiet && list != NULL)
		fprintf(stderr, "batch %s: %lu units; %lu issued now, %lu "
		    "issued before; %lu lines written to %s\n", csv,
		    res.rows, res.issued, res.existing, res.listed, list);
done:
	jcs_template_free(tmpl);
	jcs_ca_free(ca);
	free_secret(pass);
	jcs_ctx_free(ctx);
	return rc;
}

int
cmd_issue(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "scheme", required_argument, NULL, 's' },
		{ "level", required_argument, NULL, 'l' },
		{ "reg-id", required_argument, NULL, 'r' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "product", required_argument, NULL, 'P' },
		{ "model", required_argument, NULL, 'm' },
		{ "unit-serial", required_argument, NULL, 'u' },
		{ "lab", required_argument, NULL, 'L' },
		{ "valid-days", required_argument, NULL, 'd' },
		{ "not-before", required_argument, NULL, 'b' },
		{ "support-until", required_argument, NULL, 'S' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "pem", no_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'j' },
		{ "batch", required_argument, NULL, 'B' },
		{ "out-dir", required_argument, NULL, 'O' },
		{ "out-list", required_argument, NULL, 'W' },
		{ "template", required_argument, NULL, 'T' },
		{ "form", required_argument, NULL, 'F' },
		{ "base-url", required_argument, NULL, 'U' },
		{ "dpi", required_argument, NULL, 'D' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	jcs_issue_opts io;
	const char *dir = NULL, *out = NULL, *pfile = NULL, *batch = NULL;
	const char *outdir = NULL, *tmpl = NULL, *base = NULL, *outlist = NULL;
	int form = 0, dpi = 300, jobs = 0;
	char *pass = NULL;
	int c, rc = EXIT_VALID, json = 0, pem = 0, level_set = 0, by_reg;
	jcs_ctx *ctx = NULL;
	jcs_ca *ca = NULL;
	jcs_label *l = NULL;

	memset(&io, 0, sizeof(io));
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			dir = optarg;
			break;
		case 's':
			if ((io.scheme = jcs_scheme_from_name(optarg)) == 0) {
				rc = fail_usage("unknown --scheme '%s' (jcstar, "
				    "cls, psti, cyber-trust-mark, cra)",
				    optarg);
				goto done;
			}
			break;
		case 'l':
			if (parse_int(optarg, 0, 255, &io.level) == -1) {
				rc = fail_usage("--level must be a number, "
				    "not '%s'", optarg);
				goto done;
			}
			level_set = 1;
			break;
		case 'r':
			io.product.reg_id = optarg;
			break;
		case 'v':
			io.product.vendor = optarg;
			break;
		case 'P':
			io.product.product = optarg;
			break;
		case 'm':
			io.product.model = optarg;
			break;
		case 'u':
			io.product.unit_serial = optarg;
			break;
		case 'L':
			io.lab = optarg;
			break;
		case 'd':
			if (parse_int(optarg, 1, 36525, &io.valid_days) == -1) {
				rc = fail_usage("--valid-days must be a number "
				    "of days from 1, not '%s'", optarg);
				goto done;
			}
			break;
		case 'b':
			if (jcs_time_parse(ctx, optarg, &io.not_before) == -1) {
				rc = fail_ctx(ctx, "--not-before");
				goto done;
			}
			break;
		case 'S':
			if (jcs_time_parse(ctx, optarg, &io.support_until) ==
			    -1 || strlen(optarg) != 10) {
				rc = fail_usage("--support-until: '%s' is not "
				    "a date (YYYY-MM-DD)", optarg);
				goto done;
			}
			break;
		case 'p':
			pfile = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'E':
			pem = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'B':
			batch = optarg;
			break;
		case 'O':
			outdir = optarg;
			break;
		case 'W':
			outlist = optarg;
			break;
		case 'T':
			tmpl = optarg;
			break;
		case 'F':
			if ((form = jcs_form_from_name(optarg)) == 0) {
				rc = fail_usage("--form must be url or bare, "
				    "not '%s'", optarg);
				goto done;
			}
			break;
		case 'U':
			base = optarg;
			break;
		case 'D':
			if (parse_int(optarg, 72, 2400, &dpi) == -1) {
				rc = fail_usage("--dpi must be 72 to 2400, not "
				    "'%s'", optarg);
				goto done;
			}
			break;
		case 'J':
			if ((rc = parse_jobs(optarg, &jobs)) != 0)
				goto done;
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
	if (optind != argc) {
		rc = fail_usage("issue: unexpected argument '%s'",
		    argv[optind]);
		goto done;
	}
	if (batch != NULL || outdir != NULL || tmpl != NULL ||
	    outlist != NULL) {
		rc = issue_batch(dir, io.product.reg_id, batch, outdir, outlist,
		    tmpl, form, base, dpi, pem, jobs, pfile, &io);
		goto done;
	}
	if (jobs != 0) {
		rc = fail_usage("issue: --jobs goes with --batch");
		goto done;
	}
	by_reg = io.scheme == 0 && !level_set && io.product.vendor == NULL &&
	    io.product.product == NULL && io.product.model == NULL &&
	    io.lab == NULL && io.support_until == 0;
	{
		const struct {
			int missing;
			const char *name;
		} req[] = {
			{ dir == NULL, "--ca" },
			{ io.product.reg_id == NULL, "--reg-id" },
			{ !by_reg && io.scheme == 0, "--scheme" },
			{ !by_reg && !level_set, "--level" },
			{ !by_reg && io.product.vendor == NULL, "--vendor" },
			{ !by_reg && io.product.product == NULL, "--product" },
			{ !by_reg && io.product.model == NULL, "--model" },
			{ out == NULL, "-o" },
		};
		char list[128] = "";

		for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
			if (req[i].missing)
				snprintf(list + strlen(list),
				    sizeof(list) - strlen(list), "%s%s",
				    list[0] != '\0' ? ", " : "", req[i].name);
		if (list[0] != '\0') {
			rc = fail_usage("issue: missing %s%s", list, by_reg ?
			    "" : " (or give only --reg-id to issue from a "
			    "registration)");
			goto done;
		}
	}
	if (strcmp(out, "-") == 0 && !pem && isatty(STDOUT_FILENO)) {
		rc = fail_usage("issue: refusing to write binary DER to a "
		    "terminal; use --pem or redirect the output");
		goto done;
	}
	if (pem && strcmp(out, "-") != 0) {
		rc = fail_usage("issue: --pem is for -o -; a file's format "
		    "follows its name (NAME.pem for PEM)");
		goto done;
	}
	if (json && strcmp(out, "-") == 0) {
		rc = fail_usage("issue: --json prints to stdout; write the "
		    "label to a file (-o FILE)");
		goto done;
	}
	if ((rc = get_passphrase(pfile, &pass)) != 0)
		goto done;
	if ((ca = jcs_ca_open(ctx, dir, pass)) == NULL ||
	    (l = by_reg ? jcs_ca_issue_registered(ctx, ca, io.product.reg_id,
	    io.product.unit_serial, &io) : jcs_ca_issue(ctx, ca, &io)) ==
	    NULL) {
		/* a refused issuance is never a verdict on a label */
		fail_ctx(ctx, "issue");
		rc = EXIT_USAGE;
		goto done;
	}
	if (pem && strcmp(out, "-") == 0) {
		char *text = jcs_label_to_pem(ctx, l);

		if (text == NULL) {
			rc = fail_ctx(ctx, "issue");
			goto done;
		}
		fputs(text, stdout);
		jcs_free(text);
	} else if (jcs_label_write_file(ctx, l, out) == -1) {
		rc = fail_ctx(ctx, "issue");
		goto done;
	}
	if (json) {
		json_label(stdout, l);
		fputc('\n', stdout);
	}
	if (!quiet) {
		size_t len;
		char lv[64];
		const jcs_label_fields *f = jcs_label_get_fields(l);

		jcs_label_der(l, &len);
		char a[32];

		fprintf(stderr, "issued %s label %s for %s (%zu bytes) -> %s\n",
		    level_text(f->scheme, f->level, lv, sizeof(lv)),
		    jcs_label_serial_hex(l), f->product.reg_id, len,
		    strcmp(out, "-") == 0 ? "standard output" : out);
		/* Tell when the default validity was cut at the signer's end
		 * (less than 700 days): a rotation restores it. */
		if (io.valid_days == 0 &&
		    f->not_after - f->not_before < (time_t)700 * 86400)
			fprintf(stderr, "note: validity cut to %s, when the "
			    "signer certificate expires; run 'jcstar ca "
			    "rotate' to issue full-length labels\n",
			    jcs_date_format(f->not_after, a, sizeof(a)));
	}
done:
	jcs_label_free(l);
	jcs_ca_free(ca);
	free_secret(pass);
	jcs_ctx_free(ctx);
	return rc;
}
