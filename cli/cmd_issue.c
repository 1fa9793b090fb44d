/* cmd_issue.c - jcstar issue: issue and sign one label. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
"usage: jcstar issue --ca DIR --scheme jcstar --level N --reg-id ID\n"
"           --vendor TEXT --product TEXT --model TEXT [--unit-serial S]\n"
"           [--lab NAME] [--valid-days N] [--not-before TIME]\n"
"           [--support-until DATE] [--passphrase-file FILE] [--pem]\n"
"           [--json] -o FILE|-\n"
"\n"
"Issue a label signed by the CA's current label-signing key. The label is\n"
"written to FILE: PEM if FILE ends in .pem (or with --pem), else DER.\n"
"\n"
"  --ca DIR              the CA directory (jcstar ca init)\n"
"  --scheme NAME         jcstar (cls, psti, cyber-trust-mark and cra are\n"
"                        defined by the format but not issued yet)\n"
"  --level N             JC-STAR star level 1-4; 3 and 4 need --lab\n"
"  --reg-id ID           registration id (<= 32 ASCII letters, digits, -._/:)\n"
"  --vendor TEXT         vendor name (UTF-8, <= 64 bytes)\n"
"  --product TEXT        product name (UTF-8, <= 64 bytes)\n"
"  --model TEXT          model (UTF-8, <= 32 bytes)\n"
"  --unit-serial S       one unit's serial number (<= 32, as --reg-id)\n"
"  --lab NAME            third-party evaluation lab (UTF-8, <= 64 bytes);\n"
"                        without it the label says self-declared\n"
"  --valid-days N        validity in days (default: the scheme's maximum,\n"
"                        2 years for JC-STAR, cut at the signer's expiry)\n"
"  --not-before TIME     start of validity (default now), YYYY-MM-DD or\n"
"                        YYYY-MM-DDTHH:MM:SSZ\n"
"  --support-until DATE  end of the vendor's support period, YYYY-MM-DD\n"
"  --passphrase-file F   passphrase of the CA keys (else $JCSTAR_PASSPHRASE)\n"
"  -o FILE               output file; - for standard output\n"
"  --pem                 with -o -, write PEM instead of DER (a file's\n"
"                        format follows its name: .pem is PEM)\n"
"  --json                print the issued label's fields as JSON on stdout\n"
"  -q, --quiet           print nothing on success\n"
"  -h, --help            this help\n";

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
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	jcs_issue_opts io;
	const char *dir = NULL, *out = NULL, *pfile = NULL;
	char *pass = NULL;
	int c, rc = EXIT_VALID, json = 0, pem = 0, level_set = 0;
	jcs_ctx *ctx = NULL;
	jcs_ca *ca = NULL;
	jcs_label *l = NULL;

	memset(&io, 0, sizeof(io));
	if ((ctx = jcs_ctx_new()) == NULL)
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
	{
		const struct {
			int missing;
			const char *name;
		} req[] = {
			{ dir == NULL, "--ca" }, { io.scheme == 0, "--scheme" },
			{ !level_set, "--level" },
			{ io.product.reg_id == NULL, "--reg-id" },
			{ io.product.vendor == NULL, "--vendor" },
			{ io.product.product == NULL, "--product" },
			{ io.product.model == NULL, "--model" },
			{ out == NULL, "-o" },
		};
		char list[128] = "";

		for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
			if (req[i].missing)
				snprintf(list + strlen(list),
				    sizeof(list) - strlen(list), "%s%s",
				    list[0] != '\0' ? ", " : "", req[i].name);
		if (list[0] != '\0') {
			rc = fail_usage("issue: missing %s", list);
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
	    (l = jcs_ca_issue(ctx, ca, &io)) == NULL) {
		rc = fail_ctx(ctx, "issue");
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
